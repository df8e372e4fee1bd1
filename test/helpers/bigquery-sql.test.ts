/**
 * The fake BigQuery's GoogleSQL translator (test/helpers/bigquery-sql.ts), run
 * through the official client against the fake server: each construct the
 * repository's SQL uses, with the rows it gives checked as the client parses
 * them (BigQueryTimestamp, BigQueryDate, Big, Buffer), BigQuery's semantics
 * where DuckDB's differ (NULL order, COUNTIF, LEAST, TIMESTAMP_DIFF, division
 * by zero), scripts and transactions, loads, and the loud refusal of what it
 * does not support.
 */
import type { BigQuery, Query } from "@google-cloud/bigquery";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeBigQueryClient, fakeBigQueryClient } from "./bigquery-client.js";
import type { FakeBigQuery } from "./bigquery-server.js";
import { translateScript } from "./bigquery-sql.js";

const PROJECT = "ecom-test";
let client: FakeBigQueryClient;
let fake: FakeBigQuery;
let bq: BigQuery;

beforeAll(async () => {
  client = await fakeBigQueryClient(PROJECT);
  ({ fake, bq } = client);
});
afterAll(() => client?.restore());
beforeEach(async () => {
  await fake.reset();
  await q("CREATE SCHEMA shop");
});

/** jobs.query through the official client: rows as it parses them. */
async function q(query: string, params?: Query["params"], types?: Query["types"]): Promise<Record<string, any>[]> {
  const [rows] = await bq.query({ query, params, types, useLegacySql: false });
  return rows as Record<string, any>[];
}

/** jobs.insert and polling, as the committer runs its scripts; resolves to the job id. */
async function job(query: string, params?: Query["params"]): Promise<string> {
  const [j] = await bq.createQueryJob({ query, params, useLegacySql: false });
  await j.promise();
  return j.id!;
}

/** The BigQuery error a query fails with through jobs.query: reason and message. */
async function failure(query: string, params?: Query["params"]): Promise<{ reason: string; message: string }> {
  try {
    await q(query, params);
  } catch (err) {
    const e = err as { message: string; errors?: { reason: string }[] };
    return { reason: e.errors?.[0]?.reason ?? "", message: e.message };
  }
  throw new Error(`expected ${query} to fail`);
}

const ts = (v: { value: string }) => v.value;

const THINGS = `CREATE TABLE IF NOT EXISTS \`${PROJECT}.shop.things\` (
  id STRING NOT NULL OPTIONS (description = 'the key'),
  n INT64, f FLOAT64, amount NUMERIC, ok BOOL, day DATE,
  seen_at TIMESTAMP NOT NULL OPTIONS (description = "when"),
  doc JSON, raw BYTES, tags ARRAY<STRING>, parts ARRAY<STRUCT<sku STRING, qty INT64>>, loc STRUCT<city STRING, zip STRING>
)
PARTITION BY DATE(seen_at)
CLUSTER BY id, ok
OPTIONS (description = 'things, for the tests')`;

describe("DDL and table references", () => {
  it("creates datasets and partitioned, clustered tables with every type; two- and three-part names reach the same table", async () => {
    await q(`CREATE SCHEMA IF NOT EXISTS \`${PROJECT}.shop\` OPTIONS (default_table_expiration_days = 1)`);
    await q(THINGS);
    await q(THINGS); // IF NOT EXISTS: a no-op
    await q(`INSERT INTO shop.things (id, n, f, amount, ok, day, seen_at, doc, raw, tags, parts, loc) VALUES
      ('a', -7, 2.5, NUMERIC '12.340', TRUE, DATE '2026-11-25', TIMESTAMP '2026-11-25 10:00:00.123456+02:00',
       JSON '{"k": [1, 2]}', b'\\x00\\xff', ['x', 'y'], [STRUCT('s1' AS sku, 2 AS qty)], STRUCT('Oslo' AS city, '0150' AS zip))`);
    const [row] = await q(`SELECT * FROM \`${PROJECT}.shop.things\``);
    expect(row!).toMatchObject({
      id: "a",
      n: -7,
      f: 2.5,
      ok: true,
      doc: '{"k":[1,2]}',
      tags: ["x", "y"],
      parts: [{ sku: "s1", qty: 2 }],
      loc: { city: "Oslo", zip: "0150" },
    });
    expect(row!.amount.toString()).toBe("12.34");
    expect(row!.day.value).toBe("2026-11-25");
    expect(ts(row!.seen_at)).toBe("2026-11-25T08:00:00.123456000Z");
    expect([...(row!.raw as Buffer)]).toEqual([0, 255]);

    const [meta] = await bq.dataset("shop").table("things").getMetadata();
    expect(meta.type).toBe("TABLE");
    expect(meta.numRows).toBe("1");
    expect(meta.schema.fields.map((f: any) => `${f.name} ${f.type} ${f.mode}`)).toEqual([
      "id STRING REQUIRED",
      "n INTEGER NULLABLE",
      "f FLOAT NULLABLE",
      "amount NUMERIC NULLABLE",
      "ok BOOLEAN NULLABLE",
      "day DATE NULLABLE",
      "seen_at TIMESTAMP REQUIRED",
      "doc JSON NULLABLE",
      "raw BYTES NULLABLE",
      "tags STRING REPEATED",
      "parts RECORD REPEATED",
      "loc RECORD NULLABLE",
    ]);
    expect(meta.schema.fields[10].fields.map((f: any) => `${f.name} ${f.type}`)).toEqual(["sku STRING", "qty INTEGER"]);
    expect((await failure("INSERT INTO shop.things (id) VALUES ('no timestamp')")).message).toMatch(/NOT NULL constraint failed: things\.seen_at/);
  });

  it("checks PARTITION BY and CLUSTER BY against the columns, and refuses other projects' tables", async () => {
    expect((await failure("CREATE TABLE shop.t (a STRING) PARTITION BY DATE(missing)")).message).toMatch(/PARTITION BY expression references column missing/);
    expect((await failure("CREATE TABLE shop.t (a STRING) PARTITION BY a")).message).toMatch(/must be DATE, TIMESTAMP or DATETIME/);
    expect((await failure("CREATE TABLE shop.t (a STRING) CLUSTER BY b")).message).toMatch(/clustering cannot be found in the schema: b/);
    expect(await failure("SELECT * FROM `other-project.shop.things`")).toEqual({
      reason: "invalidQuery",
      message: "fake BigQuery: a table in another project (other-project; the job runs in ecom-test) is not supported",
    });
    expect(await fake.tables()).toEqual([]);
  });

  it("CREATE OR REPLACE VIEW reads the table as it is now; DROP TABLE drops, IF EXISTS tolerates a missing one", async () => {
    await q("CREATE TABLE shop.t (a INT64)");
    await q("INSERT INTO shop.t (a) VALUES (1), (2)");
    await q("CREATE OR REPLACE VIEW shop.v AS SELECT SUM(a) AS total FROM shop.t");
    await q("CREATE OR REPLACE VIEW shop.v AS SELECT SUM(a) * 10 AS total FROM shop.t");
    await q("INSERT INTO shop.t (a) VALUES (3)");
    expect(await q("SELECT total FROM shop.v")).toEqual([{ total: 60 }]);
    const [meta] = await bq.dataset("shop").table("v").getMetadata();
    expect(meta.type).toBe("VIEW");
    await q("DROP TABLE shop.t");
    await q("DROP TABLE IF EXISTS shop.t");
    expect((await failure("DROP TABLE shop.t")).message).toMatch(/does not exist/);
    expect(await fake.tables()).toEqual(["shop.v"]);
  });
});

describe("query parameters", () => {
  it("binds every scalar type as declared, and NULLs of a declared type", async () => {
    const [r] = await q(
      `SELECT @s AS s, @i + 1 AS i, @f * 2 AS f, NOT @b AS b, DATE_ADD(@d, INTERVAL 1 DAY) AS d, TIMESTAMP_ADD(@t, INTERVAL 90 MINUTE) AS t,
        TO_BASE64(@by) AS by64, TO_JSON_STRING(@j) AS j, @n IS NULL AS n_is_null`,
      {
        s: "it's",
        i: 41,
        f: 1.25,
        b: false,
        d: bq.date("2026-11-30"),
        t: bq.timestamp("2026-11-25T10:00:00.123456Z"),
        by: Buffer.from("raw").toString("base64"),
        j: { a: [1, "x"] },
        n: null,
      },
      { by: "BYTES", j: "JSON", n: "INT64" },
    );
    expect({ ...r, d: r!.d.value, t: ts(r!.t) }).toEqual({
      s: "it's",
      i: 42,
      f: 2.5,
      b: true,
      d: "2026-12-01",
      t: "2026-11-25T11:30:00.123456000Z",
      by64: "cmF3",
      j: '{"a":[1,"x"]}',
      n_is_null: true,
    });
  });

  it("IN UNNEST(@array), FROM UNNEST(@structs) AS k with k.field, and UNNEST([1])", async () => {
    await q("CREATE TABLE shop.e (id STRING, day DATE)");
    await q("INSERT INTO shop.e (id, day) VALUES ('a', DATE '2026-11-24'), ('b', DATE '2026-11-25'), ('c', DATE '2026-11-25'), (NULL, DATE '2026-11-25')");
    const ids = await q("SELECT id FROM shop.e WHERE day IN UNNEST(@days) AND id IN UNNEST(@ids) ORDER BY id", {
      days: [bq.date("2026-11-25")],
      ids: ["a", "b", "c", "z"],
    });
    expect(ids).toEqual([{ id: "b" }, { id: "c" }]);
    expect(await q("SELECT COUNT(*) AS n FROM shop.e WHERE id NOT IN UNNEST(@ids)", { ids: ["a"] })).toEqual([{ n: 2 }]);
    expect(await q("SELECT id FROM shop.e WHERE id IN UNNEST(@none)", { none: [] }, { none: ["STRING"] })).toEqual([]);
    const keys = await q("SELECT k.kid, FROM_BASE64(k.w) AS w, k.n + 1 AS n FROM UNNEST(@keys) AS k ORDER BY k.kid", {
      keys: [
        { kid: "k2", w: "dzI=", n: 1 },
        { kid: "k1", w: "dzE=", n: 2 },
      ],
    });
    expect(keys.map((k) => [k.kid, k.w.toString(), k.n])).toEqual([
      ["k1", "w1", 3],
      ["k2", "w2", 2],
    ]);
    expect(await q("SELECT 'once' AS x FROM UNNEST([1]) WHERE NOT EXISTS (SELECT 1 FROM shop.e WHERE id = 'z')")).toEqual([{ x: "once" }]);
  });

  it("a parameter the request does not declare is an error", async () => {
    expect((await failure("SELECT @missing AS x")).message).toBe("Query parameter 'missing' not found");
  });
});

describe("functions, with GoogleSQL's semantics", () => {
  it("time: DATE, TIMESTAMP_TRUNC, TIMESTAMP_SUB/ADD, TIMESTAMP_DIFF in whole units, FORMAT_*, PARSE_*, UNIX_*, CURRENT_TIMESTAMP", async () => {
    const before = Date.now();
    const [r] = await q(`SELECT
      DATE(TIMESTAMP '2026-11-25 23:30:00-02') AS utc_day,
      TIMESTAMP_TRUNC(TIMESTAMP '2026-11-25 10:47:12.5+00', HOUR) AS hour,
      TIMESTAMP_TRUNC(TIMESTAMP '2026-11-25 10:47:12.5+00', MINUTE) AS minute,
      TIMESTAMP_TRUNC(TIMESTAMP '2026-11-25 10:47:12.5+00', DAY) AS day,
      TIMESTAMP_SUB(TIMESTAMP '2026-11-25 00:05:00+00', INTERVAL 10 MINUTE) AS sub,
      TIMESTAMP_ADD(TIMESTAMP '2026-11-25 00:05:00+00', INTERVAL 2 HOUR) AS added,
      TIMESTAMP_DIFF(TIMESTAMP '2026-11-25 11:00:01+00', TIMESTAMP '2026-11-25 10:59:00+00', HOUR) AS whole_hours,
      TIMESTAMP_DIFF(TIMESTAMP '2026-11-25 11:00:00.5+00', TIMESTAMP '2026-11-25 10:00:00+00', MILLISECOND) / 3600000 AS hours,
      FORMAT_TIMESTAMP('%F %T', TIMESTAMP '2026-11-25 10:05:09+00') AS f_ts,
      FORMAT_DATE('%F', DATE '2026-03-01') AS f_date,
      PARSE_TIMESTAMP('%F %T', '2026-11-25 10:05:09') AS p_ts,
      PARSE_DATE('%F', '2026-03-01') AS p_date,
      UNIX_MICROS(TIMESTAMP '1970-01-01 00:00:01.000002+00') AS micros,
      UNIX_MILLIS(TIMESTAMP '2026-11-25 00:00:00.0019+00') AS millis,
      CURRENT_TIMESTAMP() AS now`);
    expect({
      ...r,
      utc_day: r!.utc_day.value,
      hour: ts(r!.hour),
      minute: ts(r!.minute),
      day: ts(r!.day),
      sub: ts(r!.sub),
      added: ts(r!.added),
      p_ts: ts(r!.p_ts),
      p_date: r!.p_date.value,
      now: undefined,
    }).toEqual({
      utc_day: "2026-11-26",
      hour: "2026-11-25T10:00:00.000Z",
      minute: "2026-11-25T10:47:00.000Z",
      day: "2026-11-25T00:00:00.000Z",
      sub: "2026-11-24T23:55:00.000Z",
      added: "2026-11-25T02:05:00.000Z",
      whole_hours: 0,
      hours: 1 + 0.5 / 3600,
      f_ts: "2026-11-25 10:05:09",
      f_date: "2026-03-01",
      p_ts: "2026-11-25T10:05:09.000Z",
      p_date: "2026-03-01",
      micros: 1_000_002,
      millis: Date.UTC(2026, 10, 25) + 1,
      now: undefined,
    });
    const now = Date.parse(ts(r!.now));
    expect(now).toBeGreaterThanOrEqual(before - 1);
    expect(now).toBeLessThanOrEqual(Date.now() + 1);
  });

  it("aggregates and conditionals: COUNTIF, LOGICAL_OR, SAFE_DIVIDE, IF, IFNULL, COALESCE, LEAST/GREATEST, CONCAT, REGEXP_REPLACE, MAX_BY/MIN_BY", async () => {
    await q("CREATE TABLE shop.v (g STRING, x INT64, label STRING)");
    await q("INSERT INTO shop.v VALUES ('a', 1, 'one'), ('a', 3, 'three'), ('a', NULL, NULL), ('b', 2, 'two'), ('c', NULL, 'none')");
    const rows = await q(`SELECT g,
        COUNTIF(x > 1) AS big, COUNTIF(x > 100) AS huge, LOGICAL_OR(x = 3) AS has3,
        SAFE_DIVIDE(COUNTIF(x > 1), COUNT(x)) AS share, IF(COUNT(x) > 1, 'many', 'few') AS size,
        IFNULL(MAX(x), -1) AS top, COALESCE(MIN(label), 'none') AS first_label,
        MAX_BY(label, x) AS label_of_max, MIN_BY(label, x) AS label_of_min
      FROM shop.v GROUP BY g ORDER BY g`);
    expect(rows).toEqual([
      { g: "a", big: 1, huge: 0, has3: true, share: 0.5, size: "many", top: 3, first_label: "one", label_of_max: "three", label_of_min: "one" },
      { g: "b", big: 1, huge: 0, has3: false, share: 1, size: "few", top: 2, first_label: "two", label_of_max: "two", label_of_min: "two" },
      { g: "c", big: 0, huge: 0, has3: null, share: null, size: "few", top: -1, first_label: "none", label_of_max: null, label_of_min: null },
    ]);
    expect(
      await q(`SELECT LEAST(1, NULL) AS l, GREATEST(1, 3, 2) AS g, CONCAT('a', NULL) AS c, CONCAT('a', 'b', 'c') AS abc,
      REGEXP_REPLACE('order_created_order_', '^order_', '') AS status, REGEXP_REPLACE('a-b-c', '-', '+') AS every, SAFE_DIVIDE(1, 0) AS z`),
    ).toEqual([{ l: null, g: 3, c: null, abc: "abc", status: "created_order_", every: "a+b+c", z: null }]);
  });

  it("ARRAY_AGG(STRUCT(...) ORDER BY ... LIMIT 1)[OFFSET(0)], ARRAY_AGG(DISTINCT ... IGNORE NULLS), ARRAY(SELECT ...), SAFE_OFFSET", async () => {
    await q("CREATE TABLE shop.ev (id STRING, k STRING, t INT64)");
    await q("INSERT INTO shop.ev VALUES ('e1', 'a', 2), ('e2', 'a', 5), ('e3', 'a', 5), ('e4', 'b', 1), ('e5', NULL, 0)");
    const rows = await q(`SELECT k,
        ARRAY_AGG(STRUCT(id, t AS tt) ORDER BY t DESC, id DESC LIMIT 1)[OFFSET(0)].id AS last_id,
        ARRAY_AGG(STRUCT(id, t AS tt) ORDER BY t DESC, id DESC LIMIT 1)[OFFSET(0)] AS last
      FROM shop.ev WHERE k IS NOT NULL GROUP BY k ORDER BY k`);
    expect(rows).toEqual([
      { k: "a", last_id: "e3", last: { id: "e3", tt: 5 } },
      { k: "b", last_id: "e4", last: { id: "e4", tt: 1 } },
    ]);
    const [agg] = await q(`SELECT ARRAY_AGG(DISTINCT k IGNORE NULLS ORDER BY k) AS ks, ARRAY(SELECT x * 2 FROM UNNEST([1, 2]) AS x ORDER BY x) AS doubled,
      ARRAY(SELECT 1 FROM UNNEST([1]) AS x WHERE FALSE) AS empty, [10, 20][SAFE_OFFSET(5)] AS missing, [10, 20][ORDINAL(2)] AS second FROM shop.ev`);
    expect(agg).toEqual({ ks: ["a", "b"], doubled: [2, 4], empty: [], missing: null, second: 20 });
    expect((await failure("SELECT [10, 20][OFFSET(2)] AS x")).message).toMatch(/Array index 2 is out of bounds/);
  });

  it("windows, PERCENTILE_CONT ... OVER, QUALIFY, SELECT * EXCEPT, STRUCT(a, b AS c), casts, JSON and base64 round trips", async () => {
    await q("CREATE TABLE shop.h (d STRING, hours FLOAT64, id STRING)");
    await q("INSERT INTO shop.h VALUES ('x', 1, 'a'), ('x', 2, 'b'), ('x', 4, 'c'), ('y', 10, 'd')");
    const p = await q(
      `SELECT DISTINCT d, PERCENTILE_CONT(hours, 0.5) OVER (PARTITION BY d) AS p50, PERCENTILE_CONT(hours, 0.95) OVER (PARTITION BY d) AS p95 FROM shop.h ORDER BY d`,
    );
    expect(p).toEqual([
      { d: "x", p50: 2, p95: 3.8 },
      { d: "y", p50: 10, p95: 10 },
    ]);
    const w = await q(`SELECT * EXCEPT (hours), SUM(hours) OVER (PARTITION BY d ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
      FROM shop.h WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY d ORDER BY hours DESC) <= 2 ORDER BY d, id`);
    expect(w).toEqual([
      { d: "x", id: "b", running: 3 },
      { d: "x", id: "c", running: 7 },
      { d: "y", id: "d", running: 10 },
    ]);
    expect(
      await q(`SELECT STRUCT(d, hours AS h) AS s, CAST(12 AS STRING) AS s12, CAST('12' AS INT64) AS i12, SAFE_CAST('x' AS INT64) AS bad,
      TO_JSON_STRING(PARSE_JSON('{"a": [1, 2]}')) AS j, TO_BASE64(FROM_BASE64('d3Jh')) AS b64 FROM shop.h WHERE id = 'd'`),
    ).toEqual([{ s: { d: "y", h: 10 }, s12: "12", i12: 12, bad: null, j: '{"a":[1,2]}', b64: "d3Jh" }]);
  });

  it("orders NULLs first ascending and last descending, divides as FLOAT64, fails on division by zero, names unnamed columns f0_", async () => {
    expect((await q("SELECT x FROM UNNEST([2, NULL, 1]) AS x ORDER BY x")).map((r) => r.x)).toEqual([null, 1, 2]);
    expect((await q("SELECT x FROM UNNEST([2, NULL, 1]) AS x ORDER BY x DESC")).map((r) => r.x)).toEqual([2, 1, null]);
    expect(await q("SELECT 5 / 2, 'it\\'s' AS s, r'\\d+' AS raw, \"dq\" AS dq # a comment\n")).toEqual([{ f0_: 2.5, s: "it's", raw: "\\d+", dq: "dq" }]);
    expect((await failure("SELECT 1 / 0 AS x")).message).toMatch(/division by zero: 1 \/ 0/);
  });
});

describe("DML", () => {
  it("MERGE with WHEN MATCHED AND ... UPDATE, NOT MATCHED INSERT and NOT MATCHED BY SOURCE DELETE; INSERT SELECT, UPDATE, DELETE", async () => {
    await q("CREATE TABLE shop.stock (sku STRING NOT NULL, qty INT64, note STRING)");
    await q(
      "INSERT INTO shop.stock (sku, qty) SELECT p.s, p.n FROM UNNEST([STRUCT('a' AS s, 1 AS n), STRUCT('b' AS s, 2 AS n), STRUCT('c' AS s, 3 AS n)]) AS p",
    );
    const merged = await job(`MERGE shop.stock T
      USING (SELECT 'a' AS sku, 10 AS qty UNION ALL SELECT 'b', 0 UNION ALL SELECT 'd', 4) S
      ON T.sku = S.sku
      WHEN MATCHED AND S.qty > 0 THEN UPDATE SET qty = S.qty, note = 'updated'
      WHEN NOT MATCHED BY SOURCE AND T.qty >= 3 THEN DELETE
      WHEN NOT MATCHED THEN INSERT (sku, qty) VALUES (S.sku, S.qty)`);
    expect(fake.jobs.get(merged)!.statistics.query).toMatchObject({ statementType: "MERGE", numDmlAffectedRows: "3" });
    const rows = async () => (await q("SELECT sku, qty, note FROM shop.stock ORDER BY sku")).map((r) => [r.sku, r.qty, r.note]);
    expect(await rows()).toEqual([
      ["a", 10, "updated"],
      ["b", 2, null],
      ["d", 4, null],
    ]);
    await q("UPDATE shop.stock SET qty = qty + 1 WHERE sku IN ('b', 'd')");
    await q("DELETE shop.stock WHERE qty > 9");
    expect(await rows()).toEqual([
      ["b", 3, null],
      ["d", 5, null],
    ]);
    expect((await failure("DELETE FROM shop.stock")).message).toMatch(/Syntax error|must have a WHERE/);
  });
});

describe("scripts", () => {
  beforeEach(() => q("CREATE TABLE shop.ledger (id STRING NOT NULL, amount INT64)"));
  const ledger = async () => (await fake.rows(`${PROJECT}.shop.ledger`)).map((r) => r.id).sort();

  it("a transaction commits all its statements, and one that fails midway leaves nothing", async () => {
    await job("BEGIN TRANSACTION;\nINSERT INTO shop.ledger VALUES ('a', 1);\nINSERT INTO shop.ledger VALUES ('b', 2);\nCOMMIT TRANSACTION;");
    expect(await ledger()).toEqual(["a", "b"]);
    const failing = job(
      "BEGIN TRANSACTION;\nINSERT INTO shop.ledger VALUES ('c', 3);\nDELETE FROM shop.ledger WHERE id = 'a';\nINSERT INTO shop.ledger VALUES (NULL, 4);\nCOMMIT TRANSACTION;",
    );
    await expect(failing).rejects.toThrow(/NOT NULL constraint failed: ledger\.id \(statement 4: INSERT INTO shop\.ledger VALUES \(NULL, 4\)\)/);
    expect(await ledger()).toEqual(["a", "b"]);
    const j = [...fake.jobs.values()].at(-1)!;
    expect(j.status.errorResult?.reason).toBe("invalidQuery");
    expect(j.statements.map((s) => s.original)).toEqual([
      "BEGIN TRANSACTION",
      "INSERT INTO shop.ledger VALUES ('c', 3)",
      "DELETE FROM shop.ledger WHERE id = 'a'",
      "INSERT INTO shop.ledger VALUES (NULL, 4)",
    ]);
    expect(j.statements[1]!.duckdb).toEqual([`INSERT INTO "shop"."ledger"\nVALUES ('c', 3)`]);
  });

  it("outside a transaction the statements before a failure stay; a script ending inside one is rolled back and fails", async () => {
    await expect(
      job("INSERT INTO shop.ledger VALUES ('a', 1);\nINSERT INTO shop.ledger VALUES (NULL, 2);\nINSERT INTO shop.ledger VALUES ('c', 3);"),
    ).rejects.toThrow(/NOT NULL/);
    expect(await ledger()).toEqual(["a"]);
    await expect(job("BEGIN TRANSACTION;\nINSERT INTO shop.ledger VALUES ('b', 2);")).rejects.toThrow(/ended inside a transaction/);
    expect(await ledger()).toEqual(["a"]);
  });

  it("an unsupported construct anywhere in a script fails it before anything runs", async () => {
    await expect(job("INSERT INTO shop.ledger VALUES ('a', 1);\nSELECT APPROX_COUNT_DISTINCT(id) FROM shop.ledger;")).rejects.toThrow(
      "fake BigQuery: function APPROX_COUNT_DISTINCT is not supported",
    );
    expect(await ledger()).toEqual([]);
    expect([...fake.jobs.values()].at(-1)!.statements).toEqual([]);
  });

  it("DECLARE and SET: typed script variables, defaults from queries, gone after the job; the result is the last SELECT", async () => {
    await q("INSERT INTO shop.ledger VALUES ('a', 5), ('b', 7)");
    const id = await job(`DECLARE total INT64 DEFAULT (SELECT SUM(amount) FROM shop.ledger);
      DECLARE ids ARRAY<STRING> DEFAULT (SELECT ARRAY_AGG(id ORDER BY id) FROM shop.ledger);
      DECLARE days ARRAY<DATE> DEFAULT ARRAY(SELECT PARSE_DATE('%F', k) FROM UNNEST(['2026-03-01']) AS k);
      DECLARE none INT64;
      DECLARE x, y INT64 DEFAULT 3;
      SET total = total * 2;
      SELECT total, ids, days, none IS NULL AS none_null, (SELECT COUNT(*) FROM shop.ledger WHERE id IN UNNEST(ids)) AS n, x + y AS xy`);
    const [rows] = await bq.job(id).getQueryResults();
    expect(rows.map((r: any) => ({ ...r, days: r.days.map((d: { value: string }) => d.value) }))).toEqual([
      { total: 24, ids: ["a", "b"], days: ["2026-03-01"], none_null: true, n: 2, xy: 6 },
    ]);
    expect(fake.jobs.get(id)!.statistics.query.statementType).toBe("SCRIPT");
    expect((await failure("SELECT total")).message).toMatch(/total/);
    expect((await failure("SELECT 1; DECLARE late INT64;")).message).toBe("Variable declarations are allowed only at the start of a block or script");
  });
});

describe("load jobs", () => {
  const load = async (table: string, uri: string, extra: Record<string, unknown>) => {
    const [j] = await bq.createJob({
      configuration: {
        load: {
          sourceUris: [uri],
          destinationTable: { projectId: PROJECT, datasetId: "shop", tableId: table },
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          ...extra,
        },
      },
    });
    await j.promise();
  };
  const schema = {
    fields: [
      { name: "id", type: "STRING", mode: "REQUIRED" },
      { name: "at", type: "TIMESTAMP" },
      { name: "tags", type: "STRING", mode: "REPEATED" },
      { name: "doc", type: "JSON" },
    ],
  };

  it("CREATE_IF_NEEDED with the load's schema, WRITE_APPEND adds, WRITE_TRUNCATE replaces; values typed by the schema", async () => {
    fake.objects.set(
      "b/one.ndjson",
      Buffer.from('{"id":"a","at":"2026-11-25T10:00:00.000Z","tags":["x"],"doc":{"k":1}}\n{"id":"b","at":"2026-11-25 12:00:00+02:00"}\n'),
    );
    fake.objects.set("b/two.ndjson", Buffer.from('{"id":"c"}\n'));
    await load("l", "gs://b/one.ndjson", { schema, createDisposition: "CREATE_IF_NEEDED" });
    await load("l", "gs://b/two.ndjson", { writeDisposition: "WRITE_APPEND" });
    expect(await fake.rows(`${PROJECT}.shop.l`)).toEqual([
      { id: "a", at: "2026-11-25T10:00:00.000Z", tags: ["x"], doc: { k: 1 } },
      { id: "b", at: "2026-11-25T10:00:00.000Z", tags: [], doc: null },
      { id: "c", at: null, tags: [], doc: null },
    ]);
    await load("l", "gs://b/two.ndjson", { writeDisposition: "WRITE_TRUNCATE" });
    expect((await fake.rows(`${PROJECT}.shop.l`)).map((r) => r.id)).toEqual(["c"]);
  });

  it("a line with a missing required field, an unknown field, or a missing dataset fails the whole load", async () => {
    fake.objects.set("b/bad.ndjson", Buffer.from('{"id":"a"}\n{"at":"2026-11-25T10:00:00Z"}\n'));
    await expect(load("l", "gs://b/bad.ndjson", { schema })).rejects.toThrow(/row 2: JSON parsing error: Missing required field: id/);
    fake.objects.set("b/extra.ndjson", Buffer.from('{"id":"a","colour":"red"}\n'));
    await expect(load("l", "gs://b/extra.ndjson", { schema })).rejects.toThrow(/No such field: colour/);
    await expect(load("l", "gs://b/missing.ndjson", { schema })).rejects.toThrow(/Not found: URI gs:\/\/b\/missing.ndjson/);
    expect(await fake.tables()).toEqual([]);
    await q("DROP SCHEMA shop");
    fake.objects.set("b/ok.ndjson", Buffer.from('{"id":"a"}\n'));
    await expect(load("l", "gs://b/ok.ndjson", { schema })).rejects.toThrow(`Not found: Dataset ${PROJECT}:shop`);
  });
});

describe("the wire format", () => {
  it("sends schema fields with BigQuery's type names and every value as BigQuery does", async () => {
    const res = await fetch(`${fake.endpoint}/bigquery/v2/projects/${PROJECT}/queries`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        useLegacySql: false,
        formatOptions: { useInt64Timestamp: true },
        query: `SELECT 9007199254740993 AS big, 0.1 AS f, CAST('NaN' AS FLOAT64) AS nan, NUMERIC '1.50' AS num, TRUE AS b, b'hi' AS byt,
          DATE '2026-11-25' AS d, TIMESTAMP '2026-11-25 10:00:00.000001+00' AS t, JSON '{"a": 1}' AS j,
          [1, 2] AS l, CAST(NULL AS ARRAY<INT64>) AS nl, [STRUCT(1 AS x, 'a' AS y)] AS rs, CAST(NULL AS STRING) AS n`,
      }),
    });
    const body = (await res.json()) as any;
    expect(body.schema.fields.map((f: any) => `${f.name}:${f.type}:${f.mode}`)).toEqual([
      "big:INTEGER:NULLABLE",
      "f:FLOAT:NULLABLE",
      "nan:FLOAT:NULLABLE",
      "num:NUMERIC:NULLABLE",
      "b:BOOLEAN:NULLABLE",
      "byt:BYTES:NULLABLE",
      "d:DATE:NULLABLE",
      "t:TIMESTAMP:NULLABLE",
      "j:JSON:NULLABLE",
      "l:INTEGER:REPEATED",
      "nl:INTEGER:REPEATED",
      "rs:RECORD:REPEATED",
      "n:STRING:NULLABLE",
    ]);
    expect(body.rows).toEqual([
      {
        f: [
          { v: "9007199254740993" },
          { v: "0.1" },
          { v: "NaN" },
          { v: "1.5" },
          { v: "true" },
          { v: "aGk=" },
          { v: "2026-11-25" },
          { v: "1795600800000001" },
          { v: '{"a":1}' },
          { v: [{ v: "1" }, { v: "2" }] },
          { v: [] },
          { v: [{ v: { f: [{ v: "1" }, { v: "a" }] } }] },
          { v: null },
        ],
      },
    ]);
    expect(body.totalRows).toBe("1");
  });

  it("TIMESTAMP as float seconds when the client does not ask for int64, parsed to the same instant; pages of getQueryResults", async () => {
    const sql = "SELECT TIMESTAMP '2026-11-25 10:00:00.125+00' AS t";
    const [asInt] = await bq.query({ query: sql });
    const [asFloat] = await bq.query({ query: sql }, { "formatOptions.useInt64Timestamp": false } as never);
    expect(ts(asFloat[0].t)).toBe(ts(asInt[0].t));
    expect(ts(asInt[0].t)).toBe("2026-11-25T10:00:00.125Z");
    const [j] = await bq.createQueryJob({ query: "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 5)) AS x ORDER BY x" }).catch(() => [undefined]);
    expect(j).toBeDefined(); // the job is created; GENERATE_ARRAY has no rule, so it fails when polled
    await expect(j!.promise()).rejects.toThrow("fake BigQuery: function GENERATE_ARRAY is not supported");
    const id = await job("SELECT x FROM UNNEST([5, 4, 3, 2, 1]) AS x ORDER BY x");
    const [page, next] = await bq.job(id).getQueryResults({ maxResults: 2, autoPaginate: false });
    expect(page.map((r: any) => r.x)).toEqual([1, 2]);
    const [all] = await bq.job(id).getQueryResults();
    expect(all.map((r: any) => r.x)).toEqual([1, 2, 3, 4, 5]);
    expect(next).toBeTruthy();
  });
});

describe("refusing what it does not translate", () => {
  const cases: [string, string][] = [
    ["SELECT 1 << 2 AS x", "operator <<"],
    ["SELECT [1, 2][0] AS x", "an array subscript without OFFSET or ORDINAL (or a JSON subscript)"],
    ["SELECT AS STRUCT 1 AS a", "SELECT AS STRUCT"],
    ["SELECT TIMESTAMP_TRUNC(CURRENT_TIMESTAMP(), WEEK) AS w", "TIMESTAMP_TRUNC with date part WEEK"],
    ["SELECT FORMAT_TIMESTAMP('%Ez', CURRENT_TIMESTAMP()) AS f", "format element %E in FORMAT_TIMESTAMP"],
    ["SELECT FORMAT_TIMESTAMP('%F', CURRENT_TIMESTAMP(), 'America/New_York') AS f", "FORMAT_TIMESTAMP with a time zone other than UTC"],
    ["SELECT STRUCT(1 + 1) AS s", "a STRUCT field without a name (1 + 1)"],
    ["SELECT STRING_AGG(x, ',' LIMIT 1) FROM UNNEST(['a']) AS x", "STRING_AGG(... LIMIT ...)"],
    ["SELECT x FROM UNNEST([1]) AS x WITH OFFSET AS o", "unnest with offset expr in FROM"],
    ["CREATE TEMP TABLE t (a INT64)", "CREATE TEMP TABLE"],
    ["CREATE TABLE shop.t (a INT64) OPTIONS (kms_key_name = 'k')", "OPTIONS(kms_key_name)"],
    ["EXECUTE IMMEDIATE 'SELECT 1'", "statement EXECUTE IMMEDIATE"],
    ["SELECT * FROM shop.t FOR SYSTEM_TIME AS OF CURRENT_TIMESTAMP()", "for system time as of expr in FROM"],
    ["SELECT * FROM `ecom-test.shop.t*`", "wildcard tables"],
  ];
  for (const [sql, construct] of cases) {
    it(`${sql}: invalidQuery "${construct} is not supported", nothing run`, async () => {
      const e = await failure(sql);
      expect(e).toEqual({ reason: "invalidQuery", message: `fake BigQuery: ${construct} is not supported` });
    });
  }

  it("the translation of a repository statement is reproducible: the same DuckDB text each time, with quoted names", () => {
    const sql = "SELECT read, `date` FROM `ecom-test.ops.batches` WHERE batch_name = @b";
    const params = new Map([["b", { kind: "STRING" as const }]]);
    const once = translateScript(sql, { project: PROJECT, params });
    expect(translateScript(sql, { project: PROJECT, params })).toEqual(once);
    expect(once).toEqual([
      {
        kind: "query",
        original: sql,
        duckdb: [`SELECT "read" AS "read", "date" AS "date" FROM "ops"."batches" WHERE ("batch_name" = $b)`],
        params: ["b"],
        declares: [],
      },
    ]);
  });
});
