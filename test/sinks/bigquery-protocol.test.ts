/**
 * The Dataflow sink's commit (pipelines/beam/cloud-commit.ts: the one commit
 * with sinks/bigquery and sinks/gcs in its roles) through the official
 * @google-cloud/bigquery and @google-cloud/storage clients, against the
 * local server that speaks the BigQuery REST v2 and GCS JSON APIs and runs
 * the SQL (test/helpers/bigquery-server.ts). What is checked here is the
 * protocol: deterministic job ids, a retried job attaching to the first
 * (409), a failed job moving on to the next id, parameterized reads,
 * staging cleaned up, a committed batch only finalized again, and no
 * request leaving the machine.
 */
import diagnostics from "node:diagnostics_channel";
import fs from "node:fs";
import path from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudCommit } from "../../pipelines/beam/cloud-commit.js";
import type { ReplayedMessage } from "../../pipelines/beam/replayed-batch.js";
import { elementSteps, parseMessage } from "../../pipelines/ingest-steps.js";
import { createRegistry } from "../../schemas/registry.js";
import { allBigQueryDdl } from "../../sinks/bigquery/ddl.js";
import { jobId } from "../../sinks/bigquery/store.js";
import { loadKeys } from "../../sinks/keys/local-keys.js";
import { takeMessages } from "../../sources/dev/generator/index.js";
import { DATASETS } from "../helpers/backends.js";
import { FAKE_ACCESS_TOKEN, type FakeBigQuery, startFakeBigQuery } from "../helpers/bigquery-server.js";
import { START, expected, tempDir } from "../helpers/data.js";

const PROJECT = DATASETS.project;
const LOCATION = "EU";

let fake: FakeBigQuery;
let bq: BigQuery;
let commit: CloudCommit;
const savedEnv = { ...process.env };
/** Every outgoing HTTP request of this process (node:http and fetch), wherever it goes. */
const outgoing: string[] = [];
const onHttp = (m: unknown) => {
  const r = (m as { request: { host?: string; getHeader(n: string): unknown } }).request;
  outgoing.push(String(r.getHeader("host") ?? r.host));
};
const onFetch = (m: unknown) => outgoing.push(new URL((m as { request: { origin: string } }).request.origin).host);

const steps = elementSteps(createRegistry());
const traffic = takeMessages({ seed: 77, ratePerSecond: 100, startTime: START, duplicateFraction: 0.02, invalidFraction: 0.04 }, 400);

/** The messages as the Beam steps hand them to the sink: each with the outcome Decode and Validate gave it. */
function outcomes(ms = traffic): ReplayedMessage[] {
  return ms.map((m, i) => {
    const message = { data: Buffer.from(m.data), attributes: m.attributes as Record<string, string>, origin: `pubsub:${i}`, receivedAtMs: 1_764_000_000_000 };
    return { ...message, outcome: parseMessage(steps, message) };
  });
}

beforeAll(async () => {
  fake = await startFakeBigQuery();
  diagnostics.subscribe("http.client.request.start", onHttp);
  diagnostics.subscribe("undici:request:create", onFetch);
  // The BigQuery client authorizes even against a custom apiEndpoint, so Application Default Credentials must resolve
  // locally: no key file, no gcloud config, and the GCE metadata server (probe + access token) is the fake.
  const dir = tempDir("bq-protocol");
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.BIGQUERY_EMULATOR_HOST;
  process.env.CLOUDSDK_CONFIG = path.join(dir, "no-gcloud");
  process.env.GCE_METADATA_HOST = fake.endpoint.replace("http://", "");
  process.env.GCE_METADATA_IP = fake.endpoint.replace("http://", "");
  bq = new BigQuery({ projectId: PROJECT, apiEndpoint: fake.endpoint });
  loadKeys(dir, true);
  for (const f of ["token-keys.json", "kek.json"]) fake.objects.set(`keys-b/ecom/${f}`, fs.readFileSync(path.join(dir, "keys", f)));
  commit = await CloudCommit.open({
    project: PROJECT,
    location: LOCATION,
    datasets: DATASETS,
    bronze: { bucket: "bronze-b", prefix: "bronze" },
    staging: { bucket: "staging-b", prefix: "staging" },
    keysUri: "gs://keys-b/ecom",
    origin: "pubsub:events-sub",
    endpoints: { storage: fake.endpoint, bigquery: fake.endpoint },
  });
});

afterAll(async () => {
  diagnostics.unsubscribe("http.client.request.start", onHttp);
  diagnostics.unsubscribe("undici:request:create", onFetch);
  process.env = savedEnv;
  await fake?.close();
});

beforeEach(async () => {
  // A fresh BigQuery and GCS (the sink read its key bundle at open), the tables made again, the logs cleared.
  await fake.reset();
  for (const sql of allBigQueryDdl(DATASETS)) await bq.query({ query: sql, location: LOCATION });
  outgoing.length = 0;
  fake.requests.length = 0;
  fake.inserted.length = 0;
  fake.conflicts.length = 0;
  fake.jobs.clear();
});

const jobInserts = () =>
  fake.requests
    .filter((r) => r.method === "POST" && r.path === `/bigquery/v2/projects/${PROJECT}/jobs`)
    .map((r) => r.body as { jobReference: { jobId: string; location?: string }; configuration: Record<string, any> });
const count = async (table: string) => Number((await fake.query(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

/** Every request the process made went to the fake (metadata/token calls included), and BigQuery calls carry its token. */
function expectOnlyFakeTraffic(): void {
  const host = fake.endpoint.replace("http://", "");
  expect(outgoing.length).toBeGreaterThan(0);
  expect(outgoing.filter((h) => h !== host)).toEqual([]);
  for (const r of fake.requests) {
    expect(r.host).toBe(host);
    if (r.path.startsWith("/bigquery/")) expect(r.authorization).toBe(`Bearer ${FAKE_ACCESS_TOKEN}`);
  }
}

describe("the Dataflow sink's commit against the BigQuery and GCS APIs", () => {
  it("loads each staged table under a deterministic job id, commits in one transaction job, removes the staging, and the rows are in place", async () => {
    const batch = "ev_ecom-ingest_1764064800000_3";
    const r = await commit.commit(batch, outcomes());
    const exp = expected(traffic);
    expect(r).toMatchObject({ read: traffic.length, valid: exp.validIds.size, dead_lettered: exp.invalidBodies.size, alreadyCommitted: false });
    const inserts = jobInserts();
    const loads = inserts.filter((j) => j.configuration.load);
    const queries = inserts.filter((j) => j.configuration.query);
    // One load per staged table (each domain with rows, and the dead letters), its id derived from the batch and the table.
    expect(loads.map((j) => j.jobReference.jobId).sort()).toEqual(
      ["clickstream", "customer", "dead_letters", "inventory", "order", "payment"].map((p) => `${jobId(batch, p, "load")}_0`).sort(),
    );
    for (const j of loads) expect(j.configuration.load).toMatchObject({ sourceFormat: "NEWLINE_DELIMITED_JSON", writeDisposition: "WRITE_TRUNCATE" });
    expect(queries.map((j) => j.jobReference.jobId)).toEqual([`${jobId(batch, "commit")}_0`]);
    expect(queries[0]!.jobReference.location).toBe(LOCATION);
    expect(queries[0]!.configuration.query.query).toMatch(/^BEGIN TRANSACTION;[\s\S]*COMMIT TRANSACTION;$/);
    // The rows: Silver, the state tables, dead letters, the manifest.
    const silver = (
      await fake.query(`SELECT count(*) AS n FROM (SELECT event_id FROM silver.clickstream_events UNION ALL SELECT event_id FROM silver.order_events
      UNION ALL SELECT event_id FROM silver.payment_events UNION ALL SELECT event_id FROM silver.inventory_events UNION ALL SELECT event_id FROM silver.customer_events)`)
    )[0]!.n;
    expect(Number(silver)).toBe(exp.validIds.size);
    expect(await count("ops.dead_letters")).toBe(exp.invalidBodies.size);
    expect(await fake.query(`SELECT batch_name, valid, bronze_state FROM ops.batches`)).toEqual([
      { batch_name: batch, valid: exp.validIds.size, bronze_state: "pending" },
    ]);
    // Staging objects and tables are gone; the Bronze objects are final, none temporary.
    expect([...fake.objects.keys()].filter((k) => k.startsWith("staging-b/"))).toEqual([]);
    expect((await fake.tables()).filter((t) => t.startsWith("staging."))).toEqual([]);
    const bronze = [...fake.objects.keys()].filter((k) => k.startsWith("bronze-b/"));
    expect(bronze.length).toBeGreaterThan(3);
    expect(bronze.every((k) => k.endsWith(`/part-${batch}.ndjson.gz`) && !k.includes("/_tmp/"))).toBe(true);
    expectOnlyFakeTraffic();
  });

  it("a batch committed before (a retried bundle) is only finalized again: no upload, no load, no commit job", async () => {
    const batch = "ev_retry_0_1";
    await commit.commit(batch, outcomes());
    fake.requests.length = 0;
    const again = await commit.commit(batch, outcomes());
    expect(again).toMatchObject({ alreadyCommitted: true, valid: 0 });
    expect(jobInserts()).toEqual([]);
    expect(fake.requests.filter((r) => r.path.startsWith("/upload/"))).toEqual([]);
    expect(await count("ops.batches")).toBe(1);
  });

  it("a commit job that fails (a transaction aborted by a concurrent update) moves to the next attempt id, and the batch commits", async () => {
    const batch = "ev_conflict_0_2";
    fake.failJob = (job) =>
      job.jobReference.jobId.endsWith("_commit_0") || job.jobReference.jobId.endsWith("_commit_1")
        ? "Transaction is aborted due to concurrent update"
        : undefined;
    await commit.commit(batch, outcomes());
    const ids = jobInserts()
      .filter((j) => j.configuration.query)
      .map((j) => j.jobReference.jobId);
    expect(ids).toEqual([0, 1, 2].map((a) => `${jobId(batch, "commit")}_${a}`));
    expect(await count("ops.batches")).toBe(1);
  });

  it("a commit whose every attempt fails rejects with BigQuery's message; nothing is committed", async () => {
    fake.failJob = (job) => (job.configuration.query ? "Transaction is aborted due to concurrent update" : undefined);
    await expect(commit.commit("ev_doomed_0_0", outcomes())).rejects.toThrow(/failed 8 times; last error: .*concurrent update/);
    expect(await count("ops.batches")).toBe(0);
    expect(await count("silver.order_events")).toBe(0);
    expect(await count("silver.orders")).toBe(0);
  });

  it("a load that fails rejects before any commit job is created", async () => {
    fake.failJob = (job) => (job.configuration.load ? "Error while reading data" : undefined);
    await expect(commit.commit("ev_badload_0_0", outcomes())).rejects.toThrow(/Error while reading data/);
    expect(jobInserts().filter((j) => j.configuration.query)).toEqual([]);
  });

  it("a retry that meets the job ids of an earlier attempt attaches to them (409) and runs nothing twice", async () => {
    const batch = "ev_attach_0_4";
    // An earlier bundle created and finished the jobs, then died before it could record anything else.
    const first = outcomes();
    await commit.commit(batch, first);
    // Forget the manifest so the retry runs the whole commit again: every job id exists already.
    await fake.query(`DELETE FROM ops.batches`);
    fake.inserted.length = 0;
    fake.conflicts.length = 0;
    await commit.commit(batch, first);
    expect(fake.conflicts.length).toBeGreaterThan(0);
    expect(fake.inserted.filter((id) => id.includes(jobId(batch)))).toEqual([]);
  });

  it("reads the manifest, the claims and the subject keys with parameterized queries, never values in the SQL text", async () => {
    // People the sink has not met yet (it caches the keys it has), so their keys are read too.
    const others = takeMessages({ seed: 78, ratePerSecond: 100, startTime: START, duplicateFraction: 0, invalidFraction: 0.04 }, 300);
    await commit.commit("ev_params_0_5", outcomes(others));
    const reads = fake.requests
      .filter((r) => r.path === `/bigquery/v2/projects/${PROJECT}/queries`)
      .map((r) => r.body as { query: string; queryParameters?: { name: string }[] });
    expect(reads.some((q) => /FROM `ecom-test\.ops\.batches` WHERE batch_name = @batch/.test(q.query))).toBe(true);
    expect(reads.some((q) => /event_id IN UNNEST\(@i0\)/.test(q.query))).toBe(true);
    expect(reads.some((q) => /subject_ref IN UNNEST\(@refs\)/.test(q.query))).toBe(true);
    const someId = [...expected(others).validIds][0]!;
    for (const q of reads) expect(q.query).not.toContain(someId);
  });
});
