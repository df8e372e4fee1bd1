/**
 * `ecom gold status`: per Gold table, its rows, its window grain, the
 * windows waiting for a refresh and when it was last built in full. Read
 * through the running instance when there is one, else on the data dir.
 */
import { GOLD_MODELS } from "../gold/models/index.js";
import type { EngineServices } from "../pipelines/local/engine.js";
import { withGoldQuery } from "./gold-report.js";

export type GoldTableStatus = {
  table: string;
  rows: unknown;
  window: string;
  pending_windows: unknown;
  last_full_build: unknown;
};

export async function goldStatus(dataDir: string, services: EngineServices = {}): Promise<GoldTableStatus[]> {
  return withGoldQuery(
    dataDir,
    async (q) => {
      const built = new Map((await q(`SELECT model, CAST(built_at AS VARCHAR) AS built_at FROM ops.gold_models`)).map((r) => [r.model, r.built_at]));
      const dirty = new Map((await q(`SELECT model, count(*) AS n FROM ops.gold_dirty GROUP BY model`)).map((r) => [r.model, r.n]));
      const out: GoldTableStatus[] = [];
      for (const m of GOLD_MODELS) {
        const n = (await q(`SELECT count(*) AS n FROM gold.${m.name}`))[0]?.n;
        out.push({
          table: `gold.${m.name}`,
          rows: n,
          window: m.window.grain,
          pending_windows: dirty.get(m.name) ?? 0,
          last_full_build: built.get(m.name) ?? null,
        });
      }
      return out;
    },
    services,
  );
}
