/**
 * The streaming runner against the real emulator: a batch whose commit fails
 * (here: a file where a Bronze folder must go) is nacked, retried after a
 * back-off, and every message is committed once the cause is removed.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Engine } from "../../pipelines/local/engine.js";
import { StreamRunner } from "../../pipelines/local/stream-runner.js";
import { EventPublisher, PubSubBatchSource, ensureTopicAndSubscription } from "../../sources/pubsub.js";
import { expected, generated, tempDir } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";

const emulator = await withEmulator();

describe.skipIf("skip" in emulator)("stream runner", () => {
  const emu = emulator as Exclude<typeof emulator, { skip: string }>;
  afterAll(async () => emu.stop());

  it("nacks a failed batch, retries it, and commits everything once the cause is fixed", async () => {
    const target = { projectId: emu.projectId, topic: "events-retry", subscription: "events-retry-sub", emulatorHost: emu.host };
    await ensureTopicAndSubscription(target);
    const messages = generated(1500, 31);
    const publisher = new EventPublisher(target);
    await Promise.all(messages.map((m) => publisher.publish(m.data, m.attributes as Record<string, string>)));
    await publisher.close();

    const data = path.join(tempDir("retry"), "data");
    const engine = await Engine.open(data);
    fs.mkdirSync(path.join(data, "bronze"), { recursive: true });
    const blocker = path.join(data, "bronze", "event_type=page_view");
    fs.writeFileSync(blocker, "in the way");

    const source = new PubSubBatchSource(target, { maxStreams: 2 });
    source.start();
    const errors: string[] = [];
    const exp = expected(messages);
    const runner = new StreamRunner(engine, source, {
      origin: "test",
      batchSize: 500,
      batchWaitMs: 200,
      onError: (err, attempt) => {
        errors.push(err.message);
        if (attempt >= 2) fs.rmSync(blocker, { force: true }); // the operator fixes it
      },
    });
    const running = runner.run();
    const deadline = Date.now() + 60_000;
    while (runner.totals.valid + runner.totals.dead_lettered < exp.validIds.size + exp.invalidBodies.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    runner.stop();
    await running;
    await source.close();
    try {
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(runner.totals.valid).toBe(exp.validIds.size);
      expect(runner.totals.dead_lettered).toBe(exp.invalidBodies.size);
      const n = await engine.store.query(`SELECT count(*) AS n FROM silver.clickstream_events`);
      expect(Number(n[0]!.n)).toBe([...exp.byType].filter(([t]) => ["page_view", "search", "add_to_cart"].includes(t)).reduce((s, [, c]) => s + c, 0));
    } finally {
      engine.close();
    }
  });
});
