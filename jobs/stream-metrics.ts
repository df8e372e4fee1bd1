/**
 * The streaming job's metrics registry and what it reads when collected:
 * one PipelineMetrics (pipelines/observe/metrics.ts) fed by every committed
 * batch and every acknowledged delivery, with its collected values read
 * from the data dir on a connection of their own (never the batch's):
 *
 *  - freshness per table of the SLO file: Silver event tables by their
 *    newest `ingested_at`, Silver state tables by their newest `updated_at`,
 *    a Gold table by the Silver it has absorbed (the oldest window still
 *    marked for it, else the newest committed batch);
 *  - schema drift: distinct unknown field paths per event type;
 *  - job runs per job and outcome, and the latest success (ops.job_runs);
 *  - backlog: the messages the subscriber holds and has not acknowledged
 *    (BacklogTracker; the job's own published messages not yet received are
 *    not counted here).
 *
 * The operations dashboard samples this registry; `GET /metrics` exports it.
 */
import { GOLD_MODELS } from "../gold/models/index.js";
import type { BatchReport } from "../pipelines/local/stream-runner.js";
import { BacklogTracker, type HeldMessages } from "../pipelines/observe/backlog.js";
import { PipelineMetrics } from "../pipelines/observe/metrics.js";
import { FRESHNESS } from "../pipelines/observe/slo.js";
import type { EventType } from "../schemas/registry.js";
import { EVENT_TABLES, STATE_TABLES, qualified } from "../schemas/silver.js";
import { jobRunStats } from "./job-runs.js";

/** One read-only statement on a connection of its own. */
export type ReadQuery = (sql: string) => Promise<Record<string, unknown>[]>;

/** How long a collected read is reused (the dashboard sampler and a scrape may collect within the same second). */
const CACHE_MS = 1000;

function cached<T>(read: () => Promise<T>, now: () => number): () => Promise<T> {
  let at = -Infinity;
  let last: Promise<T> | undefined;
  return () => {
    if (!last || now() - at >= CACHE_MS) {
      at = now();
      last = read().catch((err) => {
        last = undefined;
        throw err;
      });
    }
    return last;
  };
}

const tableNames = new Set(FRESHNESS.map((f) => f.table));

/** One statement: per table of the SLO file, its as-of time in epoch ms (NULL: no data yet). */
export function freshnessSql(): string {
  const parts: string[] = [];
  for (const t of Object.values(EVENT_TABLES)) {
    const name = qualified(t);
    if (tableNames.has(name)) parts.push(`SELECT '${name}' AS t, epoch_ms(max(ingested_at)) AS ms FROM ${name}`);
  }
  for (const t of STATE_TABLES) {
    const name = qualified(t);
    if (tableNames.has(name)) parts.push(`SELECT '${name}' AS t, epoch_ms(max(updated_at)) AS ms FROM ${name}`);
  }
  for (const m of GOLD_MODELS) {
    const name = `gold.${m.name}`;
    if (!tableNames.has(name)) continue;
    parts.push(
      `SELECT '${name}' AS t, coalesce((SELECT epoch_ms(min(marked_at)) FROM ops.gold_dirty WHERE model = '${m.name}'),
                                      (SELECT epoch_ms(max(committed_at)) FROM ops.batches)) AS ms`,
    );
  }
  return parts.join("\nUNION ALL\n");
}

export interface StreamMetrics {
  metrics: PipelineMetrics;
  backlog: BacklogTracker;
  /** A committed and acknowledged batch. */
  observe(report: Pick<BatchReport, "result" | "latenciesMs" | "acked">): void;
}

export function streamMetrics(query: ReadQuery, subscription: string, held: HeldMessages, now: () => number = Date.now): StreamMetrics {
  const metrics = new PipelineMetrics({ freshnessSlos: Object.fromEntries(FRESHNESS.map((f) => [f.table, f.seconds])), now });
  const backlog = new BacklogTracker(subscription, held, now);
  const sql = freshnessSql();
  metrics.provide({
    freshness: cached(async () => {
      const out = new Map<string, number>();
      for (const r of await query(sql)) if (r.ms !== null && r.ms !== undefined) out.set(String(r.t), Number(r.ms));
      return out;
    }, now),
    drift: cached(async () => {
      const rows = await query(`SELECT event_type, count(DISTINCT field_path) AS n FROM ops.schema_drift GROUP BY event_type`);
      return Object.fromEntries(rows.map((r) => [String(r.event_type), Number(r.n)])) as Partial<Record<EventType, number>>;
    }, now),
    jobRuns: cached(() => jobRunStats({ query: (s) => query(s) }), now),
    backlog: () => [backlog.reading()],
  });
  return {
    metrics,
    backlog,
    observe(r) {
      metrics.observeBatch(r.result);
      metrics.observeIngest(
        r.acked.map((m) => m.attributes.event_type),
        r.latenciesMs,
      );
      backlog.acked(r.acked.map((m) => m.id));
    },
  };
}
