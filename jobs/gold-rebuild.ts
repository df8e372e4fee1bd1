/**
 * `ecom gold rebuild`: recompute Gold tables (or the days [from, to] of them)
 * from Silver. Through the running instance when there is one, else on the
 * data dir's file; then any windows still marked dirty are refreshed.
 */
import fs from "node:fs";
import type { RebuildOptions } from "../gold/duckdb/executor.js";
import { goldOf } from "../gold/register.js";
import type { Engine, EngineServices } from "../pipelines/local/engine.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";
import { recordedJob } from "./job-runs.js";
import { openRuntime } from "./runtime.js";
import { type InstanceInfo, findInstance, instanceFetch } from "../pipelines/local/instance.js";

export interface RebuildResult {
  models: Record<string, number>;
  ms: number;
  via: "instance" | "file";
}

/** Recorded in ops.job_runs (job `gold_rebuild`). */
export function goldRebuild(
  dataDir: string,
  opts: RebuildOptions,
  onWarning?: (message: string) => void,
  services: EngineServices = {},
): Promise<RebuildResult> {
  return recordedJob(dataDir, "gold_rebuild", () => goldRebuildRun(dataDir, opts, services), {
    counts: (r) => ({ models: Object.keys(r.models).length, seconds: r.ms / 1000 }),
    onWarning,
  });
}

async function goldRebuildRun(dataDir: string, opts: RebuildOptions, services: EngineServices): Promise<RebuildResult> {
  const instance = findInstance(dataDir);
  if (instance) return { ...(await rebuildOnInstance(instance, opts)), via: "instance" };
  return withEngine(
    dataDir,
    async (engine) => {
      const gold = goldOf(engine)!.gold;
      const r = await gold.rebuild(opts);
      await gold.refresh();
      return { ...r, via: "file" as const };
    },
    services,
  );
}

/** Opens the data dir's engine with Gold (which also finishes any interrupted refresh), runs `work`, closes. */
export async function withEngine<T>(dataDir: string, work: (engine: Engine) => Promise<T>, services: EngineServices = {}): Promise<T> {
  if (!fs.existsSync(dataDirPaths(dataDir).store)) {
    throw new Error(`no data in ${dataDir} yet: run \`ecom start\` or \`ecom ingest <file>\` first (or pass --data-dir)`);
  }
  const engine = await openRuntime(dataDir, services);
  try {
    return await work(engine);
  } finally {
    engine.close();
  }
}

async function rebuildOnInstance(info: InstanceInfo, opts: RebuildOptions): Promise<{ models: Record<string, number>; ms: number }> {
  const res = await instanceFetch(info, "/gold/rebuild", { method: "POST", body: JSON.stringify(opts) });
  const text = await res.text();
  if (res.status === 404) {
    throw new Error(
      `the running ecom process (pid ${info.pid}) holds the data dir and does not serve Gold rebuilds.\n` +
        `  Stop it and run \`ecom gold rebuild\` again, or restart it with a version that serves /gold/rebuild.`,
    );
  }
  if (!res.ok)
    throw new Error(`Gold rebuild on the running instance (pid ${info.pid}) failed: ${text}\n  Run it again (a conflict with a batch clears on retry).`);
  return JSON.parse(text) as { models: Record<string, number>; ms: number };
}
