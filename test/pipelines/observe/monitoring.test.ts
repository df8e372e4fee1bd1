/**
 * The monitoring files are generated from the objectives and committed:
 * - the committed files are exactly what `ecom monitoring generate` writes now
 *   (change slo.ts or alerts.ts without regenerating and this fails);
 * - alerts.yml (read with the yaml library) holds every rule, each with a
 *   severity, a summary and a runbook that is a heading of the README;
 * - the Terraform (read with @cdktf/hcl2json) holds one Cloud Monitoring policy
 *   per Prometheus rule with the same PromQL, `for` and labels, and the
 *   production backlog policies on Pub/Sub's own metrics;
 * - every Silver and Gold table has a freshness objective;
 * - promtool runs the rule tests of infra/monitoring/tests (every alert fires
 *   when it should and stays quiet when it should) and they pass; without
 *   promtool they are skipped, except under CI=true, where that fails.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { GOLD_MODELS } from "../../../gold/models/index.js";
import { alertRules, promDuration, rulePromQL } from "../../../pipelines/observe/alerts.js";
import { monitoringFiles } from "../../../pipelines/observe/monitoring-files.js";
import { FRESHNESS, SLO } from "../../../pipelines/observe/slo.js";
import { DOMAINS } from "../../../schemas/registry.js";
import { EVENT_TABLES, qualified, STATE_TABLES } from "../../../schemas/silver.js";

const DIR = path.resolve("infra/monitoring");
/** A Terraform interpolation as hcl2json renders it. */
const tfRef = (name: string) => `\${${name}}`;
const read = (name: string) => fs.readFileSync(path.join(DIR, name), "utf8");

interface PromRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** GitHub's anchor of a heading: lower case, spaces to dashes, punctuation dropped. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

describe("infra/monitoring", () => {
  it("is what the generator writes now (run `ecom monitoring generate` and commit)", () => {
    for (const [name, text] of Object.entries(monitoringFiles())) expect(read(name), `infra/monitoring/${name} is stale`).toBe(text);
  });

  it("alerts.yml: every rule, with severity, summary and a runbook heading of the README", () => {
    const doc = parseYaml(read("alerts.yml")) as { groups: { name: string; rules: PromRule[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(alertRules().map((r) => r.alert));
    const headings = new Set(
      fs
        .readFileSync("README.md", "utf8")
        .split("\n")
        .filter((l) => l.startsWith("#"))
        .map((l) => anchor(l.replace(/^#+/, ""))),
    );
    for (const r of rules) {
      expect(["critical", "warning"]).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.runbook_url).toMatch(/^README\.md#/);
      expect(headings, `README has no heading for ${r.annotations.runbook_url}`).toContain(r.annotations.runbook_url.split("#")[1]);
    }
  });

  it("the Terraform: one PromQL policy per rule with the same query, and the Pub/Sub backlog policies", async () => {
    const promql = await parseHcl("alert_policies.tf", read("alert_policies.tf"));
    const policies = Object.values(promql.resource.google_monitoring_alert_policy as Record<string, Record<string, unknown>[]>).map((p) => p[0]!);
    const rules = alertRules();
    expect(policies).toHaveLength(rules.length);
    const conditionOf = (p: Record<string, unknown>) =>
      (p.conditions as { condition_prometheus_query_language: Record<string, unknown>[] }[])[0]!.condition_prometheus_query_language[0]!;
    for (const r of rules) {
      const p = policies.find((x) => conditionOf(x).alert_rule === r.alert && conditionOf(x).query === rulePromQL(r));
      expect(p, `no policy for ${rulePromQL(r)}`).toBeDefined();
      const cond = conditionOf(p!);
      expect(cond.duration).toBe(`${r.forSeconds}s`);
      expect(cond.labels).toEqual({ severity: r.severity, ...r.labels });
      expect(p!.severity).toBe(r.severity.toUpperCase());
      expect(p!.notification_channels).toBe(tfRef("var.notification_channels"));
    }

    const native = await parseHcl("pubsub_alert_policies.tf", read("pubsub_alert_policies.tf"));
    const filters = Object.values(native.resource.google_monitoring_alert_policy as Record<string, Record<string, unknown>[]>).map(
      (p) => (p[0]!.conditions as { condition_threshold: { filter: string; threshold_value: number }[] }[])[0]!.condition_threshold[0]!,
    );
    expect(Object.fromEntries(filters.map((f) => [/metric\.type = "([^"]+)"/.exec(f.filter)?.[1], f.threshold_value]))).toEqual({
      "pubsub.googleapis.com/subscription/oldest_unacked_message_age": SLO.backlog.oldestUnackedAgeSeconds,
      "pubsub.googleapis.com/subscription/num_undelivered_messages": SLO.backlog.messages,
    });
    expect(filters.every((f) => f.filter.includes(`resource.label.subscription_id = "${tfRef("var.subscription_id")}"`))).toBe(true);
    const vars = await parseHcl("variables.tf", read("variables.tf"));
    expect(Object.keys(vars.variable).sort()).toEqual(["notification_channels", "project_id", "subscription_id"]);
  });

  it("every Silver and Gold table has a freshness objective; orders, payments and revenue within 10 minutes", () => {
    const tables = [...DOMAINS.map((d) => qualified(EVENT_TABLES[d])), ...STATE_TABLES.map((t) => qualified(t)), ...GOLD_MODELS.map((m) => `gold.${m.name}`)];
    expect(FRESHNESS.map((f) => f.table).sort()).toEqual([...tables].sort());
    for (const t of ["silver.order_events", "silver.payment_events", "silver.orders", "silver.payments", "gold.daily_revenue", "gold.payment_health"]) {
      expect(FRESHNESS.find((f) => f.table === t)).toMatchObject({ seconds: 600, severity: "critical" });
    }
    expect(promDuration(93_600)).toBe("1d2h");
  });

  it("terraform fmt finds nothing to change (skipped without terraform)", () => {
    const tf = spawnSync("terraform", ["version"], { encoding: "utf8" });
    if (tf.error) return;
    const tmp = fs.mkdtempSync(path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "ecom-tf-")), "m"));
    for (const f of fs.readdirSync(DIR).filter((n) => n.endsWith(".tf"))) fs.copyFileSync(path.join(DIR, f), path.join(tmp, f));
    const r = spawnSync("terraform", ["fmt", "-check", "-diff", tmp], { encoding: "utf8" });
    expect(r.status, r.stdout).toBe(0);
  });
});

const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const noPromtool = Boolean(promtool.error);
if (noPromtool && process.env.CI === "true") {
  throw new Error("CI=true and promtool is missing: install Debian's prometheus package (.ci/run does) so the alert rule tests run");
}

describe.skipIf(noPromtool)("promtool", () => {
  const tests = fs
    .readdirSync(path.join(DIR, "tests"))
    .filter((n) => n.endsWith(".yml"))
    .map((n) => path.join("tests", n));

  it("checks the rules", () => {
    const out = execFileSync("promtool", ["check", "rules", "alerts.yml"], { cwd: DIR, encoding: "utf8" });
    expect(out).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it("runs the rule tests: each alert fires when it should and stays quiet when it should", () => {
    const r = spawnSync("promtool", ["test", "rules", ...tests], { cwd: DIR, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect((r.stdout + r.stderr).match(/SUCCESS/g)).toHaveLength(tests.length);
  });

  it("every alert is tested, firing at least once", () => {
    const tested = new Map<string, boolean>();
    for (const t of tests) {
      const doc = parseYaml(fs.readFileSync(path.join(DIR, t), "utf8")) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      };
      for (const a of doc.tests.flatMap((x) => x.alert_rule_test)) tested.set(a.alertname, (tested.get(a.alertname) ?? false) || a.exp_alerts.length > 0);
    }
    for (const name of new Set(alertRules().map((r) => r.alert))) expect(tested.get(name), `${name} has no firing test`).toBe(true);
  });
});
