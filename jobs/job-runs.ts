/**
 * Durable job runs: every run of a batch job (ingest, Bronze replay,
 * dead-letter replay, Gold rebuild, report; erasure, retention and the CRM
 * load call the same function) leaves one row in `ops.job_runs`: job,
 * started_at, finished_at, outcome, counts, and the error redacted the way
 * the terminal gets it (no row values). `ecom_job_last_success_timestamp_seconds`
 * and `ecom_job_runs_total` are read from it, so the next process, the
 * alerts and the DAGs know when a job last succeeded.
 *
 * Where the row goes: the running instance writes it when one holds the
 * data dir (`POST /job-runs`, token-protected like every route); otherwise
 * the store file itself. A data dir with no store yet records nothing (a
 * job that failed before any data existed), nor does a run the keys refused
 * (keys fail closed: nothing is written to a store whose key files are
 * unsafe; the error on the terminal and the task's exit code say it). Recording never hides the job's
 * own result or error: a record that cannot be written is reported through
 * `onWarning` and the job's outcome stands.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { z } from "zod";
import type { Engine } from "../pipelines/local/engine.js";
import { findInstance, instanceFetch, type Routes } from "../pipelines/local/instance.js";
import type { JobRunStats } from "../pipelines/observe/metrics.js";
import { JOB_NAMES, type JobName } from "../schemas/ops.js";
import { publicErrorMessage } from "../sinks/duckdb/read-only.js";
import { DuckDbStore } from "../sinks/duckdb/store.js";
import { KeyError } from "../sinks/keys/local-keys.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";

const MAX_ERROR_CHARS = 2000;

export const jobRunSchema = z.object({
  runId: z.string().uuid(),
  job: z.enum(JOB_NAMES),
  startedAtMs: z.number().int().nonnegative(),
  finishedAtMs: z.number().int().nonnegative(),
  outcome: z.enum(["succeeded", "failed"]),
  counts: z.record(z.string().max(64), z.number()),
  error: z.string().max(MAX_ERROR_CHARS).nullable(),
});
export type JobRun = z.infer<typeof jobRunSchema>;

/** What runs SQL with parameters: a store, or a second connection of a running one. */
export interface SqlRunner {
  query(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
}

export interface RecordOptions<T> {
  /** The numbers worth keeping from the job's result (flat: name -> number). */
  counts?: (result: T) => Record<string, number>;
  /** Told when the run could not be recorded (the job's own outcome stands). */
  onWarning?: (message: string) => void;
}

/** Runs `work` as a run of `job` on the data dir and records it, succeeded or failed; returns or rethrows what `work` did. */
export async function recordedJob<T>(dataDir: string, job: JobName, work: () => Promise<T>, opts: RecordOptions<T> = {}): Promise<T> {
  const startedAtMs = Date.now();
  const run = (outcome: JobRun["outcome"], counts: Record<string, number>, error: string | null): JobRun => ({
    runId: randomUUID(),
    job,
    startedAtMs,
    finishedAtMs: Date.now(),
    outcome,
    counts,
    error,
  });
  let result: T;
  try {
    result = await work();
  } catch (err) {
    if (err instanceof KeyError) throw err;
    const message = err instanceof Error ? publicErrorMessage(err) : String(err);
    await saveJobRun(dataDir, run("failed", {}, message.slice(0, MAX_ERROR_CHARS)), opts.onWarning);
    throw err;
  }
  await saveJobRun(dataDir, run("succeeded", finiteOnly(opts.counts?.(result) ?? {}), null), opts.onWarning);
  return result;
}

function finiteOnly(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, v]) => Number.isFinite(v)));
}

/** Writes a run: through the running instance, else into the store file (none: not recorded). */
export async function saveJobRun(dataDir: string, run: JobRun, onWarning?: (message: string) => void): Promise<void> {
  const warn = (why: string) => onWarning?.(`the ${run.job} run (${run.outcome}) was not recorded in ops.job_runs: ${why}`);
  try {
    const instance = findInstance(dataDir);
    if (instance) {
      const res = await instanceFetch(instance, "/job-runs", { method: "POST", body: JSON.stringify(run) });
      if (!res.ok) warn(`the running instance (pid ${instance.pid}) answered ${res.status}: ${(await res.text()).trim()}`);
      return;
    }
    const file = dataDirPaths(dataDir).store;
    if (!fs.existsSync(file)) return;
    const store = await DuckDbStore.open(file);
    try {
      await insertJobRun(store, run);
      store.protectFiles();
    } finally {
      store.close();
    }
  } catch (err) {
    warn(err instanceof Error ? publicErrorMessage(err) : String(err));
  }
}

export async function insertJobRun(db: SqlRunner, run: JobRun): Promise<void> {
  await db.query(
    `INSERT INTO ops.job_runs (run_id, job, started_at, finished_at, outcome, counts, error)
     VALUES ($id, $job, epoch_ms($started::BIGINT), epoch_ms($finished::BIGINT), $outcome, $counts::JSON, $error)
     ON CONFLICT DO NOTHING`,
    {
      id: run.runId,
      job: run.job,
      started: run.startedAtMs,
      finished: run.finishedAtMs,
      outcome: run.outcome,
      counts: JSON.stringify(run.counts),
      error: run.error,
    },
  );
}

/** `POST /job-runs` on the running instance: a run of a job another process ran on this data dir. */
export function jobRunRoutes(engine: Engine): Routes {
  return {
    "POST /job-runs": async (body) => {
      const parsed = jobRunSchema.safeParse(JSON.parse(body));
      if (!parsed.success) return { status: 400, body: `refused: not a job run (${parsed.error.issues.map((i) => i.path.join(".") || "body").join(", ")})\n` };
      const conn = await engine.store.reader();
      try {
        await insertJobRun(conn, parsed.data);
      } finally {
        conn.close();
      }
      return { status: 201, body: "recorded\n" };
    },
  };
}

/** Runs per job and outcome, and the latest success (what the job metrics show). */
export async function jobRunStats(db: SqlRunner): Promise<JobRunStats[]> {
  const rows = await db.query(
    `SELECT job, count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded, count(*) FILTER (WHERE outcome = 'failed') AS failed,
            epoch_ms(max(finished_at) FILTER (WHERE outcome = 'succeeded')) AS last_success_ms
     FROM ops.job_runs GROUP BY job ORDER BY job`,
  );
  return rows
    .filter((r) => (JOB_NAMES as readonly string[]).includes(r.job as string))
    .map((r) => ({
      job: r.job as string,
      succeeded: Number(r.succeeded),
      failed: Number(r.failed),
      lastSuccessMs: r.last_success_ms === null || r.last_success_ms === undefined ? undefined : Number(r.last_success_ms),
    }));
}

export interface LastRun {
  job: string;
  outcome: string;
  started_at: string;
  finished_at: string;
  seconds: number;
  counts: Record<string, number>;
  error: string | null;
  last_success_at: string | null;
}

/** Each job's latest run, with its latest success. */
export async function lastJobRuns(db: SqlRunner): Promise<LastRun[]> {
  const rows = await db.query(
    `SELECT job, outcome, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started_at, strftime(finished_at, '%Y-%m-%dT%H:%M:%SZ') AS finished_at,
            (epoch_ms(finished_at) - epoch_ms(started_at)) / 1000.0 AS seconds, CAST(counts AS VARCHAR) AS counts, error,
            strftime(max(finished_at) FILTER (WHERE outcome = 'succeeded') OVER (PARTITION BY job), '%Y-%m-%dT%H:%M:%SZ') AS last_success_at
     FROM ops.job_runs QUALIFY row_number() OVER (PARTITION BY job ORDER BY finished_at DESC, run_id) = 1 ORDER BY job`,
  );
  return rows.map((r) => ({
    job: r.job as string,
    outcome: r.outcome as string,
    started_at: r.started_at as string,
    finished_at: r.finished_at as string,
    seconds: Number(r.seconds),
    counts: r.counts ? (JSON.parse(r.counts as string) as Record<string, number>) : {},
    error: (r.error as string | null) ?? null,
    last_success_at: (r.last_success_at as string | null) ?? null,
  }));
}
