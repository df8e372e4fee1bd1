/**
 * `ecom query` is a trust boundary on both of its paths: the running
 * instance's HTTP port (a real server started by serveEngine, as `ecom start`
 * does) and the DuckDB file opened when nothing runs. The same statements go
 * both ways into a real data dir: each refused class is refused with a
 * message that says what is allowed, and changes nothing (row counts) and
 * writes or reads no file; the allowed ones return the right rows. Over the
 * port, every refused statement is also sent without the token, with a wrong
 * token, with a foreign Origin and with a foreign Host.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goldRoutes } from "../../gold/routes.js";
import { runQuery } from "../../jobs/query.js";
import { openRuntime } from "../../jobs/runtime.js";
import type { Engine } from "../../pipelines/local/engine.js";
import { type InstanceInfo, serveEngine } from "../../pipelines/local/instance.js";
import { generated, tempDir } from "../helpers/data.js";
import { instanceInfo, postQuery, rawRequest } from "../helpers/instance.js";
import { type Row, rowCounts, withStoreFile } from "../helpers/store.js";

const CLI = path.resolve("dist/cli/main.js");
const exec = promisify(execFile);
const ALLOWED = /only one read-only statement is allowed per query \(SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN\); got /;

const tmp = tempDir("guard");
const data = path.join(tmp, "data");
const kekPath = path.join(data, "keys", "kek.json");
const copyTarget = path.join(tmp, "stolen.csv");
const attachTarget = path.join(tmp, "other.duckdb");
const exportTarget = path.join(tmp, "export");

/** [what, SQL, the refusal it gets]. */
const REFUSED: [string, string, RegExp][] = [
  ["DELETE", "DELETE FROM silver.order_events", /got DELETE$/],
  ["UPDATE", "UPDATE silver.order_events SET currency = 'XXX'", /got UPDATE$/],
  ["INSERT", "INSERT INTO ops.batches SELECT * FROM ops.batches", /got INSERT$/],
  ["CREATE", "CREATE TABLE main.copied AS SELECT * FROM silver.customer_events", /got CREATE$/],
  ["DROP", "DROP TABLE silver.order_events", /got DROP$/],
  ["DELETE of the key table", "DELETE FROM ops.subject_keys", /got DELETE$/],
  ["ATTACH", `ATTACH '${attachTarget}' AS other`, /got ATTACH$/],
  ["COPY TO a file", `COPY silver.customer_events TO '${copyTarget}'`, /got COPY$/],
  ["EXPORT DATABASE", `EXPORT DATABASE '${exportTarget}'`, /got EXPORT$/],
  ["SET", "SET threads = 1", /got SET$/],
  ["RESET", "RESET threads", /got RESET$/],
  ["PRAGMA", "PRAGMA version", /got PRAGMA$/],
  ["INSTALL", "INSTALL httpfs", /got INSTALL$/],
  ["LOAD", "LOAD httpfs", /got LOAD$/],
  ["CALL", "CALL pragma_version()", /got CALL$/],
  ["CHECKPOINT", "CHECKPOINT", /got CHECKPOINT$/],
  ["a transaction", "BEGIN TRANSACTION", /got BEGIN$/],
  ["two statements", "SELECT 1; DELETE FROM silver.order_events", /got 2 statements$/],
  ["EXPLAIN ANALYZE DELETE", "EXPLAIN ANALYZE DELETE FROM silver.order_events", /got EXPLAIN ANALYZE DELETE$/],
  ["read_text of the KEK file", `SELECT * FROM read_text('${kekPath}')`, /the table function read_text\(\) is not allowed/],
  ["the key table", "SELECT * FROM ops.subject_keys", /ops\.subject_keys holds key material and cannot be queried/],
  ["the key table, counted, in other case", 'SELECT count(*) FROM OPS."Subject_Keys"', /ops\.subject_keys holds key material/],
  ["the key table in a subquery", "SELECT (SELECT wrapped_key FROM ops.subject_keys LIMIT 1) AS k", /ops\.subject_keys holds key material/],
  ["the key table summarized", "SUMMARIZE ops.subject_keys", /ops\.subject_keys holds key material/],
  ["the key table through query()", "SELECT * FROM query('SELECT * FROM ops.subject_keys')", /the table function query\(\) is not allowed/],
  ["the key table through query_table()", "SELECT * FROM query_table('ops.subject_keys')", /the table function query_table\(\) is not allowed/],
  ["a table function that changes the database", "SELECT * FROM enable_logging()", /the table function enable_logging\(\) is not allowed/],
  // DuckDB's grammar has no data-modifying CTE: the parser refuses it.
  ["a CTE wrapping a DELETE", "WITH d AS (DELETE FROM silver.order_events RETURNING *) SELECT count(*) AS n FROM d", /^Parser Error: A CTE needs a SELECT/],
];

type Outcome = { ok: true; rows: Row[] } | { ok: false; message: string };

interface QueryPath {
  name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  query(sql: string): Promise<Outcome>;
  counts(): Promise<Record<string, number>>;
}

let engine: Engine | undefined;
let info: InstanceInfo;
let close: (() => Promise<void>) | undefined;
let baseline: Record<string, number>;
let kekText: string;

const viaInstance: QueryPath = {
  name: "through the running instance",
  setUp: async () => {
    engine = await openRuntime(data);
    close = (await serveEngine(engine, goldRoutes(engine))).close;
    info = instanceInfo(data);
  },
  tearDown: async () => {
    await close?.();
    engine?.close();
    engine = undefined;
  },
  query: async (sql) => {
    const res = await postQuery(info, sql);
    if (res.status === 200) return { ok: true, rows: JSON.parse(res.body) as Row[] };
    expect(res.status, res.body).toBe(400);
    return { ok: false, message: res.body };
  },
  counts: () => rowCounts((sql) => engine!.store.query(sql)),
};

const onTheFile: QueryPath = {
  name: "on the file (no instance running)",
  setUp: async () => undefined,
  tearDown: async () => undefined,
  query: async (sql) => {
    try {
      return { ok: true, rows: await runQuery(data, sql) };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  },
  counts: () => withStoreFile(data, rowCounts),
};

beforeAll(async () => {
  const e = await openRuntime(data);
  try {
    const messages = generated(1200, 31);
    await e.processBatch(
      messages.map((m, i) => ({ data: m.data, origin: `test:${i}`, receivedAtMs: Date.now() })),
      "test",
    );
  } finally {
    e.close();
  }
  baseline = await withStoreFile(data, rowCounts);
  kekText = JSON.parse(fs.readFileSync(kekPath, "utf8")).key as string;
});

it("the fixture has rows in every watched table, key material included", () => {
  for (const [t, n] of Object.entries(baseline)) expect(n, t).toBeGreaterThan(0);
});

for (const p of [viaInstance, onTheFile]) {
  describe(p.name, () => {
    beforeAll(() => p.setUp());
    afterAll(() => p.tearDown());

    for (const [what, sql, refusal] of REFUSED) {
      it(`refuses ${what} and changes nothing`, async () => {
        const out = await p.query(sql);
        expect(out.ok, JSON.stringify(out)).toBe(false);
        const message = (out as { message: string }).message;
        expect(message).toMatch(refusal);
        if (/^got /.test(refusal.source)) expect(message).toMatch(ALLOWED);
        expect(message).not.toContain(kekText);
        expect(await p.counts()).toEqual(baseline);
        for (const f of [copyTarget, attachTarget, exportTarget]) expect(fs.existsSync(f), f).toBe(false);
      });
    }

    it("stops a file read the guard lets through (a path as a table name) by DuckDB's own configuration", async () => {
      const out = await p.query(`SELECT * FROM '${kekPath}'`);
      expect(out).toEqual({ ok: false, message: expect.stringMatching(/^Permission Error: .*disabled by configuration/) });
      expect((out as { message: string }).message).not.toContain(kekText);
    });

    it("keeps row values out of error messages", async () => {
      const sample = await p.query(
        `SELECT (SELECT decode(raw) FROM ops.dead_letters WHERE reason = 'schema_violation' LIMIT 1) AS raw, (SELECT currency FROM silver.order_events WHERE currency IS NOT NULL LIMIT 1) AS currency`,
      );
      const { raw, currency } = (sample as { rows: Row[] }).rows[0] as { raw: string; currency: string };
      expect(raw.length).toBeGreaterThan(12);
      expect(currency).toMatch(/^[A-Z]{3}$/);
      const cast = await p.query(`SELECT CAST(currency AS INTEGER) FROM silver.order_events`);
      expect(cast).toEqual({ ok: false, message: expect.stringMatching(/^Conversion Error: Could not convert string '…' to INT32/) });
      expect((cast as { message: string }).message).not.toContain(`'${currency}'`);
      const thrown = await p.query(`SELECT error(decode(raw)) FROM ops.dead_letters`);
      expect(thrown).toEqual({ ok: false, message: expect.stringMatching(/^Invalid Input Error \(the rest of the message is withheld/) });
      expect((thrown as { message: string }).message).not.toContain(raw.slice(0, 12));
    });

    it("answers SELECT, WITH, FROM-first, DESCRIBE, SHOW, SUMMARIZE and EXPLAIN with the right rows", async () => {
      const rows = async (sql: string) => {
        const out = await p.query(sql);
        expect(out.ok, `${sql}: ${JSON.stringify(out)}`).toBe(true);
        return (out as { rows: Row[] }).rows;
      };
      const orders = baseline["silver.order_events"];
      expect(await rows("SELECT count(*) AS n FROM silver.order_events")).toEqual([{ n: orders }]);
      expect(await rows("WITH t AS (SELECT event_type, count(*) AS n FROM silver.order_events GROUP BY 1) SELECT sum(n)::BIGINT AS n FROM t")).toEqual([
        { n: orders },
      ]);
      expect(await rows("FROM silver.order_events SELECT count(*) AS n")).toEqual([{ n: orders }]);
      const columns = (await rows("DESCRIBE silver.order_events")).map((r) => r.column_name);
      expect(columns).toEqual(expect.arrayContaining(["event_id", "order_id", "total_minor", "currency"]));
      expect(await rows("SHOW ALL TABLES")).toEqual(expect.arrayContaining([expect.objectContaining({ schema: "silver", name: "order_events" })]));
      expect(await rows("SHOW TABLES")).toEqual([]); // the main schema holds nothing
      expect((await rows("SUMMARIZE silver.order_events")).map((r) => r.column_name)).toEqual(expect.arrayContaining(columns));
      expect((await rows("EXPLAIN SELECT count(*) FROM silver.order_events"))[0]).toMatchObject({ explain_key: "physical_plan" });
      expect((await rows("EXPLAIN ANALYZE SELECT count(*) FROM silver.order_events"))[0]).toMatchObject({ explain_key: "analyzed_plan" });
      expect(await p.counts()).toEqual(baseline);
    });

    it("the ecom query command gives the same answers and refusals", async () => {
      const cli = (sql: string) => exec(process.execPath, [CLI, "query", "--json", "--data-dir", data, sql]);
      const { stdout } = await cli("SELECT count(*) AS n FROM silver.order_events");
      expect(JSON.parse(stdout)).toEqual([{ n: baseline["silver.order_events"] }]);
      const refused = await cli("DELETE FROM silver.order_events").catch((err: { code: number; stderr: string }) => err);
      expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ecom: only one read-only statement is allowed per query .*got DELETE/) });
      expect(await p.counts()).toEqual(baseline);
    });

    if (p === viaInstance) {
      it("refuses every statement, refused or not, without the token, with a wrong one, from a foreign Origin or Host", async () => {
        const { port, token } = info;
        const host = `127.0.0.1:${port}`;
        const attempts: [string, Record<string, string>, number][] = [
          ["no token", { host }, 401],
          ["a wrong token", { host, authorization: `Bearer ${token.slice(0, -2)}xx` }, 401],
          ["a foreign Origin", { host, authorization: `Bearer ${token}`, origin: "http://evil.example" }, 403],
          ["a foreign Host", { host: `evil.example:${port}`, authorization: `Bearer ${token}` }, 403],
        ];
        for (const sql of ["SELECT count(*) AS n FROM silver.order_events", ...REFUSED.map(([, s]) => s)]) {
          for (const [how, headers, status] of attempts) {
            const res = await rawRequest(port, { method: "POST", path: "/query", headers, body: sql });
            expect(res.status, `${how}: ${sql}`).toBe(status);
            expect(res.body).not.toContain(token);
            expect(res.body.startsWith("["), "no rows in the answer").toBe(false);
          }
        }
        expect(await p.counts()).toEqual(baseline);
      });
    }
  });
}
