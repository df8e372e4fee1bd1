/**
 * The local streaming runner: micro-batches pulled from a Pub/Sub
 * subscription, each committed through the batch steps, then acked. A bad
 * *event* never fails a batch (it becomes a dead letter). A batch whose
 * commit fails is taken apart by the delivery policy (isolate.ts): what
 * commits is acked, the rest is nacked and retried after a back-off, and a
 * message that keeps failing is set aside in the dead-letter store after a
 * bounded number of attempts, so nothing loops forever and nothing is lost.
 */
import type { PulledMessage } from "../../sources/pubsub.js";
import type { RawMessage } from "../../transforms/types.js";
import { type Counts, addCounts, noCounts } from "../../schemas/ops.js";
import type { BatchResult } from "../commit.js";
import type { Engine } from "./engine.js";
import { AttemptLedger, DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, deliver, mergeResults } from "./isolate.js";

export interface MessageSource {
  nextBatch(maxMessages: number, maxWaitMs: number): Promise<PulledMessage[]>;
}

export interface BatchReport {
  result: BatchResult;
  /** Wall time of the commit, ms. */
  ms: number;
  /** Publish -> committed latency of each message of the batch, ms. */
  latenciesMs: Float64Array;
  /** Age of the oldest message in the batch when its commit finished, ms. */
  lagMs: number;
  /** The messages acknowledged (aligned with latenciesMs): their ids, attributes and publish times. */
  acked: readonly PulledMessage[];
}

export interface StreamOptions {
  origin: string;
  batchSize: number;
  batchWaitMs: number;
  onBatch?: (r: BatchReport) => void;
  onError?: (err: Error, attempt: number, backoffMs: number) => void;
  /** Failed commits a message may take part in before it is set aside (default 5). */
  policy?: DeliveryPolicy;
  /** Test hook: called after a batch's acks were sent. */
  afterAck?: () => void;
}

export class StreamRunner {
  readonly totals: Counts = noCounts();
  private stopping = false;
  private readonly ledger = new AttemptLedger();

  constructor(
    private readonly engine: Engine,
    private readonly source: MessageSource,
    private readonly opts: StreamOptions,
  ) {}

  /** Runs until stop(); resolves once the batch in flight is committed and acked. */
  async run(): Promise<Counts> {
    let failures = 0;
    while (!this.stopping) {
      const batch = await this.source.nextBatch(this.opts.batchSize, this.opts.batchWaitMs);
      if (batch.length === 0) continue;
      const messages: RawMessage[] = batch.map((m) => ({
        data: m.data,
        attributes: m.attributes,
        origin: `pubsub:${m.id}`,
        receivedAtMs: Date.now(),
      }));
      const t0 = performance.now();
      const outcome = await deliver(this.engine, messages, this.opts.origin, this.ledger, this.opts.policy ?? DEFAULT_DELIVERY_POLICY);
      const done = Date.now();
      const retry = new Set(outcome.retry);
      const acked: PulledMessage[] = [];
      batch.forEach((m, i) => {
        if (retry.has(i)) m.nack();
        else {
          m.ack();
          acked.push(m);
        }
      });
      if (acked.length) this.opts.afterAck?.();
      for (const r of outcome.results) addCounts(this.totals, r);
      const result = mergeResults(outcome.results);
      if (result) {
        const latencies = new Float64Array(acked.length);
        let oldest = done;
        for (let i = 0; i < acked.length; i++) {
          const p = acked[i]!.publishTime.getTime();
          latencies[i] = done - p;
          if (p < oldest) oldest = p;
        }
        this.opts.onBatch?.({ result, ms: performance.now() - t0, latenciesMs: latencies, lagMs: done - oldest, acked });
      }
      if (retry.size === 0) {
        failures = 0;
        continue;
      }
      failures++;
      const backoff = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
      this.opts.onError?.(outcome.error ?? new Error("the batch could not be committed"), failures, backoff);
      await new Promise((r) => setTimeout(r, backoff));
    }
    return this.totals;
  }

  stop(): void {
    this.stopping = true;
  }
}
