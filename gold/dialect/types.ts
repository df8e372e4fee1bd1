/**
 * The Gold dialect interface: every place where DuckDB and BigQuery SQL
 * differ goes through one of these functions, so a model is written once and
 * compiles for both (kysely's adapter idea). Each function returns an SQL
 * expression; arguments are SQL expressions too.
 */

/** Logical column types of Gold tables (BigQuery names; each dialect maps them). */
export type GoldType = "STRING" | "INT64" | "FLOAT64" | "BOOL" | "DATE" | "TIMESTAMP";

export interface GoldDialect {
  readonly name: "duckdb" | "bigquery";
  type(t: GoldType): string;
  /** UTC date of a TIMESTAMP. */
  toDate(ts: string): string;
  truncHour(ts: string): string;
  truncMinute(ts: string): string;
  /** `ts` minus `minutes` minutes. */
  minusMinutes(ts: string, minutes: number): string;
  /** Hours from `from` to `to` (TIMESTAMPs), as a FLOAT64. */
  hoursBetween(from: string, to: string): string;
  countIf(cond: string): string;
  /** True when `cond` holds for any row of the group. */
  anyTrue(cond: string): string;
  /** num / den as FLOAT64; NULL when den is 0 or NULL. */
  ratio(num: string, den: string): string;
  /** Continuous percentile of `x` (0 < p < 1) over a window partition: an analytic function, exact on both backends. */
  percentileOver(x: string, p: number, partitionBy: string): string;
  dateLiteral(isoDate: string): string;
  timestampLiteral(ms: number): string;
  /** Window key text of a DATE: `YYYY-MM-DD`. */
  dayKey(date: string): string;
  /** Window key text of a TIMESTAMP: `YYYY-MM-DD HH:MM:SS`. */
  timeKey(ts: string): string;
  /** A string literal. */
  str(s: string): string;
}

export function isoDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD HH:MM:SS[.mmm]` (UTC), the timestamp literal text both backends read. */
export function isoTimestampOf(ms: number): string {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(19, 23);
  return iso.slice(0, 10) + " " + iso.slice(11, 19) + (frac === ".000" ? "" : frac);
}
