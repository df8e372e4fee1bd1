/**
 * The privacy audit log's hash chain, as pure functions (no IO): how an
 * entry is hashed, how the next record follows the last, and how a copy of
 * the log (the table's rows, the file's lines) is checked.
 *
 *   entry_hash = sha256(prev_hash + canonical JSON of the entry), hex
 *   prev_hash  = the previous record's entry_hash; 64 zeros for seq 1
 *
 * The entry carries its own `seq` and `recorded_at`, so renumbering or
 * re-dating a record breaks its hash. Verification finds the first bad
 * record of each copy (an edited, removed, reordered or inserted line or
 * row), then compares the two copies record by record.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../transforms/tokenize.js";

export const GENESIS_HASH = "0".repeat(64);

export const AUDIT_KINDS = ["request_added", "erase", "export"] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];
export const AUDIT_OUTCOMES = ["queued", "done", "failed"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What a caller records: who and what, the person only as `subject_hash`, counts as numbers only. */
export interface AuditInput {
  request_id: string;
  kind: AuditKind;
  /** identifier.ts `subjectHash`: a keyed hash, never the identifier. */
  subject_hash: string;
  /** ISO 8601, UTC. */
  requested_at: string;
  done_at: string | null;
  counts: Record<string, number>;
  operator: string | null;
  outcome: AuditOutcome;
}

/** The entry as hashed and stored. */
export interface AuditEntry extends AuditInput {
  seq: number;
  recorded_at: string;
}

export interface AuditRecord {
  seq: number;
  entry: AuditEntry;
  prev_hash: string;
  entry_hash: string;
}

export function entryHash(prevHash: string, entry: unknown): string {
  return createHash("sha256")
    .update(prevHash + canonicalJson(entry))
    .digest("hex");
}

/** Only finite numbers: anything else in a count is a caller's bug, refused before it reaches the log. */
export function checkCounts(counts: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`audit count "${k}" must be a number, got ${typeof v}`);
    out[k] = v;
  }
  return out;
}

/** The record after `last` (undefined: the first). */
export function nextRecord(last: Pick<AuditRecord, "seq" | "entry_hash"> | undefined, input: AuditInput, recordedAt: Date): AuditRecord {
  const seq = (last?.seq ?? 0) + 1;
  const prev = last?.entry_hash ?? GENESIS_HASH;
  const entry: AuditEntry = {
    seq,
    request_id: input.request_id,
    kind: input.kind,
    subject_hash: input.subject_hash,
    requested_at: input.requested_at,
    done_at: input.done_at,
    counts: checkCounts(input.counts),
    operator: input.operator,
    outcome: input.outcome,
    recorded_at: recordedAt.toISOString(),
  };
  return { seq, entry, prev_hash: prev, entry_hash: entryHash(prev, entry) };
}

/** One line of the file. */
export function recordLine(r: AuditRecord): string {
  return JSON.stringify({ seq: r.seq, entry: r.entry, prev_hash: r.prev_hash, entry_hash: r.entry_hash });
}

export interface AuditProblem {
  seq: number;
  where: "table" | "file" | "table and file";
  problem: string;
}

export type Verdict = { ok: true; entries: number; head: string } | { ok: false; problem: AuditProblem };

/** A copy of the log, as records read back (`raw` unparsed when a file line is not JSON). */
export interface CopyRecord {
  seq: unknown;
  entry: unknown;
  prev_hash: unknown;
  entry_hash: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The first record of a copy that breaks the chain, or undefined. Position i must hold seq i + 1. */
export function firstBreak(copy: readonly (CopyRecord | null)[], where: AuditProblem["where"]): AuditProblem | undefined {
  let prev = GENESIS_HASH;
  for (let i = 0; i < copy.length; i++) {
    const at = i + 1;
    const r = copy[i];
    if (r === null) return { seq: at, where, problem: "the record is not valid JSON" };
    if (r.seq !== at) {
      return {
        seq: at,
        where,
        problem: `expected seq ${at} here, found ${JSON.stringify(r.seq)} (a record was removed, inserted or moved)`,
      };
    }
    if (!isObject(r.entry) || r.entry.seq !== at) return { seq: at, where, problem: "the entry does not carry its own seq" };
    if (r.prev_hash !== prev) {
      return { seq: at, where, problem: "prev_hash is not the previous record's entry_hash (a record before it was removed, changed or reordered)" };
    }
    if (r.entry_hash !== entryHash(prev, r.entry)) return { seq: at, where, problem: "entry_hash does not match the entry (the entry was changed)" };
    prev = r.entry_hash as string;
  }
  return undefined;
}

/**
 * Checks both copies and that they agree. The first problem reported is the
 * one at the lowest seq (either copy's chain, or a disagreement).
 */
export function verifyCopies(table: readonly CopyRecord[], file: readonly (CopyRecord | null)[], tableRecordedAt: readonly string[] = []): Verdict {
  const problems: AuditProblem[] = [];
  const t = firstBreak(table, "table");
  if (t) problems.push(t);
  const f = firstBreak(file, "file");
  if (f) problems.push(f);
  const n = Math.max(table.length, file.length);
  for (let i = 0; i < n; i++) {
    const a = table[i];
    const b = file[i];
    if (!a || !b) {
      problems.push({
        seq: i + 1,
        where: "table and file",
        problem: a ? "the table has this record and the file does not" : "the file has this record and the table does not",
      });
      break;
    }
    if (a.entry_hash !== b.entry_hash || canonicalJson(a.entry) !== canonicalJson(b.entry)) {
      problems.push({ seq: i + 1, where: "table and file", problem: "the table's record and the file's differ" });
      break;
    }
    const at = tableRecordedAt[i];
    if (at !== undefined && isObject(a.entry) && a.entry.recorded_at !== at) {
      problems.push({ seq: i + 1, where: "table", problem: "recorded_at differs from the time in the entry" });
      break;
    }
  }
  if (problems.length) return { ok: false, problem: problems.sort((x, y) => x.seq - y.seq)[0]! };
  return { ok: true, entries: table.length, head: (table[table.length - 1]?.entry_hash as string | undefined) ?? GENESIS_HASH };
}

/** A file line read back; null when it is not a JSON object. */
export function parseLine(line: string): CopyRecord | null {
  try {
    const v = JSON.parse(line) as unknown;
    return isObject(v) ? { seq: v.seq, entry: v.entry, prev_hash: v.prev_hash, entry_hash: v.entry_hash } : null;
  } catch {
    return null;
  }
}
