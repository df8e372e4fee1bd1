/**
 * Values crossing the fake BigQuery's edges, each conversion typed by the
 * BigQuery type of the column or parameter:
 *
 *   query parameters (REST `parameterValue`)  -> DuckDB values to bind
 *   NDJSON load lines (JSON values)           -> DuckDB values to insert
 *   DuckDB result values                      -> BigQuery's wire cells (`{v: ...}`), as the official client parses them
 *   DuckDB result values                      -> plain JSON values for test assertions
 *
 * Wire format, as BigQuery sends it: every scalar is a string (INT64 in
 * decimal, FLOAT64 as "NaN"/"Infinity" when it is one, BOOL "true"/"false",
 * BYTES base64, DATE YYYY-MM-DD, DATETIME with a T, NUMERIC without trailing
 * zeros), TIMESTAMP as int64 microseconds when the request asked for
 * `useInt64Timestamp`, else as float seconds ("1.7640648E9"); an ARRAY is a
 * list of cells (a NULL array is empty), a STRUCT is `{f: [...]}`, NULL is null.
 * Out-of-range or malformed input is a BigQueryError, never a silent guess.
 */
import {
  type DuckDBValue,
  type DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBArrayValue,
  DuckDBStructValue,
  type DuckDBTimeValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  blobValue,
  dateValue,
  decimalValue,
  listValue,
  structValue,
  timeValue,
  timestampTZValue,
  timestampValue,
} from "@duckdb/node-api";
import { BigQueryError, type BqType } from "./bigquery-sql/types.js";

const DAY_US = 86_400_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function daysFromCivil(y: number, m: number, d: number): number | undefined {
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return Math.round(date.getTime() / 86_400_000);
}

const DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const TIME_RE = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
/** Canonical BigQuery timestamp text: a date, optionally a time, optionally Z, UTC or a +-HH[:MM] offset. */
const TIMESTAMP_RE = /^(\d{4}-\d{1,2}-\d{1,2})(?:[Tt ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s*(Z|z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$/;

export function parseDateDays(text: string): number {
  const m = DATE_RE.exec(text.trim());
  const days = m ? daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
  if (days === undefined) throw new BigQueryError(`Invalid date: '${text}'`, "invalid");
  return days;
}

function parseTimeMicros(text: string): bigint {
  const m = TIME_RE.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) throw new BigQueryError(`Invalid time: '${text}'`, "invalid");
  const frac = BigInt((m[4] ?? "").padEnd(6, "0").slice(0, 6));
  return (BigInt(m[1]!) * 3600n + BigInt(m[2]!) * 60n + BigInt(m[3] ?? 0)) * 1_000_000n + frac;
}

function offsetMicros(zone: string | undefined): bigint {
  if (!zone || /^(z|utc)$/i.test(zone)) return 0n;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
  const us = (BigInt(m[2]!) * 60n + BigInt(m[3] ?? 0)) * 60_000_000n;
  return m[1] === "-" ? -us : us;
}

/** Microseconds since the epoch of a BigQuery timestamp text (UTC when it names no zone; zone names are refused). */
export function parseTimestampMicros(text: string): bigint {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) throw new BigQueryError(`Invalid timestamp: '${text}'`, "invalid");
  const days = BigInt(parseDateDays(m[1]!));
  return days * DAY_US + (m[2] ? parseTimeMicros(m[2]) : 0n) - offsetMicros(m[3]);
}

/** Microseconds of a zone-less DATETIME text. */
export function parseDatetimeMicros(text: string): bigint {
  const m = /^(\d{4}-\d{1,2}-\d{1,2})(?:[Tt ](.+))?$/.exec(text.trim());
  if (!m) throw new BigQueryError(`Invalid datetime: '${text}'`, "invalid");
  return BigInt(parseDateDays(m[1]!)) * DAY_US + (m[2] ? parseTimeMicros(m[2]) : 0n);
}

const pad = (n: bigint | number, w: number) => String(n).padStart(w, "0");

export function dateText(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function timeText(us: bigint): string {
  const s = us / 1_000_000n;
  const frac = us % 1_000_000n;
  const base = `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}`;
  return frac === 0n ? base : `${base}.${pad(frac, 6)}`;
}

/** `YYYY-MM-DDTHH:MM:SS[.ffffff]` of microseconds since the epoch (no zone). */
function civilText(micros: bigint): string {
  const days = floorDiv(micros, DAY_US);
  return `${dateText(Number(days))}T${timeText(micros - days * DAY_US)}`;
}

/** ISO 8601 in UTC with milliseconds, or microseconds when it has them: what `Date.toISOString()` prints for whole milliseconds. */
export function isoTimestamp(micros: bigint): string {
  const days = floorDiv(micros, DAY_US);
  const rest = micros - days * DAY_US;
  const frac = rest % 1_000_000n;
  const fraction = frac % 1000n === 0n ? pad(frac / 1000n, 3) : pad(frac, 6);
  return `${dateText(Number(days))}T${timeText(rest - frac)}.${fraction}Z`;
}

/** Float seconds as BigQuery prints them without useInt64Timestamp (Java's Double.toString: E notation from 1e7). */
function floatSeconds(micros: bigint): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const whole = (abs / 1_000_000n).toString();
  const frac = pad(abs % 1_000_000n, 6).replace(/0+$/, "");
  const sign = neg ? "-" : "";
  if (abs < 10_000_000n * 1_000_000n) return `${sign}${whole}.${frac || "0"}`;
  const digits = (whole + frac).replace(/0+$/, "");
  return `${sign}${digits[0]}.${digits.slice(1) || "0"}E${whole.length - 1}`;
}

function int64(text: string, what: string): bigint {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new BigQueryError(`Invalid INT64 value: ${what}`, "invalid");
  const v = BigInt(text.trim());
  if (v < INT64_MIN || v > INT64_MAX) throw new BigQueryError(`INT64 overflow: ${what}`, "invalid");
  return v;
}

function numeric(text: string): DuckDBDecimalValue {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === "" && !m[3])) throw new BigQueryError(`Invalid NUMERIC value: ${text}`, "invalid");
  let digits = (m[2] ?? "") + (m[3] ?? "");
  let scale = (m[3] ?? "").length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits += "0".repeat(-scale);
    scale = 0;
  }
  if (scale > 9) {
    if (/[1-9]/.test(digits.slice(digits.length - (scale - 9)))) throw new BigQueryError(`NUMERIC has more than 9 fractional digits: ${text}`, "invalid");
    digits = digits.slice(0, digits.length - (scale - 9));
    scale = 9;
  }
  const scaled = BigInt(digits || "0") * 10n ** BigInt(9 - scale) * (m[1] === "-" ? -1n : 1n);
  if (scaled >= 10n ** 38n || scaled <= -(10n ** 38n)) throw new BigQueryError(`NUMERIC overflow: ${text}`, "invalid");
  return decimalValue(scaled, 38, 9);
}

function float64(text: string): number {
  if (/^(nan|[+-]?inf(inity)?)$/i.test(text.trim())) return text.trim().toLowerCase() === "nan" ? NaN : text.trim().startsWith("-") ? -Infinity : Infinity;
  const n = Number(text);
  if (text.trim() === "" || Number.isNaN(n)) throw new BigQueryError(`Invalid FLOAT64 value: ${text}`, "invalid");
  return n;
}

function bool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t !== "true" && t !== "false") throw new BigQueryError(`Invalid BOOL value: ${text}`, "invalid");
  return t === "true";
}

function base64(text: string): DuckDBBlobValue {
  if (!/^[A-Za-z0-9+/\s]*={0,2}$/.test(text)) throw new BigQueryError("Invalid BYTES value: not base64", "invalid");
  return blobValue(new Uint8Array(Buffer.from(text, "base64")));
}

/** A scalar from its text form (parameters send every scalar as text; loads send some). */
function scalarFromText(t: BqType, text: string, what: string): DuckDBValue {
  switch (t.kind) {
    case "STRING":
    case "JSON":
      return text;
    case "INT64":
      return int64(text, what);
    case "FLOAT64":
      return float64(text);
    case "NUMERIC":
      return numeric(text);
    case "BOOL":
      return bool(text);
    case "BYTES":
      return base64(text);
    case "DATE":
      return dateValue(parseDateDays(text));
    case "TIMESTAMP":
      return timestampTZValue(parseTimestampMicros(text));
    case "DATETIME":
      return timestampValue(parseDatetimeMicros(text));
    case "TIME":
      return timeValue(parseTimeMicros(text));
    default:
      throw new BigQueryError(`${t.kind} value where a scalar was expected: ${what}`, "invalid");
  }
}

export interface RestParameterValue {
  value?: string | number | boolean | null;
  arrayValues?: RestParameterValue[];
  structValues?: Record<string, RestParameterValue>;
}

/** A query parameter's value, typed by its declared parameterType. */
export function parameterValue(t: BqType, v: RestParameterValue | undefined, name: string): DuckDBValue {
  if (t.kind === "ARRAY") return listValue((v?.arrayValues ?? []).map((x, i) => parameterValue(t.element, x, `${name}[${i}]`)));
  if (t.kind === "STRUCT") {
    if (!v?.structValues) return null;
    return structValue(Object.fromEntries(t.fields.map((f) => [f.name, parameterValue(f.type, v.structValues![f.name], `${name}.${f.name}`)])));
  }
  if (v?.value === undefined || v.value === null) return null;
  return scalarFromText(t, String(v.value), `parameter ${name}`);
}

/** One field of an NDJSON load line; `path` names it in errors. */
export function loadValue(t: BqType, v: unknown, path: string, ignoreUnknown: boolean): DuckDBValue {
  if (t.kind === "ARRAY") {
    if (v === null || v === undefined) return listValue([]);
    if (!Array.isArray(v)) throw new BigQueryError(`JSON parsing error: ${path} is REPEATED but the value is not an array`, "invalid");
    return listValue(
      v.map((x, i) => {
        if (x === null) throw new BigQueryError(`JSON parsing error: ${path}[${i}]: an array cannot have a null element`, "invalid");
        return loadValue(t.element, x, `${path}[${i}]`, ignoreUnknown);
      }),
    );
  }
  if (v === null || v === undefined) return null;
  if (t.kind === "STRUCT") {
    if (typeof v !== "object" || Array.isArray(v)) throw new BigQueryError(`JSON parsing error: ${path} is a RECORD but the value is not an object`, "invalid");
    return structValue(loadRecord(t.fields, v as Record<string, unknown>, `${path}.`, ignoreUnknown, new Set()));
  }
  if (t.kind === "JSON") return JSON.stringify(v);
  if (t.kind === "TIMESTAMP" && typeof v === "number") return timestampTZValue(BigInt(Math.round(v * 1e6)));
  if (t.kind === "INT64" && typeof v === "number" && !Number.isInteger(v))
    throw new BigQueryError(`JSON parsing error: ${path}: could not convert ${v} to INT64`, "invalid");
  if (typeof v === "object") throw new BigQueryError(`JSON parsing error: ${path}: an object or array where ${t.kind} was expected`, "invalid");
  if (t.kind === "BOOL" && typeof v === "boolean") return v;
  return scalarFromText(t, String(v), path);
}

/** A record's fields in schema order; unknown fields are errors unless ignored, required ones must be present. */
export function loadRecord(
  fields: readonly { name: string; type: BqType }[],
  obj: Record<string, unknown>,
  prefix: string,
  ignoreUnknown: boolean,
  required: ReadonlySet<string>,
): Record<string, DuckDBValue> {
  const byLower = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const given = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) {
    const f = byLower.get(k.toLowerCase());
    if (!f) {
      if (ignoreUnknown) continue;
      throw new BigQueryError(`JSON parsing error: No such field: ${prefix}${k}.`, "invalid");
    }
    given.set(f.name, v);
  }
  const out: Record<string, DuckDBValue> = {};
  for (const f of fields) {
    const v = given.get(f.name);
    if ((v === undefined || v === null) && required.has(f.name))
      throw new BigQueryError(`JSON parsing error: Missing required field: ${prefix}${f.name}.`, "invalid");
    out[f.name] = loadValue(f.type, v, `${prefix}${f.name}`, ignoreUnknown);
  }
  return out;
}

function asBigInt(v: DuckDBValue): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw new BigQueryError(`fake BigQuery: an integer column holds ${String(v)}`);
}

function numericText(v: DuckDBValue): string {
  if (!(v instanceof DuckDBDecimalValue)) return String(v);
  const s = v.toString();
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

function floatText(n: number): string {
  return Number.isNaN(n) ? "NaN" : String(n);
}

function micros(v: DuckDBValue, what: string): bigint {
  if (v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) {
    if (!v.isFinite) throw new BigQueryError(`Invalid ${what}: an infinite timestamp has no BigQuery value`);
    return v.micros;
  }
  throw new BigQueryError(`fake BigQuery: a ${what} column holds ${String(v)}`);
}

function days(v: DuckDBValue): number {
  if (!(v instanceof DuckDBDateValue) || !v.isFinite) throw new BigQueryError(`Invalid DATE value ${String(v)}`);
  return v.days;
}

function items(v: DuckDBValue): readonly DuckDBValue[] {
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items;
  throw new BigQueryError(`fake BigQuery: an ARRAY column holds ${String(v)}`);
}

function entry(v: DuckDBValue, name: string): DuckDBValue {
  if (!(v instanceof DuckDBStructValue)) throw new BigQueryError(`fake BigQuery: a STRUCT column holds ${String(v)}`);
  return v.entries[name] ?? null;
}

function checkedInt64(v: DuckDBValue): bigint {
  const n = asBigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw new BigQueryError(`int64 overflow: ${n}`);
  return n;
}

/** A result cell's `v`, as BigQuery's REST API encodes it. */
export function wireValue(t: BqType, v: DuckDBValue, int64Timestamps: boolean): unknown {
  if (t.kind === "ARRAY") return v === null ? [] : items(v).map((x) => ({ v: wireValue(t.element, x, int64Timestamps) }));
  if (v === null) return null;
  switch (t.kind) {
    case "STRUCT":
      return { f: t.fields.map((f) => ({ v: wireValue(f.type, entry(v, f.name), int64Timestamps) })) };
    case "STRING":
    case "JSON":
      return String(v);
    case "INT64":
      return checkedInt64(v).toString();
    case "FLOAT64":
      return floatText(Number(v));
    case "NUMERIC":
      return numericText(v);
    case "BOOL":
      return v ? "true" : "false";
    case "BYTES":
      return Buffer.from((v as DuckDBBlobValue).bytes).toString("base64");
    case "DATE":
      return dateText(days(v));
    case "TIMESTAMP":
      return int64Timestamps ? micros(v, "TIMESTAMP").toString() : floatSeconds(micros(v, "TIMESTAMP"));
    case "DATETIME":
      return civilText(micros(v, "DATETIME"));
    case "TIME":
      return timeText((v as DuckDBTimeValue).micros);
  }
}

/**
 * A plain JSON value for tests: INT64 as a number (an error past 2^53),
 * TIMESTAMP as ISO 8601 UTC (as `Date.toISOString()`), DATE as YYYY-MM-DD,
 * BYTES base64, JSON parsed, NUMERIC as its decimal text: the shapes an NDJSON
 * load line uses, so loaded rows read back equal to their lines.
 */
export function plainValue(t: BqType, v: DuckDBValue): unknown {
  if (t.kind === "ARRAY") return v === null ? [] : items(v).map((x) => plainValue(t.element, x));
  if (v === null) return null;
  switch (t.kind) {
    case "STRUCT":
      return Object.fromEntries(t.fields.map((f) => [f.name, plainValue(f.type, entry(v, f.name))]));
    case "STRING":
      return String(v);
    case "JSON":
      return JSON.parse(String(v)) as unknown;
    case "INT64": {
      const n = checkedInt64(v);
      if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
        throw new Error(`INT64 ${n} is beyond a JS number; read it with fake.query and a CAST`);
      return Number(n);
    }
    case "FLOAT64":
      return Number(v);
    case "NUMERIC":
      return numericText(v);
    case "BOOL":
      return Boolean(v);
    case "BYTES":
      return Buffer.from((v as DuckDBBlobValue).bytes).toString("base64");
    case "DATE":
      return dateText(days(v));
    case "TIMESTAMP":
      return isoTimestamp(micros(v, "TIMESTAMP"));
    case "DATETIME":
      return civilText(micros(v, "DATETIME"));
    case "TIME":
      return timeText((v as DuckDBTimeValue).micros);
  }
}
