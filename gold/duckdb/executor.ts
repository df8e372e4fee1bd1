/**
 * Runs the Gold models on the DuckDB store.
 *
 * Guarantees:
 * - Marking is transactional: `markBatch` runs inside the batch's Silver
 *   transaction and records every window the batch can change in
 *   `ops.gold_dirty`, so they commit or roll back together.
 * - A refresh is idempotent: per model, in one transaction, it deletes the
 *   dirty windows' rows, inserts them recomputed from Silver and deletes the
 *   marks it read. Run it any number of times, after any crash: Gold
 *   converges to what a full rebuild gives.
 * - `install` creates missing tables and rebuilds a table whose model SQL
 *   changed (its signature in `ops.gold_models`).
 */
import { createHash } from "node:crypto";
import type { DuckDbTransaction } from "../../sinks/duckdb/store.js";
import type { Domain } from "../../schemas/registry.js";
import { duckdb } from "../dialect/duckdb.js";
import { type FreshRows, type GoldModel, columnList, newestEventTimeSql } from "../model.js";
import { GOLD_MODELS } from "../models/index.js";
import { type WindowFilter, allWindows, grainMs, timeWindows, windowsFromKeys } from "../windows.js";
import { GOLD_OPS_DDL, createGoldTableSql, goldTable } from "./ddl.js";

/**
 * A DuckDB connection as Gold uses it: statements without parameters (values
 * are inlined as literals), so the store's main connection and a second one
 * (e.g. a rebuild requested from a running instance) both fit.
 */
export interface SqlConnection {
  run(sql: string): Promise<unknown>;
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** The new rows of one committed batch, as Gold needs them. */
export interface BatchRows {
  batchId: bigint;
  /** Domains with new rows. */
  domains: readonly Domain[];
  /** Range of the new rows' `ingested_at`, epoch ms (selects them in Silver). */
  ingestedFromMs: number;
  ingestedToMs: number;
}

export interface RefreshStats {
  /** Windows recomputed per model. */
  windows: Record<string, number>;
  ms: number;
}

export interface RebuildOptions {
  /** First UTC date to rebuild (YYYY-MM-DD); open when absent. */
  from?: string;
  /** Last UTC date to rebuild (inclusive); open when absent. */
  to?: string;
  /** Model names; every model when absent. */
  models?: readonly string[];
}

const NEWEST_STATE = "newest_event_time";
const NEWEST = newestEventTimeSql();

/** Predicate selecting a model's rows in the windows `w`. */
function windowPredicate(m: GoldModel, w: WindowFilter): string {
  const c = m.window.column;
  switch (m.window.grain) {
    case "day":
      return w.date(c);
    case "hour":
    case "minute":
      return w.time(c);
    case "key":
      return w.key(c);
  }
}

/** The model's SQL identity: its table shape and its full-rebuild SELECT. */
export function modelSignature(m: GoldModel): string {
  const text = createGoldTableSql(m) + "\n" + m.select({ d: duckdb, w: allWindows(m.window.grain), newest: NEWEST });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** The SQL that marks the windows a batch touches (one statement for every model). */
export function markSql(models: readonly GoldModel[], batch: BatchRows): string | undefined {
  const lit = (ms: number) => duckdb.timestampLiteral(ms);
  return markRowsSql(models, `ingested_at BETWEEN ${lit(batch.ingestedFromMs)} AND ${lit(batch.ingestedToMs)}`, batch.domains, batch.batchId);
}

/** Marks the windows touched by the Silver rows `ingested` selects (a predicate on ingested_at). */
function markRowsSql(models: readonly GoldModel[], ingested: string, domains: readonly Domain[], batchId: bigint): string | undefined {
  const fresh: FreshRows = {
    rows: (alias) => (alias ? ingested.replace(/^ingested_at/, `${alias}.ingested_at`) : ingested),
    prevNewest: `(SELECT ts FROM ops.gold_state WHERE name = '${NEWEST_STATE}')`,
    newest: NEWEST,
  };
  const parts: string[] = [];
  for (const m of models) {
    for (const rule of m.dirty) {
      if (rule.on !== "any" && !rule.on.some((d) => domains.includes(d))) continue;
      parts.push(`SELECT '${m.name}' AS model, window_key FROM (${rule.sql(duckdb, fresh)}\n) AS r`);
    }
  }
  if (parts.length === 0) return undefined;
  return `INSERT INTO ops.gold_dirty (model, window_key, batch_id, marked_at)
SELECT model, window_key, ${batchId}, now()::TIMESTAMP FROM (
${parts.join("\nUNION ALL\n")}
) AS marks
WHERE window_key IS NOT NULL
GROUP BY model, window_key
ON CONFLICT (model, window_key) DO UPDATE SET batch_id = EXCLUDED.batch_id, marked_at = EXCLUDED.marked_at`;
}

const str = (s: string) => duckdb.str(s);

export class DuckDbGold {
  constructor(
    private readonly conn: SqlConnection,
    readonly models: readonly GoldModel[] = GOLD_MODELS,
  ) {}

  private run(sql: string): Promise<unknown> {
    return this.conn.run(sql);
  }

  private async inTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.run("BEGIN TRANSACTION");
    try {
      const r = await work();
      await this.run("COMMIT");
      return r;
    } catch (err) {
      await this.run("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  /** Creates the bookkeeping and the tables; rebuilds every table that is missing or was built by other SQL. */
  async install(): Promise<{ rebuilt: string[] }> {
    for (const sql of GOLD_OPS_DDL) await this.run(sql);
    const built = new Map((await this.conn.query(`SELECT model, signature FROM ops.gold_models`)).map((r) => [r.model as string, r.signature as string]));
    const tables = new Set(
      (await this.conn.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'gold'`)).map((r) => r.table_name as string),
    );
    const stale = this.models.filter((m) => built.get(m.name) !== modelSignature(m) || !tables.has(m.name));
    if (stale.length) await this.rebuild({ models: stale.map((m) => m.name) }, { recreate: true });
    // The clock the next batch's marks start from.
    await this.run(`INSERT INTO ops.gold_state SELECT '${NEWEST_STATE}', ${NEWEST} ON CONFLICT DO NOTHING`);
    return { rebuilt: stale.map((m) => m.name) };
  }

  /**
   * Inside the batch transaction: records the windows the batch's new rows
   * touch (directly and through the cross-window dependencies of each model)
   * and the newest event time they were computed with.
   */
  async markBatch(tx: DuckDbTransaction, batch: BatchRows): Promise<void> {
    const sql = markSql(this.models, batch);
    if (sql) await tx.run(sql);
    await tx.run(`INSERT INTO ops.gold_state SELECT '${NEWEST_STATE}', ${NEWEST} ON CONFLICT (name) DO UPDATE SET ts = EXCLUDED.ts`);
  }

  /** Windows waiting to be recomputed. */
  async pending(): Promise<number> {
    return Number((await this.conn.query(`SELECT count(*) AS n FROM ops.gold_dirty`))[0]!.n);
  }

  /** Recomputes every dirty window (delete + insert) and clears the marks it read: one transaction per model. */
  async refresh(only?: readonly string[]): Promise<RefreshStats> {
    const t0 = performance.now();
    const marks = await this.conn.query(`SELECT model, window_key, batch_id FROM ops.gold_dirty`);
    const windows: Record<string, number> = {};
    if (marks.length === 0) return { windows, ms: performance.now() - t0 };
    const byModel = new Map<string, string[]>();
    let maxBatch = 0;
    for (const r of marks) {
      const model = r.model as string;
      if (only && !only.includes(model)) continue;
      let keys = byModel.get(model);
      if (!keys) byModel.set(model, (keys = []));
      keys.push(r.window_key as string);
      maxBatch = Math.max(maxBatch, Number(r.batch_id));
    }
    // One transaction per model, in model order: revenue_by_minute (the
    // real-time view) becomes visible without waiting for the daily tables.
    const order = (name: string) => {
      const i = this.models.findIndex((x) => x.name === name);
      return i < 0 ? -1 : i;
    };
    for (const [name, keys] of [...byModel].sort((a, b) => order(a[0]) - order(b[0]))) {
      await this.inTransaction(async () => {
        const m = this.models.find((x) => x.name === name);
        if (m) {
          await this.replace(m, windowsFromKeys(duckdb, m.window.grain, keys));
          windows[name] = keys.length;
        }
        await this.run(`DELETE FROM ops.gold_dirty WHERE model = ${str(name)} AND batch_id <= ${maxBatch} AND window_key IN (${keys.map(str).join(", ")})`);
      });
    }
    return { windows, ms: performance.now() - t0 };
  }

  /**
   * Recomputes whole tables, or the days [from, to] of them (a key-grained
   * table is always rebuilt whole). One transaction for all of it.
   */
  async rebuild(opts: RebuildOptions = {}, how: { recreate?: boolean } = {}): Promise<{ models: Record<string, number>; ms: number }> {
    const t0 = performance.now();
    const models = opts.models ? opts.models.map((n) => this.model(n)) : this.models;
    const fromMs = opts.from === undefined ? undefined : dayStart(opts.from, "--from");
    const toMs = opts.to === undefined ? undefined : dayStart(opts.to, "--to") + grainMs("day");
    if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new Error(`--to ${opts.to} is before --from ${opts.from}`);
    const ranged = fromMs !== undefined || toMs !== undefined;
    const perModel: Record<string, number> = {};
    await this.inTransaction(async () => {
      for (const m of models) {
        const t = performance.now();
        const whole = !ranged || m.window.grain === "key";
        const w = whole
          ? allWindows(m.window.grain)
          : timeWindows(duckdb, m.window.grain as "day", [[fromMs ?? Date.UTC(1970, 0, 1), toMs ?? Date.UTC(9999, 11, 31)]]);
        if (how.recreate) {
          await this.run(`DROP TABLE IF EXISTS ${goldTable(m)}`);
          await this.run(createGoldTableSql(m));
          await this.run(`INSERT INTO ${goldTable(m)} (${columnList(m)}) ${m.select({ d: duckdb, w, newest: NEWEST })}`);
        } else await this.replace(m, w);
        if (whole) await this.run(`DELETE FROM ops.gold_dirty WHERE model = ${str(m.name)}`);
        const ms = Math.round(performance.now() - t);
        await this.run(
          `INSERT INTO ops.gold_models VALUES (${str(m.name)}, ${str(modelSignature(m))}, now()::TIMESTAMP, ${ms})
           ON CONFLICT (model) DO UPDATE SET signature = EXCLUDED.signature, built_at = EXCLUDED.built_at, build_ms = EXCLUDED.build_ms`,
        );
        perModel[m.name] = ms;
      }
    });
    return { models: perModel, ms: performance.now() - t0 };
  }

  private model(name: string): GoldModel {
    const m = this.models.find((x) => x.name === name || `gold.${x.name}` === name);
    if (!m) throw new Error(`no Gold model ${name}; the models are: ${this.models.map((x) => x.name).join(", ")}`);
    return m;
  }

  /** Replaces the rows of the windows `w` with their recomputation. */
  private async replace(m: GoldModel, w: WindowFilter): Promise<void> {
    await this.run(`DELETE FROM ${goldTable(m)} WHERE ${windowPredicate(m, w)}`);
    await this.run(`INSERT INTO ${goldTable(m)} (${columnList(m)}) ${m.select({ d: duckdb, w, newest: NEWEST })}`);
  }
}

function dayStart(date: string, flag: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${flag} must be a date like 2026-03-01, got ${JSON.stringify(date)}`);
  return ms;
}
