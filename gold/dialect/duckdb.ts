/** Gold SQL for DuckDB (the local store). */
import { type GoldDialect, type GoldType, isoTimestampOf } from "./types.js";

const TYPES: Record<GoldType, string> = {
  STRING: "VARCHAR",
  INT64: "BIGINT",
  FLOAT64: "DOUBLE",
  BOOL: "BOOLEAN",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
};

export const duckdb: GoldDialect = {
  name: "duckdb",
  type: (t) => TYPES[t],
  toDate: (ts) => `CAST(${ts} AS DATE)`,
  truncHour: (ts) => `date_trunc('hour', ${ts})`,
  truncMinute: (ts) => `date_trunc('minute', ${ts})`,
  minusMinutes: (ts, m) => `(${ts} - INTERVAL ${m} MINUTE)`,
  hoursBetween: (from, to) => `CAST(date_diff('millisecond', ${from}, ${to}) AS DOUBLE) / 3600000`,
  // count_if over only NULLs gives NULL; COUNTIF gives 0, as does this.
  countIf: (cond) => `count(*) FILTER (WHERE ${cond})`,
  anyTrue: (cond) => `bool_or(${cond})`,
  ratio: (num, den) => `CAST(${num} AS DOUBLE) / NULLIF(${den}, 0)`,
  percentileOver: (x, p, by) => `quantile_cont(${x}, ${p}) OVER (PARTITION BY ${by})`,
  dateLiteral: (d) => `DATE '${d}'`,
  timestampLiteral: (ms) => `TIMESTAMP '${isoTimestampOf(ms)}'`,
  dayKey: (d) => `strftime(${d}, '%Y-%m-%d')`,
  timeKey: (ts) => `strftime(${ts}, '%Y-%m-%d %H:%M:%S')`,
  str: (s) => `'${s.replace(/'/g, "''")}'`,
};
