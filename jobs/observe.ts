/**
 * The metrics of a runtime: a PipelineMetrics registry joined to an engine
 * as an extension (every committed batch counts), with the sources read at
 * collection: table freshness (kept in memory, moved per batch; the Gold
 * refresh marks read once per batch), schema drift (once per batch), job
 * runs (ops.job_runs, small, read per collection: other processes add rows
 * through the instance) and, for a stream, the subscription's backlog.
 *
 * Register it after Gold, so a batch's Gold refresh has run when the
 * metrics read the marks it left.
 */
import { GOLD_MODELS } from "../gold/models/index.js";
import type { Engine } from "../pipelines/local/engine.js";
import type { BatchReport } from "../pipelines/local/stream-runner.js";
import type { BacklogTracker } from "../pipelines/observe/backlog.js";
import { type FreshnessTables, FreshnessTracker } from "../pipelines/observe/freshness.js";
import { PipelineMetrics } from "../pipelines/observe/metrics.js";
import { type FreshnessObjective, freshnessObjectives } from "../pipelines/observe/slo.js";
import { DOMAINS, type Domain, EVENT_TYPE_NAMES, type EventType } from "../schemas/registry.js";
import { EVENT_TABLES, qualified } from "../schemas/silver.js";
import { STATE_RULES } from "../schemas/state.js";
import { jobRunStats } from "./job-runs.js";

/** Every Silver and Gold table whose freshness is measured, and what feeds it. */
export const FRESHNESS_TABLES: FreshnessTables = {
  events: Object.fromEntries(DOMAINS.map((d) => [d, qualified(EVENT_TABLES[d])])) as Record<Domain, string>,
  state: Object.fromEntries(STATE_RULES.map((r) => [qualified(r.table), r.from])),
  gold: Object.fromEntries(GOLD_MODELS.map((m) => [`gold.${m.name}`, [...new Set(m.dirty.flatMap((rule) => (rule.on === "any" ? [...DOMAINS] : rule.on)))]])),
};

export interface ObserveOptions {
  /** Freshness objectives (default: pipelines/observe/slo.ts). */
  freshness?: readonly FreshnessObjective[];
  /** The subscription's backlog, for a stream. */
  backlog?: BacklogTracker;
  /** prom-client's process metrics (default true). */
  processMetrics?: boolean;
}

export interface Observed {
  metrics: PipelineMetrics;
  freshness: FreshnessTracker;
  /** What the stream runner reports after acking a batch: ingest latency per message, and the backlog's acks. */
  onAcked(r: BatchReport): void;
}

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** Silver's newest committed data per table (one query at start; batches move it afterwards). */
async function silverAsOf(query: Query): Promise<Map<string, number>> {
  const parts = [
    ...Object.values(FRESHNESS_TABLES.events).map((t) => `SELECT '${t}' AS t, epoch_ms(max(ingested_at)) AS ms FROM ${t}`),
    ...Object.keys(FRESHNESS_TABLES.state).map((t) => `SELECT '${t}' AS t, epoch_ms(max(updated_at)) AS ms FROM ${t}`),
  ];
  const rows = await query(parts.join(" UNION ALL "));
  return new Map(rows.filter((r) => r.ms !== null && r.ms !== undefined).map((r) => [r.t as string, Number(r.ms)]));
}

/** Per Gold table, the commit time of its oldest batch with a window still marked for refresh. */
async function goldPending(query: Query): Promise<Map<string, number>> {
  const rows = await query(
    `SELECT 'gold.' || d.model AS t, epoch_ms(coalesce(min(b.committed_at), min(d.marked_at))) AS ms
     FROM ops.gold_dirty d LEFT JOIN ops.batches b ON b.batch_id = d.batch_id GROUP BY d.model`,
  );
  return new Map(rows.map((r) => [r.t as string, Number(r.ms)]));
}

async function driftFields(query: Query): Promise<Partial<Record<EventType, number>>> {
  const rows = await query(`SELECT event_type, count(DISTINCT field_path) AS n FROM ops.schema_drift GROUP BY event_type`);
  const known = new Set<string>(EVENT_TYPE_NAMES);
  return Object.fromEntries(rows.filter((r) => known.has(r.event_type as string)).map((r) => [r.event_type as string, Number(r.n)]));
}

/** Joins metrics to the engine (after Gold) and wires their sources; collection reads on connections of their own. */
export async function observeEngine(engine: Engine, opts: ObserveOptions = {}): Promise<Observed> {
  const objectives = opts.freshness ?? freshnessObjectives();
  const metrics = new PipelineMetrics({
    processMetrics: opts.processMetrics,
    freshnessSlos: Object.fromEntries(objectives.map((o) => [o.table, o.seconds])),
  });
  const onReader = async <T>(work: (query: Query) => Promise<T>): Promise<T> => {
    const conn = await engine.store.reader();
    try {
      return await work((sql) => conn.query(sql));
    } finally {
      conn.close();
    }
  };
  const freshness = await onReader(async (q) => new FreshnessTracker(FRESHNESS_TABLES, { silver: await silverAsOf(q), goldPending: await goldPending(q) }));

  // Read once after each batch, on the first collection that needs them.
  let marksRead: Promise<void> | undefined;
  let drift: Promise<Partial<Record<EventType, number>>> | undefined;
  // A failed read is tried again at the next collection, not kept.
  const retried = <T>(p: Promise<T>, forget: () => void): Promise<T> =>
    p.catch((err: unknown) => {
      forget();
      throw err;
    });
  engine.use({
    name: "metrics",
    async afterCommit(result) {
      metrics.observeBatch(result);
      freshness.observeBatch(result);
      marksRead = undefined;
      drift = undefined;
    },
  });
  metrics.provide({
    freshness: async () => {
      marksRead ??= retried(
        onReader(goldPending).then((p) => freshness.goldPending(p)),
        () => (marksRead = undefined),
      );
      await marksRead;
      return freshness.asOf();
    },
    drift: () => (drift ??= retried(onReader(driftFields), () => (drift = undefined))),
    jobRuns: () => onReader((query) => jobRunStats({ query })),
    ...(opts.backlog ? { backlog: () => [opts.backlog!.reading()] } : {}),
  });
  return {
    metrics,
    freshness,
    onAcked: (r) => {
      metrics.observeIngest(
        r.acked.map((m) => m.attributes.event_type),
        r.latenciesMs,
      );
      opts.backlog?.acked(r.acked.map((m) => m.id));
    },
  };
}
