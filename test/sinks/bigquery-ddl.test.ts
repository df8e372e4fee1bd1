/**
 * The tables are declared once (schemas/silver.ts, schemas/ops.ts) and both
 * backends are created from the declarations: the BigQuery DDL the
 * deployer runs (`ecom deploy --print-ddl`) parses as BigQuery SQL and has
 * every declared column; a fresh DuckDB store has exactly the same tables
 * and columns (but the dedupe store, which only DuckDB needs).
 */
import { parse } from "sql-parser-cst";
import { afterAll, describe, expect, it } from "vitest";
import { OPS_TABLES } from "../../schemas/ops.js";
import { EVENT_TABLES, STATE_TABLES } from "../../schemas/silver.js";
import { qualified } from "../../schemas/table.js";
import { allBigQueryDdl, bigqueryTables } from "../../sinks/bigquery/ddl.js";
import { DuckDbStore } from "../../sinks/duckdb/store.js";
import { tempDir } from "../helpers/data.js";

const datasets = { project: "acme-shop", silver: "silver", ops: "ops", staging: "staging" };

describe("BigQuery DDL", () => {
  const ddl = allBigQueryDdl(datasets);

  it("parses as BigQuery SQL, every statement", () => {
    for (const sql of ddl) expect(() => parse(sql, { dialect: "bigquery" }), sql.slice(0, 80)).not.toThrow();
    // The parser is strict enough to matter: a DuckDB-only construct fails.
    expect(() => parse("CREATE VIEW v AS SELECT arg_max(a, b) FILTER (WHERE c) FROM t GROUP BY ALL EXCLUDE (x)", { dialect: "bigquery" })).toThrow();
  });

  it("creates every declared table with every declared column: events partitioned by event_date, state tables clustered by key", () => {
    for (const t of bigqueryTables()) {
      const dataset = t.schema === "silver" ? "silver" : "ops";
      const sql = ddl.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS \`acme-shop.${dataset}.${t.name}\``));
      expect(sql, qualified(t)).toBeDefined();
      for (const c of t.columns) expect(sql, `${qualified(t)}.${c.name}`).toMatch(new RegExp(`^  ${c.name} `, "m"));
    }
    for (const t of Object.values(EVENT_TABLES)) expect(ddl.find((s) => s.includes(`.silver.${t.name}\``))).toMatch(/PARTITION BY event_date/);
    for (const t of STATE_TABLES) {
      const key = t.columns.filter((c) => c.key).map((c) => c.name);
      expect(ddl.find((s) => s.includes(`.silver.${t.name}\``))).toContain(`CLUSTER BY ${t.clusterBy!.join(", ")}`);
      expect(t.clusterBy![0]).toBe(key[0]);
    }
    // The ops tables BigQuery has: every declared one but DuckDB's dedupe store.
    const ops = ddl.filter((s) => s.includes("`acme-shop.ops.")).map((s) => /\.ops\.([a-z_]+)`/.exec(s)![1]);
    expect(ops.sort()).toEqual(
      OPS_TABLES.filter((t) => t.only !== "duckdb")
        .map((t) => t.name)
        .sort(),
    );
  });
});

describe("DuckDB from the same declarations", () => {
  const dir = tempDir("ddl");
  let store: DuckDbStore | undefined;
  afterAll(() => store?.close());

  it("has the declared tables, each with the declared columns in order", async () => {
    store = await DuckDbStore.open(`${dir}/ecom.duckdb`);
    const rows = await store.query(
      `SELECT schema_name || '.' || table_name AS t, list(column_name ORDER BY column_index) AS cols FROM duckdb_columns() WHERE schema_name IN ('silver', 'ops') GROUP BY 1`,
    );
    const actual = new Map(rows.map((r) => [r.t as string, r.cols as string[]]));
    const declared = [...Object.values(EVENT_TABLES), ...STATE_TABLES, ...OPS_TABLES.filter((t) => t.only !== "bigquery")];
    for (const t of declared) expect(actual.get(qualified(t)), qualified(t)).toEqual(t.columns.map((c) => c.name));
    expect([...actual.keys()].sort()).toEqual(declared.map(qualified).sort());
  });
});
