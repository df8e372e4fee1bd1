/**
 * The repository's own BigQuery SQL, executed by the fake BigQuery through the
 * official client, against what the local DuckDB platform computes from the
 * same input:
 *
 *   1. `allBigQueryDdl` creates every Silver and ops table, with the columns,
 *      types and modes of the declarations (schemas/silver.ts, schemas/ops.ts);
 *   2. the one commit with BigQuery in the warehouse role (staging loads + the
 *      MERGE script) gives the Silver rows the local runner gives for the same
 *      events, and a retried batch adds nothing;
 *   3. its state tables (merged in the batch transaction) give the local state tables' rows;
 *   4. the generated Gold SQL (infra/bigquery/gold/ddl.sql, rebuild.sql and
 *      the scheduled refresh.sql) gives the DuckDB Gold executor's rows over
 *      the same Silver: a full rebuild, then an incremental refresh that only
 *      sees the rows of a second ingest.
 */
import fs from "node:fs";
import path from "node:path";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOLD_MODELS } from "../../gold/models/index.js";
import { goldOf, registerGold } from "../../gold/register.js";
import { type CommitRoles, commitBatch } from "../../pipelines/commit.js";
import { elementSteps } from "../../pipelines/ingest-steps.js";
import { Engine } from "../../pipelines/local/engine.js";
import { parseBatch } from "../../pipelines/parse-batch.js";
import { OPS_TABLES } from "../../schemas/ops.js";
import { type Domain, createRegistry } from "../../schemas/registry.js";
import { EVENT_TABLES, STATE_TABLES } from "../../schemas/silver.js";
import { type BigQueryDatasets, allBigQueryDdl, loadSchema } from "../../sinks/bigquery/ddl.js";
import { BigQueryStore } from "../../sinks/bigquery/store.js";
import { GcsBronze } from "../../sinks/gcs/bronze-objects.js";
import { SubjectKeyring } from "../../sinks/keys/subject-keys.js";
import { type GeneratedMessage, takeMessages } from "../../sources/dev/generator/index.js";
import { GEN, type Row } from "../gold/expected.js";
import { eraseSubject } from "../../jobs/privacy/erase.js";
import { findSubject } from "../../jobs/privacy/subject.js";
import { ERASURE_TABLES, PSEUDONYM_PREFIX, tokensPattern } from "../../sinks/erasure-sql.js";
import { erasureParameters, erasureScriptFor } from "../../sinks/bigquery/erasure.js";
import { expectSameGold, expectSameRows, goldSnapshot, ingest, tempDir } from "../gold/helpers.js";
import { type FakeBigQueryClient, fakeBigQueryClient } from "./bigquery-client.js";

const PROJECT = "ecom-test";
const LOCATION = "EU";
const datasets: BigQueryDatasets = { project: PROJECT, silver: "silver", ops: "ops", staging: "staging" };
const DOMAINS = Object.keys(EVENT_TABLES) as Domain[];
const GOLD_SQL = path.join(import.meta.dirname, "../../infra/bigquery/gold");

let client: FakeBigQueryClient;
let roles: CommitRoles;
let engine: Engine;
let dir: string;

/** Seeded traffic across midnight (two UTC days, several hours), in two halves. */
const messages = takeMessages({ ...GEN, ratePerSecond: 3, startTime: new Date("2026-03-01T23:20:00Z") }, 8_000);
const [firstHalf, secondHalf] = [messages.slice(0, 5_000), messages.slice(5_000)];

async function run(query: string): Promise<Record<string, any>[]> {
  const [rows] = await client.bq.query({ query, location: LOCATION });
  return rows as Record<string, any>[];
}

/** A multi-statement script as a query job, as the scheduler runs it. */
async function script(query: string): Promise<void> {
  const [job] = await client.bq.createQueryJob({ query, location: LOCATION });
  await job.promise();
}

/** A Silver row as an NDJSON load line: JSON values, timestamps as ISO text. */
type Line = Record<string, unknown>;

/** The local Silver rows of a domain as load lines (the shape silverLoadLine gives), by event_id, without ingested_at (each store stamps its own). */
async function localSilver(domain: Domain): Promise<Line[]> {
  const t = EVENT_TABLES[domain];
  const cols = t.columns
    .filter((c) => c.name !== "ingested_at")
    .map((c) =>
      c.type === "TIMESTAMP"
        ? `strftime(${c.name}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${c.name}`
        : c.type === "DATE"
          ? `strftime(${c.name}, '%Y-%m-%d') AS ${c.name}`
          : c.name,
    );
  const rows = await engine.store.query(`SELECT CAST(to_json(r) AS VARCHAR) AS line FROM (SELECT ${cols.join(", ")} FROM silver.${t.name}) AS r`);
  return rows.map((r) => JSON.parse(r.line as string) as Line).sort((a, b) => String(a.event_id).localeCompare(String(b.event_id)));
}

/** The same events the local engine ingested, committed to BigQuery through the one commit (tokens under the local engine's token key). */
async function commitOnBigQuery(msgs: readonly GeneratedMessage[], batch: string): Promise<void> {
  const steps = elementSteps(createRegistry());
  const raw = msgs.map((m, i) => ({ data: m.data, attributes: m.attributes as Record<string, string>, origin: `${batch}:${i}`, receivedAtMs: Date.now() }));
  await commitBatch(parseBatch(raw, steps, engine.keys.tokenKey), roles, { origin: "test", name: batch });
}

async function bigquerySilver(domain: Domain): Promise<Line[]> {
  const rows = await client.fake.rows(`${PROJECT}.silver.${EVENT_TABLES[domain].name}`);
  return byId(rows.map(({ ingested_at: _i, ...r }) => r));
}

const byId = (rows: Line[]) => [...rows].sort((a, b) => String(a.event_id).localeCompare(String(b.event_id)));

/** Every Gold table read back through the official client, in goldSnapshot's shape (DATE text, TIMESTAMP epoch ms). */
async function fakeGold(): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const m of GOLD_MODELS) {
    const rows = await run(`SELECT * FROM gold.${m.name}`);
    out[m.name] = rows.map((r) =>
      Object.fromEntries(
        m.columns.map((c) => {
          const v = r[c.name];
          if (v === null) return [c.name, null];
          return [c.name, c.type === "DATE" ? v.value : c.type === "TIMESTAMP" ? Date.parse(v.value) : v];
        }),
      ),
    );
  }
  return out;
}

beforeAll(async () => {
  client = await fakeBigQueryClient(PROJECT);
  const storage = new Storage({ projectId: PROJECT, apiEndpoint: client.fake.endpoint });
  dir = tempDir("bq-repo-sql");
  engine = await Engine.open(dir);
  const warehouse = new BigQueryStore(client.bq, { datasets, location: LOCATION, staging: new GcsBronze(storage, { bucket: "staging-b", prefix: "staging" }) });
  roles = { warehouse, bronze: new GcsBronze(storage, { bucket: "bronze-b", prefix: "bronze" }), keys: new SubjectKeyring(engine.kek) };
  await registerGold(engine);
  for (let i = 0; i < firstHalf.length; i += 1_250) await ingest(engine, firstHalf.slice(i, i + 1_250));
});

afterAll(async () => {
  engine?.close();
  await client?.restore();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the repository's BigQuery SQL on the fake BigQuery", () => {
  it("allBigQueryDdl creates every declared table with its columns, types and modes, and runs again harmlessly", async () => {
    for (let pass = 0; pass < 2; pass++) for (const sql of allBigQueryDdl(datasets)) await run(sql);
    const events = Object.values(EVENT_TABLES).map((t) => `silver.${t.name}`);
    const state = STATE_TABLES.map((t) => `silver.${t.name}`);
    const ops = OPS_TABLES.filter((t) => t.only !== "duckdb").map((t) => `ops.${t.name}`);
    expect(await client.fake.tables()).toEqual([...ops, ...events, ...state].sort());
    const legacy: Record<string, string> = { INT64: "INTEGER", BOOL: "BOOLEAN" };
    for (const t of Object.values(EVENT_TABLES)) {
      const [meta] = await client.bq.dataset("silver").table(t.name).getMetadata();
      expect(meta.type, t.name).toBe("TABLE");
      expect(meta.schema.fields, t.name).toEqual(loadSchema(t.columns).map((f) => ({ ...f, type: legacy[f.type] ?? f.type })));
    }
    for (const t of STATE_TABLES) {
      const [meta] = await client.bq.dataset("silver").table(t.name).getMetadata();
      expect(meta.type, t.name).toBe("TABLE");
      expect(
        meta.schema.fields.map((f: { name: string }) => f.name),
        t.name,
      ).toEqual(t.columns.map((c) => c.name));
    }
    const [exists] = await client.bq.dataset("staging").exists();
    expect(exists).toBe(true);
  });

  it("the one commit on BigQuery gives the local runner's Silver rows for the same events; the same events again in another batch add nothing", async () => {
    for (let i = 0; i < firstHalf.length; i += 1_250) await commitOnBigQuery(firstHalf.slice(i, i + 1_250), `ev_first_${i}`);
    for (const d of DOMAINS) {
      const local = await localSilver(d);
      expect(local.length, d).toBeGreaterThan(0);
      expect(await bigquerySilver(d), d).toEqual(local);
    }
    await commitOnBigQuery(firstHalf.slice(0, 2_000), "ev_first_retry");
    for (const d of DOMAINS) expect(await client.fake.rows(`${PROJECT}.silver.${EVENT_TABLES[d].name}`), d).toHaveLength((await localSilver(d)).length);
    const batches = await client.fake.query(`SELECT batch_name, valid, duplicates FROM ops.batches`);
    expect(batches.find((b) => b.batch_name === "ev_first_retry")).toEqual({ batch_name: "ev_first_retry", valid: 0, duplicates: 2_000 });
  });

  it("the state tables merged in each BigQuery batch transaction give the local state tables' rows", async () => {
    for (const t of STATE_TABLES) {
      const cols = t.columns.filter((c) => c.name !== "updated_at");
      // (each store stamps its own updated_at)
      const key = cols.filter((c) => c.key).map((c) => c.name);
      const select = cols.map((c) => (c.type === "TIMESTAMP" ? `strftime(${c.name}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${c.name}` : c.name));
      const local = (await engine.store.query(`SELECT ${select.join(", ")} FROM silver.${t.name} ORDER BY ${key.join(", ")}`)) as Row[];
      const remote = await client.fake.query(`SELECT ${cols.map((c) => c.name).join(", ")} FROM silver.${t.name} ORDER BY ${key.join(", ")}`);
      expect(local.length, t.name).toBeGreaterThan(0);
      const number = (c: { name: string; type: string }, v: unknown) => (c.type === "INT64" && v !== null ? Number(v) : v);
      expect(remote, t.name).toEqual(local.map((r) => Object.fromEntries(cols.map((c) => [c.name, number(c, r[c.name])]))));
    }
  });

  it("ddl.sql and rebuild.sql give the DuckDB Gold executor's rows; refresh.sql after a second ingest recomputes only its windows and agrees again", async () => {
    await script(fs.readFileSync(path.join(GOLD_SQL, "ddl.sql"), "utf8"));
    await script(fs.readFileSync(path.join(GOLD_SQL, "rebuild.sql"), "utf8"));
    const local = await goldSnapshot(engine.store);
    for (const m of GOLD_MODELS) expect(local[m.name]!.length, m.name).toBeGreaterThan(0);
    expectSameGold(await fakeGold(), local);

    // The refresh's clock: everything committed so far counts as read by the last run.
    const [{ through }] =
      await run(`SELECT MAX(ingested_at) AS through FROM (SELECT ingested_at FROM silver.order_events UNION ALL SELECT ingested_at FROM silver.clickstream_events
      UNION ALL SELECT ingested_at FROM silver.payment_events UNION ALL SELECT ingested_at FROM silver.inventory_events UNION ALL SELECT ingested_at FROM silver.customer_events)`);
    await run(`UPDATE ops.gold_refresh_state SET ts = TIMESTAMP_ADD(TIMESTAMP '${through.value}', INTERVAL 10 MINUTE) WHERE name = 'ingested_through'`);

    // A marker in the first minute, which the second ingest (later events) does not touch: an incremental refresh leaves it.
    const [{ first }] = await run(`SELECT MIN(minute) AS first FROM gold.revenue_by_minute`);
    await run(`UPDATE gold.revenue_by_minute SET orders = -1 WHERE minute = TIMESTAMP '${first.value}'`);

    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < secondHalf.length; i += 1_000) await ingest(engine, secondHalf.slice(i, i + 1_000));
    expect(await goldOf(engine)!.gold.pending()).toBe(0);
    for (let i = 0; i < secondHalf.length; i += 1_000) await commitOnBigQuery(secondHalf.slice(i, i + 1_000), `ev_second_${i}`);
    await script(fs.readFileSync(path.join(GOLD_SQL, "refresh.sql"), "utf8"));
    const refreshed = await goldSnapshot(engine.store);
    const remote = await fakeGold();
    const firstMinute = Date.parse(first.value);
    expect(remote.revenue_by_minute!.filter((r) => r.minute === firstMinute).map((r) => r.orders)).toEqual([-1]);
    expect(refreshed.revenue_by_minute!.filter((r) => r.minute === firstMinute)).toEqual(local.revenue_by_minute!.filter((r) => r.minute === firstMinute));
    remote.revenue_by_minute = remote.revenue_by_minute!.filter((r) => r.minute !== firstMinute);
    refreshed.revenue_by_minute = refreshed.revenue_by_minute!.filter((r) => r.minute !== firstMinute);
    for (const m of GOLD_MODELS) expectSameRows(m.name, remote[m.name]!, refreshed[m.name]!);
    expect([...new Set(refreshed.daily_revenue!.map((r) => r.date))]).toEqual(["2026-03-01", "2026-03-02"]);
    expect((await run(`SELECT name FROM ops.gold_refresh_state ORDER BY name`)).map((r) => r.name)).toEqual(["ingested_through", "newest_event_time"]);
  });

  it("the erasure script, parsed and run with one person's parameters, removes them from BigQuery as the local erasure does from DuckDB", async () => {
    const users = new Map<string, number>();
    for (const m of messages) {
      const u = m.kind === "valid" ? (JSON.parse(m.data) as { user_id?: string }).user_id : undefined;
      if (u) users.set(u, (users.get(u) ?? 0) + 1);
    }
    const userId = [...users].sort((a, b) => b[1] - a[1])[0]![0];
    const s = await engine.store.session(false);
    const found = await findSubject(engine, s, { userId });
    s.close();
    expect(found.partitions.size).toBeGreaterThan(0);
    const pseudonyms = new Map([...found.tokens.keys(), ...found.sessions].map((v, i) => [v, `${PSEUDONYM_PREFIX}bq${i}`]));
    const { params, types } = erasureParameters({
      pseudonyms,
      partitions: found.partitions,
      pattern: tokensPattern([...found.tokens.keys()]),
      refs: found.refs,
      deadLetterIds: [],
      requestId: "req-bq",
    });
    const keysBefore = Number((await client.fake.query(`SELECT count(*) AS n FROM ops.subject_keys`))[0]!.n);
    const [job] = await client.bq.createQueryJob({ query: erasureScriptFor(datasets), params, types, location: LOCATION });
    await job.promise();
    const local = await eraseSubject(engine, { userId, requestId: "req-local" });

    // Both hold pseudonyms in the same rows, no token or session id of the person, and the same row counts.
    const marked = (t: (typeof ERASURE_TABLES)[number]) =>
      `SELECT count(*) AS n FROM silver.${t.table.name} WHERE ${[...t.columns.identity, ...(t.columns.session ? [t.columns.session] : [])].map((c) => `starts_with(${c}, '${PSEUDONYM_PREFIX}')`).join(" OR ")}`;
    const held = (t: (typeof ERASURE_TABLES)[number]) =>
      `SELECT count(*) AS n FROM silver.${t.table.name} WHERE ${[...t.columns.identity, ...(t.columns.session ? [t.columns.session] : [])].map((c) => `${c} IN (${[...pseudonyms.keys()].map((v) => `'${v}'`).join(", ")})`).join(" OR ")}`;
    let pseudonymised = 0;
    for (const t of ERASURE_TABLES) {
      const remote = Number((await client.fake.query(marked(t)))[0]!.n);
      expect(remote, t.table.name).toBe(Number((await engine.store.query(marked(t)))[0]!.n));
      expect(Number((await client.fake.query(held(t)))[0]!.n), t.table.name).toBe(0);
      pseudonymised += remote;
    }
    expect(pseudonymised).toBeGreaterThan(0);
    expect(local.silver_rows_pseudonymised).toBeGreaterThanOrEqual(pseudonymised);
    const keysAfter = Number((await client.fake.query(`SELECT count(*) AS n FROM ops.subject_keys`))[0]!.n);
    expect(keysBefore - keysAfter).toBe(local.bronze_keys_destroyed);
    expect(local.bronze_keys_destroyed).toBeGreaterThan(0);
    expect((await client.fake.query(`SELECT DISTINCT request_id FROM ops.erased_subjects`)).map((r) => r.request_id)).toEqual(["req-bq"]);
    expect(
      Number(
        (
          await client.fake.query(`SELECT count(*) AS n FROM ops.subject_index WHERE token IN (${[...found.tokens.keys()].map((v) => `'${v}'`).join(", ")})`)
        )[0]!.n,
      ),
    ).toBe(0);
  });
});
