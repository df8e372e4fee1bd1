/**
 * The streaming job in this process, against the real Pub/Sub emulator:
 * aborting its signal stops it cleanly (the batch in flight committed, the
 * port closed, the runtime released), the hooks see every batch and the
 * progress lines, the totals reconcile with what was committed; without
 * the generator it consumes the subscription until the idle time passes.
 */
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runStreamJob, type StreamJobOptions } from "../../jobs/stream.js";
import { Engine } from "../../pipelines/local/engine.js";
import { findInstance } from "../../pipelines/local/instance.js";
import { tempDir } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";

const emulator = await withEmulator();

describe.skipIf("skip" in emulator)("runStreamJob", () => {
  const { host, projectId } = emulator as Exclude<typeof emulator, { skip: string }>;
  const dataDir = path.join(tempDir("stream-job"), "data");
  const base: StreamJobOptions = {
    dataDir,
    pubsub: { projectId, topic: "events-job", subscription: "events-job-ingest", emulatorHost: host },
    batchSize: 500,
    batchWaitMs: 100,
    maxStreams: 2,
    parseThreads: 0,
    generator: false,
    progressEveryMs: 200,
  };

  afterAll(async () => {
    if (!("skip" in emulator)) await emulator.stop();
  });

  it("stops on its signal with the batch in flight committed, and reports through its hooks", async () => {
    const stop = new AbortController();
    const batches: number[] = [];
    const lines: string[] = [];
    const totals = await runStreamJob({
      ...base,
      generator: { seed: 7, ratePerSecond: 1000, duplicateFraction: 0.01, invalidFraction: 0.01 },
      signal: stop.signal,
      hooks: {
        onBatch: (r) => {
          batches.push(r.result.read);
          if (batches.reduce((s, n) => s + n, 0) >= 1000) stop.abort();
        },
        onProgressLine: (l) => lines.push(l),
      },
    });
    expect(totals.read).toBeGreaterThanOrEqual(1000);
    expect(totals.read).toBe(batches.reduce((s, n) => s + n, 0));
    expect(totals.read).toBe(totals.valid + totals.duplicates + totals.dead_lettered);
    expect(lines.at(-1)).toMatch(new RegExp(`read ${totals.read} valid ${totals.valid} `));
    expect(findInstance(dataDir)).toBeUndefined();

    // The runtime was released: the store opens here, and holds what the job counted.
    const engine = await Engine.open(dataDir);
    try {
      const [row] = await engine.store.query(`SELECT sum(read) AS read, sum(valid) AS valid FROM ops.batches`);
      expect([Number(row!.read), Number(row!.valid)]).toEqual([totals.read, totals.valid]);
    } finally {
      engine.close();
    }
  }, 120_000);

  it("without the generator, consumes what the first run left and returns after the idle time", async () => {
    const totals = await runStreamJob({ ...base, idleExitSeconds: 3 });
    expect(totals.read).toBe(totals.valid + totals.duplicates + totals.dead_lettered);
    expect(findInstance(dataDir)).toBeUndefined();
  }, 120_000);
});
