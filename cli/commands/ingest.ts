/**
 * `ecom ingest`: NDJSON files and folders, or a Bronze date range
 * (`--bronze`), through the same steps into the data dir, on the local
 * runner or the Beam DirectRunner. Parses and checks the flags (one
 * schema), calls the job (jobs/ingest.ts), prints the summary.
 */
import type { Command } from "commander";
import { z } from "zod";
import { RUNNERS, ingestFilesJob, replayBronzeJob } from "../../jobs/ingest.js";
import {
  checkServiceOptions,
  configSchema,
  isoDate,
  keyFields,
  keyFlags,
  oneOf,
  parseOptions,
  servicesOf,
  textInspectorFields,
  textInspectorFlags,
} from "../config.js";
import { createLogger } from "../log.js";

const USAGE_NOTE = `
Bronze replay: read the Bronze partitions of a date range back, decrypt the personal
data with the people's keys (an erased person's events replay without it) and run
them through the same steps into --data-dir:

  ecom ingest --bronze --from YYYY-MM-DD [--to YYYY-MM-DD] [--source-data-dir DIR]
              [--data-dir DIR] [--runner local|beam] [--json]

  --from/--to select Bronze dt partitions (UTC event date, inclusive; --to defaults to --from).
  --source-data-dir is the data dir whose Bronze and subject keys are read (default: --data-dir).
  Replaying into the same data dir commits nothing new (every event is a duplicate).
  Replaying into another data dir: give it a copy of the source's keys/ folder first,
  or its tokens will not match the source's.`;

export const ingestOptions = configSchema
  .extend({
    paths: z.array(z.string()).default([]),
    runner: oneOf(RUNNERS).default("local"),
    bronze: z.boolean().default(false),
    from: isoDate.optional(),
    to: isoDate.optional(),
    sourceDataDir: z.string().min(1).optional(),
    json: z.boolean().default(false),
    ...keyFields,
    ...textInspectorFields,
  })
  .superRefine((o, ctx) => {
    checkServiceOptions(o, ctx);
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (!o.bronze) {
      for (const k of ["from", "to", "sourceDataDir"] as const) if (o[k] !== undefined) issue(k, "only applies to a Bronze replay: add --bronze");
      if (o.paths.length === 0) issue("paths", "give NDJSON files or folders to ingest, or --bronze --from YYYY-MM-DD to replay Bronze");
      return;
    }
    if (o.paths.length) issue("paths", "--bronze replays Bronze partitions and takes no paths; ingest files without --bronze");
    if (o.from === undefined) issue("from", "--bronze needs --from YYYY-MM-DD (and optionally --to YYYY-MM-DD)");
    if (o.from && o.to && o.to < o.from) issue("to", `${o.to} is before --from ${o.from}`);
  });

export function ingestCommand(program: Command): void {
  const cmd = program
    .command("ingest")
    .description(
      "Ingest NDJSON files or folders (.ndjson, .ndjson.gz), or replay a Bronze date range (--bronze), through validate/dedupe/tokenize into Bronze and Silver, then exit",
    )
    .argument("[paths...]", "files or folders (not with --bronze)")
    .option("--data-dir <dir>", "data directory (Bronze folder, DuckDB file, keys)")
    .option("--batch-size <n>", "events per committed batch")
    .option("--parse-threads <n>", "worker threads for parse/validate/tokenize/encrypt (0: main thread only)")
    .option("--runner <runner>", "local (this process) or beam (Beam DirectRunner)")
    .option("--bronze", "replay Bronze partitions (--from/--to) instead of reading NDJSON files")
    .option("--from <date>", "with --bronze: first dt partition, YYYY-MM-DD (UTC)")
    .option("--to <date>", "with --bronze: last dt partition, YYYY-MM-DD (UTC, inclusive; default --from)")
    .option("--source-data-dir <dir>", "with --bronze: data dir whose Bronze and subject keys are read (default --data-dir)")
    .option("--json", "print a JSON summary as the last stdout line");
  textInspectorFlags(keyFlags(cmd))
    .addHelpText("after", USAGE_NOTE)
    .action(async (paths: string[], flags: Record<string, unknown>) => {
      const o = parseOptions(ingestOptions, { ...flags, paths });
      const log = createLogger(o.logLevel);
      const opts = {
        dataDir: o.dataDir,
        runner: o.runner,
        batchSize: o.batchSize,
        parseThreads: o.parseThreads,
        faultAt: o.faultAt,
        faultBatch: o.faultBatch,
        services: servicesOf(o),
        onBatch: (b: object) => log.info(b, "batch committed"),
        onWarning: (w: string) => log.warn(w),
      };
      const t0 = performance.now();
      const summary = o.bronze
        ? await replayBronzeJob({ from: o.from!, to: o.to ?? o.from!, sourceDataDir: o.sourceDataDir }, opts)
        : await ingestFilesJob(o.paths, opts);
      for (const w of summary.warnings) log.warn(w);
      const secs = (performance.now() - t0) / 1000;
      const c = summary.counts;
      log.info(
        {
          ...c,
          runner: o.runner,
          ingest_seconds: Number(summary.ingestSeconds.toFixed(2)),
          gold_refresh_seconds: Number(summary.goldSeconds.toFixed(2)),
          gold_windows: summary.goldWindows,
          seconds: Number(secs.toFixed(2)),
          events_per_s: Math.round(c.read / secs),
          peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
        },
        "ingest done",
      );
      if (o.json) process.stdout.write(JSON.stringify(c) + "\n");
      else
        process.stdout.write(
          `read ${c.read}, valid ${c.valid}, duplicates ${c.duplicates}, dead-lettered ${c.dead_lettered}, card numbers redacted ${c.pans_redacted}\n`,
        );
    });
}
