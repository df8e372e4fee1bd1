import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PubSub } from "@google-cloud/pubsub";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { isEmulatorReachable, startEmulator } from "../../sources/dev/pubsub-emulator.js";
import {
  describePubSubError,
  ensureTopicAndSubscription,
  EventPublisher,
  PubSubBatchSource,
  type PubSubTarget,
  type PulledMessage,
} from "../../sources/pubsub.js";
import { withEmulator } from "../helpers/emulator.js";

const emu = await withEmulator();
if ("skip" in emu) console.warn(emu.skip);

/** Processes whose command line mentions the emulator on this port (java, or the gcloud wrapper). */
function emulatorProcesses(port: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      continue;
    }
    if (/pubsub/.test(cmd) && (cmd.includes(`--port=${port}`) || cmd.includes(`127.0.0.1:${port}`))) pids.push(Number(name));
  }
  return pids;
}

function portOf(host: string): number {
  return Number(host.split(":").pop());
}

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pulls until `want` distinct ids arrived or the deadline passes. Does not ack. */
async function pullDistinct(src: PubSubBatchSource, want: number, timeoutMs: number): Promise<Map<string, PulledMessage>> {
  const got = new Map<string, PulledMessage>();
  const deadline = Date.now() + timeoutMs;
  while (got.size < want && Date.now() < deadline) {
    for (const m of await src.nextBatch(500, 250)) got.set(m.id, m);
  }
  return got;
}

describe.skipIf("skip" in emu)("Pub/Sub source and publisher against the emulator", () => {
  const { host, projectId } = emu as Exclude<typeof emu, { skip: string }>;
  let n = 0;
  const target = (): PubSubTarget => {
    n++;
    return { projectId, topic: `events-${n}`, subscription: `events-${n}-sub`, emulatorHost: host };
  };

  afterAll(async () => {
    if ("skip" in emu) return;
    await emu.stop();
    expect(emulatorProcesses(portOf(host))).toEqual([]);
  });

  it("ensureTopicAndSubscription creates both and is idempotent", async () => {
    const t = target();
    await ensureTopicAndSubscription(t, { ackDeadlineSeconds: 30 });
    await ensureTopicAndSubscription(t, { ackDeadlineSeconds: 30 });
    await Promise.all([ensureTopicAndSubscription(t), ensureTopicAndSubscription(t)]);

    const client = new PubSub({ projectId, apiEndpoint: host, emulatorMode: true, universeDomain: "googleapis.com" });
    try {
      const [topicExists] = await client.topic(t.topic).exists();
      const [meta] = await client.subscription(t.subscription).getMetadata();
      expect(topicExists).toBe(true);
      expect(meta.topic).toBe(`projects/${projectId}/topics/${t.topic}`);
      expect(meta.ackDeadlineSeconds).toBe(30);
    } finally {
      await client.close();
    }

    // the same subscription name on another topic is a configuration error, not "exists"
    await expect(ensureTopicAndSubscription({ ...t, topic: `${t.topic}-other` })).rejects.toThrow(/already exists but is attached to/);
    // ids are checked before any call
    await expect(ensureTopicAndSubscription({ ...t, topic: "ev" })).rejects.toThrow(/must start with a letter/);
  });

  it("delivers 5 000 published messages with data and attributes intact; acks stick", async () => {
    const t = target();
    await ensureTopicAndSubscription(t);
    const N = 5000;
    const expected = new Map<string, { data: string; attributes: Record<string, string> }>();
    const pub = new EventPublisher(t);
    const published = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const attributes = { event_id: `evt-${i}`, event_type: i % 3 === 0 ? "order_placed" : "page_viewed", seq: String(i) };
        const data = JSON.stringify({ seq: i, note: `ünïcødé ${i}`, pad: "x".repeat(i % 200) });
        return pub.publish(i % 2 ? data : Buffer.from(data), attributes).then((id) => {
          expected.set(id, { data, attributes });
          return id;
        });
      }),
    );
    await pub.close();
    expect(new Set(published).size).toBe(N);

    const src = new PubSubBatchSource(t, { maxStreams: 8 });
    src.start();
    const got = new Map<string, { data: string; attributes: Record<string, string> }>();
    const before = Date.now();
    let batches = 0;
    while (got.size < N && Date.now() - before < 60_000) {
      const batch = await src.nextBatch(1000, 500);
      expect(batch.length).toBeLessThanOrEqual(1000);
      if (batch.length) batches++;
      for (const m of batch) {
        expect(m.publishTime).toBeInstanceOf(Date);
        got.set(m.id, { data: m.data.toString("utf8"), attributes: { ...m.attributes } });
      }
      for (const m of batch) m.ack(); // "after commit"
    }
    expect(got.size).toBe(N);
    expect(got).toEqual(expected);
    expect(batches).toBeGreaterThanOrEqual(5);
    expect(src.stats.acked).toBe(src.stats.received);
    expect(src.stats.nacked).toBe(0);
    await src.close();
    expect(await src.nextBatch(10, 10)).toEqual([]);

    // close() flushed the acks: nothing comes back
    const again = new PubSubBatchSource(t);
    again.start();
    const late = await pullDistinct(again, 1, 2000);
    await again.close();
    expect(late.size).toBe(0);
  });

  it("redelivers exactly the messages not acked before close() to a new source", async () => {
    const t = target();
    await ensureTopicAndSubscription(t);
    const N = 1000;
    const pub = new EventPublisher(t);
    await Promise.all(Array.from({ length: N }, (_, i) => pub.publish(`m${i}`, { seq: String(i) })));
    await pub.close();

    const first = new PubSubBatchSource(t);
    first.start();
    const all = await pullDistinct(first, N, 30_000);
    expect(all.size).toBe(N);
    const unacked = new Set<string>();
    for (const [id, m] of all) {
      if (Number(m.attributes.seq) % 3 === 0)
        unacked.add(id); // e.g. the batch whose commit failed
      else m.ack();
    }
    await first.close();
    expect(first.stats.acked).toBe(N - unacked.size);

    const second = new PubSubBatchSource(t);
    second.start();
    const redelivered = await pullDistinct(second, unacked.size, 30_000);
    // give a stray redelivery of an acked message the chance to show up
    for (const m of await second.nextBatch(1000, 1500)) redelivered.set(m.id, m);
    expect(new Set(redelivered.keys())).toEqual(unacked);
    for (const m of redelivered.values()) m.ack();
    await second.close();
  });

  it("leaves buffered messages that were never handed out for redelivery", async () => {
    const t = target();
    await ensureTopicAndSubscription(t);
    const pub = new EventPublisher(t);
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => pub.publish(`b${i}`, { seq: String(i) })));
    await pub.close();

    const src = new PubSubBatchSource(t);
    src.start();
    const firstBatch = await src.nextBatch(100, 10_000);
    expect(firstBatch.length).toBe(100);
    for (const m of firstBatch) m.ack();
    const deadline = Date.now() + 10_000;
    while (src.stats.received < 300 && Date.now() < deadline) await sleep(50); // the rest sits in the buffer
    expect(src.stats.received).toBe(300);
    await src.close();

    const next = new PubSubBatchSource(t);
    next.start();
    const rest = await pullDistinct(next, 200, 30_000);
    for (const m of await next.nextBatch(1000, 1000)) rest.set(m.id, m);
    const handedOut = new Set(firstBatch.map((m) => m.id));
    expect(new Set(rest.keys())).toEqual(new Set(ids.filter((id) => !handedOut.has(id))));
    for (const m of rest.values()) m.ack();
    await next.close();
  });

  it("nextBatch returns what arrived after maxWaitMs, possibly nothing", async () => {
    const t = target();
    await ensureTopicAndSubscription(t);
    const src = new PubSubBatchSource(t);
    src.start();
    const t0 = Date.now();
    expect(await src.nextBatch(10, 300)).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await expect(Promise.all([src.nextBatch(1, 200), src.nextBatch(1, 200)])).rejects.toThrow(/another nextBatch\(\) is pending/);
    await sleep(250);

    const pub = new EventPublisher(t);
    await Promise.all([pub.publish("a", {}), pub.publish("b", {})]);
    await pub.close();
    const batch = await src.nextBatch(100, 3000); // fewer than asked: resolves at the deadline
    expect(batch.map((m) => m.data.toString()).sort()).toEqual(["a", "b"]);
    batch[0]!.ack();
    batch[1]!.nack();
    expect(src.stats).toEqual({ received: 2, acked: 1, nacked: 1 });
    const again = await pullDistinct(src, 1, 10_000); // the nacked one comes back
    expect([...again.values()].map((m) => m.data.toString())).toEqual([batch[1]!.data.toString()]);
    for (const m of again.values()) m.ack();

    const pending = src.nextBatch(10, 60_000);
    await src.close();
    expect(await pending).toEqual([]);
  });

  it("describePubSubError turns an unreachable emulator into an actionable message", async () => {
    const port = await closedPort();
    const t: PubSubTarget = { projectId, topic: "events", subscription: "events-sub", emulatorHost: `127.0.0.1:${port}` };
    const want = new RegExp(
      `cannot reach the Pub/Sub emulator at 127\\.0\\.0\\.1:${port}\\. Start it with: gcloud beta emulators pubsub start --host-port=127\\.0\\.0\\.1:${port}.*\`ecom start\`.*unset PUBSUB_EMULATOR_HOST`,
    );

    // our own fast check (ensureTopicAndSubscription probes the port first)
    const t0 = Date.now();
    const err = await ensureTopicAndSubscription(t).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(want);
    expect(describePubSubError(err, t)).toMatch(want);

    // What the client library itself throws after ~60 s of retries against a closed port
    // (measured: gaxOpts timeout/retry/maxRetries on topic.get() do not shorten it).
    const gaxTimeout = Object.assign(
      new Error(
        "Total timeout of API google.pubsub.v1.Publisher exceeded 60000 milliseconds retrying error Error: 14 UNAVAILABLE: " +
          `No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:${port}. Resolution note:   before any response was received.`,
      ),
      { code: 4 },
    );
    expect(describePubSubError(gaxTimeout, t)).toMatch(want);
    // a single attempt's gRPC status and the socket error
    const grpcLike = Object.assign(new Error(`14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:${port}`), {
      code: 14,
    });
    expect(describePubSubError(grpcLike, t)).toMatch(want);
    const sysErr = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: "ECONNREFUSED" });
    expect(describePubSubError(sysErr, t)).toMatch(want);
    // without an emulator the advice is about the network, not the emulator
    expect(describePubSubError(grpcLike, { ...t, emulatorHost: undefined })).toMatch(/cannot reach Pub\/Sub at pubsub\.googleapis\.com/);
    expect(describePubSubError(Object.assign(new Error("5 NOT_FOUND: Subscription does not exist"), { code: 5 }), t)).toMatch(
      /not found .*projects\/.*\/subscriptions\/events-sub/,
    );
  });

  it("the emulator process is gone after stop() (jar and gcloud launchers)", async () => {
    for (const prefer of ["jar", "gcloud"] as const) {
      const h = await startEmulator({ projectId: "stop-check", prefer });
      const port = portOf(h.host);
      expect(await isEmulatorReachable(h.host)).toBe(true);
      expect(h.pid).toBeTypeOf("number");
      expect(emulatorProcesses(port)).toContain(h.pid);
      await h.stop();
      await h.stop(); // idempotent
      expect(emulatorProcesses(port)).toEqual([]);
      expect(await isEmulatorReachable(h.host, 500)).toBe(false);
    }
  });

  it("the emulator dies with the process that started it, even on SIGKILL", async () => {
    // Run sources/dev/pubsub-emulator.ts (node built-ins only) in a child Node process.
    const dir = mkdtempSync(path.join(tmpdir(), "emu-parent-"));
    try {
      const srcPath = fileURLToPath(new URL("../../sources/dev/pubsub-emulator.ts", import.meta.url));
      const js = ts.transpileModule(readFileSync(srcPath, "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(path.join(dir, "pubsub-emulator.mjs"), js);
      writeFileSync(
        path.join(dir, "parent.mjs"),
        `import { startEmulator } from "./pubsub-emulator.mjs";
         const h = await startEmulator({ projectId: "orphan-check" });
         console.log(JSON.stringify({ host: h.host, pid: h.pid }));
         setInterval(() => {}, 1000);`,
      );
      const parent = spawn(process.execPath, [path.join(dir, "parent.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
      const line = await new Promise<string>((resolve, reject) => {
        let buf = "";
        parent.stdout!.on("data", (c: Buffer) => {
          buf += c.toString();
          if (buf.includes("\n")) resolve(buf.split("\n")[0]!);
        });
        parent.once("exit", (code) => reject(new Error(`parent exited early with ${code}`)));
      });
      const { host: childHost, pid } = JSON.parse(line) as { host: string; pid: number };
      const port = portOf(childHost);
      expect(emulatorProcesses(port)).toContain(pid);

      parent.kill("SIGKILL");
      const deadline = Date.now() + 10_000;
      while (emulatorProcesses(port).length > 0 && Date.now() < deadline) await sleep(100);
      expect(emulatorProcesses(port)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("startEmulator refuses a port that is already taken, saying by what", async () => {
    await expect(startEmulator({ projectId: "x", port: portOf(host) })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${portOf(host)}: the port is already in use by a running Pub/Sub emulator`),
    );
  });
});
