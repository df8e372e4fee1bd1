/**
 * Gold on a local engine: `registerGold(engine)` installs the tables,
 * finishes any refresh a crash interrupted, and adds the batch extension that
 *   1. inside each batch transaction, marks the windows the batch touches
 *      (so a crash between the Silver commit and the Gold refresh loses nothing),
 *   2. after the commit, recomputes the dirty windows.
 * Whoever builds a runtime registers it (jobs/runtime.ts; the Beam
 * DirectRunner's sink worker is given this module to call).
 */
import type { BatchResult } from "../pipelines/commit.js";
import type { Engine, EngineExtension } from "../pipelines/local/engine.js";
import type { Domain } from "../schemas/registry.js";
import { publicErrorMessage } from "../sinks/duckdb/read-only.js";
import type { DuckDbStore } from "../sinks/duckdb/store.js";
import { type BatchRows, DuckDbGold, type RefreshStats, type SqlConnection } from "./duckdb/executor.js";

export interface GoldOptions {
  /** Refresh after every commit (default). Off: marks accumulate until `flush()` or the next open. */
  refreshAfterCommit?: boolean;
  /**
   * For long-running streams: refresh the day- and hour-grained tables at most
   * this often (ms), the minute- and key-grained ones (revenue_by_minute,
   * inventory_levels) after every commit. A day window's recompute costs a
   * scan of the day so far, so at high volume this keeps a batch's refresh
   * small. Marks wait durably; call `flush()` when the stream stops or idles.
   * Default 0: every table after every commit.
   */
  coarseRefreshEveryMs?: number;
  /** Called when a refresh after a commit fails (the marks stay, the next refresh retries). */
  onError?: (err: Error) => void;
}

export interface GoldRuntime {
  readonly gold: DuckDbGold;
  /** Tables rebuilt at install because they were missing or their SQL changed. */
  readonly rebuiltAtOpen: readonly string[];
  /** Refresh after every commit; a test or a bulk load may turn it off and call `flush()` itself. */
  refreshAfterCommit: boolean;
  /** See GoldOptions.coarseRefreshEveryMs. */
  coarseRefreshEveryMs: number;
  /** Recomputes every marked window of every table now (on the store's connection: call it between batches). */
  flush(): Promise<RefreshStats>;
  lastRefresh?: RefreshStats;
  lastError?: Error;
  refreshes: number;
}

const RUNTIMES = new WeakMap<Engine, GoldRuntime>();

/** The new rows of a batch as Gold selects them in Silver (they share one ingested_at); undefined when the batch added none. */
export function batchRows(result: BatchResult): BatchRows | undefined {
  const domains = (Object.entries(result.perDomain) as [Domain, number | undefined][]).filter(([, n]) => (n ?? 0) > 0).map(([d]) => d);
  if (domains.length === 0) return undefined;
  return { batchId: result.batch.id, domains, ingestedFromMs: result.ingestedAtMs, ingestedToMs: result.ingestedAtMs };
}

/** The store's own connection (the one batches commit on), so refreshes and batches never interleave. */
export function mainConnection(store: DuckDbStore): SqlConnection {
  return { run: (sql) => store.conn.run(sql), query: (sql) => store.query(sql) };
}

/** Adds Gold to the engine (once; a second call only applies its options); returns the engine. */
export async function registerGold(engine: Engine, opts: GoldOptions = {}): Promise<Engine> {
  const existing = RUNTIMES.get(engine);
  if (existing) {
    if (opts.refreshAfterCommit !== undefined) existing.refreshAfterCommit = opts.refreshAfterCommit;
    if (opts.coarseRefreshEveryMs !== undefined) existing.coarseRefreshEveryMs = opts.coarseRefreshEveryMs;
    return engine;
  }
  const gold = new DuckDbGold(mainConnection(engine.store));
  const { rebuilt } = await gold.install();
  const fine = gold.models.filter((m) => m.window.grain === "minute" || m.window.grain === "key").map((m) => m.name);
  let lastCoarseAt = 0;
  const runtime: GoldRuntime = {
    gold,
    rebuiltAtOpen: rebuilt,
    refreshAfterCommit: opts.refreshAfterCommit ?? true,
    coarseRefreshEveryMs: opts.coarseRefreshEveryMs ?? 0,
    refreshes: 0,
    flush: async () => {
      lastCoarseAt = Date.now();
      return (runtime.lastRefresh = await gold.refresh());
    },
  };
  runtime.lastRefresh = await gold.refresh();
  const onError =
    opts.onError ?? ((err: Error) => process.emitWarning(`Gold refresh failed (windows stay marked, retried next batch): ${publicErrorMessage(err)}`));
  const extension: EngineExtension = {
    name: "gold",
    async beforeCommit(tx, result) {
      const rows = batchRows(result);
      if (rows) await gold.markBatch(tx, rows);
    },
    async afterCommit() {
      if (!runtime.refreshAfterCommit) return;
      try {
        const coarseDue = Date.now() - lastCoarseAt >= runtime.coarseRefreshEveryMs;
        if (coarseDue) lastCoarseAt = Date.now();
        runtime.lastRefresh = await gold.refresh(coarseDue ? undefined : fine);
        runtime.refreshes++;
        runtime.lastError = undefined;
      } catch (err) {
        runtime.lastError = err as Error;
        onError(err as Error);
      }
    },
  };
  engine.use(extension);
  RUNTIMES.set(engine, runtime);
  return engine;
}

/** The Gold runtime of an engine (undefined when Gold was not registered). */
export function goldOf(engine: Engine): GoldRuntime | undefined {
  return RUNTIMES.get(engine);
}
