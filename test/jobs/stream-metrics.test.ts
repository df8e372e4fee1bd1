/**
 * `GET /metrics` of the streaming job, scraped over its real port while it
 * runs on the Pub/Sub emulator: every value is checked against what the
 * tables hold after the run (events by outcome = Silver rows, duplicates and
 * dead letters by SQL; dead letters by reason; card numbers; one commit
 * observation per batch; one ingest latency per acked message), the backlog
 * is empty once everything is acked, every Silver and Gold table with data
 * has a freshness and an objective, and a job run recorded by another
 * process (`ecom report`, through the instance) shows in the job metrics.
 * Without the token the scrape is refused.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { runStreamJob } from "../../jobs/stream.js";
import { type InstanceInfo, instanceFile, instanceFetch, queryInstance, tokenFile } from "../../pipelines/local/instance.js";
import { FRESHNESS } from "../../pipelines/observe/slo.js";
import { tempDir } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";
import { byLabel, parsePromText, type Sample, sumOf } from "../helpers/prom-text.js";

const CLI = path.resolve("dist/cli/main.js");
const run = promisify(execFile);
const emulator = await withEmulator();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf("skip" in emulator)("the streaming job's metrics", () => {
  const { host, projectId } = emulator as Exclude<typeof emulator, { skip: string }>;
  afterAll(async () => {
    if (!("skip" in emulator)) await emulator.stop();
  });

  it("scrapes values equal to the table counts, with the backlog drained and a job run of another process", async () => {
    const dataDir = path.join(tempDir("stream-metrics"), "data");
    const COUNT = 1500;
    const stop = new AbortController();
    const job = runStreamJob({
      dataDir,
      pubsub: { projectId, topic: "events-metrics", subscription: "events-metrics-ingest", emulatorHost: host },
      batchSize: 400,
      batchWaitMs: 100,
      maxStreams: 2,
      parseThreads: 0,
      generator: { seed: 5, ratePerSecond: 1500, duplicateFraction: 0.03, invalidFraction: 0.03 },
      count: COUNT,
      idleExitSeconds: 120, // the test stops it once it has scraped
      signal: stop.signal,
    });
    try {
      let info: InstanceInfo | undefined;
      let read = 0;
      for (let i = 0; i < 240 && read < COUNT; i++) {
        await sleep(250);
        if (!info && fs.existsSync(instanceFile(dataDir))) info = JSON.parse(fs.readFileSync(instanceFile(dataDir), "utf8")) as InstanceInfo;
        if (info) read = (JSON.parse(await (await instanceFetch(info, "/status", { method: "GET" })).text()) as { totals: { read: number } }).totals.read;
      }
      expect(read).toBe(COUNT);
      const instance = info!;
      expect(fs.readFileSync(tokenFile(dataDir), "utf8")).toBe(instance.token);
      expect(fs.statSync(tokenFile(dataDir)).mode & 0o777).toBe(0o600);

      // Another process records a job run through the instance.
      await run(process.execPath, [CLI, "report", "--data-dir", dataDir], { env: { ...process.env, ECOM_LOG_LEVEL: "warn" } });

      expect((await fetch(`http://127.0.0.1:${instance.port}/metrics`)).status).toBe(401);
      const res = await instanceFetch(instance, "/metrics", { method: "GET" });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const m: Sample[] = parsePromText(body);

      const one = async (sql: string) => Number(Object.values((await queryInstance(instance, sql))[0]!)[0]);
      const silverRows = await one(
        `SELECT (SELECT count(*) FROM silver.clickstream_events) + (SELECT count(*) FROM silver.order_events) + (SELECT count(*) FROM silver.payment_events)
              + (SELECT count(*) FROM silver.inventory_events) + (SELECT count(*) FROM silver.customer_events)`,
      );
      const duplicates = await one(`SELECT sum(duplicates) FROM ops.batches`);
      const deadLetters = await one(`SELECT count(*) FROM ops.dead_letters`);
      const pans = await one(`SELECT sum(pans_redacted) FROM ops.batches`);
      const batches = await one(`SELECT count(*) FROM ops.batches`);
      expect(silverRows).toBeGreaterThan(1000);
      expect(deadLetters).toBeGreaterThan(0);
      expect(duplicates).toBeGreaterThan(0);

      expect(sumOf(m, "ecom_events_total", { outcome: "valid" })).toBe(silverRows);
      expect(sumOf(m, "ecom_events_total", { outcome: "duplicate" })).toBe(duplicates);
      expect(sumOf(m, "ecom_events_total", { outcome: "dead_lettered" })).toBe(deadLetters);
      expect(sumOf(m, "ecom_events_total")).toBe(COUNT);
      expect(sumOf(m, "ecom_pans_redacted_total")).toBe(pans);
      expect(sumOf(m, "ecom_batch_commit_seconds_count")).toBe(batches);
      expect(sumOf(m, "ecom_e2e_latency_seconds_count")).toBe(silverRows);
      expect(sumOf(m, "ecom_ingest_latency_seconds_count")).toBe(COUNT);

      // Per type and per reason, as SQL counts them.
      const orderRows = await one(`SELECT count(*) FROM silver.order_events WHERE event_type = 'order_created'`);
      expect(sumOf(m, "ecom_events_total", { event_type: "order_created", outcome: "valid" })).toBe(orderRows);
      const reasons = await queryInstance(instance, `SELECT reason, count(*) AS n FROM ops.dead_letters GROUP BY reason`);
      const scrapedReasons = byLabel(
        m.filter((s) => s.value > 0),
        "ecom_dead_letters_total",
        "reason",
      );
      expect(Object.fromEntries(scrapedReasons)).toEqual(Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)])));
      const drift = await queryInstance(instance, `SELECT event_type, count(DISTINCT field_path) AS n FROM ops.schema_drift GROUP BY event_type`);
      for (const d of drift) expect(sumOf(m, "ecom_schema_drift_fields", { event_type: d.event_type as string })).toBe(Number(d.n));

      // Labels hold closed sets only.
      for (const s of m.filter((x) => x.name === "ecom_events_total")) expect(s.labels.event_type).toMatch(/^[a-z_]+$/);

      // Everything published was acked: nothing left waiting.
      expect(m.filter((s) => s.name.startsWith("ecom_pubsub_")).map((s) => [s.name, s.labels.subscription])).toEqual([
        ["ecom_pubsub_backlog_messages", "events-metrics-ingest"],
        ["ecom_pubsub_oldest_unacked_age_seconds", "events-metrics-ingest"],
      ]);
      expect(sumOf(m, "ecom_pubsub_backlog_messages", { subscription: "events-metrics-ingest" })).toBe(0);
      expect(sumOf(m, "ecom_pubsub_oldest_unacked_age_seconds", { subscription: "events-metrics-ingest" })).toBe(0);

      // Freshness: every table with data, young; every objective exported.
      const fresh = byLabel(m, "ecom_table_freshness_seconds", "table");
      for (const t of ["silver.clickstream_events", "silver.order_events", "silver.orders", "gold.daily_revenue", "gold.revenue_by_minute"]) {
        expect(fresh.get(t), t).toBeLessThan(60);
      }
      expect(Object.fromEntries(byLabel(m, "ecom_table_freshness_slo_seconds", "table"))).toEqual(
        Object.fromEntries(FRESHNESS.map((f) => [f.table, f.seconds])),
      );

      // The report run of the other process, from ops.job_runs.
      const runs = await queryInstance(instance, `SELECT outcome, epoch_ms(finished_at) AS at FROM ops.job_runs WHERE job = 'report'`);
      expect(runs.map((r) => r.outcome)).toEqual(["succeeded"]);
      expect(sumOf(m, "ecom_job_runs_total", { job: "report", outcome: "succeeded" })).toBe(1);
      expect(sumOf(m, "ecom_job_last_success_timestamp_seconds", { job: "report" })).toBe(Number(runs[0]!.at) / 1000);
    } finally {
      stop.abort();
      await job;
    }
    expect(fs.existsSync(tokenFile(dataDir))).toBe(false);
  }, 180_000);
});
