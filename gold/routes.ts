/**
 * Gold over a running instance's HTTP port (design.md: one process owns the
 * DuckDB file, so `ecom gold rebuild` and `ecom gold status` ask it when it
 * runs). The runner passes these routes to `serveInstance`.
 *
 * A rebuild requested this way runs on a second connection of the same
 * database, beside the batches: DuckDB's MVCC keeps each side consistent, and
 * when both write the same Gold rows at once one of them fails with a
 * conflict and is retried (the batch side by its next refresh; the caller is
 * told to run the rebuild again).
 */
import type { Engine } from "../pipelines/local/engine.js";
import type { Routes } from "../pipelines/local/instance.js";
import { DuckDbGold, type RebuildOptions } from "./duckdb/executor.js";
import { goldOf } from "./register.js";

export function goldRoutes(engine: Engine): Routes {
  return {
    "POST /gold/rebuild": async (body) => {
      const opts = (body.trim() ? JSON.parse(body) : {}) as RebuildOptions;
      const reader = await engine.store.reader();
      try {
        const gold = new DuckDbGold({ run: (sql) => reader.query(sql), query: (sql) => reader.query(sql) });
        const r = await gold.rebuild(opts);
        return { type: "application/json", body: JSON.stringify(r) };
      } finally {
        reader.close();
      }
    },
    "GET /gold/status": async () => {
      const rt = goldOf(engine);
      const status = rt
        ? { pending: await rt.gold.pending(), refreshes: rt.refreshes, last_refresh: rt.lastRefresh, last_error: rt.lastError?.message ?? null }
        : { registered: false };
      return { type: "application/json", body: JSON.stringify(status) };
    },
  };
}
