import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { ingestBatches, ingestFiles } from "../../jobs/ingest-files.js";
import { goldOf, registerGold } from "../../gold/register.js";
import { type Totals, Engine } from "../../pipelines/local/engine.js";
import type { BatchResult } from "../../pipelines/local/process-batch.js";
import { ingestFilesOnDirectRunner, replayBronzeOnDirectRunner } from "../../pipelines/beam/run-direct.js";
import type { DirectRunOptions } from "../../pipelines/beam/run-direct.js";
import { batchIngestPipeline } from "../../pipelines/beam/batch.js";
import { LocalCommitSession, localSink } from "../../pipelines/beam/local-sink.js";
import { directRunner } from "../../pipelines/beam/sdk.js";
import { type BronzeSelection, bronzeFilesOf, kidsOf, readBronzeBatches, subjectKeysFromDataDir, subjectKeysFromStore } from "../../sources/bronze.js";
import { type Config, UsageError, loadConfig } from "../config.js";
import { faultHook } from "../fault.js";
import { createLogger } from "../log.js";

const USAGE_NOTE = `
Bronze replay (issue 3): read the Bronze partitions of a date range back, decrypt the
personal fields with the subjects' keys (an erased subject's events replay without
them; their order_created events fail validation, which requires the customer fields,
and are dead-lettered) and run them through the same steps into --data-dir:

  ecom ingest --bronze --from YYYY-MM-DD [--to YYYY-MM-DD] [--source-data-dir DIR]
              [--data-dir DIR] [--runner local|beam] [--json]

  --from/--to select Bronze dt partitions (UTC event date, inclusive; --to defaults to --from).
  --source-data-dir is the data dir whose Bronze and subject keys are read (default: --data-dir).
  Replaying into the same data dir commits nothing new (every event is a duplicate).
  Replaying into another data dir: give it a copy of the source's keys/ folder first,
  or its tokens will not match the source's.`;

export function ingestCommand(program: Command): void {
  program
    .command("ingest")
    .description("Ingest NDJSON files or folders (.ndjson, .ndjson.gz), or replay a Bronze date range (--bronze), through validate/dedupe/tokenize into Bronze and Silver, then exit")
    .argument("[paths...]", "files or folders (not with --bronze)")
    .option("--data-dir <dir>", "data directory (Bronze folder, DuckDB file, keys)")
    .option("--batch-size <n>", "events per committed batch")
    .option("--parse-threads <n>", "worker threads for parse/validate/tokenize/encrypt (0: main thread only)")
    .option("--runner <runner>", "local (this process) or beam (Beam DirectRunner)", "local")
    .option("--bronze", "replay Bronze partitions (--from/--to) instead of reading NDJSON files")
    .option("--from <date>", "with --bronze: first dt partition, YYYY-MM-DD (UTC)")
    .option("--to <date>", "with --bronze: last dt partition, YYYY-MM-DD (UTC, inclusive; default --from)")
    .option("--source-data-dir <dir>", "with --bronze: data dir whose Bronze and subject keys are read (default --data-dir)")
    .option("--json", "print a JSON summary as the last stdout line")
    .addHelpText("after", USAGE_NOTE)
    .action(async (paths: string[], flags: Record<string, unknown>) => {
      const replay = bronzeFlags(paths, flags);
      const config = loadConfig(flags);
      const log = createLogger(config.logLevel);
      if (flags.runner !== "local" && flags.runner !== "beam") {
        throw new UsageError(`--runner=${String(flags.runner)} is not available; use --runner=local or --runner=beam`);
      }
      const print = (totals: Totals): void => {
        if (flags.json) process.stdout.write(JSON.stringify(totals) + "\n");
        else process.stdout.write(`read ${totals.read}, valid ${totals.valid}, duplicates ${totals.duplicates}, dead-lettered ${totals.dead_lettered}, card numbers redacted ${totals.pans_redacted}\n`);
      };
      let source: ReplaySource | undefined;
      if (replay) {
        source = await prepareReplay(replay, config);
        if (source.selection.names.length === 0) log.warn({ source: source.dir, from: replay.from, to: replay.to }, "no Bronze files in the date range");
        if (!source.same && !sameKeys(source.dir, config.dataDir)) {
          log.warn({ source: source.dir, dataDir: config.dataDir }, "the data dir's keys differ from the source's: its tokens will not match the source's Silver");
        }
      }
      if (flags.runner === "beam") {
        const t0 = performance.now();
        const opts: DirectRunOptions = {
          dataDir: config.dataDir,
          batchSize: config.batchSize,
          faultAt: config.faultAt,
          faultBatch: config.faultBatch,
          onBatch: (b) => log.info({ ...b, runner: "beam" }, "batch committed"),
        };
        const totals = !replay
          ? await ingestFilesOnDirectRunner(paths, opts)
          : source!.same
            ? await replayBronzeOnDirectRunner(replay.from, replay.to, opts)
            : await replayOtherDirOnDirectRunner(source!, replay, opts);
        const secs = (performance.now() - t0) / 1000;
        log.info({ ...totals, runner: "beam", seconds: Number(secs.toFixed(2)), events_per_s: Math.round(totals.read / secs) }, "ingest done");
        print(totals);
        return;
      }
      const engine = await Engine.open(config.dataDir, { fault: faultHook(config), parseThreads: config.parseThreads });
      try {
        // A bounded load refreshes Gold once at the end; the marks are durable per batch meanwhile.
        await registerGold(engine, { refreshAfterCommit: false });
        const t0 = performance.now();
        const onBatch = (r: BatchResult, ms: number): void =>
          log.info({ batch: Number(r.batchId), read: r.read, valid: r.valid, duplicates: r.duplicates, dead_lettered: r.deadLettered, ms: Math.round(ms), phases: roundPhases(r.phases) }, "batch committed");
        let totals: Totals;
        if (!replay) totals = await ingestFiles(engine, paths, { batchSize: config.batchSize, onBatch });
        else {
          let selection = source!.selection;
          if (source!.same) {
            // Same data dir: list again after the open's recovery finished any committed batch's renames,
            // and read the keys through the store open here.
            selection = { ...bronzeFilesOf(source!.dir, replay.from, replay.to), keys: {} };
            selection.keys = await subjectKeysFromStore(engine.store, engine.keys.kek, kidsOf(selection.root, selection.names));
          }
          totals = await ingestBatches(engine, readBronzeBatches(selection, config.batchSize), `bronze:${replay.from}..${replay.to}`, onBatch);
        }
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
        print(totals);
      } finally {
        engine.close();
      }
    });
}

interface ReplayFlags {
  from: string;
  to: string;
  sourceDataDir?: string;
}

interface ReplaySource {
  dir: string;
  /** The source is the data dir itself. */
  same: boolean;
  selection: BronzeSelection;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkDate(flag: string, value: unknown): string {
  const s = String(value);
  if (!DATE.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`)) || new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) !== s) {
    throw new UsageError(`${flag} must be a date YYYY-MM-DD (UTC), got "${s}"`);
  }
  return s;
}

/** Validates the choice between paths and --bronze; the replay's flags, or undefined for a file ingest. */
function bronzeFlags(paths: string[], flags: Record<string, unknown>): ReplayFlags | undefined {
  if (!flags.bronze) {
    const stray = (["from", "to", "sourceDataDir"] as const).filter((k) => flags[k] !== undefined);
    if (stray.length) {
      const names = stray.map((k) => (k === "sourceDataDir" ? "--source-data-dir" : `--${k}`)).join(", ");
      throw new UsageError(`${names} only apply to a Bronze replay: add --bronze`);
    }
    if (paths.length === 0) throw new UsageError("give NDJSON files or folders to ingest, or --bronze --from YYYY-MM-DD to replay Bronze");
    return undefined;
  }
  if (paths.length) throw new UsageError(`--bronze replays Bronze partitions and takes no paths (got ${paths.join(" ")}); ingest files without --bronze`);
  if (flags.from === undefined) throw new UsageError("--bronze needs --from YYYY-MM-DD (and optionally --to YYYY-MM-DD)");
  const from = checkDate("--from", flags.from);
  const to = flags.to === undefined ? from : checkDate("--to", flags.to);
  if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
  return { from, to, sourceDataDir: flags.sourceDataDir === undefined ? undefined : String(flags.sourceDataDir) };
}

/** Lists the Bronze files of the range; for another data dir, resolves their subject keys now (before any store opens). */
async function prepareReplay(replay: ReplayFlags, config: Config): Promise<ReplaySource> {
  const dir = path.resolve(replay.sourceDataDir ?? config.dataDir);
  const same = dir === path.resolve(config.dataDir);
  if (!fs.existsSync(path.join(dir, "bronze"))) {
    throw new UsageError(`${same ? "the data dir" : "--source-data-dir"} ${dir} has no Bronze folder (${path.join(dir, "bronze")})`);
  }
  if (!same && !fs.existsSync(path.join(dir, "keys"))) {
    throw new UsageError(`--source-data-dir ${dir} has no keys/ folder: its Bronze personal fields cannot be decrypted`);
  }
  const { root, names } = bronzeFilesOf(dir, replay.from, replay.to);
  const selection: BronzeSelection = { root, names, keys: {} };
  if (!same) selection.keys = await subjectKeysFromDataDir(dir, kidsOf(root, names));
  return { dir, same, selection };
}

function sameKeys(a: string, b: string): boolean {
  const read = (d: string, f: string): string | undefined => {
    try {
      return fs.readFileSync(path.join(d, "keys", f), "utf8");
    } catch {
      return undefined;
    }
  };
  return ["token-keys.json", "kek.json"].every((f) => read(a, f) !== undefined && read(a, f) === read(b, f));
}

/** Another data dir's Bronze -> this data dir, through the Beam batch pipeline (keys already resolved from the source). */
async function replayOtherDirOnDirectRunner(source: ReplaySource, replay: ReplayFlags, opts: DirectRunOptions): Promise<Totals> {
  const session = LocalCommitSession.open(
    randomUUID(),
    { dataDir: opts.dataDir, origin: `bronze:${replay.from}..${replay.to}`, faultAt: opts.faultAt, faultBatch: opts.faultBatch },
    opts.batchSize,
    opts.onBatch,
  );
  try {
    await directRunner().run(batchIngestPipeline({ bronze: source.selection }, localSink(session.id)));
    session.drain();
    return session.totals();
  } finally {
    await session.close();
  }
}

function roundPhases(p: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Math.round(v)]));
}
