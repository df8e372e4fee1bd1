/**
 * Steps 1-4 of a batch, the CPU half (no IO): every message decoded and
 * validated (steps 1-2), in-batch duplicates dropped (step 3a), and step 4
 * (project: the Silver row and the Bronze line) ready to run on the events
 * the commit finds fresh. The same functions run in this thread, in worker
 * threads (pipelines/local/parallel-parse.ts) and in the Beam sinks.
 */
import type { DriftCount } from "../schemas/ops.js";
import type { Domain, EventType } from "../schemas/registry.js";
import type { SubjectKey } from "../transforms/protect.js";
import type { SilverRow } from "../transforms/to-silver.js";
import { utcDate } from "../transforms/to-silver.js";
import type { TokenKey } from "../transforms/tokenize.js";
import type { DeadLetter, RawMessage, ValidEvent } from "../transforms/types.js";
import { type ElementSteps, dedupeWithinBatch, internalError, nameDeadLetterSubject, parseMessage, project, subjectRefOf } from "./ingest-steps.js";

/** Step 4's output for a batch's fresh events. */
export interface Projection {
  rows: Map<Domain, SilverRow[]>;
  /** Bronze lines per partition (schemas/bronze.ts layout). */
  partitions: Map<string, string[]>;
  drift: DriftCount[];
  minT: number;
  maxT: number;
  /** Fresh events step 4 threw on: dead letters instead of rows, their event_ids given back. */
  dead: DeadLetter[];
  failedIds: string[];
}

export const EMPTY_PROJECTION: Readonly<Projection> = Object.freeze({
  rows: new Map(),
  partitions: new Map(),
  drift: [],
  minT: Infinity,
  maxT: -Infinity,
  dead: [],
  failedIds: [],
});

/**
 * A parsed batch: its dead letters, and its unique events in arrival order
 * as aligned arrays (event_id, Silver domain, UTC event date, the reference
 * of the person whose key encrypts it, or undefined when no one owns personal
 * data in it), with `project` for the ids that turn out fresh (given the keys
 * by reference).
 */
export interface ParsedBatch {
  read: number;
  dead: DeadLetter[];
  inBatchDuplicates: number;
  /** Schema-valid events per type, in-batch duplicates included (the metrics' per-type outcomes). */
  validByType: Partial<Record<EventType, number>>;
  pansRedacted: number;
  parseMs: number;
  ids: string[];
  domains: Domain[];
  dates: string[];
  refs: (string | undefined)[];
  project(fresh: ReadonlySet<string>, keys: ReadonlyMap<string, SubjectKey | null>, ingestedAtMs: number): Projection | Promise<Projection>;
  /** Frees what the parse holds when the batch will not be committed. */
  discard?(): void;
}

export function parseBatch(messages: readonly RawMessage[], steps: ElementSteps, tokenKey: TokenKey): ParsedBatch {
  const t0 = performance.now();
  const valid: ValidEvent[] = [];
  const dead: DeadLetter[] = [];
  const validByType: Partial<Record<EventType, number>> = {};
  let pans = 0;
  for (const m of messages) {
    const r = parseMessage(steps, m);
    pans += r.pansRedacted;
    if (r.ok) {
      valid.push(r);
      validByType[r.eventType] = (validByType[r.eventType] ?? 0) + 1;
    } else dead.push(nameDeadLetterSubject(r, tokenKey));
  }
  const { unique, duplicates } = dedupeWithinBatch(valid);
  const refs = unique.map((v) => subjectRefOf(v, tokenKey));
  return {
    read: messages.length,
    dead,
    inBatchDuplicates: duplicates,
    validByType,
    pansRedacted: pans,
    parseMs: performance.now() - t0,
    ids: unique.map((v) => v.event.event_id),
    domains: unique.map((v) => v.domain),
    dates: unique.map((v) => utcDate(v.eventTimeMs)),
    refs,
    project: (fresh, keys, ingestedAtMs) => projectEvents(unique, refs, fresh, keys, { tokenKey, ingestedAtMs }),
  };
}

/** A batch of dead letters only (what the delivery policy sets aside). */
export function deadLettersOnly(dead: DeadLetter[], tokenKey: TokenKey): ParsedBatch {
  return {
    read: dead.length,
    dead: dead.map((d) => nameDeadLetterSubject(d, tokenKey)),
    inBatchDuplicates: 0,
    validByType: {},
    pansRedacted: dead.reduce((n, d) => n + d.pansRedacted, 0),
    parseMs: 0,
    ids: [],
    domains: [],
    dates: [],
    refs: [],
    project: () => ({ ...EMPTY_PROJECTION, rows: new Map(), partitions: new Map() }),
  };
}

/** Step 4 over the fresh events of a parsed batch (`refs` aligned with `events`; `keys` by reference), each inside the failsafe guard. */
export function projectEvents(
  events: readonly ValidEvent[],
  refs: readonly (string | undefined)[],
  fresh: ReadonlySet<string>,
  keys: ReadonlyMap<string, SubjectKey | null>,
  ctx: { tokenKey: TokenKey; ingestedAtMs: number },
): Projection {
  const rows = new Map<Domain, SilverRow[]>();
  const partitions = new Map<string, string[]>();
  const drift = new Map<string, DriftCount>();
  const dead: DeadLetter[] = [];
  const failedIds: string[] = [];
  let minT = Infinity;
  let maxT = -Infinity;
  for (let i = 0; i < events.length; i++) {
    const v = events[i]!;
    if (!fresh.has(v.event.event_id)) continue;
    const ref = refs[i];
    let p: ReturnType<typeof project>;
    try {
      p = project(v, ref === undefined ? undefined : keys.get(ref), ctx);
    } catch (err) {
      dead.push({ ...nameDeadLetterSubject(internalError(v.message, "Project", "project", err), ctx.tokenKey), event_type: v.eventType }); // a validated type
      failedIds.push(v.event.event_id);
      continue;
    }
    if (v.extras) countDrift(drift, v);
    if (v.eventTimeMs < minT) minT = v.eventTimeMs;
    if (v.eventTimeMs > maxT) maxT = v.eventTimeMs;
    let list = rows.get(p.domain);
    if (!list) rows.set(p.domain, (list = []));
    list.push(p.row);
    let lines = partitions.get(p.partition);
    if (!lines) partitions.set(p.partition, (lines = []));
    lines.push(p.bronzeLine);
  }
  return { rows, partitions, drift: [...drift.values()], minT, maxT, dead, failedIds };
}

function countDrift(drift: Map<string, DriftCount>, v: ValidEvent): void {
  for (const path of Object.keys(v.extras!)) {
    const k = `${v.eventType}\u0000${v.event.schema_version}\u0000${path}`;
    const d = drift.get(k);
    if (d) d.events++;
    else drift.set(k, { eventType: v.eventType, schemaVersion: v.event.schema_version, path, events: 1 });
  }
}

/** Drift counts of several parts as one (a batch parsed in chunks). */
export function mergeDrift(parts: readonly DriftCount[][]): DriftCount[] {
  const drift = new Map<string, DriftCount>();
  for (const list of parts) {
    for (const d of list) {
      const k = `${d.eventType}\u0000${d.schemaVersion}\u0000${d.path}`;
      const cur = drift.get(k);
      if (cur) cur.events += d.events;
      else drift.set(k, { ...d });
    }
  }
  return [...drift.values()];
}
