/**
 * Dead-letter replay: re-validate stored dead letters against today's schemas.
 * Those that now pass go through the same batch commit as live traffic
 * (keeping their original event_id and event_time, since the bytes are the
 * originals) and leave the dead-letter store in the same transaction; those
 * that still fail stay, with the attempt counted and the current error.
 */
import { parseMessage } from "../pipelines/ingest-steps.js";
import type { Engine, EngineServices } from "../pipelines/local/engine.js";
import { findInstance } from "../pipelines/local/instance.js";
import type { EventType } from "../schemas/registry.js";
import type { DeadLetterReason, RawMessage } from "../transforms/types.js";
import { recordedJob } from "./job-runs.js";
import { openRuntime } from "./runtime.js";

export interface ReplaySummary {
  selected: number;
  replayed: number;
  already_in_silver: number;
  still_failing: number;
}

export interface DeadLetterFilter {
  reason?: DeadLetterReason;
  eventType?: EventType;
  /** At most this many, oldest first. */
  limit?: number;
}

/** `ecom dead-letters replay`: on the data dir's own runtime (with Gold), which no running `ecom start` may hold. Recorded in ops.job_runs. */
export function replayDeadLettersJob(
  dataDir: string,
  filter: DeadLetterFilter,
  onWarning?: (message: string) => void,
  services: EngineServices = {},
): Promise<ReplaySummary> {
  return recordedJob(dataDir, "dead_letter_replay", () => replayDeadLettersRun(dataDir, filter, services), { counts: (s) => ({ ...s }), onWarning });
}

async function replayDeadLettersRun(dataDir: string, filter: DeadLetterFilter, services: EngineServices): Promise<ReplaySummary> {
  if (findInstance(dataDir)) {
    throw new Error(`ecom start is running on ${dataDir}; stop it (Ctrl-C) before replaying, replay writes to the store it owns.`);
  }
  const engine = await openRuntime(dataDir, services);
  try {
    return await replayDeadLetters(engine, filter);
  } finally {
    engine.close();
  }
}

export async function replayDeadLetters(engine: Engine, filter: DeadLetterFilter): Promise<ReplaySummary> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.reason) {
    where.push("reason = $reason");
    params.reason = filter.reason;
  }
  if (filter.eventType) {
    where.push("event_type = $type");
    params.type = filter.eventType;
  }
  const rows = await engine.store.query(
    `SELECT dl_id, to_base64(raw) AS raw, origin, epoch_ms(received_at) AS received_ms FROM ops.dead_letters
     ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY received_at, dl_id ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ""}`,
    params,
  );
  const summary: ReplaySummary = { selected: rows.length, replayed: 0, already_in_silver: 0, still_failing: 0 };
  const passing: RawMessage[] = [];
  const passingIds: string[] = [];
  const failing: { dl_id: string; error: string }[] = [];
  for (const r of rows) {
    const message: RawMessage = {
      data: Buffer.from(r.raw as string, "base64"),
      origin: r.origin as string,
      receivedAtMs: Number(r.received_ms),
    };
    const parsed = parseMessage(engine.steps, message);
    if (parsed.ok) {
      passing.push(message);
      passingIds.push(r.dl_id as string);
    } else failing.push({ dl_id: r.dl_id as string, error: `${parsed.reason}: ${parsed.detail}` });
  }
  summary.still_failing = failing.length;

  // One transaction records the failed attempts; the passing ones commit with their Silver rows.
  if (failing.length) {
    const tx = await engine.store.begin();
    try {
      for (const f of failing) {
        await tx.run(`UPDATE ops.dead_letters SET replay_attempts = replay_attempts + 1, last_replay_error = $e WHERE dl_id = $id`, {
          e: f.error,
          id: f.dl_id,
        });
      }
      await tx.commit();
    } catch (err) {
      await tx.rollback();
      throw err;
    }
  }
  if (passing.length) {
    const result = await engine.processBatch(passing, "replay:dead_letters", {
      extra: {
        name: "remove-replayed-dead-letters",
        beforeCommit: async (tx) => {
          await tx.run(`DELETE FROM ops.dead_letters WHERE dl_id IN (SELECT unnest($ids::VARCHAR[]))`, { ids: passingIds });
        },
      },
    });
    summary.replayed = result.valid;
    summary.already_in_silver = result.duplicates;
  }
  return summary;
}
