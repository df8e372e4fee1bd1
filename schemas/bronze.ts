/**
 * Bronze's object layout, the one place it is defined: the same names are
 * the local Bronze folder's files and the GCS objects in production.
 *
 *   event_type=<t>/dt=<YYYY-MM-DD>/hour=<HH>/part-<batch>.ndjson.gz
 *
 * partitioned by UTC event time. Writers name files with `partFile`; readers
 * select a date range with `inDateRange`.
 */

const HOUR_MS = 3_600_000;
const hourNames = new Map<number, string>();

/** `event_type=<t>/dt=<YYYY-MM-DD>/hour=<HH>` of an event (UTC event time; memoized per hour: it is on the hot path). */
export function partitionOf(eventType: string, eventTimeMs: number): string {
  const hour = Math.floor(eventTimeMs / HOUR_MS);
  let suffix = hourNames.get(hour);
  if (suffix === undefined) {
    const iso = new Date(hour * HOUR_MS).toISOString();
    suffix = `/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
    if (hourNames.size > 100_000) hourNames.clear();
    hourNames.set(hour, suffix);
  }
  return `event_type=${eventType}${suffix}`;
}

/** The file a batch writes for a partition. */
export function partFile(partition: string, batchName: string): string {
  return `${partition}/part-${batchName}.ndjson.gz`;
}

/** True for the name of a Bronze file in place (not a temporary one). */
export function isPartFile(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  return base.startsWith("part-") && base.endsWith(".ndjson.gz");
}

const DT = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//;

/** The UTC date of a Bronze file's partition, or undefined for a name outside the layout. */
export function dateOf(name: string): string | undefined {
  return DT.exec(name)?.[1];
}

/** True when a Bronze file's partition date lies in [from, to] (YYYY-MM-DD, inclusive). */
export function inDateRange(name: string, from: string, to: string): boolean {
  const dt = dateOf(name);
  return dt !== undefined && dt >= from && dt <= to;
}
