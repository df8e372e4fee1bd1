/**
 * What a committed batch was made of, for the metrics: its outcomes per
 * event type, its new dead letters per reason, and the event_time of each
 * new Silver row. Computed by the commit (pipelines/commit.ts) from what it
 * already holds; no IO.
 *
 * Guarantees: the sums over `byType` equal the batch's counts (valid,
 * duplicates, dead_lettered), and the sum over `deadLettersByReason` equals
 * its dead_lettered. Every key is from a closed set: an event type of the
 * contract or `other` (a dead letter's claimed type is producer text), a
 * dead-letter reason, a domain.
 */
import type { DeadLetterRow } from "../../schemas/ops.js";
import { type Domain, EVENT_TYPE_NAMES, type EventType } from "../../schemas/registry.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import type { DeadLetter, DeadLetterReason } from "../../transforms/types.js";

export type EventTypeLabel = EventType | "other";

export interface OutcomeCounts {
  valid: number;
  duplicates: number;
  dead_lettered: number;
}

export interface BatchBreakdown {
  /** Outcomes per event type of the contract, `other` for a dead letter whose type is none of them. */
  byType: Partial<Record<EventTypeLabel, OutcomeCounts>>;
  /** New dead letters per reason. */
  deadLettersByReason: Partial<Record<DeadLetterReason, number>>;
  /** event_time (epoch ms) of every new Silver row, per domain. */
  eventTimesMs: Partial<Record<Domain, Float64Array>>;
}

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPE_NAMES);

/** The metric label of a type name: the contract's type, or `other` for anything else (never producer text). */
export function eventTypeLabel(type: string | undefined): EventTypeLabel {
  return type !== undefined && KNOWN.has(type) ? (type as EventType) : "other";
}

function outcomes(by: BatchBreakdown["byType"], type: EventTypeLabel): OutcomeCounts {
  return (by[type] ??= { valid: 0, duplicates: 0, dead_lettered: 0 });
}

/**
 * The breakdown of a committed batch. `validByType`: the schema-valid events
 * parsed per type (in-batch duplicates included); `rows`: the new Silver rows;
 * `projectFailed`: valid events step 4 threw on (dead letters now); `dead` and
 * `deadRows`: every dead letter of the batch and its row (aligned); `newDead`:
 * how many of them the store did not hold yet.
 */
export function batchBreakdown(
  validByType: Readonly<Partial<Record<EventType, number>>>,
  rows: ReadonlyMap<Domain, readonly SilverRow[]>,
  projectFailed: readonly DeadLetter[],
  dead: readonly DeadLetter[],
  deadRows: readonly DeadLetterRow[],
  newDead: number,
): BatchBreakdown {
  const byType: BatchBreakdown["byType"] = {};
  const eventTimesMs: BatchBreakdown["eventTimesMs"] = {};
  const freshByType = new Map<EventTypeLabel, number>();
  for (const [domain, list] of rows) {
    const times = new Float64Array(list.length);
    list.forEach((r, i) => {
      times[i] = r.event_time as number;
      const t = eventTypeLabel(r.event_type as string);
      freshByType.set(t, (freshByType.get(t) ?? 0) + 1);
    });
    if (list.length) eventTimesMs[domain] = times;
  }
  const failedByType = new Map<EventTypeLabel, number>();
  for (const d of projectFailed) failedByType.set(eventTypeLabel(d.event_type), (failedByType.get(eventTypeLabel(d.event_type)) ?? 0) + 1);
  // A valid event is new in Silver, a step-4 failure (counted with the dead letters), or a duplicate.
  for (const [type, n] of Object.entries(validByType) as [EventType, number][]) {
    const o = outcomes(byType, type);
    o.valid += freshByType.get(type) ?? 0;
    o.duplicates += n - (freshByType.get(type) ?? 0) - (failedByType.get(type) ?? 0);
  }
  // A dead letter whose bytes the batch already had is a duplicate. Of the others, the store says how many
  // it held before (a redelivered bad message), not which: those are taken from the end of the batch, so
  // only a batch mixing stored and new dead letters of several types or reasons can misplace a label.
  const firsts: number[] = [];
  const seen = new Set<string>();
  deadRows.forEach((row, i) => {
    if (seen.has(row.dl_id)) outcomes(byType, eventTypeLabel(dead[i]!.event_type)).duplicates++;
    else {
      seen.add(row.dl_id);
      firsts.push(i);
    }
  });
  const deadLettersByReason: BatchBreakdown["deadLettersByReason"] = {};
  firsts.forEach((i, k) => {
    const d = dead[i]!;
    const o = outcomes(byType, eventTypeLabel(d.event_type));
    if (k < newDead) {
      o.dead_lettered++;
      deadLettersByReason[d.reason] = (deadLettersByReason[d.reason] ?? 0) + 1;
    } else o.duplicates++;
  });
  return { byType, deadLettersByReason, eventTimesMs };
}

/** The breakdown of a batch that had committed before: everything in it is a duplicate. */
export function allDuplicates(validByType: Readonly<Partial<Record<EventType, number>>>, dead: readonly DeadLetter[]): BatchBreakdown {
  const byType: BatchBreakdown["byType"] = {};
  for (const [type, n] of Object.entries(validByType) as [EventType, number][]) outcomes(byType, type).duplicates += n;
  for (const d of dead) outcomes(byType, eventTypeLabel(d.event_type)).duplicates++;
  return { byType, deadLettersByReason: {}, eventTimesMs: {} };
}

/** Several batches' breakdowns as one (a batch the delivery policy split). */
export function mergeBreakdowns(parts: readonly BatchBreakdown[]): BatchBreakdown {
  const out: BatchBreakdown = { byType: {}, deadLettersByReason: {}, eventTimesMs: {} };
  for (const p of parts) {
    for (const [t, c] of Object.entries(p.byType) as [EventTypeLabel, OutcomeCounts][]) {
      const o = outcomes(out.byType, t);
      o.valid += c.valid;
      o.duplicates += c.duplicates;
      o.dead_lettered += c.dead_lettered;
    }
    for (const [r, n] of Object.entries(p.deadLettersByReason) as [DeadLetterReason, number][])
      out.deadLettersByReason[r] = (out.deadLettersByReason[r] ?? 0) + n;
    for (const [d, times] of Object.entries(p.eventTimesMs) as [Domain, Float64Array][]) {
      const prev = out.eventTimesMs[d];
      if (!prev) out.eventTimesMs[d] = times;
      else {
        const both = new Float64Array(prev.length + times.length);
        both.set(prev);
        both.set(times, prev.length);
        out.eventTimesMs[d] = both;
      }
    }
  }
  return out;
}
