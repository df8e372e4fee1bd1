/**
 * Gold benchmarks on this machine:
 *  - rebuild: ingest a generated NDJSON file (default 1 M events) with Gold
 *    refreshed after every batch (the per-batch refresh times are reported),
 *    then time full rebuilds of every Gold table;
 *  - freshness: publish -> visible in gold.revenue_by_minute for every
 *    order_created, at a steady rate through the Pub/Sub emulator with the
 *    streaming runner (the refresh runs inside each batch, after its commit,
 *    so when a batch returns its order_created events are in Gold).
 *
 * Standalone: `node dist/bench/gold.js` (BENCH_EVENTS, BENCH_RATE,
 * BENCH_SECONDS, BENCH_ONLY=rebuild,freshness as in bench/run.ts;
 * BENCH_GOLD_COARSE_MS: the day/hour refresh cadence, default 5000, 0 = every batch).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateToFile } from "../jobs/generate.js";
import { ingestFiles } from "../jobs/ingest-files.js";
import { goldOf, registerGold } from "../gold/register.js";
import { Engine } from "../pipelines/local/engine.js";
import { type MessageSource, StreamRunner } from "../pipelines/local/stream-runner.js";
import { startEmulator } from "../sources/dev/pubsub-emulator.js";
import { PubSubBatchSource, ensureTopicAndSubscription } from "../sources/pubsub.js";
import { publishGenerated, waitUntil } from "./ingest.js";

export interface GoldBenchOptions {
  /** NDJSON input; generated (and cached) when absent. */
  file?: string;
  /** Events in the generated file (default 1 000 000). */
  events?: number;
  /** Scratch folder (default: $TMPDIR/ecom-bench). */
  dir?: string;
  /** Full rebuilds to time (default 3; the median is reported). */
  rebuilds?: number;
  /**
   * Freshness through the emulator; false to skip. Default: 5 000/s for 30 s
   * with the day/hour tables refreshed every 5 s (as a long-running stream
   * should run Gold; see GoldOptions.coarseRefreshEveryMs).
   */
  freshness?: { rate: number; seconds: number; coarseRefreshEveryMs?: number } | false;
}

export type GoldBench = {
  events: number;
  ingest_s: number;
  ingest_events_per_s: number;
  batches: number;
  /** Gold refresh after each committed batch (recomputing the windows the batch touched). */
  refresh_per_batch_p50_ms: number;
  refresh_per_batch_p99_ms: number;
  refresh_per_batch_max_ms: number;
  /** Median full rebuild of every Gold table over the ingested events. */
  rebuild_1m_s: number;
  rebuild_runs_s: number[];
  rebuild_ms_by_table: Record<string, number>;
  freshness?: FreshnessBench;
};

export type FreshnessBench = {
  rate: number;
  seconds: number;
  /** order_created events measured (after the first 2 s of warm-up). */
  orders: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Publish -> committed in Silver over every message of the same run, for comparison (what Gold adds is the difference). */
  silver_p50_ms: number;
  silver_p99_ms: number;
  /** Wall time of a batch (commit + Gold refresh), and of its Gold refresh alone. */
  batch_p50_ms: number;
  refresh_p50_ms: number;
  refresh_p99_ms: number;
  /** See GoldOptions.coarseRefreshEveryMs (0: every table after every batch). */
  coarse_refresh_every_ms: number;
  /** Refresh failures seen (each leaves its windows marked; must be 0 for the figures to hold). */
  refresh_errors: number;
};

function scratch(dir?: string): string {
  const d = dir ?? path.join(os.tmpdir(), "ecom-bench");
  fs.mkdirSync(d, { recursive: true });
  return d;
}

const pct = (sorted: readonly number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN);
const round = (x: number, digits = 0) => Number(x.toFixed(digits));

export async function benchGold(opts: GoldBenchOptions = {}): Promise<GoldBench> {
  const dir = scratch(opts.dir);
  const events = opts.events ?? 1_000_000;
  let file = opts.file;
  if (!file) {
    file = path.join(dir, `events-${events}-seed1.ndjson`);
    if (!fs.existsSync(file)) {
      const opts1 = { seed: 1, ratePerSecond: 2000, startTime: new Date("2026-11-01T00:00:00Z"), duplicateFraction: 0.01, invalidFraction: 0.005 };
      await generateToFile(file + ".part", opts1, events);
      fs.renameSync(file + ".part", file);
    }
  }
  const dataDir = path.join(dir, "data-gold");
  fs.rmSync(dataDir, { recursive: true, force: true });
  const engine = await Engine.open(dataDir);
  try {
    await registerGold(engine);
    const gold = goldOf(engine)!;
    const refreshMs: number[] = [];
    const t0 = performance.now();
    const totals = await ingestFiles(engine, [file], { batchSize: 20_000, onBatch: () => refreshMs.push(gold.lastRefresh?.ms ?? NaN) });
    const ingestS = (performance.now() - t0) / 1000;
    if (gold.lastError) throw new Error(`a Gold refresh failed during the ingest: ${gold.lastError.message}`);
    const runs: number[] = [];
    let byTable: Record<string, number> = {};
    for (let i = 0; i < (opts.rebuilds ?? 3); i++) {
      const r = await gold.gold.rebuild();
      runs.push(r.ms / 1000);
      byTable = r.models;
    }
    const sortedRuns = [...runs].sort((a, b) => a - b);
    const sortedRefresh = [...refreshMs].sort((a, b) => a - b);
    const result: GoldBench = {
      events: totals.read,
      ingest_s: round(ingestS, 1),
      ingest_events_per_s: Math.round(totals.read / ingestS),
      batches: refreshMs.length,
      refresh_per_batch_p50_ms: round(pct(sortedRefresh, 0.5)),
      refresh_per_batch_p99_ms: round(pct(sortedRefresh, 0.99)),
      refresh_per_batch_max_ms: round(sortedRefresh[sortedRefresh.length - 1] ?? NaN),
      rebuild_1m_s: round(sortedRuns[Math.floor(sortedRuns.length / 2)]!, 2),
      rebuild_runs_s: runs.map((r) => round(r, 2)),
      rebuild_ms_by_table: byTable,
    };
    engine.close();
    const f = opts.freshness ?? { rate: 5000, seconds: 30, coarseRefreshEveryMs: 5000 };
    if (f) result.freshness = await benchGoldFreshness(f.rate, f.seconds, path.join(dir, "data-gold-freshness"), f.coarseRefreshEveryMs ?? 0);
    return result;
  } finally {
    try {
      engine.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Steady `rate` events/s for `seconds` through the emulator (publisher in a
 * child `ecom generate --publish`, runner here); for every order_created,
 * the time from its Pub/Sub publish time to the end of the batch that
 * committed it and refreshed Gold (when a reader sees it in gold.revenue_by_minute).
 */
export async function benchGoldFreshness(rate: number, seconds: number, dataDir: string, coarseRefreshEveryMs = 0): Promise<FreshnessBench> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const projectId = "ecom-bench";
  const emulator = await startEmulator({ projectId });
  const target = { projectId, topic: "events", subscription: "events-gold-bench", emulatorHost: emulator.host };
  try {
    await ensureTopicAndSubscription(target);
    const engine = await Engine.open(dataDir);
    await registerGold(engine, { coarseRefreshEveryMs });
    const gold = goldOf(engine)!;
    const pubsub = new PubSubBatchSource(target, { maxStreams: 8, maxOutstanding: 50_000 });
    pubsub.start();
    // Publish time of each order_created, by event_id, as the runner pulls it.
    const published = new Map<string, number>();
    const source: MessageSource = {
      nextBatch: async (n, wait) => {
        const batch = await pubsub.nextBatch(n, wait);
        for (const m of batch) {
          if (m.attributes?.event_type === "order_created" && m.attributes.event_id) published.set(m.attributes.event_id, m.publishTime.getTime());
        }
        return batch;
      },
    };
    const samples: { at: number; ms: number }[] = [];
    const silver: { at: number; ms: number }[] = [];
    // When each batch (known by the ingested_at it stamped on its rows) was committed and Gold refreshed.
    const committedAt = new Map<number, number>();
    const batches: { at: number; ms: number; refresh: number }[] = [];
    let read = 0;
    let errors = 0;
    const runner = new StreamRunner(engine, source, {
      origin: "bench-gold",
      batchSize: 5000,
      batchWaitMs: 200,
      onBatch: (r) => {
        const done = Date.now();
        read += r.result.read;
        if (gold.lastError) errors++;
        for (const l of r.latenciesMs) silver.push({ at: done - l, ms: l });
        batches.push({ at: done, ms: r.ms, refresh: gold.lastRefresh?.ms ?? NaN });
        committedAt.set(r.result.ingestedAtMs, done);
      },
    });
    const running = runner.run();
    const count = rate * seconds;
    await publishGenerated(emulator.host, projectId, count, rate, 11);
    await waitUntil(() => read >= count, 60_000);
    runner.stop();
    await running;
    await pubsub.close();
    for (const row of await engine.store.query(`SELECT event_id, epoch_ms(ingested_at) AS ms FROM silver.order_events WHERE event_type = 'order_created'`)) {
      const p = published.get(row.event_id as string);
      const done = committedAt.get(Number(row.ms));
      if (p !== undefined && done !== undefined) samples.push({ at: p, ms: done - p });
    }
    // The figures only hold if Gold has every order_created Silver has.
    const [check] = await engine.store.query(
      `SELECT (SELECT coalesce(sum(orders), 0) FROM gold.revenue_by_minute) AS gold, (SELECT count(*) FROM silver.order_events WHERE event_type = 'order_created') AS silver`,
    );
    engine.close();
    if (Number(check!.gold) !== Number(check!.silver)) throw new Error(`gold.revenue_by_minute has ${check!.gold} orders, Silver ${check!.silver}`);
    // Skip the first 2 s of traffic: emulator and JIT warm-up are not the steady state.
    const first = silver.reduce((m, s) => Math.min(m, s.at), Infinity);
    const after = (xs: { at: number; ms: number }[]) =>
      xs
        .filter((s) => s.at >= first + 2000)
        .map((s) => s.ms)
        .sort((a, b) => a - b);
    const steady = after(samples);
    const steadySilver = after(silver);
    const batchMs = after(batches);
    const refresh = batches
      .filter((b) => b.at >= first + 2000)
      .map((b) => b.refresh)
      .sort((a, b) => a - b);
    return {
      rate,
      seconds,
      orders: steady.length,
      p50_ms: round(pct(steady, 0.5)),
      p99_ms: round(pct(steady, 0.99)),
      max_ms: round(steady[steady.length - 1] ?? NaN),
      silver_p50_ms: round(pct(steadySilver, 0.5)),
      silver_p99_ms: round(pct(steadySilver, 0.99)),
      batch_p50_ms: round(pct(batchMs, 0.5)),
      refresh_p50_ms: round(pct(refresh, 0.5)),
      refresh_p99_ms: round(pct(refresh, 0.99)),
      coarse_refresh_every_ms: coarseRefreshEveryMs,
      refresh_errors: errors,
    };
  } finally {
    await emulator.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const only = new Set((process.env.BENCH_ONLY ?? "rebuild,freshness").split(","));
  const rate = Number(process.env.BENCH_RATE ?? 5000);
  const seconds = Number(process.env.BENCH_SECONDS ?? 30);
  const out: Record<string, unknown> = {};
  if (only.has("rebuild")) out.gold = await benchGold({ events: Number(process.env.BENCH_EVENTS ?? 1_000_000), freshness: false });
  const coarse = Number(process.env.BENCH_GOLD_COARSE_MS ?? 5000);
  if (only.has("freshness")) out.freshness = await benchGoldFreshness(rate, seconds, path.join(scratch(), "data-gold-freshness"), coarse);
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  // The Pub/Sub client's channels can outlive the run; the figures are out.
  process.exit(0);
}
