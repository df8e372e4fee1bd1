/**
 * Delivery with a dead-letter policy: a batch whose commit fails is taken
 * apart, so one message the store cannot take (a value it rejects) never
 * stalls the rest, and a message that keeps failing is set aside after a
 * bounded number of attempts, as a Pub/Sub dead-letter policy would.
 *
 *  1. Commit the batch. Done when it commits.
 *  2. Else split it in halves and commit each. When both halves fail too,
 *     the cause is most likely the store, the disk or the keys, not a
 *     message: stop, count an attempt for every message, retry them later
 *     (nothing is lost; the caller backs off). When one half commits, the
 *     other is split again, until the failing messages stand alone; each of
 *     those counts an attempt and is retried later.
 *  3. A message that has failed `maxAttempts` times is committed alone one
 *     last time; if that fails too it goes to the dead-letter store
 *     (`commit_failed`, with the error's class, never its text). Only when
 *     even that write fails does it stay for a later retry.
 *
 * A failure of the keys or the text inspector (Cloud KMS, Cloud DLP) blames
 * no message: the batch is not split, nothing is set aside, everything waits
 * unacked (a bounded run stops with the error after a few rounds).
 *
 * Every commit is the normal exactly-once commit, so a message committed in
 * one part and redelivered later is a duplicate, never a second row.
 */
import { addCounts, noCounts } from "../../schemas/ops.js";
import type { RawMessage } from "../../transforms/types.js";
import type { Engine } from "./engine.js";
import type { BatchResult } from "../commit.js";
import { isServiceFailure } from "./batch-errors.js";
import { mergeBreakdowns } from "../observe/breakdown.js";

export interface DeliveryPolicy {
  /** Failed commits a message may take part in before it is set aside. */
  maxAttempts: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { maxAttempts: 5 };

/** Rounds a bounded delivery retries a batch whose keys or text inspector failed before the run stops with that error. */
const SERVICE_RETRIES = 2;

/** Failed attempts per message (keyed by its origin: a Pub/Sub message id or a file line). */
export class AttemptLedger {
  private readonly attempts = new Map<string, number>();

  get(key: string): number {
    return this.attempts.get(key) ?? 0;
  }

  fail(key: string): void {
    if (this.attempts.size >= 1_000_000) this.attempts.clear(); // a bound; a cleared count only means more attempts
    this.attempts.set(key, this.get(key) + 1);
  }

  settle(key: string): void {
    this.attempts.delete(key);
  }

  get size(): number {
    return this.attempts.size;
  }
}

export interface DeliveryOutcome {
  /** Every commit that happened (parts of the batch and messages set aside), in order. */
  results: BatchResult[];
  /** Indexes of the messages not committed: nack them (or retry them later). */
  retry: number[];
  /** Messages set aside as dead letters after their last attempt. */
  setAside: number;
  /** The last commit failure, when there was one. */
  error?: Error;
}

export async function deliver(
  engine: Engine,
  messages: readonly RawMessage[],
  origin: string,
  ledger: AttemptLedger,
  policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { results: [], retry: [], setAside: 0 };
  const key = (i: number): string => messages[i]!.origin;

  const commitOnce = async (idx: readonly number[]): Promise<boolean> => {
    try {
      outcome.results.push(
        await engine.processBatch(
          idx.map((i) => messages[i]!),
          origin,
        ),
      );
      for (const i of idx) ledger.settle(key(i));
      return true;
    } catch (err) {
      outcome.error = err as Error;
      return false;
    }
  };
  const failed = (idx: readonly number[]): void => {
    for (const i of idx) {
      ledger.fail(key(i));
      outcome.retry.push(i);
    }
  };
  const isolate = async (idx: readonly number[]): Promise<void> => {
    if (idx.length === 1) return failed(idx);
    const half = Math.ceil(idx.length / 2);
    const a = idx.slice(0, half);
    const b = idx.slice(half);
    const okA = await commitOnce(a);
    const okB = await commitOnce(b);
    if (!okA && !okB) return failed(idx);
    if (!okA) await isolate(a);
    if (!okB) await isolate(b);
  };

  const all = messages.map((_, i) => i);
  const exhausted = all.filter((i) => ledger.get(key(i)) >= policy.maxAttempts);
  const normal = exhausted.length ? all.filter((i) => ledger.get(key(i)) < policy.maxAttempts) : all;
  if (normal.length && !(await commitOnce(normal))) {
    // The keys or the text inspector failed: no message is to blame, so none is split off or set aside.
    if (isServiceFailure(outcome.error)) {
      failed(all);
      return outcome;
    }
    await isolate(normal);
  }
  for (const i of exhausted) {
    if (await commitOnce([i])) continue;
    if (isServiceFailure(outcome.error)) {
      failed([i]);
      continue;
    }
    const attempts = ledger.get(key(i)) + 1;
    try {
      outcome.results.push(await engine.setAside([messages[i]!], origin, describeFailure(outcome.error, attempts)));
      ledger.settle(key(i));
      outcome.setAside++;
    } catch (err) {
      outcome.error = err as Error;
      failed([i]);
    }
  }
  outcome.retry.sort((x, y) => x - y);
  return outcome;
}

/** Why a message was set aside: how often it failed and the error's class and code, never its text (it may quote row values). */
function describeFailure(err: Error | undefined, attempts: number): string {
  const kind = err?.constructor?.name ?? "Error";
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return `the message failed to commit ${attempts} times (last error: ${kind}${code ? ` ${code}` : ""}); it was set aside so the stream goes on`;
}

/** The sum of the commits of one delivery, reported as one batch (the last commit's id). */
export function mergeResults(results: readonly BatchResult[]): BatchResult | undefined {
  if (results.length <= 1) return results[0];
  const last = results[results.length - 1]!;
  const merged: BatchResult = { ...last, ...noCounts(), ...mergeBreakdowns(results), phases: {}, perDomain: {} };
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of results) {
    addCounts(merged, r);
    for (const [k, v] of Object.entries(r.phases)) merged.phases[k] = (merged.phases[k] ?? 0) + v;
    for (const [d, n] of Object.entries(r.perDomain))
      merged.perDomain[d as keyof BatchResult["perDomain"]] = (merged.perDomain[d as keyof BatchResult["perDomain"]] ?? 0) + (n ?? 0);
    if (r.minEventTimeMs !== undefined) lo = Math.min(lo, r.minEventTimeMs);
    if (r.maxEventTimeMs !== undefined) hi = Math.max(hi, r.maxEventTimeMs);
  }
  merged.minEventTimeMs = lo === Infinity ? undefined : lo;
  merged.maxEventTimeMs = hi === -Infinity ? undefined : hi;
  return merged;
}

/**
 * A bounded source's delivery (files, Bronze replay): retried in this run,
 * with a back-off, until every message is committed or set aside. Throws
 * (after the bounded attempts) only when even setting aside fails: the
 * store itself is broken, and the committed batches before stay committed.
 */
export async function deliverAll(
  engine: Engine,
  messages: readonly RawMessage[],
  origin: string,
  ledger: AttemptLedger,
  policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  let remaining: readonly RawMessage[] = messages;
  for (let round = 0; ; round++) {
    const o = await deliver(engine, remaining, origin, ledger, policy);
    results.push(...o.results);
    if (o.retry.length === 0) return results;
    if (round >= policy.maxAttempts + 1 || (isServiceFailure(o.error) && round >= SERVICE_RETRIES))
      throw o.error ?? new Error("the batch could not be committed");
    remaining = o.retry.map((i) => remaining[i]!);
    await new Promise((r) => setTimeout(r, Math.min(4000, 100 * 2 ** round)));
  }
}
