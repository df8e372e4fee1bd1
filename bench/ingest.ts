/**
 * Benchmarks of the ingest core on this machine:
 *  - file: events/s through the whole chain (decode to committed Bronze + Silver)
 *    from a generated NDJSON file, in a child `ecom ingest` process, with its peak RSS;
 *  - emulator: publish -> Silver-visible latency (p50/p99) at a steady rate through
 *    the Pub/Sub emulator, the runner in this process, the publisher in a child.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { generateToFile } from "../jobs/generate.js";
import { registerGold } from "../gold/register.js";
import { Engine } from "../pipelines/local/engine.js";
import { StreamRunner } from "../pipelines/local/stream-runner.js";
import { startEmulator } from "../sources/dev/pubsub-emulator.js";
import { PubSubBatchSource, ensureTopicAndSubscription } from "../sources/pubsub.js";

const run = promisify(execFile);
const CLI = path.resolve("dist/cli/main.js");

export function benchDir(): string {
  const dir = path.join(os.tmpdir(), "ecom-bench");
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The generated input file (cached by size and seed: generation is not what is measured). */
export async function benchFile(count: number): Promise<string> {
  const file = path.join(benchDir(), `events-${count}-seed1.ndjson`);
  if (!fs.existsSync(file)) {
    await generateToFile(
      file + ".part",
      { seed: 1, ratePerSecond: 2000, startTime: new Date("2026-11-01T00:00:00Z"), duplicateFraction: 0.01, invalidFraction: 0.005 },
      count,
    );
    fs.renameSync(file + ".part", file);
  }
  return file;
}

export interface FileBench {
  events: number;
  seconds: number;
  events_per_s: number;
  peak_rss_mb: number;
  totals: Record<string, number>;
}

export async function benchFileIngest(file: string, dataDir: string): Promise<FileBench> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const t0 = performance.now();
  const { stdout, stderr } = await run("/bin/sh", ["-c", `exec "${process.execPath}" "${CLI}" ingest --json --data-dir "${dataDir}" "${file}"; `], {
    maxBuffer: 64 << 20,
    env: { ...process.env, ECOM_LOG_LEVEL: "info" },
  });
  const seconds = (performance.now() - t0) / 1000;
  const totals = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, number>;
  const done = stderr
    .split("\n")
    .filter((l) => l.includes('"ingest done"'))
    .pop();
  const peak = done ? ((JSON.parse(done) as { peak_rss_mb?: number }).peak_rss_mb ?? 0) : 0;
  return { events: totals.read!, seconds, events_per_s: Math.round(totals.read! / seconds), peak_rss_mb: peak, totals };
}

/** Publishes `count` generated messages at `rate`/s from a child `ecom generate --publish` (its CPU is not the runner's). */
export async function publishGenerated(host: string, projectId: string, count: number, rate: number, seed: number): Promise<void> {
  const publisher = spawn(
    process.execPath,
    [CLI, "generate", "--publish", "--count", String(count), "--rate", String(rate), "--seed", String(seed), "--project-id", projectId, "--topic", "events"],
    { env: { ...process.env, PUBSUB_EMULATOR_HOST: host }, stdio: ["ignore", "ignore", "inherit"] },
  );
  await new Promise((resolve) => publisher.on("close", resolve));
}

/** Polls until `done()` or the timeout (the runner drains what was published). */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
}

export interface LatencyBench {
  rate: number;
  seconds: number;
  events: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Steady `rate` events/s for `seconds` through the emulator; latency publish -> committed in Silver. */
export async function benchEmulatorLatency(rate: number, seconds: number, dataDir: string): Promise<LatencyBench> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const projectId = "ecom-bench";
  const emulator = await startEmulator({ projectId });
  const target = { projectId, topic: "events", subscription: "events-bench", emulatorHost: emulator.host };
  try {
    await ensureTopicAndSubscription(target);
    // As `ecom start` runs it: Gold day/hour tables every 5 s (BENCH_PARSE_THREADS: parse worker threads, default 0).
    const engine = await Engine.open(dataDir, { parseThreads: Number(process.env.BENCH_PARSE_THREADS ?? 0) });
    await registerGold(engine, { coarseRefreshEveryMs: 5000 });
    const source = new PubSubBatchSource(target, { maxStreams: 8, maxOutstanding: 50_000 });
    source.start();
    const latencies: number[] = [];
    let read = 0;
    const runner = new StreamRunner(engine, source, {
      origin: "bench",
      batchSize: 5000,
      batchWaitMs: 200,
      onBatch: (r) => {
        read += r.result.read;
        for (const l of r.latenciesMs) latencies.push(l);
      },
    });
    const running = runner.run();
    const count = rate * seconds;
    await publishGenerated(emulator.host, projectId, count, rate, 9);
    await waitUntil(() => read >= count, 60_000);
    runner.stop();
    await running;
    await source.close();
    engine.close();
    // Skip the first 2 s of traffic: emulator and JIT warm-up are not the steady state.
    const steady = latencies.slice(Math.min(latencies.length - 1, rate * 2)).sort((a, b) => a - b);
    const pct = (p: number) => Math.round(steady[Math.min(steady.length - 1, Math.floor(p * steady.length))]!);
    return { rate, seconds, events: read, p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: Math.round(steady[steady.length - 1]!) };
  } finally {
    await emulator.stop();
  }
}
