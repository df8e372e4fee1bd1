/**
 * One poison message never fails its batch or stalls a stream. In the
 * middle of ordinary traffic: a message nested far too deep, a message a
 * step throws on, and a message the store refuses at commit. On the local
 * runner, on the Beam DirectRunner and through the Pub/Sub emulator, the
 * ordinary events all commit, each bad one is a dead letter with its reason,
 * and the counts reconcile.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { Engine } from "../../pipelines/local/engine.js";
import { StreamRunner } from "../../pipelines/local/stream-runner.js";
import { type Registry, createRegistry } from "../../schemas/registry.js";
import { EventPublisher, PubSubBatchSource, ensureTopicAndSubscription } from "../../sources/pubsub.js";
import { decode } from "../../transforms/decode.js";
import type { Decoded } from "../../transforms/types.js";
import { createValidator } from "../../transforms/validate.js";
import { expected, generated, tempDir } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";

const THROW = "make-the-step-throw";
const POISON_ID = "0000dead-beef-4bad-8bad-00000000beef";
const DEEP = `{"event_type":"search","payload":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
const searchWith = (id: string, query: string) =>
  JSON.stringify({
    event_id: id,
    event_type: "search",
    schema_version: 1,
    event_time: "2026-11-20T09:00:00Z",
    source: "web",
    anonymous_id: "a-1",
    payload: { query, results_count: 1 },
  });
const THROWING = searchWith("1111dead-beef-4bad-8bad-00000000beef", THROW);
const POISON = searchWith(POISON_ID, "refused by the store");

function stepThrows(value: unknown): void {
  if ((value as { payload?: { query?: string } }).payload?.query === THROW) throw new TypeError("a bug this message reveals");
}

/** The real registry, but the search schema throws (as a bug would) on one message. */
function throwingRegistry(): Registry {
  const base = createRegistry();
  return {
    entries: () => base.entries(),
    lookup(type, version) {
      const e = base.lookup(type, version);
      if (typeof e === "string" || type !== "search") return e;
      const throwing = z.preprocess((v) => {
        stepThrows(v);
        return v;
      }, e.schema);
      return { ...e, schema: throwing as unknown as typeof e.schema };
    },
  };
}

/** The store refuses any batch holding the poison event (as it would a value it cannot take). */
const refuseThePoison = (point: string, ids: readonly string[]): void => {
  if (point === "before_commit" && ids.includes(POISON_ID)) throw new Error("Conversion Error: could not store 'a value'");
};

function input(): { lines: string[]; ordinary: ReturnType<typeof generated> } {
  const ordinary = generated(1200, 77, { duplicateFraction: 0.02, invalidFraction: 0.02 });
  const lines = ordinary.map((m) => m.data);
  lines.splice(300, 0, DEEP);
  lines.splice(650, 0, THROWING);
  lines.splice(900, 0, POISON);
  return { lines, ordinary };
}

async function reasons(engine: Engine): Promise<Record<string, number>> {
  const rows = await engine.store.query(`SELECT reason, count(*) AS n FROM ops.dead_letters GROUP BY reason`);
  return Object.fromEntries(rows.map((r) => [r.reason as string, Number(r.n)]));
}

async function silverIds(engine: Engine): Promise<Set<string>> {
  const rows = await engine.store.query(
    ["clickstream", "order", "payment", "inventory", "customer"].map((d) => `SELECT event_id FROM silver.${d}_events`).join(" UNION ALL "),
  );
  return new Set(rows.map((r) => r.event_id as string));
}

function writeInput(dir: string, lines: string[]): string {
  const file = path.join(dir, "poison.ndjson");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

describe("the local runner", () => {
  it("commits every ordinary event around a too-deep, a throwing and a refused message, and dead-letters each", async () => {
    const dir = tempDir("failsafe-local");
    const { lines, ordinary } = input();
    const engine = await Engine.open(path.join(dir, "data"), { registry: throwingRegistry(), fault: refuseThePoison });
    try {
      const totals = await ingestFiles(engine, [writeInput(dir, lines)], { batchSize: 400 });
      const exp = expected(ordinary);
      expect(totals.read).toBe(lines.length);
      expect(totals.read).toBe(totals.valid + totals.duplicates + totals.dead_lettered);
      expect(totals.valid).toBe(exp.validIds.size);
      expect(await silverIds(engine)).toEqual(exp.validIds);
      const r = await reasons(engine);
      expect([r.too_deep, r.internal_error, r.commit_failed]).toEqual([1, 1, 1]);
      expect(totals.dead_lettered).toBe(exp.invalidBodies.size + 3);
      const [dl] = await engine.store.query(`SELECT detail, stage, event_id FROM ops.dead_letters WHERE reason = 'internal_error'`);
      expect(dl).toMatchObject({ stage: "validate", event_id: "1111dead-beef-4bad-8bad-00000000beef" });
      expect(dl!.detail).toMatch(/^the Validate step failed on this message \(TypeError/);
      expect(dl!.detail).not.toContain("bug this message reveals");
      const [refused] = await engine.store.query(`SELECT detail, stage FROM ops.dead_letters WHERE reason = 'commit_failed'`);
      expect(refused!.detail).not.toContain("a value"); // the store's error text is not echoed
    } finally {
      engine.close();
    }
  });
});

// The Beam sink's commit runs in a worker thread, which loads the built module: run the built pipeline (npm test builds first).
const beamDirect = (await import(path.resolve(import.meta.dirname, "../../dist/jobs/ingest.js"))) as typeof import("../../jobs/ingest.js");
const beamSteps = (await import(
  path.resolve(import.meta.dirname, "../../dist/pipelines/beam/step-fns.js")
)) as typeof import("../../pipelines/beam/step-fns.js");

describe("the Beam DirectRunner", () => {
  const original = beamSteps.workerSteps();
  afterEach(() => beamSteps.useWorkerSteps(original));

  it("turns whatever a step throws into a dead letter on the tagged output, and commits the rest", async () => {
    const validator = createValidator(createRegistry());
    // Unguarded steps: the guard under test is the Beam step function's own.
    beamSteps.useWorkerSteps([
      { name: "Decode", run: decode },
      {
        name: "Validate",
        run: (d: Decoded) => {
          stepThrows(d.value);
          return validator.validate(d);
        },
      },
    ]);
    const dir = tempDir("failsafe-beam");
    const { lines, ordinary } = input();
    const withoutPoison = lines.filter((l) => l !== POISON);
    const { counts: totals } = await beamDirect.ingestFilesJob([writeInput(dir, withoutPoison)], {
      dataDir: path.join(dir, "data"),
      runner: "beam",
      batchSize: 400,
    });
    const exp = expected(ordinary);
    expect(totals.read).toBe(withoutPoison.length);
    expect(totals.read).toBe(totals.valid + totals.duplicates + totals.dead_lettered);
    expect(totals.valid).toBe(exp.validIds.size);
    expect(totals.dead_lettered).toBe(exp.invalidBodies.size + 2);
    const engine = await Engine.open(path.join(dir, "data"));
    try {
      const r = await reasons(engine);
      expect([r.too_deep, r.internal_error]).toEqual([1, 1]);
      expect(await silverIds(engine)).toEqual(exp.validIds);
    } finally {
      engine.close();
    }
  });
});

const emulator = await withEmulator();

describe.skipIf("skip" in emulator)("the stream through the Pub/Sub emulator", () => {
  const emu = emulator as Exclude<typeof emulator, { skip: string }>;
  afterAll(async () => emu.stop());

  it("acks what commits, nacks the refused message, and sets it aside after its attempts: the stream never stalls", async () => {
    const target = { projectId: emu.projectId, topic: "poison", subscription: "poison-sub", emulatorHost: emu.host };
    await ensureTopicAndSubscription(target, { ackDeadlineSeconds: 10 });
    const { lines, ordinary } = input();
    const publisher = new EventPublisher(target);
    await Promise.all(lines.map((l) => publisher.publish(l, {})));
    await publisher.close();

    const engine = await Engine.open(path.join(tempDir("failsafe-stream"), "data"), { registry: throwingRegistry(), fault: refuseThePoison });
    const source = new PubSubBatchSource(target, { maxStreams: 2 });
    source.start();
    const errors: string[] = [];
    const runner = new StreamRunner(engine, source, {
      origin: "test",
      batchSize: 400,
      batchWaitMs: 200,
      policy: { maxAttempts: 2 },
      onError: (err) => errors.push(err.message),
    });
    const running = runner.run();
    const exp = expected(ordinary);
    const deadline = Date.now() + 90_000;
    while (runner.totals.read < lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    runner.stop();
    await running;
    await source.close();
    try {
      const t = runner.totals;
      expect(t.read).toBe(lines.length);
      expect(t.read).toBe(t.valid + t.duplicates + t.dead_lettered);
      expect(t.valid).toBe(exp.validIds.size);
      expect(await reasons(engine)).toMatchObject({ too_deep: 1, internal_error: 1, commit_failed: 1 });
      expect(errors.length).toBeGreaterThanOrEqual(2); // the refused message failed its attempts before it was set aside
      expect(await silverIds(engine)).toEqual(exp.validIds);
    } finally {
      engine.close();
    }
  });
});
