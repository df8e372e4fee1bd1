/** Gold SQL for BigQuery (GoogleSQL), production. */
import { type GoldDialect, type GoldType, isoTimestampOf } from "./types.js";

const TYPES: Record<GoldType, string> = {
  STRING: "STRING",
  INT64: "INT64",
  FLOAT64: "FLOAT64",
  BOOL: "BOOL",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
};

export const bigquery: GoldDialect = {
  name: "bigquery",
  type: (t) => TYPES[t],
  toDate: (ts) => `DATE(${ts})`,
  truncHour: (ts) => `TIMESTAMP_TRUNC(${ts}, HOUR)`,
  truncMinute: (ts) => `TIMESTAMP_TRUNC(${ts}, MINUTE)`,
  minusMinutes: (ts, m) => `TIMESTAMP_SUB(${ts}, INTERVAL ${m} MINUTE)`,
  hoursBetween: (from, to) => `TIMESTAMP_DIFF(${to}, ${from}, MILLISECOND) / 3600000`,
  countIf: (cond) => `COUNTIF(${cond})`,
  anyTrue: (cond) => `LOGICAL_OR(${cond})`,
  ratio: (num, den) => `SAFE_DIVIDE(${num}, ${den})`,
  percentileOver: (x, p, by) => `PERCENTILE_CONT(${x}, ${p}) OVER (PARTITION BY ${by})`,
  dateLiteral: (d) => `DATE '${d}'`,
  timestampLiteral: (ms) => `TIMESTAMP '${isoTimestampOf(ms)}+00'`,
  dayKey: (d) => `FORMAT_DATE('%F', ${d})`,
  timeKey: (ts) => `FORMAT_TIMESTAMP('%F %T', ${ts})`,
  str: (s) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`,
};
