/**
 * Refresh windows: the unit a Gold table is recomputed in. A model declares its
 * grain (a UTC day, hour or minute of a date/time column, or a key such as the
 * sku); a refresh deletes the rows of a set of windows and inserts them again,
 * recomputed from Silver, so a window never accumulates.
 *
 * A window is named by a key text (`2026-03-01`, `2026-03-01 10:05:00`,
 * `SKU-1`), which is what `ops.gold_dirty` stores. `WindowFilter` renders the
 * "row falls in one of the windows" predicates the models use, for three
 * cases: every window (full rebuild), a literal set (DuckDB refresh, rebuild of
 * a range) and the script variables of the BigQuery scheduled refresh.
 */
import { type GoldDialect, isoDateOf, isoTimestampOf } from "./dialect/types.js";

export type Grain = "day" | "hour" | "minute" | "key";

const GRAIN_MS: Record<Exclude<Grain, "key">, number> = { day: 86_400_000, hour: 3_600_000, minute: 60_000 };

export function grainMs(grain: Exclude<Grain, "key">): number {
  return GRAIN_MS[grain];
}

/** The key text of the window holding epoch ms `t`. */
export function windowKeyOf(grain: Exclude<Grain, "key">, t: number): string {
  const start = Math.floor(t / GRAIN_MS[grain]) * GRAIN_MS[grain];
  return grain === "day" ? isoDateOf(start) : isoTimestampOf(start);
}

/** Epoch ms of the start of a time window from its key text. */
export function windowStartOf(grain: Exclude<Grain, "key">, key: string): number {
  const iso = grain === "day" ? `${key}T00:00:00Z` : `${key.replace(" ", "T")}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms) || windowKeyOf(grain, ms) !== key) throw new Error(`not a ${grain} window key: ${key}`);
  return ms;
}

/** Predicates on "falls in one of the windows" for the expressions a model filters on. */
export interface WindowFilter {
  readonly grain: Grain;
  /** A DATE expression falls on a day that overlaps a window. */
  date(expr: string): string;
  /** A TIMESTAMP expression falls in a window. */
  time(expr: string): string;
  /** A Silver event row (`event_date`, `event_time`) falls in a window; prunes partitions on BigQuery. */
  events(alias?: string): string;
  /** A key expression is one of the windows (key grain). */
  key(expr: string): string;
}

const col = (alias: string | undefined, c: string) => (alias ? `${alias}.${c}` : c);

/** Every window: the full rebuild. */
export function allWindows(grain: Grain): WindowFilter {
  return { grain, date: () => "TRUE", time: () => "TRUE", events: () => "TRUE", key: () => "TRUE" };
}

/**
 * A literal set of time windows, merged into contiguous ranges [start, end).
 * Each predicate carries an outer bound (min start, max end) that the engines
 * can push into the scan, and the exact OR of ranges.
 */
export function timeWindows(d: GoldDialect, grain: Exclude<Grain, "key">, ranges: readonly (readonly [number, number])[]): WindowFilter {
  const size = GRAIN_MS[grain];
  const sorted = [...ranges].map(([a, b]) => [Math.floor(a / size) * size, Math.ceil(b / size) * size] as const).sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else if (b > a) merged.push([a, b]);
  }
  if (merged.length === 0) return none(grain);
  // Days overlapping the ranges, merged: [first day, last day] inclusive.
  const DAY = GRAIN_MS.day;
  const dayRanges: [number, number][] = [];
  for (const [a, b] of merged) {
    const first = Math.floor(a / DAY) * DAY;
    const last = Math.floor((b - 1) / DAY) * DAY;
    const prev = dayRanges[dayRanges.length - 1];
    if (prev && first <= prev[1] + DAY) prev[1] = Math.max(prev[1], last);
    else dayRanges.push([first, last]);
  }
  const days = dayRanges.map(([a, b]) => [isoDateOf(a), isoDateOf(b)] as const);
  const rangePred = (expr: string, lit: (ms: number) => string, pairs: readonly (readonly [number, number])[]) => {
    const parts = pairs.map(([a, b]) => `(${expr} >= ${lit(a)} AND ${expr} < ${lit(b)})`);
    const bound = `${expr} >= ${lit(pairs[0]![0])} AND ${expr} < ${lit(pairs[pairs.length - 1]![1])}`;
    return parts.length === 1 ? parts[0]! : `(${bound} AND (${parts.join(" OR ")}))`;
  };
  const date = (expr: string) => {
    const parts = days.map(([a, b]) => (a === b ? `${expr} = ${d.dateLiteral(a)}` : `${expr} BETWEEN ${d.dateLiteral(a)} AND ${d.dateLiteral(b)}`));
    if (parts.length === 1) return parts[0]!;
    return `(${expr} BETWEEN ${d.dateLiteral(days[0]![0])} AND ${d.dateLiteral(days[days.length - 1]![1])} AND (${parts.join(" OR ")}))`;
  };
  const time = (expr: string) => rangePred(expr, (ms) => d.timestampLiteral(ms), merged);
  return {
    grain,
    date,
    time,
    events: (alias) => (grain === "day" ? date(col(alias, "event_date")) : `${date(col(alias, "event_date"))} AND ${time(col(alias, "event_time"))}`),
    key: () => {
      throw new Error(`a ${grain} window has no key predicate`);
    },
  };
}

/** A literal set of key windows (e.g. skus). */
export function keyWindows(d: GoldDialect, keys: readonly string[]): WindowFilter {
  if (keys.length === 0) return none("key");
  const list = [...new Set(keys)]
    .sort()
    .map((k) => d.str(k))
    .join(", ");
  const unsupported = () => {
    throw new Error("a key window has no date or time predicate");
  };
  return { grain: "key", date: unsupported, time: unsupported, events: unsupported, key: (expr) => `${expr} IN (${list})` };
}

/** No window at all (nothing to do); every predicate is FALSE. */
function none(grain: Grain): WindowFilter {
  return { grain, date: () => "FALSE", time: () => "FALSE", events: () => "FALSE", key: () => "FALSE" };
}

/** The windows named by key texts (as stored in `ops.gold_dirty`). */
export function windowsFromKeys(d: GoldDialect, grain: Grain, keys: readonly string[]): WindowFilter {
  if (grain === "key") return keyWindows(d, keys);
  const size = GRAIN_MS[grain];
  return timeWindows(
    d,
    grain,
    keys.map((k) => {
      const s = windowStartOf(grain, k);
      return [s, s + size] as const;
    }),
  );
}

/**
 * The windows of a BigQuery scheduled refresh, held in script variables:
 * `<prefix>_dates ARRAY<DATE>` (the days the windows overlap, for partition
 * pruning), `<prefix>_starts ARRAY<TIMESTAMP>` (window starts, time grains)
 * and `<prefix>_keys ARRAY<STRING>` (key grain).
 */
export function scriptWindows(grain: Grain, prefix: string): WindowFilter {
  const dates = `${prefix}_dates`;
  const starts = `${prefix}_starts`;
  const trunc = (expr: string) =>
    grain === "hour" ? `TIMESTAMP_TRUNC(${expr}, HOUR)` : grain === "minute" ? `TIMESTAMP_TRUNC(${expr}, MINUTE)` : `DATE(${expr})`;
  const time = (expr: string) => (grain === "day" ? `DATE(${expr}) IN UNNEST(${dates})` : `${trunc(expr)} IN UNNEST(${starts})`);
  const date = (expr: string) => `${expr} IN UNNEST(${dates})`;
  return {
    grain,
    date,
    time,
    events: (alias) => (grain === "day" ? date(col(alias, "event_date")) : `${date(col(alias, "event_date"))} AND ${time(col(alias, "event_time"))}`),
    key: (expr) => `${expr} IN UNNEST(${prefix}_keys)`,
  };
}
