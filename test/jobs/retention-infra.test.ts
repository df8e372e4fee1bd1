/**
 * The retention policy's production form is generated from the one policy
 * (schemas/retention.ts): the committed files are exactly what the
 * generator writes now, and the numbers in them and in the DDL the repository
 * generates follow the policy.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ddlSql } from "../../gold/bigquery/compile.js";
import { GOLD_MODELS } from "../../gold/models/index.js";
import { retentionTargets } from "../../jobs/retention.js";
import { retentionInfraFiles } from "../../jobs/retention-infra.js";
import { DEFAULT_RETENTION, NEVER_EXPIRED } from "../../schemas/retention.js";
import { EVENT_TABLES } from "../../schemas/silver.js";
import { allBigQueryDdl } from "../../sinks/bigquery/ddl.js";

describe("retention in production", () => {
  it("infra/ holds exactly what the policy generates (regenerate with `ecom retention infra`)", () => {
    for (const [name, text] of retentionInfraFiles()) expect(fs.readFileSync(path.resolve("infra", name), "utf8"), name).toBe(text);
  });

  it("the Bronze lifecycle deletes final objects after five years at least, temporaries after 7 days, staging after 1", () => {
    const rules = (
      JSON.parse(fs.readFileSync("infra/dataflow/bronze-lifecycle.json", "utf8")) as { rule: { condition: { age: number; matchesPrefix: string[] } }[] }
    ).rule;
    const bronze = rules.find((r) => r.condition.matchesPrefix.includes("bronze/event_type="))!;
    expect(bronze.condition.age).toBeGreaterThanOrEqual(5 * 365 + 1);
    expect(bronze.condition.age).toBeLessThanOrEqual(5 * 366);
    expect(rules.find((r) => r.condition.matchesPrefix.includes("bronze/_tmp/"))!.condition.age).toBe(7);
    expect(rules.find((r) => r.condition.matchesPrefix.includes("staging/"))!.condition.age).toBe(1);
  });

  it("a policy change shows in every generated file", () => {
    const five = retentionInfraFiles({ ...DEFAULT_RETENTION, silverYears: 5 });
    expect(five.get("bigquery/retention.sql")).toContain("ALTER TABLE silver.order_events SET OPTIONS (partition_expiration_days = 1827);");
    expect(five.get("bigquery/retention.sql")).toContain("INTERVAL 1827 DAY");
    expect(retentionInfraFiles().get("bigquery/retention.sql")).toContain("ALTER TABLE silver.order_events SET OPTIONS (partition_expiration_days = 1096);");
  });

  it("every Silver event table, the subject index, dead letters and every partitioned Gold table get a partition expiration in their DDL", () => {
    const statements = allBigQueryDdl({ project: "p", silver: "silver", ops: "ops", staging: "ops_staging" });
    const of = (ref: string) => statements.find((x) => x.startsWith(`CREATE TABLE IF NOT EXISTS \`p.${ref}\``))!;
    for (const t of Object.values(EVENT_TABLES)) expect(of(`silver.${t.name}`), t.name).toMatch(/partition_expiration_days = 1096\)$/);
    expect(of("ops.subject_index")).toMatch(/partition_expiration_days = 1096\)$/);
    expect(of("ops.dead_letters")).toMatch(/partition_expiration_days = 30\)$/);
    expect(of("ops.privacy_audit")).not.toContain("partition_expiration_days");
    expect(of("ops.batches")).not.toContain("partition_expiration_days");
    const gold = ddlSql();
    for (const m of GOLD_MODELS.filter((x) => x.bigquery.partitionBy))
      expect(gold).toMatch(new RegExp(`gold\\.${m.name} \\([\\s\\S]*?partition_expiration_days = 1096\\);`));
  });

  it("every Gold table expires (by its partition or a declared column), and no table of the never-expired list is a target", () => {
    const targets = retentionTargets().map((t) => t.table);
    for (const m of GOLD_MODELS) expect(targets).toContain(`gold.${m.name}`);
    for (const t of NEVER_EXPIRED) expect(targets).not.toContain(t);
    expect(NEVER_EXPIRED).toContain("ops.privacy_audit");
  });
});
