/**
 * `ecom dead-letters list`: what was rejected and why, newest first, read
 * like `ecom query` (through the running instance when there is one, else
 * the DuckDB file opened read-only). The raw bytes only when asked for:
 * card numbers in them are redacted, other personal data is not.
 */
import { DEAD_LETTER_REASONS, type DeadLetterReason } from "../transforms/types.js";
import { runQuery } from "./query.js";

export interface DeadLetterListing {
  reason?: DeadLetterReason;
  /** At most this many rows. */
  limit: number;
  showRaw: boolean;
}

export async function listDeadLetters(dataDir: string, o: DeadLetterListing): Promise<Record<string, unknown>[]> {
  // The statement travels as text to the instance, so the filter is spelled into it: only from the known words.
  if (o.reason !== undefined && !DEAD_LETTER_REASONS.includes(o.reason)) throw new RangeError(`not a dead-letter reason: ${o.reason}`);
  if (!Number.isSafeInteger(o.limit) || o.limit < 1) throw new RangeError(`limit must be a positive integer, got ${o.limit}`);
  return runQuery(
    dataDir,
    `SELECT dl_id, reason, event_type, schema_version, detail, paths, origin, received_at, replay_attempts${o.showRaw ? ", decode(raw) AS raw" : ""}
     FROM ops.dead_letters ${o.reason ? `WHERE reason = '${o.reason}'` : ""} ORDER BY dead_lettered_at DESC, dl_id LIMIT ${o.limit}`,
  );
}
