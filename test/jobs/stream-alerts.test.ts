/**
 * `ecom start --alert-webhook`: the streaming job evaluates the alert rules on
 * its own metrics and POSTs Alertmanager's webhook body to a real HTTP server.
 * With silver.order_events' freshness objective set to 2 s, a burst of events
 * followed by silence makes EcomTableFreshnessBreach fire for that table (and
 * only for it); the next burst resolves it. `GET /alerts` shows it while it fires.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { WebhookBody } from "../../jobs/alerting.js";
import { generateToPubSub } from "../../jobs/generate.js";
import { runStreamJob } from "../../jobs/stream.js";
import { type InstanceInfo, instanceFetch, instanceFile } from "../../pipelines/local/instance.js";
import { EventPublisher } from "../../sources/pubsub.js";
import { tempDir } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";

const emulator = await withEmulator();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const v = await get();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf("skip" in emulator)("alerts posted to a webhook", () => {
  const { host, projectId } = emulator as Exclude<typeof emulator, { skip: string }>;
  afterAll(async () => {
    if (!("skip" in emulator)) await emulator.stop();
  });

  it("fires a freshness breach after the traffic stops and resolves it when events arrive again", async () => {
    const posts: WebhookBody[] = [];
    const receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c));
      req.on("end", () => {
        expect(req.method).toBe("POST");
        expect(req.headers["content-type"]).toBe("application/json");
        posts.push(JSON.parse(body) as WebhookBody);
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const webhook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/alerts`;

    const dataDir = path.join(tempDir("stream-alerts"), "data");
    const pubsub = { projectId, topic: "events-alerts", subscription: "events-alerts-ingest", emulatorHost: host };
    const stop = new AbortController();
    const job = runStreamJob({
      dataDir,
      pubsub,
      batchSize: 500,
      batchWaitMs: 100,
      maxStreams: 2,
      parseThreads: 0,
      generator: false,
      idleExitSeconds: 120,
      signal: stop.signal,
      freshnessSlo: { "silver.order_events": 2 },
      alertIntervalMs: 250,
      alertWebhook: webhook,
    });
    const publisher = new EventPublisher(pubsub);
    const burst = (seed: number) =>
      generateToPubSub(publisher, { seed, ratePerSecond: 5000, startTime: new Date(), duplicateFraction: 0, invalidFraction: 0 }, { count: 1000 });
    const firingFor = (table: string) =>
      posts.flatMap((p) => p.alerts).find((a) => a.status === "firing" && a.labels.table === table && a.labels.alertname === "EcomTableFreshnessBreach");
    try {
      const info = await until("the instance", () =>
        fs.existsSync(instanceFile(dataDir)) ? (JSON.parse(fs.readFileSync(instanceFile(dataDir), "utf8")) as InstanceInfo) : undefined,
      );
      await burst(1);
      const firing = await until("a firing post", () => firingFor("silver.order_events"));
      expect(firing.labels).toEqual({
        alertname: "EcomTableFreshnessBreach",
        severity: "critical",
        objective: "2s",
        table: "silver.order_events",
      });
      expect(firing.annotations).toEqual({
        summary: "silver.order_events has had no new data for longer than its objective (2s)",
        runbook_url: "README.md#ecomtablefreshnessbreach",
      });
      expect(firing.endsAt).toBe("0001-01-01T00:00:00Z");
      const post = posts.find((p) => p.alerts.includes(firing))!;
      expect(post).toMatchObject({ version: "4", status: "firing", receiver: "ecom-start" });

      // While it fires, the instance lists it.
      const states = JSON.parse(await (await instanceFetch(info, "/alerts", { method: "GET" })).text()) as {
        name: string;
        state: string;
        labels: Record<string, string>;
      }[];
      expect(states.filter((s) => s.state === "firing").map((s) => s.labels.table)).toContain("silver.order_events");

      await burst(2);
      const resolved = await until("a resolved post", () =>
        posts.flatMap((p) => p.alerts).find((a) => a.status === "resolved" && a.fingerprint === firing.fingerprint),
      );
      expect(resolved.startsAt).toBe(firing.startsAt);
      expect(Date.parse(resolved.endsAt)).toBeGreaterThan(Date.parse(resolved.startsAt));
      // Only the table whose objective was lowered breached.
      expect(new Set(posts.flatMap((p) => p.alerts).map((a) => `${a.labels.alertname}/${a.labels.table}`))).toEqual(
        new Set(["EcomTableFreshnessBreach/silver.order_events"]),
      );
    } finally {
      stop.abort();
      await job;
      await publisher.close();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  }, 180_000);
});
