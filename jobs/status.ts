/**
 * `ecom status`: how the pipeline is doing, in one report: throughput and
 * lag, dead-letter share, each table's freshness against its objective, the
 * alerts firing, the backlog and the latest run of every batch job.
 *
 * From the running instance when one holds the data dir (`GET /status` for
 * the stream's progress, `GET /status/slo` for the rest: its own evaluated
 * alerts, its in-memory freshness and backlog); else from the store file
 * opened read-only, where the alerts are the ones a single look can decide
 * (freshness and job staleness; rates, latency and backlog need the running
 * process or Prometheus).
 */
import fs from "node:fs";
import { AlertEvaluator } from "../pipelines/observe/alert-eval.js";
import { alertRules } from "../pipelines/observe/alerts.js";
import type { BacklogReading } from "../pipelines/observe/metrics.js";
import { FRESHNESS, type FreshnessObjective } from "../pipelines/observe/slo.js";
import { FreshnessTracker } from "../pipelines/observe/freshness.js";
import { findInstance, instanceFetch } from "../pipelines/local/instance.js";
import { openDuckDb } from "../sinks/duckdb/open.js";
import { jsonRows } from "../sinks/duckdb/rows.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";
import { type AlertState, alertStates } from "./alerting.js";
import { type LastRun, jobRunStats, lastJobRuns, type SqlRunner } from "./job-runs.js";
import { FRESHNESS_TABLES, goldPending, silverAsOf } from "./observe.js";

export interface TableFreshness {
  table: string;
  /** Seconds since its newest committed data; null when it holds none. */
  seconds: number | null;
  slo_seconds: number;
  ok: boolean;
}

export interface RecentRates {
  /** Over the last 5 minutes of committed batches. */
  window_seconds: number;
  events_per_s: number;
  dead_letter_ratio: number | null;
  batches: number;
  last_batch_at: string | null;
}

export interface StatusReport {
  source: "instance" | "store";
  instance: { pid: number; port: number; started_at: string } | null;
  /** The stream's live progress (instance only): events/s, lag, latency percentiles, totals. */
  stream: Record<string, unknown> | null;
  rates: RecentRates;
  freshness: TableFreshness[];
  /** Measured by the running subscriber; null without one. */
  backlog: BacklogReading[] | null;
  alerts: AlertState[];
  /** From the store: only the alerts one look decides (freshness, job staleness). */
  alerts_evaluated: "all local rules" | "freshness and job staleness only";
  jobs: LastRun[];
}

/** What the instance answers at `GET /status/slo`. */
export type SloStatus = Pick<StatusReport, "rates" | "freshness" | "backlog" | "alerts" | "jobs">;

const RATE_WINDOW_S = 300;

export async function recentRates(db: SqlRunner, now = Date.now()): Promise<RecentRates> {
  const [r] = await db.query(
    `SELECT count(*) AS batches, coalesce(sum(read), 0) AS read, coalesce(sum(dead_lettered), 0) AS dead,
            (SELECT strftime(max(committed_at), '%Y-%m-%dT%H:%M:%SZ') FROM ops.batches) AS last_at
     FROM ops.batches WHERE committed_at >= make_timestamp($since::BIGINT * 1000)`,
    { since: now - RATE_WINDOW_S * 1000 },
  );
  const read = Number(r!.read);
  return {
    window_seconds: RATE_WINDOW_S,
    events_per_s: Math.round((read / RATE_WINDOW_S) * 10) / 10,
    dead_letter_ratio: read ? Number(r!.dead) / read : null,
    batches: Number(r!.batches),
    last_batch_at: (r!.last_at as string | null) ?? null,
  };
}

export function freshnessReport(asOf: ReadonlyMap<string, number>, objectives: readonly FreshnessObjective[], now = Date.now()): TableFreshness[] {
  return objectives.map((o) => {
    const ms = asOf.get(o.table);
    const seconds = ms === undefined ? null : Math.max(0, Math.round((now - ms) / 100) / 10);
    return { table: o.table, seconds, slo_seconds: o.seconds, ok: seconds !== null && seconds <= o.seconds };
  });
}

/** The report from the store file alone (no instance runs). */
async function fromStore(dataDir: string, now: number): Promise<StatusReport> {
  const file = dataDirPaths(dataDir).store;
  if (!fs.existsSync(file)) throw new Error(`no data in ${dataDir} yet: run \`ecom start\` or \`ecom ingest <file>\` first (or pass --data-dir)`);
  const db = await openDuckDb(file, { readOnly: true });
  try {
    const conn = await db.connect();
    try {
      const runner: SqlRunner = {
        query: async (sql, params) => jsonRows(await conn.runAndReadAll(sql, params as never)),
      };
      const query = (sql: string) => runner.query(sql);
      const tracker = new FreshnessTracker(FRESHNESS_TABLES, { silver: await silverAsOf(query), goldPending: await goldPending(query) });
      const asOf = tracker.asOf();
      const jobs = await jobRunStats(runner);
      // One look: the gauges the instant rules read, as the metrics would show them now.
      const evaluator = new AlertEvaluator(alertRules().filter((r) => r.expr.kind === "max" || r.expr.kind === "age"));
      evaluator.observe(now, [
        { name: "ecom_table_freshness_seconds", values: [...asOf].map(([table, ms]) => ({ labels: { table }, value: (now - ms) / 1000 })) },
        {
          name: "ecom_job_last_success_timestamp_seconds",
          values: jobs.filter((j) => j.lastSuccessMs !== undefined).map((j) => ({ labels: { job: j.job }, value: j.lastSuccessMs! / 1000 })),
        },
      ]);
      evaluator.evaluate(now);
      return {
        source: "store",
        instance: null,
        stream: null,
        rates: await recentRates(runner, now),
        freshness: freshnessReport(asOf, FRESHNESS, now),
        backlog: null,
        alerts: alertStates(evaluator.alerts().filter((a) => a.state === "firing")),
        alerts_evaluated: "freshness and job staleness only",
        jobs: await lastJobRuns(runner),
      };
    } finally {
      conn.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

export async function statusJob(dataDir: string, now = Date.now()): Promise<StatusReport> {
  const instance = findInstance(dataDir);
  if (!instance) return fromStore(dataDir, now);
  const get = async (pathname: string) => {
    const res = await instanceFetch(instance, pathname, { method: "GET" });
    const text = await res.text();
    if (!res.ok) throw new Error(`the running instance (pid ${instance.pid}) answered ${res.status} to ${pathname}: ${text.trim()}`);
    return JSON.parse(text) as unknown;
  };
  const slo = (await get("/status/slo")) as SloStatus;
  return {
    source: "instance",
    instance: { pid: instance.pid, port: instance.port, started_at: instance.startedAt },
    stream: (await get("/status")) as Record<string, unknown>,
    ...slo,
    alerts_evaluated: "all local rules",
  };
}
