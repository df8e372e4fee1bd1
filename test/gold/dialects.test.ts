/**
 * The same Gold models, compiled for each dialect (kysely-style: one suite
 * looped over the dialects): BigQuery output parses with a BigQuery-dialect
 * parser and calls only BigQuery functions; DuckDB output executes. The
 * checked-in infra/bigquery/gold/ files are what the models compile to.
 */
import fs from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { parse } from "sql-parser-cst";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigqueryFiles, refreshSql } from "../../gold/bigquery/compile.js";
import { bigquery } from "../../gold/dialect/bigquery.js";
import { duckdb } from "../../gold/dialect/duckdb.js";
import type { GoldDialect } from "../../gold/dialect/types.js";
import { createGoldTableSql } from "../../gold/duckdb/ddl.js";
import { markSql } from "../../gold/duckdb/executor.js";
import { type FreshRows, type GoldModel, newestEventTimeSql } from "../../gold/model.js";
import { GOLD_MODELS } from "../../gold/models/index.js";
import { type WindowFilter, allWindows, scriptWindows, windowKeyOf, windowsFromKeys } from "../../gold/windows.js";
import { allDdl } from "../../sinks/duckdb/ddl.js";

/** Every function the BigQuery output may call (GoogleSQL names). */
const BIGQUERY_FUNCTIONS = new Set([
  "ARRAY",
  "ARRAY_AGG",
  "COALESCE",
  "COUNT",
  "COUNTIF",
  "CURRENT_TIMESTAMP",
  "DATE",
  "FORMAT_DATE",
  "FORMAT_TIMESTAMP",
  "GREATEST",
  "LEAST",
  "LOGICAL_OR",
  "MAX",
  "MIN",
  "PARSE_DATE",
  "PARSE_TIMESTAMP",
  "PERCENTILE_CONT",
  "ROW_NUMBER",
  "SAFE_DIVIDE",
  "SUM",
  "TIMESTAMP_DIFF",
  "TIMESTAMP_SUB",
  "TIMESTAMP_TRUNC",
]);

function bigqueryParse(sql: string): unknown {
  return parse(sql, { dialect: "bigquery", includeSpaces: false });
}

function functionNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) functionNames(n, out);
  else if (node && typeof node === "object") {
    const n = node as { type?: string; name?: { name?: string } };
    if (n.type === "func_call" && n.name?.name) out.add(n.name.name.toUpperCase());
    for (const v of Object.values(node)) functionNames(v, out);
  }
  return out;
}

/** The window sets a model is compiled with: all, a literal set, and (BigQuery) script variables. */
function windowSets(d: GoldDialect, m: GoldModel): [string, WindowFilter][] {
  const g = m.window.grain;
  const literal: WindowFilter =
    g === "key"
      ? windowsFromKeys(d, g, ["SKU-1", "SKU-O'Brien"])
      : windowsFromKeys(d, g, [
          windowKeyOf(g, Date.UTC(2026, 2, 1, 10, 5)),
          windowKeyOf(g, Date.UTC(2026, 2, 1, 10, 6)),
          windowKeyOf(g, Date.UTC(2026, 2, 3, 23, 59)),
        ]);
  const sets: [string, WindowFilter][] = [
    ["every window", allWindows(g)],
    ["a literal set", literal],
  ];
  if (d.name === "bigquery") sets.push(["script variables", scriptWindows(g, `w_${m.name}`)]);
  return sets;
}

const freshFor = (d: GoldDialect): FreshRows =>
  d.name === "bigquery"
    ? { rows: () => "ingested_at > since", prevNewest: "prev_newest", newest: "newest" }
    : {
        rows: () => "ingested_at BETWEEN TIMESTAMP '2026-03-01 00:00:00' AND TIMESTAMP '2026-03-01 00:00:01'",
        prevNewest: "NULL",
        newest: newestEventTimeSql(),
      };

describe("BigQuery dialect", () => {
  const d = bigquery;
  for (const m of GOLD_MODELS) {
    for (const [label, w] of windowSets(d, m)) {
      it(`gold.${m.name} over ${label} parses as BigQuery SQL and calls only BigQuery functions`, () => {
        const sql = m.select({ d, w, newest: "newest" });
        const ast = bigqueryParse(sql);
        for (const f of functionNames(ast)) expect(BIGQUERY_FUNCTIONS, `${f} in gold.${m.name}`).toContain(f);
        expect(sql).not.toMatch(/::|strftime|date_trunc|count_if|bool_or|quantile_cont|FILTER \(/i);
      });
    }
    it(`gold.${m.name} dirty rules parse as BigQuery SQL`, () => {
      for (const r of m.dirty) for (const f of functionNames(bigqueryParse(r.sql(d, freshFor(d))))) expect(BIGQUERY_FUNCTIONS).toContain(f);
    });
  }

  it("the generated files (DDL, scheduled refresh, rebuild, models) parse and call only BigQuery functions", () => {
    for (const [name, text] of bigqueryFiles()) {
      const ast = bigqueryParse(text);
      for (const f of functionNames(ast)) expect(BIGQUERY_FUNCTIONS, `${f} in ${name}`).toContain(f);
    }
  });

  it("the DDL partitions every time-windowed table by day and clusters on its keys", () => {
    const ddl = bigqueryFiles().get("ddl.sql")!;
    expect(ddl).toMatch(/CREATE TABLE IF NOT EXISTS gold\.daily_revenue \([\s\S]*?\)\nPARTITION BY date\nCLUSTER BY currency/);
    expect(ddl).toMatch(/gold\.revenue_by_minute[\s\S]*?PARTITION BY TIMESTAMP_TRUNC\(minute, DAY\)/);
    expect(ddl).toMatch(/gold\.payment_health[\s\S]*?PARTITION BY TIMESTAMP_TRUNC\(hour, DAY\)\nCLUSTER BY gateway, method/);
    expect(ddl).toMatch(/gold\.inventory_levels \([\s\S]*?\)\nCLUSTER BY sku, warehouse_id/);
  });

  it("the refresh replaces only the touched partitions: one MERGE per table, deleting by the window variables, in one transaction", () => {
    const sql = refreshSql();
    for (const m of GOLD_MODELS) expect(sql).toContain(`MERGE gold.${m.name} AS t`);
    expect(sql).toContain("WHEN NOT MATCHED BY SOURCE AND t.date IN UNNEST(w_daily_revenue_dates) THEN DELETE");
    expect(sql).toContain("WHEN NOT MATCHED BY SOURCE AND TIMESTAMP_TRUNC(t.minute, MINUTE) IN UNNEST(w_revenue_by_minute_starts) THEN DELETE");
    expect(sql).toContain("WHEN NOT MATCHED BY SOURCE AND t.sku IN UNNEST(w_inventory_levels_keys) THEN DELETE");
    expect(sql.indexOf("BEGIN TRANSACTION")).toBeLessThan(sql.indexOf("MERGE gold."));
    expect(sql.trimEnd().endsWith("COMMIT TRANSACTION;")).toBe(true);
  });

  it("infra/bigquery/gold/ holds exactly what the models compile to (regenerate with `ecom gold bigquery`)", () => {
    const dir = path.resolve("infra/bigquery/gold");
    for (const [name, text] of bigqueryFiles()) expect(fs.readFileSync(path.join(dir, name), "utf8"), name).toBe(text);
  });
});

describe("DuckDB dialect", () => {
  const d = duckdb;
  let instance: DuckDBInstance;
  let run: (sql: string) => Promise<unknown>;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    run = (sql) => conn.runAndReadAll(sql);
    for (const sql of allDdl()) await run(sql);
    for (const m of GOLD_MODELS) await run(createGoldTableSql(m));
    await run(`CREATE TABLE IF NOT EXISTS ops.gold_state (name VARCHAR PRIMARY KEY, ts TIMESTAMP)`);
    await run(
      `CREATE TABLE IF NOT EXISTS ops.gold_dirty (model VARCHAR, window_key VARCHAR, batch_id BIGINT, marked_at TIMESTAMP, PRIMARY KEY (model, window_key))`,
    );
  });
  afterAll(() => instance?.closeSync());

  for (const m of GOLD_MODELS) {
    for (const [label, w] of windowSets(d, m)) {
      it(`gold.${m.name} over ${label} executes on DuckDB (INSERT of the model's rows)`, async () => {
        await run(`INSERT INTO gold.${m.name} ${m.select({ d, w, newest: newestEventTimeSql() })}`);
      });
    }
  }

  it("the batch marking statement (every model's dirty rules) executes", async () => {
    const sql = markSql(GOLD_MODELS, {
      batchId: 1n,
      domains: ["clickstream", "order", "payment", "inventory", "customer"],
      ingestedFromMs: 0,
      ingestedToMs: 1,
    });
    await run(sql!);
  });
});

describe("refresh windows", () => {
  it("names windows by UTC day, hour, minute", () => {
    const t = Date.UTC(2026, 2, 1, 23, 59, 59, 999);
    expect(windowKeyOf("day", t)).toBe("2026-03-01");
    expect(windowKeyOf("hour", t)).toBe("2026-03-01 23:00:00");
    expect(windowKeyOf("minute", t)).toBe("2026-03-01 23:59:00");
  });

  it("merges adjacent windows into one range and bounds the scan", () => {
    const w = windowsFromKeys(duckdb, "minute", ["2026-03-01 10:05:00", "2026-03-01 10:06:00", "2026-03-01 10:09:00"]);
    expect(w.time("x")).toBe(
      "(x >= TIMESTAMP '2026-03-01 10:05:00' AND x < TIMESTAMP '2026-03-01 10:10:00' AND " +
        "((x >= TIMESTAMP '2026-03-01 10:05:00' AND x < TIMESTAMP '2026-03-01 10:07:00') OR (x >= TIMESTAMP '2026-03-01 10:09:00' AND x < TIMESTAMP '2026-03-01 10:10:00')))",
    );
    expect(w.date("d")).toBe("d = DATE '2026-03-01'");
  });

  it("rejects a key that is not a window of the grain", () => {
    expect(() => windowsFromKeys(duckdb, "hour", ["2026-03-01 10:05:00"])).toThrow(/not a hour window key/);
  });
});
