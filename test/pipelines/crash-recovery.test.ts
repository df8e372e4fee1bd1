/**
 * Exactly once under crashes, through the real Pub/Sub emulator: the runner is
 * SIGKILLed at every step of a batch commit (Bronze temp files written, before
 * COMMIT, after COMMIT, after the Bronze renames, after the acks), restarted,
 * and must end with every valid event in Silver and Bronze exactly once, every
 * invalid one in the dead-letter store once, and no temporary file left.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../pipelines/local/engine.js";
import { FAULT_POINTS } from "../../pipelines/commit.js";
import { EventPublisher, ensureTopicAndSubscription } from "../../sources/pubsub.js";
import { bronzeRecords, expected, generated, tempDir, tempFiles } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";
import { findInstance, queryInstance } from "../../pipelines/local/instance.js";

const CLI = path.resolve("dist/cli/main.js");
const emulator = await withEmulator();
const TOPIC = "events-crash";

/**
 * Runs the CLI; with `until`, polls it every 500 ms while the child runs and
 * stops the child with Ctrl-C (SIGINT) once it returns true, or SIGKILLs it
 * after `deadlineMs` (then the test fails on the exit status).
 */
function runCli(
  args: string[],
  env: Record<string, string>,
  until?: { done: () => Promise<boolean>; deadlineMs: number },
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let exited = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout, stderr });
    });
    if (!until) return;
    const deadline = Date.now() + until.deadlineMs;
    const poll = async (): Promise<void> => {
      while (!exited) {
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          return;
        }
        if (await until.done().catch(() => false)) {
          child.kill("SIGINT");
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    void poll();
  });
}

/** Committed valid events and dead letters, asked of the running instance through its loopback port. */
async function committed(dataDir: string): Promise<{ valid: number; dead: number } | undefined> {
  const instance = findInstance(dataDir);
  if (!instance) return undefined;
  const [row] = await queryInstance(instance, "SELECT (SELECT count(*) FROM ops.seen_events) AS valid, (SELECT count(*) FROM ops.dead_letters) AS dead");
  return { valid: Number(row!.valid), dead: Number(row!.dead) };
}

describe.skipIf("skip" in emulator)("crash at every commit step, restart, exactly once", () => {
  const messages = generated(2500, 23);
  const exp = expected(messages);
  const host = "skip" in emulator ? "" : emulator.host;
  const projectId = "skip" in emulator ? "" : emulator.projectId;
  const results = new Map<string, { first: Awaited<ReturnType<typeof runCli>>; second: Awaited<ReturnType<typeof runCli>>; dataDir: string }>();

  beforeAll(async () => {
    const base = tempDir("crash");
    for (const point of FAULT_POINTS) {
      await ensureTopicAndSubscription({ projectId, topic: TOPIC, subscription: `crash-${point}`, emulatorHost: host }, { ackDeadlineSeconds: 10 });
    }
    const publisher = new EventPublisher({ projectId, topic: TOPIC, subscription: "unused", emulatorHost: host });
    await Promise.all(messages.map((m) => publisher.publish(m.data, m.attributes as Record<string, string>)));
    await publisher.close();

    await Promise.all(
      FAULT_POINTS.map(async (point) => {
        const dataDir = path.join(base, point);
        const args = [
          "start",
          "--no-generator",
          "--batch-size",
          "300",
          "--batch-wait-ms",
          "200",
          "--max-streams",
          "2",
          "--data-dir",
          dataDir,
          "--project-id",
          projectId,
          "--topic",
          TOPIC,
          "--subscription",
          `crash-${point}`,
        ];
        const env = { PUBSUB_EMULATOR_HOST: host, ECOM_LOG_LEVEL: "warn" };
        const first = await runCli([...args, "--idle-exit", "60"], { ...env, ECOM_FAULT_AT: point, ECOM_FAULT_BATCH: "2" });
        // The restarted run gets the killed run's unacked messages once their leases lapse
        // (how soon is the emulator's business): it runs until everything sent is committed,
        // then stops with Ctrl-C. A lost message keeps it running until the deadline: a failure.
        const second = await runCli(args, env, {
          done: async () => {
            const c = await committed(dataDir);
            return c !== undefined && c.valid >= exp.validIds.size && c.dead >= exp.invalidBodies.size;
          },
          deadlineMs: 180_000,
        });
        results.set(point, { first, second, dataDir });
      }),
    );
  }, 300_000);

  afterAll(async () => {
    if (!("skip" in emulator)) await emulator.stop();
  });

  for (const point of FAULT_POINTS) {
    it(`killed ${point}: nothing lost, nothing twice`, async () => {
      const r = results.get(point)!;
      expect(r.first.signal, r.first.stderr).toBe("SIGKILL");
      expect(r.second.code, r.second.stderr).toBe(0);
      const engine = await Engine.open(r.dataDir);
      try {
        const silver = await engine.store.query(
          ["clickstream", "order", "payment", "inventory", "customer"].map((d) => `SELECT event_id FROM silver.${d}_events`).join(" UNION ALL "),
        );
        expect(silver.length).toBe(exp.validIds.size);
        expect(new Set(silver.map((x) => x.event_id as string))).toEqual(exp.validIds);
        const dead = await engine.store.query(`SELECT count(*) AS n FROM ops.dead_letters`);
        expect(Number(dead[0]!.n)).toBe(exp.invalidBodies.size);
        const batches = await engine.store.query(`SELECT sum(valid) AS v, sum(dead_lettered) AS d FROM ops.batches`);
        expect([Number(batches[0]!.v), Number(batches[0]!.d)]).toEqual([exp.validIds.size, exp.invalidBodies.size]);
        const bronze = bronzeRecords(r.dataDir);
        expect(bronze.length).toBe(exp.validIds.size);
        expect(new Set(bronze.map((b) => b.event_id as string))).toEqual(exp.validIds);
        expect(tempFiles(r.dataDir)).toEqual([]);
      } finally {
        engine.close();
      }
    });
  }
});
