/**
 * The BigQuery DDL the deployer runs (`ecom deploy --print-ddl`): it parses as
 * BigQuery SQL, and the state views expose the same columns as the local
 * state tables analysts query.
 */
import { parse } from "sql-parser-cst";
import { describe, expect, it } from "vitest";
import { STATE_TABLES } from "../../schemas/silver.js";
import { allBigQueryDdl } from "../../sinks/bigquery/ddl.js";

const datasets = { project: "acme-shop", silver: "silver", ops: "ops", staging: "staging" };

describe("BigQuery DDL", () => {
  const ddl = allBigQueryDdl(datasets);

  it("parses as BigQuery SQL, every statement", () => {
    for (const sql of ddl) expect(() => parse(sql, { dialect: "bigquery" }), sql.slice(0, 80)).not.toThrow();
    // The parser is strict enough to matter: a DuckDB-only construct fails.
    expect(() => parse("CREATE VIEW v AS SELECT arg_max(a, b) FILTER (WHERE c) FROM t GROUP BY ALL EXCLUDE (x)", { dialect: "bigquery" })).toThrow();
  });

  it("creates the event tables partitioned by event_date and the state tables as views", () => {
    for (const t of ["clickstream_events", "order_events", "payment_events", "inventory_events", "customer_events"]) {
      const sql = ddl.find((s) => s.includes(`\`acme-shop.silver.${t}\``) && s.startsWith("CREATE TABLE"));
      expect(sql, t).toMatch(/PARTITION BY event_date/);
    }
    for (const t of STATE_TABLES) {
      const view = ddl.find((s) => s.startsWith(`CREATE OR REPLACE VIEW \`acme-shop.silver.${t.name}\``));
      expect(view, t.name).toBeDefined();
      // Every local column but the recompute time is a column of the view.
      for (const c of t.columns.filter((c) => c.name !== "updated_at")) expect(view, `${t.name}.${c.name}`).toMatch(new RegExp(`\\b${c.name}\\b`));
    }
  });
});
