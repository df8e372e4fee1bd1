/**
 * The retention policy, the one place it is defined: how long each layer
 * keeps data, the cutoffs that follow from a policy and a day, and which
 * column of which table a row's age is read from. `ecom retention run`
 * applies it to a local data dir; `ecom retention infra` writes the same
 * settings in their production form (the Bronze bucket's lifecycle rule,
 * BigQuery partition expiration and a daily DELETE for the tables that have
 * no partitions), and `ecom deploy --print-ddl` / `ecom gold bigquery` put
 * the partition expiration into the tables they create.
 *
 *  - Bronze          5 years, by the partition date of its files (dt=)
 *  - Silver and Gold 3 years by default, 3 to 5 (`--silver-years`): event
 *                    tables and ops.subject_index by event_date, state tables
 *                    by their winning event's time, Gold by its date column.
 *                    Gold follows Silver: it is computed from Silver, so a Gold
 *                    row kept past its Silver could not be rebuilt and one
 *                    dropped before its Silver would come back on a rebuild
 *  - dead letters    30 days, by received_at
 *  - never expired   ops.privacy_audit, ops.erased_subjects (a suppression
 *                    list must outlive the data it suppresses),
 *                    ops.privacy_requests, and `<data-dir>/audit/`
 */
import { DEAD_LETTERS, PRIVACY_AUDIT, PRIVACY_REQUESTS, ERASED_SUBJECTS, SUBJECT_INDEX } from "./ops.js";
import { EVENT_TABLES, STATE_TABLES } from "./silver.js";
import { qualified } from "./table.js";

export interface RetentionPolicy {
  /** Bronze files, by their partition date. */
  bronzeYears: number;
  /** Silver, Gold and the subject index. */
  silverYears: number;
  /** ops.dead_letters, by received_at. */
  deadLetterDays: number;
}

/** What the requirement allows for Silver and Gold. */
export const SILVER_YEARS = { min: 3, max: 5 } as const;

export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = { bronzeYears: 5, silverYears: 3, deadLetterDays: 30 };

/** Tables no retention ever deletes from (nor any file outside `<data-dir>/bronze/`). */
export const NEVER_EXPIRED: readonly string[] = [PRIVACY_AUDIT, ERASED_SUBJECTS, PRIVACY_REQUESTS].map(qualified);

/** The first kept day of each layer (YYYY-MM-DD, UTC) and the dead-letter cutoff (epoch ms): older goes. */
export interface Cutoffs {
  bronze: string;
  silver: string;
  deadLettersMs: number;
}

const DAY_MS = 86_400_000;

/** The UTC day `years` calendar years before the day of `nowMs` (29 February goes to 1 March). */
export function yearsBefore(nowMs: number, years: number): string {
  const d = new Date(nowMs);
  return new Date(Date.UTC(d.getUTCFullYear() - years, d.getUTCMonth(), d.getUTCDate())).toISOString().slice(0, 10);
}

export function cutoffsOf(p: RetentionPolicy, nowMs: number): Cutoffs {
  return { bronze: yearsBefore(nowMs, p.bronzeYears), silver: yearsBefore(nowMs, p.silverYears), deadLettersMs: nowMs - p.deadLetterDays * DAY_MS };
}

/**
 * Days that cover `years` calendar years in every case (365 a year plus the
 * most leap days they can hold): BigQuery's partition expiration and the
 * lifecycle rule count days, so production keeps a day or two longer than a
 * local run, never shorter.
 */
export function daysCovering(years: number): number {
  return 365 * years + Math.ceil(years / 4);
}

/** A table whose rows expire, and the column their age is read from. */
export interface RowRetention {
  /** schema.table */
  table: string;
  column: string;
  /** DATE columns compare with the cutoff day, TIMESTAMP columns with its start (dead letters: the exact time). */
  type: "DATE" | "TIMESTAMP";
  layer: "silver" | "gold" | "dead_letters";
  /** BigQuery partitions on this column (partition expiration applies); else production needs the daily DELETE. */
  partitioned: boolean;
}

const STATE_TIME: Record<string, string> = { orders: "last_event_time", payments: "last_event_time", inventory: "as_of" };

/** Silver and ops tables that expire (Gold's come from gold/retention.ts, beside the models). */
export const WAREHOUSE_RETENTION: readonly RowRetention[] = [
  ...Object.values(EVENT_TABLES).map((t): RowRetention => ({ table: qualified(t), column: "event_date", type: "DATE", layer: "silver", partitioned: true })),
  ...STATE_TABLES.map((t): RowRetention => {
    const column = STATE_TIME[t.name];
    if (!column) throw new Error(`schemas/retention.ts: state table ${qualified(t)} has no retention column; add it to STATE_TIME`);
    return { table: qualified(t), column, type: "TIMESTAMP", layer: "silver", partitioned: false };
  }),
  { table: qualified(SUBJECT_INDEX), column: "event_date", type: "DATE", layer: "silver", partitioned: true },
  { table: qualified(DEAD_LETTERS), column: "received_at", type: "TIMESTAMP", layer: "dead_letters", partitioned: true },
];

/** BigQuery partition expiration (days) of a partitioned table of `layer`. */
export function partitionExpirationDays(layer: RowRetention["layer"], p: RetentionPolicy = DEFAULT_RETENTION): number {
  return layer === "dead_letters" ? p.deadLetterDays : daysCovering(p.silverYears);
}

/** The expiration of a declared Silver/ops table, when it has one. */
export function expirationOfTable(table: string, p: RetentionPolicy = DEFAULT_RETENTION): number | undefined {
  const r = WAREHOUSE_RETENTION.find((x) => x.table === table && x.partitioned);
  return r ? partitionExpirationDays(r.layer, p) : undefined;
}

/** SQL predicate: a row of `r` is older than the cutoffs (literals only; the dates are validated YYYY-MM-DD). */
export function expiredPredicate(r: RowRetention, c: Cutoffs): string {
  if (r.layer === "dead_letters") return `${r.column} < TIMESTAMP '${new Date(c.deadLettersMs).toISOString().replace("T", " ").replace("Z", "")}'`;
  return r.type === "DATE" ? `${r.column} < DATE '${c.silver}'` : `${r.column} < TIMESTAMP '${c.silver} 00:00:00'`;
}

/** The Bronze bucket's lifecycle rules (`gsutil lifecycle set`), Bronze objects under `prefix`. */
export function bronzeLifecycle(p: RetentionPolicy = DEFAULT_RETENTION, prefix = "bronze"): { rule: unknown[] } {
  return {
    rule: [
      { action: { type: "Delete" }, condition: { age: daysCovering(p.bronzeYears), matchesPrefix: [`${prefix}/event_type=`] } },
      { action: { type: "Delete" }, condition: { age: 7, matchesPrefix: [`${prefix}/_tmp/`] } },
      { action: { type: "Delete" }, condition: { age: 1, matchesPrefix: ["staging/"] } },
    ],
  };
}
