/**
 * The erasure's statements as generated for BigQuery: the committed files are
 * what the generator writes now, every statement parses as BigQuery SQL, no
 * value sits in their text (everything a person is found by is a named
 * parameter), and every UPDATE of an event table is pruned to the person's
 * partitions.
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "sql-parser-cst";
import { describe, expect, it } from "vitest";
import { EVENT_TABLES } from "../../schemas/silver.js";
import { erasureScript, finderQueries, privacyBigQueryFiles } from "../../sinks/bigquery/erasure.js";
import { ERASURE_TABLES, ownedPredicate, tokensPattern } from "../../sinks/erasure-sql.js";

describe("the erasure compiled for BigQuery", () => {
  it("infra/bigquery/privacy/ holds exactly what the generator writes (regenerate with `ecom privacy bigquery`)", () => {
    const dir = path.resolve("infra/bigquery/privacy");
    for (const [name, text] of privacyBigQueryFiles()) expect(fs.readFileSync(path.join(dir, name), "utf8"), name).toBe(text);
  });

  it("parses as BigQuery SQL, statement by statement, inside one transaction", () => {
    const script = erasureScript();
    expect(() => parse(script, { dialect: "bigquery", paramTypes: ["@name"] })).not.toThrow();
    for (const sql of finderQueries().values()) expect(() => parse(sql, { dialect: "bigquery", paramTypes: ["@name"] }), sql.slice(0, 60)).not.toThrow();
    expect(script.indexOf("BEGIN TRANSACTION")).toBeLessThan(script.indexOf("UPDATE"));
    expect(script.trimEnd().endsWith("COMMIT TRANSACTION;")).toBe(true);
  });

  it("prunes every event table's UPDATE to the person's partitions and names values only as parameters", () => {
    const updates = erasureScript()
      .split(";\n")
      .filter((s) => s.trim().startsWith("UPDATE"));
    expect(updates).toHaveLength(ERASURE_TABLES.length);
    for (const t of Object.values(EVENT_TABLES)) {
      const u = updates.find((s) => s.includes(`UPDATE silver.${t.name} `))!;
      expect(u, t.name).toContain(`WHERE event_date IN UNNEST(@dates_${t.name}) AND`);
    }
    // No literal but the erased marker and the NULLs: no token, no id, no date in the text.
    for (const u of updates) expect(u.replace(/'\[erased\]'/g, "")).not.toMatch(/'[^']*'/);
  });

  it("owns a row by user, email or phone token, and by anonymous id only when the row has no user", () => {
    const order = ERASURE_TABLES.find((t) => t.table.name === "order_events")!;
    const p = ownedPredicate("bigquery", order.columns);
    expect(p).toContain("(user_token IS NULL AND (anonymous_token IN");
    expect(p).toContain("customer_email_token IN");
    expect(p.split("anonymous_token IN").length).toBe(2);
  });

  it("matches texts only with the person's tokens, whatever else is passed", () => {
    const tok = "tok_AbCdEfGhIjKlMnOpQrStUv";
    expect(tokensPattern([tok, "a'); DROP TABLE x; --", "not a token"])).toBe(`(${tok})`);
    expect(new RegExp(tokensPattern([])).test("anything tok_AbCdEfGhIjKlMnOpQrStUv")).toBe(false);
  });
});
