/**
 * The operational tables, declared once: what exactly-once, replay and the
 * key store need beside Silver. DuckDB and BigQuery both create them from
 * these declarations, and the commit (pipelines/commit.ts) writes the row
 * types below to either.
 *
 *  - ops.batches       one row per committed batch: its counts and the Bronze files it owns
 *  - ops.seen_events   the dedupe keys (DuckDB; BigQuery dedupes on Silver itself)
 *  - ops.dead_letters  what failed and why, with the bytes to replay it
 *  - ops.subject_keys  per-person data keys, wrapped by the KEK
 *  - ops.schema_drift  fields producers send that the schema version does not know
 *  - ops.key_fingerprints  which KEK and token keys the store was written with
 *  - ops.job_runs      one row per run of a batch job (jobs/job-runs.ts), so the next process and the DAGs know its last success
 *  - ops.subject_index  which tables, days and batches hold a token (erasure reads it, never Silver whole)
 *  - ops.erased_subjects  references of erased people: the suppression list a commit checks
 *  - ops.privacy_requests  compliance staff's queue of erasure and export requests
 *  - ops.privacy_audit  the append-only, hash-chained log of privacy operations (never erased)
 */
import { type TableDef, column as c } from "./table.js";

/** The counts every batch, run and job reports: read = valid + duplicates + dead_lettered. */
export interface Counts {
  read: number;
  valid: number;
  duplicates: number;
  dead_lettered: number;
  pans_redacted: number;
}

export function noCounts(): Counts {
  return { read: 0, valid: 0, duplicates: 0, dead_lettered: 0, pans_redacted: 0 };
}

/** Adds `c` into `into` (and returns it). */
export function addCounts(into: Counts, c: Counts): Counts {
  into.read += c.read;
  into.valid += c.valid;
  into.duplicates += c.duplicates;
  into.dead_lettered += c.dead_lettered;
  into.pans_redacted += c.pans_redacted;
  return into;
}

/** Only the counts of a larger object (a batch result, a summary). */
export function countsOf(c: Counts): Counts {
  return { read: c.read, valid: c.valid, duplicates: c.duplicates, dead_lettered: c.dead_lettered, pans_redacted: c.pans_redacted };
}

/**
 * A batch: `id` orders batches (DuckDB: a sequence; BigQuery: a hash of the
 * name), `name` names its Bronze files and, for a backend that retries by
 * name, makes a retried batch find itself.
 */
export interface BatchRef {
  id: bigint;
  name: string;
}

export interface BatchManifest extends Counts {
  origin: string;
  /** Bronze files (object names under the Bronze root) the batch owns. */
  bronzeFiles: string[];
}

export interface DeadLetterRow {
  dl_id: string;
  reason: string;
  detail: string;
  /** JSON array of the failing paths. */
  paths: string;
  stage: string;
  event_id: string | null;
  event_type: string | null;
  schema_version: number | null;
  origin: string;
  raw: Uint8Array;
  subject_ref: string | null;
  /** Epoch ms. */
  received_at: number;
}

export interface NewSubjectKey {
  kid: string;
  /** The reference of the person the key belongs to (protect.ts: subjectRef). */
  subjectRef: string;
  wrappedKey: Buffer;
  kekId: string;
}

/** A stored data key of a person, still wrapped. */
export interface StoredSubjectKey {
  kid: string;
  subjectRef: string;
  wrappedKey: Buffer;
  createdAtMs: number;
}

export interface DriftCount {
  eventType: string;
  schemaVersion: number;
  path: string;
  events: number;
}

const ops = (name: string, description: string, columns: TableDef["columns"], extra: Partial<TableDef> = {}): TableDef => ({
  schema: "ops",
  name,
  description,
  columns,
  ...extra,
});

export const BATCHES = ops(
  "batches",
  "One row per committed batch: its counts and the Bronze files it owns. bronze_state 'pending' = committed, files maybe not all in place yet (recovery finishes them)",
  [
    c("batch_id", "INT64", "Orders batches: a sequence locally, a hash of batch_name on BigQuery", { key: true, required: true }),
    c("batch_name", "STRING", "Names the batch's Bronze files; deterministic on BigQuery (window and shard), so a retry finds it", { required: true }),
    c("committed_at", "TIMESTAMP", "Commit time", { required: true }),
    c("origin", "STRING", "Source of the batch: pubsub:<subscription>, files:<n>, bronze:<from>..<to>, replay:dead_letters"),
    c("read", "INT64", "Messages in the batch", { required: true }),
    c("valid", "INT64", "New Silver rows", { required: true }),
    c("duplicates", "INT64", "Messages dropped as already seen", { required: true }),
    c("dead_lettered", "INT64", "New dead letters", { required: true }),
    c("pans_redacted", "INT64", "Card numbers redacted", { required: true }),
    c("bronze_files", "JSON", "Bronze object names the batch owns", { required: true }),
    c("bronze_state", "STRING", "pending or done", { required: true }),
  ],
  { partitionBy: "DATE(committed_at)", clusterBy: ["batch_name"] },
);

export const SEEN_EVENTS = ops(
  "seen_events",
  "Dedupe keys: one row per event_id ever committed, in the same transaction as its Silver row",
  [c("event_id", "UUID", "Lower-case event_id", { key: true, required: true }), c("batch_id", "INT64", "Committing batch", { required: true })],
  { only: "duckdb" },
);

export const DEAD_LETTERS = ops(
  "dead_letters",
  "Messages that failed, keyed by a hash of their scrubbed bytes so a redelivered bad message is stored once",
  [
    c("dl_id", "STRING", "sha256 of the scrubbed bytes, 32 hex: the dedupe key", { key: true, required: true }),
    c("reason", "STRING", "Machine-readable reason", { required: true }),
    c("detail", "STRING", "Cause; names fields and types, never values", { required: true }),
    c("paths", "JSON", "Failing field paths"),
    c("stage", "STRING", "decode, validate, project or commit", { required: true }),
    c("event_id", "STRING", "event_id when it is a UUID"),
    c("event_type", "STRING", "event_type when it reads like a type name"),
    c("schema_version", "INT64", "schema_version when it is an integer"),
    c("origin", "STRING", "pubsub:<message id>, file:<path>:<line>, bronze:<object>:<line>"),
    c("raw", "BYTES", "The message for replay, card numbers and sensitive authentication data removed", { required: true }),
    c(
      "subject_ref",
      "STRING",
      "Reference of the person the message names (as ops.subject_keys files them), when it names one: erasure finds dead letters by it",
    ),
    c("received_at", "TIMESTAMP", "When the pipeline read it", { required: true }),
    c("dead_lettered_at", "TIMESTAMP", "When it was stored", { required: true }),
    c("batch_id", "INT64", "Committing batch", { required: true }),
    c("replay_attempts", "INT64", "Replays tried", { required: true, default: "0" }),
    c("last_replay_error", "STRING", "Why the last replay failed"),
  ],
  { partitionBy: "DATE(received_at)", clusterBy: ["dl_id"] },
);

export const SUBJECT_KEYS = ops(
  "subject_keys",
  "Per-person data keys for Bronze, wrapped by the key-encryption key; deleting a person's rows makes their Bronze data unreadable",
  [
    c("kid", "STRING", "Key id, random: what Bronze envelopes name; nothing derives it from the person", { key: true, required: true }),
    c("subject_ref", "STRING", "Whose key: a reference made from the Silver token of the person's identifier; erasure deletes by it"),
    c("wrapped_key", "BYTES", "AES-256 data key wrapped by the KEK", { required: true }),
    c("kek_id", "STRING", "Id of the wrapping key", { required: true }),
    c("created_at", "TIMESTAMP", "Creation time", { required: true }),
  ],
  { clusterBy: ["subject_ref", "kid"] },
);

export const SCHEMA_DRIFT = ops(
  "schema_drift",
  "Fields producers send that their schema version does not know, counted per type, version and path",
  [
    c("event_type", "STRING", "Event type", { key: true, required: true }),
    c("schema_version", "INT64", "Schema version", { key: true, required: true }),
    c("field_path", "STRING", "Dotted path of the unknown field ([] for array items)", { key: true, required: true }),
    c("first_seen", "TIMESTAMP", "First commit that carried it", { required: true }),
    c("last_seen", "TIMESTAMP", "Latest commit that carried it", { required: true }),
    c("events", "INT64", "Events that carried it", { required: true }),
  ],
  { clusterBy: ["event_type"] },
);

export const KEY_FINGERPRINTS = ops(
  "key_fingerprints",
  "Fingerprints (an HMAC of a fixed label, never the key) of the KEK and token keys the store was written with",
  [
    c("key_file", "STRING", "kek.json or token-keys.json", { key: true, required: true }),
    c("key_id", "STRING", "Key id", { key: true, required: true }),
    c("fingerprint", "STRING", "HMAC-SHA-256 of a fixed label under the key, 128 bits hex", { required: true }),
    c("recorded_at", "TIMESTAMP", "When it was recorded", { required: true }),
  ],
);

/** The batch jobs whose runs ops.job_runs records (a metric label: a closed set). */
export const JOB_NAMES = ["ingest", "bronze_replay", "dead_letter_replay", "gold_rebuild", "report", "erasure", "retention", "crm_load"] as const;
export type JobName = (typeof JOB_NAMES)[number];

export const JOB_RUNS = ops(
  "job_runs",
  "One row per run of a batch job: when, how it ended, its counts, and the error (redacted: no row values) when it failed",
  [
    c("run_id", "STRING", "Random id of the run", { key: true, required: true }),
    c("job", "STRING", "Job name: " + JOB_NAMES.join(", "), { required: true }),
    c("started_at", "TIMESTAMP", "Start of the run", { required: true }),
    c("finished_at", "TIMESTAMP", "End of the run", { required: true }),
    c("outcome", "STRING", "succeeded or failed", { required: true }),
    c("counts", "JSON", "What the run counted (events, rows, models, ...)"),
    c("error", "STRING", "Why it failed, with quoted values redacted; null when it succeeded"),
  ],
  { partitionBy: "DATE(started_at)", clusterBy: ["job"] },
);

export const SUBJECT_INDEX = ops(
  "subject_index",
  "Which Silver table, day and batch hold a person's token (identity columns and tokens inside texts), written with the rows: erasure and export read only those partitions",
  [
    c("token", "STRING", "A Silver token: user, anonymous id, email or phone, or one found in a text column", { required: true }),
    c("table_name", "STRING", "Silver event table holding it", { required: true }),
    c("event_date", "DATE", "Partition holding it", { required: true }),
    c("batch_id", "INT64", "Batch that committed it: its Bronze files hold the events", { required: true }),
  ],
  { partitionBy: "event_date", clusterBy: ["token"] },
);

export const ERASED_SUBJECTS = ops(
  "erased_subjects",
  "References of erased people (keyed hashes of their Silver tokens, not personal by themselves): a commit makes no key for them and keeps none of their personal data",
  [
    c("subject_ref", "STRING", "Reference as ops.subject_keys filed the person's keys", { key: true, required: true }),
    c("erased_at", "TIMESTAMP", "When", { required: true }),
    c("request_id", "STRING", "Erasure request", { required: true }),
  ],
  { clusterBy: ["subject_ref"] },
);

export const PRIVACY_REQUESTS = ops(
  "privacy_requests",
  "Erasure and export requests queued by compliance staff; the identifier is kept encrypted until the request is done, then destroyed",
  [
    c("request_id", "STRING", "Request id", { key: true, required: true }),
    c("kind", "STRING", "erase or export", { required: true }),
    c("subject_hash", "STRING", "Salted hash of the identifier (what the audit log names)", { required: true }),
    c("identifier", "BYTES", "The identifier, encrypted under a key the KEK wraps; NULL once done"),
    c("identifier_key", "BYTES", "That key, wrapped by the KEK; NULL once done"),
    c("kek_id", "STRING", "KEK that wrapped it"),
    c("out_path", "STRING", "Export destination"),
    c("reason", "STRING", "Why (free text from compliance staff, no personal data)"),
    c("operator", "STRING", "Who queued it"),
    c("requested_at", "TIMESTAMP", "When it was queued", { required: true }),
    c("due_at", "TIMESTAMP", "Legal deadline", { required: true }),
    c("status", "STRING", "pending, done or failed", { required: true }),
    c("attempts", "INT64", "Runs tried", { required: true, default: "0" }),
    c("done_at", "TIMESTAMP", "When it finished"),
    c("result", "JSON", "Counts of the run (no personal data)"),
    c("last_error", "STRING", "Why the last run failed (redacted)"),
  ],
);

export const PRIVACY_AUDIT = ops(
  "privacy_audit",
  "Append-only log of privacy operations, each entry chained to the previous by hash; names the person only by a salted hash; never erased or expired",
  [
    c("seq", "INT64", "Position in the chain, from 1", { key: true, required: true }),
    c("entry", "JSON", "The entry: request id, kind, requested and done times, operator, subject hash, counts", { required: true }),
    c("prev_hash", "STRING", "Hash of the previous entry (64 zeros for the first)", { required: true }),
    c("entry_hash", "STRING", "sha256 of prev_hash and the entry's canonical JSON", { required: true }),
    c("recorded_at", "TIMESTAMP", "When it was appended", { required: true }),
  ],
);

export const OPS_TABLES: readonly TableDef[] = [
  BATCHES,
  SEEN_EVENTS,
  DEAD_LETTERS,
  SUBJECT_KEYS,
  SCHEMA_DRIFT,
  KEY_FINGERPRINTS,
  SUBJECT_INDEX,
  ERASED_SUBJECTS,
  PRIVACY_REQUESTS,
  PRIVACY_AUDIT,
  JOB_RUNS,
];
