import type { Command } from "commander";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { goldOf, registerGold } from "../../gold/register.js";
import { Engine } from "../../pipelines/local/engine.js";
import { ingestFilesOnDirectRunner } from "../../pipelines/beam/run-direct.js";
import { UsageError, loadConfig } from "../config.js";
import { faultHook } from "../fault.js";
import { createLogger } from "../log.js";

export function ingestCommand(program: Command): void {
  program
    .command("ingest")
    .description("Ingest NDJSON files or folders (.ndjson, .ndjson.gz) through validate/dedupe/tokenize into Bronze and Silver, then exit")
    .argument("<paths...>", "files or folders")
    .option("--data-dir <dir>", "data directory (Bronze folder, DuckDB file, keys)")
    .option("--batch-size <n>", "events per committed batch")
    .option("--parse-threads <n>", "worker threads for parse/validate/tokenize/encrypt (0: main thread only)")
    .option("--runner <runner>", "local (this process) or beam (Beam DirectRunner)", "local")
    .option("--json", "print a JSON summary as the last stdout line")
    .action(async (paths: string[], flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      const log = createLogger(config.logLevel);
      if (flags.runner === "beam") {
        const t0 = performance.now();
        const totals = await ingestFilesOnDirectRunner(paths, {
          dataDir: config.dataDir,
          batchSize: config.batchSize,
          faultAt: config.faultAt,
          faultBatch: config.faultBatch,
          onBatch: (b) => log.info({ ...b, runner: "beam" }, "batch committed"),
        });
        const secs = (performance.now() - t0) / 1000;
        log.info({ ...totals, runner: "beam", seconds: Number(secs.toFixed(2)), events_per_s: Math.round(totals.read / secs) }, "ingest done");
        if (flags.json) process.stdout.write(JSON.stringify(totals) + "\n");
        else process.stdout.write(`read ${totals.read}, valid ${totals.valid}, duplicates ${totals.duplicates}, dead-lettered ${totals.dead_lettered}, card numbers redacted ${totals.pans_redacted}\n`);
        return;
      }
      if (flags.runner !== "local") throw new UsageError(`--runner=${String(flags.runner)} is not available; use --runner=local or --runner=beam`);
      const engine = await Engine.open(config.dataDir, { fault: faultHook(config), parseThreads: config.parseThreads });
      try {
        // A bounded load refreshes Gold once at the end; the marks are durable per batch meanwhile.
        await registerGold(engine, { refreshAfterCommit: false });
        const t0 = performance.now();
        const totals = await ingestFiles(engine, paths, {
          batchSize: config.batchSize,
          onBatch: (r, ms) =>
            log.info({ batch: Number(r.batchId), read: r.read, valid: r.valid, duplicates: r.duplicates, dead_lettered: r.deadLettered, ms: Math.round(ms), phases: roundPhases(r.phases) }, "batch committed"),
        });
        const ingestSecs = (performance.now() - t0) / 1000;
        const gold = await goldOf(engine)?.flush();
        const secs = (performance.now() - t0) / 1000;
        log.info(
          {
            ...totals,
            ingest_seconds: Number(ingestSecs.toFixed(2)),
            gold_refresh_seconds: Number((secs - ingestSecs).toFixed(2)),
            gold_windows: gold?.windows,
            seconds: Number(secs.toFixed(2)),
            events_per_s: Math.round(totals.read / secs),
            peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
          },
          "ingest done",
        );
        if (flags.json) process.stdout.write(JSON.stringify(totals) + "\n");
        else process.stdout.write(`read ${totals.read}, valid ${totals.valid}, duplicates ${totals.duplicates}, dead-lettered ${totals.dead_lettered}, card numbers redacted ${totals.pans_redacted}\n`);
      } finally {
        engine.close();
      }
    });
}

function roundPhases(p: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Math.round(v)]));
}
