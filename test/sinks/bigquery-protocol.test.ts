/**
 * The BigQuery commit (sinks/bigquery/commit.ts, pipelines/beam/cloud-commit.ts)
 * through the official @google-cloud/bigquery and @google-cloud/storage
 * clients, against a local server that speaks the BigQuery REST v2 and GCS
 * JSON APIs (test/helpers/bigquery-server.ts). The server answers as
 * BigQuery does (jobs RUNNING then DONE, errorResult when told to fail, 409
 * for an existing job id), runs load jobs against the staging objects and the
 * GoogleSQL of query jobs on DuckDB, and records every request, so the tests
 * check what the commit code sends, how it reacts, and the rows it leaves.
 */
import diagnostics from "node:diagnostics_channel";
import fs from "node:fs";
import path from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudCommit, type CloudSinkInit } from "../../pipelines/beam/cloud-commit.js";
import { EVENT_TABLES } from "../../schemas/silver.js";
import { BigQueryCommitter, type CommitRequest, jobId } from "../../sinks/bigquery/commit.js";
import { type BigQueryDatasets, DEAD_LETTER_COLUMNS, allBigQueryDdl, loadSchema } from "../../sinks/bigquery/ddl.js";
import { GcsBronze } from "../../sinks/gcs/bronze-objects.js";
import { loadKeys } from "../../sinks/keys/local-keys.js";
import { decode } from "../../transforms/decode.js";
import type { DeadLetter } from "../../transforms/types.js";
import { FAKE_ACCESS_TOKEN, type FakeBigQuery, type FakeJob, startFakeBigQuery } from "../helpers/bigquery-server.js";
import { tempDir } from "../helpers/data.js";

const PROJECT = "ecom-test";
const LOCATION = "EU";
const datasets: BigQueryDatasets = { project: PROJECT, silver: "silver", ops: "ops", staging: "staging" };

let fake: FakeBigQuery;
let bq: BigQuery;
let staging: GcsBronze;
let committer: BigQueryCommitter;
const savedEnv = { ...process.env };
/** Every outgoing HTTP request of this process (node:http and fetch), wherever it goes. */
const outgoing: string[] = [];
const onHttp = (m: unknown) => {
  const r = (m as { request: { host?: string; getHeader(n: string): unknown } }).request;
  outgoing.push(String(r.getHeader("host") ?? r.host));
};
const onFetch = (m: unknown) => outgoing.push(new URL((m as { request: { origin: string } }).request.origin).host);

beforeAll(async () => {
  fake = await startFakeBigQuery();
  diagnostics.subscribe("http.client.request.start", onHttp);
  diagnostics.subscribe("undici:request:create", onFetch);
  // Credentials: the BigQuery client authorizes even against a custom apiEndpoint (the Storage client does not), so
  // Application Default Credentials must resolve locally: no key file, no gcloud config, and the GCE metadata
  // server (probe + access token) is the fake. The request log then shows every call, the token calls included.
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.BIGQUERY_EMULATOR_HOST;
  process.env.CLOUDSDK_CONFIG = tempDir("no-gcloud");
  process.env.GCE_METADATA_HOST = fake.endpoint.replace("http://", "");
  process.env.GCE_METADATA_IP = fake.endpoint.replace("http://", "");
  bq = new BigQuery({ projectId: PROJECT, apiEndpoint: fake.endpoint });
  staging = new GcsBronze(new Storage({ projectId: PROJECT, apiEndpoint: fake.endpoint }), { bucket: "staging-b", prefix: "staging" });
  committer = new BigQueryCommitter(bq, datasets, LOCATION);
});

afterAll(async () => {
  diagnostics.unsubscribe("http.client.request.start", onHttp);
  diagnostics.unsubscribe("undici:request:create", onFetch);
  process.env = savedEnv;
  await fake?.close();
});

/** Forgets the request log and the jobs (after a test's own set-up). */
function clearLogs(): void {
  outgoing.length = 0;
  fake.requests.length = 0;
  fake.inserted.length = 0;
  fake.conflicts.length = 0;
  fake.jobs.clear();
}

/** GoogleSQL through the official client, as a deployer or an earlier batch would have run it. */
async function run(query: string): Promise<void> {
  await bq.query({ query, location: LOCATION });
}

beforeEach(async () => {
  await fake.reset();
  for (const sql of allBigQueryDdl(datasets)) await run(sql);
  clearLogs();
});

/** Rows in key order (a table has none of its own). */
const sortedBy = (key: string, rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a[key]).localeCompare(String(b[key])));

/** A row without its NULL columns, to compare with the NDJSON line it was loaded from. */
const present = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));

const event = (event_id: string, event_type: string, event_date: string, extra: Record<string, unknown>) => ({
  event_id,
  event_type,
  schema_version: 1,
  event_time: `${event_date}T10:00:00.000Z`,
  event_date,
  source: "order-service",
  ...extra,
  pii_key_id: "tk-1",
  ingested_at: "2026-11-25T10:05:00.000Z",
});
const orderLines = [
  event("e-1", "order_created", "2026-11-25", { order_id: "o-1" }),
  event("e-2", "order_paid", "2026-11-25", { order_id: "o-1" }),
  event("e-3", "order_created", "2026-11-24", { order_id: "o-2" }),
];
const paymentLines = [
  event("p-1", "payment_authorized", "2026-11-25", { payment_id: "pay-1", order_id: "o-1", amount_minor: 1250, currency: "EUR" }),
  event("p-2", "payment_captured", "2026-11-25", { payment_id: "pay-1", order_id: "o-1", amount_minor: 1250, currency: "EUR" }),
];
const deadLetterLines = [
  { dl_id: "d1", reason: "malformed_json", detail: "x", paths: [], stage: "decode", raw: "e30=", received_at: "2026-11-25T10:00:00.000Z" },
  { dl_id: "d2", reason: "not_an_object", detail: "y", paths: ["a"], stage: "decode", raw: "W10=", received_at: "2026-11-25T10:00:01.000Z" },
];

async function stage(batch: string): Promise<CommitRequest> {
  const put = (name: string, rows: object[]) => staging.putStaging(`staging/${batch}/${name}.ndjson`, rows.map((r) => JSON.stringify(r)));
  return {
    manifest: {
      batch_name: batch,
      origin: "pubsub:events-sub",
      read: 7,
      valid: 5,
      duplicates: 0,
      dead_lettered: 2,
      pans_redacted: 1,
      bronze_partitions: ["event_type=order_created/dt=2026-11-25/hour=10"],
    },
    silver: {
      order: { uri: await put("order", orderLines), dates: ["2026-11-25", "2026-11-24"] },
      payment: { uri: await put("payment", paymentLines), dates: ["2026-11-25"] },
    },
    deadLetters: await put("dead_letters", deadLetterLines),
  };
}

const jobInserts = () =>
  fake.requests.filter((r) => r.method === "POST" && r.path === `/bigquery/v2/projects/${PROJECT}/jobs`).map((r) => r.body as { jobReference: { jobId: string; location?: string }; configuration: Record<string, any> });
const queryJobs = () => jobInserts().filter((j) => j.configuration.query);
const loadJobs = () => jobInserts().filter((j) => j.configuration.load);
const param = (params: any[], name: string) => params.find((p) => p.name === name);

/** Every request the process made went to the fake (metadata/token calls included), and BigQuery calls carry its token. */
function expectOnlyFakeTraffic(): void {
  const host = fake.endpoint.replace("http://", "");
  expect(outgoing.length).toBeGreaterThan(0);
  expect(outgoing.filter((h) => h !== host)).toEqual([]);
  expect(outgoing.length).toBe(fake.requests.length);
  for (const r of fake.requests) {
    expect(r.host).toBe(host);
    expect(r.path).toMatch(new RegExp(`^/(bigquery/v2/projects/${PROJECT}/|upload/storage/v1/b/|storage/v1/b/|download/storage/v1/b/|computeMetadata/v1/)`));
    if (r.path.startsWith("/bigquery/")) expect(r.authorization).toBe(`Bearer ${FAKE_ACCESS_TOKEN}`);
  }
}

describe("BigQueryCommitter (sinks/bigquery/commit.ts) against the BigQuery REST v2 API", () => {
  it("loads exactly the batch's rows into per-batch staging tables, then MERGEs on the key and records the manifest in one transaction", async () => {
    const batch = "ev_ecom-ingest_1764064800000_3";
    const req = await stage(batch);
    await committer.commit(req);

    // Loads: one per part, from the staging object, WRITE_TRUNCATE into the batch's staging table, with the documented ids.
    const loads = loadJobs();
    expect(loads.map((j) => j.jobReference.jobId)).toEqual([
      `${jobId(batch, "order", "load")}_0`,
      `${jobId(batch, "payment", "load")}_0`,
      `${jobId(batch, "dead_letters", "load")}_0`,
    ]);
    expect(loads[0]!.jobReference.jobId).toBe("ecom_ev_ecom-ingest_1764064800000_3_order_load_0");
    expect(loads.every((j) => j.jobReference.location === LOCATION)).toBe(true);
    const order = loads[0]!.configuration.load;
    expect(order).toMatchObject({
      sourceUris: [`gs://staging-b/staging/${batch}/order.ndjson`],
      destinationTable: { projectId: PROJECT, datasetId: "staging", tableId: `${batch}_order`.replace(/-/g, "_") },
      sourceFormat: "NEWLINE_DELIMITED_JSON",
      writeDisposition: "WRITE_TRUNCATE",
      createDisposition: "CREATE_IF_NEEDED",
    });
    expect(order.schema.fields).toEqual(loadSchema(EVENT_TABLES.order.columns));
    expect(loads[2]!.configuration.load.schema.fields).toEqual(loadSchema(DEAD_LETTER_COLUMNS));
    // What the load jobs put in the staging tables is exactly the batch's rows.
    const stagingTable = async (part: string) => (await fake.rows(`${PROJECT}.staging.${`${batch}_${part}`.replace(/-/g, "_")}`)).map(present);
    expect(await stagingTable("order")).toEqual(orderLines);
    expect(await stagingTable("payment")).toEqual(paymentLines);
    expect(await stagingTable("dead_letters")).toEqual(deadLetterLines.map(present));

    // The commit: one query job, after every load, under its deterministic id.
    const commits = queryJobs();
    expect(commits).toHaveLength(1);
    expect(fake.inserted.at(-1)).toBe(`${jobId(batch, "commit")}_0`);
    expect(commits[0]!.jobReference).toMatchObject({ jobId: `${jobId(batch, "commit")}_0`, location: LOCATION });
    const q = commits[0]!.configuration.query;
    expect(q.useLegacySql).toBe(false);
    const sql: string = q.query;
    const statements = sql.split(/;\s*/).map((s) => s.trim()).filter(Boolean);
    expect(statements[0]).toBe("BEGIN TRANSACTION");
    expect(statements.at(-1)).toBe("COMMIT TRANSACTION");
    expect(statements).toHaveLength(6); // BEGIN, 2 Silver MERGEs, dead-letter MERGE, manifest INSERT, COMMIT

    const orderMerge = statements.find((s) => s.startsWith(`MERGE \`${PROJECT}.silver.order_events\``))!;
    expect(orderMerge).toContain(`USING \`${PROJECT}.staging.${batch.replace(/-/g, "_")}_order\` S`);
    expect(orderMerge).toMatch(/ON T\.event_id = S\.event_id AND T\.event_date IN UNNEST\(@dates_order\)/);
    expect(orderMerge).toMatch(/WHEN NOT MATCHED THEN INSERT/);
    expect(orderMerge).not.toMatch(/WHEN MATCHED/);
    const cols = EVENT_TABLES.order.columns.map((c) => c.name).join(", ");
    expect(orderMerge).toContain(`INSERT (${cols}) VALUES (${cols})`);
    expect(statements.find((s) => s.startsWith(`MERGE \`${PROJECT}.silver.payment_events\``))).toContain(`_payment\` S`);

    const dlMerge = statements.find((s) => s.startsWith(`MERGE \`${PROJECT}.ops.dead_letters\``))!;
    expect(dlMerge).toMatch(/ON T\.dl_id = S\.dl_id/);
    expect(dlMerge).toContain(`_dead_letters\``);
    // BigQuery rejects DISTINCT over a JSON column (dead_letters.paths is JSON).
    expect(dlMerge).not.toMatch(/SELECT DISTINCT \*/);
    expect(dlMerge).toMatch(/QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY dl_id\) = 1\) S/);

    const manifest = statements.find((s) => s.startsWith(`INSERT INTO \`${PROJECT}.ops.batches\``))!;
    expect(manifest).toMatch(/WHERE NOT EXISTS \(SELECT 1 FROM `ecom-test\.ops\.batches` WHERE batch_name = @batch\)/);

    const params: any[] = q.queryParameters;
    expect(q.parameterMode.toUpperCase()).toBe("NAMED");
    expect(param(params, "batch")).toMatchObject({ parameterType: { type: "STRING" }, parameterValue: { value: batch } });
    expect(param(params, "dates_order")).toMatchObject({
      parameterType: { type: "ARRAY", arrayType: { type: "DATE" } },
      parameterValue: { arrayValues: [{ value: "2026-11-25" }, { value: "2026-11-24" }] },
    });
    expect(param(params, "read").parameterType).toEqual({ type: "INT64" });
    expect(String(param(params, "read").parameterValue.value)).toBe("7");
    expect(param(params, "pans").parameterType).toEqual({ type: "INT64" });
    expect(String(param(params, "pans").parameterValue.value)).toBe("1");
    expect(JSON.parse(param(params, "partitions").parameterValue.value)).toEqual(req.manifest.bronze_partitions);
    // Every @name in the script has a parameter.
    for (const [, name] of sql.matchAll(/@(\w+)/g)) expect(param(params, name!), name).toBeDefined();

    // The transaction ran: the targets hold the batch's rows, the dead letters once each, and the manifest.
    expect(fake.jobs.get(`${jobId(batch, "commit")}_0`)!.status).toEqual({ state: "DONE" });
    expect(sortedBy("event_id", await fake.rows(`${PROJECT}.silver.order_events`)).map(present)).toEqual(orderLines);
    expect(sortedBy("event_id", await fake.rows(`${PROJECT}.silver.payment_events`)).map(present)).toEqual(paymentLines);
    expect(sortedBy("dl_id", await fake.rows(`${PROJECT}.ops.dead_letters`)).map(present)).toEqual(deadLetterLines.map((l) => ({ ...present(l), batch_name: batch })));
    const [manifestRow] = await fake.rows(`${PROJECT}.ops.batches`);
    expect(manifestRow).toMatchObject({ batch_name: batch, origin: "pubsub:events-sub", read: 7, valid: 5, duplicates: 0, dead_lettered: 2, pans_redacted: 1, bronze_partitions: req.manifest.bronze_partitions });

    expectOnlyFakeTraffic();
  });

  it("a retried commit reuses the job ids: each insert gets 409, attaches to the finished job and runs nothing twice", async () => {
    const batch = "ev_ecom-ingest_1764064800000_4";
    const req = await stage(batch);
    await committer.commit(req);
    const first = [...fake.inserted];
    expect(first).toHaveLength(4);

    await committer.commit(req);
    expect(fake.inserted).toEqual(first); // no new job
    expect(fake.conflicts).toEqual(first); // every id was tried again and found
    expect(await fake.rows(`${PROJECT}.silver.order_events`)).toHaveLength(orderLines.length);
    expect(await fake.rows(`${PROJECT}.ops.batches`)).toHaveLength(1);
    // Attaching means polling the existing job by id, in the job's location.
    const gets = fake.requests.filter((r) => r.method === "GET" && r.path.includes("/jobs/"));
    for (const id of first) expect(gets.some((g) => g.path.endsWith(`/jobs/${id}`) && g.query.get("location") === LOCATION)).toBe(true);
    expectOnlyFakeTraffic();
  });

  it("a failed commit job moves to the next attempt id, and a retry of the batch does not run the failed job again", async () => {
    const batch = "ev_ecom-ingest_1764064800000_5";
    const req = await stage(batch);
    fake.failJob = (j) => (j.jobReference.jobId.endsWith("_commit_0") ? "Transaction is aborted due to concurrent update against table ecom-test:silver.order_events." : undefined);
    await committer.commit(req);
    expect(fake.inserted.filter((id) => id.includes("_commit_"))).toEqual([`${jobId(batch, "commit")}_0`, `${jobId(batch, "commit")}_1`]);

    fake.inserted.length = 0;
    await committer.commit(req);
    expect(fake.inserted).toEqual([]); // _0 is found failed, _1 is found done
    expect(sortedBy("event_id", await fake.rows(`${PROJECT}.silver.order_events`)).map((r) => r.event_id)).toEqual(["e-1", "e-2", "e-3"]);
  });

  it("a commit whose every attempt fails rejects with the job and BigQuery's message; nothing is committed", async () => {
    const batch = "ev_ecom-ingest_1764064800000_6";
    const req = await stage(batch);
    fake.failJob = (j: FakeJob) => (j.configuration.query ? "Syntax error: Unexpected keyword DISTINCT at [7:3]" : undefined);
    await expect(committer.commit(req)).rejects.toThrow(
      new RegExp(`BigQuery job ${jobId(batch, "commit")} failed 8 times; last error: Syntax error: Unexpected keyword DISTINCT`),
    );
    const commits = fake.inserted.filter((id) => id.includes("_commit_"));
    expect(commits).toEqual(Array.from({ length: 8 }, (_, i) => `${jobId(batch, "commit")}_${i}`));
    expect(commits.every((id) => fake.jobs.get(id)!.status.errorResult)).toBe(true);
    for (const t of ["silver.order_events", "silver.payment_events", "ops.dead_letters", "ops.batches"]) expect(await fake.rows(`${PROJECT}.${t}`), t).toEqual([]);
  }, 60_000);

  it("a load that fails rejects before any commit job is created", async () => {
    const batch = "ev_ecom-ingest_1764064800000_7";
    const req = await stage(batch);
    fake.objects.delete(`staging-b/staging/${batch}/payment.ndjson`); // the load job finds no source
    await expect(committer.commit(req)).rejects.toThrow(/BigQuery job .*_payment_load failed 8 times; last error: Not found: URI gs:\/\/staging-b/);
    expect(queryJobs()).toEqual([]);
  }, 60_000);

  it("a batch blocked by 8 earlier failed commit attempts still commits when retried (a failure never blocks it forever)", async () => {
    const batch = "ev_ecom-ingest_1764064800000_8";
    const req = await stage(batch);
    fake.failJob = (j) => (j.configuration.query ? "Transaction is aborted due to concurrent update" : undefined);
    await expect(committer.commit(req)).rejects.toThrow(/failed 8 times/);
    fake.failJob = () => undefined;
    await committer.commit(req);
    const done = [...fake.jobs.values()].filter((j) => j.configuration.query && j.status.state === "DONE" && !j.status.errorResult);
    expect(done.map((j) => j.jobReference.jobId)).toEqual([`${jobId(batch, "commit")}_8`]);
    expect(await fake.rows(`${PROJECT}.ops.batches`)).toHaveLength(1);
  }, 60_000);

  it("reads the manifest, existing event ids and subject keys with parameterized jobs.query calls", async () => {
    // What earlier batches left: one manifest, one order event (e-2), one subject key (k1).
    await run(`INSERT INTO \`${PROJECT}.ops.batches\` (batch_name, committed_at, origin, read, valid, duplicates, dead_lettered, pans_redacted, bronze_partitions)
      VALUES ('b-1', CURRENT_TIMESTAMP(), 'pubsub:events-sub', 1, 1, 0, 0, 0, JSON '["a/dt=2026-11-25/hour=10"]')`);
    await run(`INSERT INTO \`${PROJECT}.silver.order_events\` (event_id, event_type, schema_version, event_time, event_date, source, order_id, pii_key_id, ingested_at)
      VALUES ('e-2', 'order_paid', 1, TIMESTAMP '2026-11-25 10:00:00+00', DATE '2026-11-25', 'order-service', 'o-1', 'tk-1', CURRENT_TIMESTAMP())`);
    await run(`INSERT INTO \`${PROJECT}.ops.subject_keys\` (kid, wrapped_key, kek_id, created_at) VALUES ('k1', b'wrapped', 'kek-0', CURRENT_TIMESTAMP())`);
    clearLogs();
    expect(await committer.committedBatch("b-1")).toEqual({ bronze_partitions: ["a/dt=2026-11-25/hour=10"] });
    const ids = await committer.existingEventIds(
      new Map([
        ["order", { ids: ["e-1", "e-2"], dates: ["2026-11-25"] }],
        ["payment", { ids: ["p-1"], dates: ["2026-11-24", "2026-11-25"] }],
        ["customer", { ids: [], dates: [] }],
      ]),
    );
    expect([...ids]).toEqual(["e-2"]);
    const keys = await committer.subjectKeys(["k1", "k2"]);
    expect(keys.get("k1")?.toString()).toBe("wrapped");
    await committer.insertSubjectKeysIfAbsent([{ kid: "k2", wrappedKey: Buffer.from("w2"), kekId: "kek-1" }]);

    const queries = fake.requests.filter((r) => r.path === `/bigquery/v2/projects/${PROJECT}/queries`).map((r) => r.body as any);
    expect(queries).toHaveLength(4);
    expect(queries.every((q) => q.location === LOCATION && q.useLegacySql === false && q.parameterMode.toUpperCase() === "NAMED")).toBe(true);
    expect(param(queries[0].queryParameters, "batch").parameterValue.value).toBe("b-1");
    const [orderSel, paySel] = (queries[1].query as string).split("\nUNION ALL\n");
    expect(orderSel).toBe("SELECT event_id FROM `ecom-test.silver.order_events` WHERE event_date IN UNNEST(@d0) AND event_id IN UNNEST(@i0)");
    expect(paySel).toContain("`ecom-test.silver.payment_events`");
    expect(param(queries[1].queryParameters, "d1")).toMatchObject({
      parameterType: { type: "ARRAY", arrayType: { type: "DATE" } },
      parameterValue: { arrayValues: [{ value: "2026-11-24" }, { value: "2026-11-25" }] },
    });
    expect(queries[1].queryParameters.map((p: any) => p.name).sort()).toEqual(["d0", "d1", "i0", "i1"]); // the empty domain is left out
    expect(queries[3].query).toMatch(/^MERGE `ecom-test\.ops\.subject_keys` T/);
    expect(param(queries[3].queryParameters, "keys")).toMatchObject({
      parameterType: { type: "ARRAY", arrayType: { type: "STRUCT" } },
      parameterValue: { arrayValues: [{ structValues: { kid: { value: "k2" }, w: { value: Buffer.from("w2").toString("base64") }, kek: { value: "kek-1" } } }] },
    });

    // The insert-if-absent stored k2 and left k1 alone.
    const stored = new Map((await fake.rows(`${PROJECT}.ops.subject_keys`)).map((r) => [r.kid, r]));
    expect([...stored.keys()].sort()).toEqual(["k1", "k2"]);
    expect(stored.get("k1")).toMatchObject({ wrapped_key: Buffer.from("wrapped").toString("base64"), kek_id: "kek-0" });
    expect(stored.get("k2")).toMatchObject({ wrapped_key: Buffer.from("w2").toString("base64"), kek_id: "kek-1" });

    expect(await committer.committedBatch("b-2")).toBeUndefined();
    expectOnlyFakeTraffic();
  });

  it("drops staging tables, ignoring ones already gone", async () => {
    await run(`CREATE TABLE \`${PROJECT}.staging.b_9_order\` (event_id STRING)`);
    clearLogs();
    expect(await fake.tables()).toContain("staging.b_9_order");
    await committer.dropStaging("b-9", ["order", "payment"]);
    expect((await fake.tables()).filter((t) => t.startsWith("staging."))).toEqual([]);
    expect(fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path).sort()).toEqual([
      `/bigquery/v2/projects/${PROJECT}/datasets/staging/tables/b_9_order`,
      `/bigquery/v2/projects/${PROJECT}/datasets/staging/tables/b_9_payment`,
    ]);
  });
});

describe("CloudCommit (pipelines/beam/cloud-commit.ts) dead letters against the BigQuery and GCS APIs", () => {
  let cloud: CloudCommit;
  const init: CloudSinkInit = {
    project: PROJECT,
    location: LOCATION,
    datasets,
    bronze: { bucket: "bronze-b", prefix: "bronze" },
    staging: { bucket: "staging-b", prefix: "staging" },
    keysUri: "gs://keys-b/keys",
    origin: "pubsub:events-sub",
    endpoints: {},
  };
  const dls = ["{not json", "[1,2]", "{not json"].map((data, i) => decode({ data, origin: `pubsub:events-sub`, receivedAtMs: Date.UTC(2026, 10, 25, 10, 0, i) }) as DeadLetter);

  async function open(): Promise<CloudCommit> {
    const dir = tempDir("bq-keys");
    loadKeys(dir, true);
    for (const f of ["token-keys.json", "kek.json"]) fake.objects.set(`keys-b/keys/${f}`, fs.readFileSync(path.join(dir, "keys", f)));
    fs.rmSync(dir, { recursive: true, force: true });
    return CloudCommit.open({ ...init, endpoints: { storage: fake.endpoint, bigquery: fake.endpoint } });
  }

  it("commits a new batch: staging object loaded, one transaction, then staging object and table removed", async () => {
    cloud = await open();
    expect(dls.every((d) => d.ok === false)).toBe(true);
    const result = await cloud.commitDeadLetters("dl_ecom-ingest_1764064800000_0", dls);
    expect(result).toEqual({ batch: "dl_ecom-ingest_1764064800000_0", alreadyCommitted: false, read: 3, valid: 0, duplicates: 0, dead_lettered: 3 });
    const loads = loadJobs();
    expect(loads).toHaveLength(1);
    const staged = fake.requests.find((r) => r.path === "/upload/storage/v1/b/staging-b/o")!;
    const lines = (staged.body as string).split(/\r?\n/).filter((l) => l.startsWith("{\"dl_id\""));
    expect(lines).toHaveLength(3);
    const rows = lines.map((l) => JSON.parse(l));
    expect(rows.map((r) => r.reason)).toEqual(["malformed_json", "not_an_object", "malformed_json"]);
    expect(Buffer.from(rows[1].raw, "base64").toString()).toBe("[1,2]");
    expect(rows[0].dl_id).toBe(rows[2].dl_id); // same bytes, same key: the MERGE source must dedupe it
    expect(queryJobs()).toHaveLength(1);
    expect(queryJobs()[0]!.configuration.query.query).toContain("MERGE `ecom-test.ops.dead_letters` T");
    expect(fake.objects.has("staging-b/staging/dl_ecom-ingest_1764064800000_0/dead_letters.ndjson")).toBe(false);
    expect((await fake.tables()).filter((t) => t.startsWith("staging."))).toEqual([]);
    // Committed: the two distinct dead letters once each, under the batch, and its manifest.
    const stored = await fake.rows(`${PROJECT}.ops.dead_letters`);
    expect(stored.map((r) => [r.reason, Buffer.from(r.raw as string, "base64").toString(), r.batch_name]).sort()).toEqual([
      ["malformed_json", "{not json", "dl_ecom-ingest_1764064800000_0"],
      ["not_an_object", "[1,2]", "dl_ecom-ingest_1764064800000_0"],
    ]);
    expect(await fake.rows(`${PROJECT}.ops.batches`)).toEqual([expect.objectContaining({ batch_name: "dl_ecom-ingest_1764064800000_0", read: 3, dead_lettered: 3, bronze_partitions: [] })]);
    expectOnlyFakeTraffic();
  });

  it("skips a batch the manifest table already records: no upload, no job", async () => {
    cloud = await open();
    await run(`INSERT INTO \`${PROJECT}.ops.batches\` (batch_name, committed_at, origin, read, valid, duplicates, dead_lettered, pans_redacted, bronze_partitions)
      VALUES ('dl_ecom-ingest_1764064800000_1', CURRENT_TIMESTAMP(), 'pubsub:events-sub', 3, 0, 0, 3, 0, JSON '[]')`);
    clearLogs();
    const result = await cloud.commitDeadLetters("dl_ecom-ingest_1764064800000_1", dls);
    expect(result).toMatchObject({ alreadyCommitted: true, dead_lettered: 0 });
    expect(jobInserts()).toEqual([]);
    expect(fake.requests.filter((r) => !r.path.startsWith("/computeMetadata/")).map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /bigquery/v2/projects/${PROJECT}/queries`,
    ]);
  });

  it("a failed commit transaction rejects and reports nothing committed", async () => {
    cloud = await open();
    fake.failJob = (j) => (j.configuration.query ? "Transaction is aborted due to concurrent update" : undefined);
    await expect(cloud.commitDeadLetters("dl_ecom-ingest_1764064800000_2", dls)).rejects.toThrow(/BigQuery job .*_commit failed 8 times; last error: Transaction is aborted/);
    // The staging table and object stay for the retry (they expire on their own); nothing reached the targets.
    expect(fake.requests.filter((r) => r.method === "DELETE")).toEqual([]);
    expect(await fake.tables()).toContain("staging.dl_ecom_ingest_1764064800000_2_dead_letters");
    expect(await fake.rows(`${PROJECT}.ops.dead_letters`)).toEqual([]);
  }, 60_000);
});
