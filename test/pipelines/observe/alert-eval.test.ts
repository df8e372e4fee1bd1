/**
 * The local alert evaluation agrees with Prometheus: the synthetic series of
 * the promtool rule tests (infra/monitoring/tests/*.yml) are fed to the
 * AlertEvaluator one sample per interval, and at every eval_time the alerts it
 * has firing are exactly the ones promtool is told to expect (the rules
 * Prometheus alone can run, pipeline down, are left out). Then the
 * transitions: firing once, resolving once, with the summary filled in.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { AlertEvaluator, histogramQuantile, type MetricFamilyJson } from "../../../pipelines/observe/alert-eval.js";
import { alertRules } from "../../../pipelines/observe/alerts.js";

interface RuleTest {
  interval: string;
  input_series: { series: string; values: string }[];
  alert_rule_test: { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] }[];
}

const DIR = path.resolve("infra/monitoring/tests");

/** Prometheus durations as the rule tests write them (1m, 26h10m). */
function seconds(d: string): number {
  let s = 0;
  for (const [, n, u] of d.matchAll(/(\d+)([dhms])/g)) s += Number(n) * { d: 86400, h: 3600, m: 60, s: 1 }[u as "d"];
  return s;
}

/** promtool's expanding notation: `a+bxn` is a, a+b, ... (n+1 values); segments separated by spaces. */
function expand(values: string): number[] {
  const out: number[] = [];
  for (const seg of values.trim().split(/\s+/)) {
    const m = /^(-?[\d.]+)(?:([+-][\d.]+)x(\d+))?$/.exec(seg);
    if (!m) throw new Error(`cannot read series values ${seg}`);
    const [a, step, n] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
    for (let i = 0; i <= n; i++) out.push(a + step * i);
  }
  return out;
}

function parseSeries(s: string): { name: string; labels: Record<string, string> } {
  const m = /^([a-zA-Z_:][\w:]*)\{(.*)\}$/.exec(s)!;
  return { name: m[1]!, labels: Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])) };
}

const local = new Set(
  alertRules()
    .filter((r) => r.local)
    .map((r) => r.alert),
);

describe("AlertEvaluator on the promtool fixtures", () => {
  for (const file of fs.readdirSync(DIR).filter((n) => n.endsWith(".yml"))) {
    const doc = parseYaml(fs.readFileSync(path.join(DIR, file), "utf8")) as { tests: RuleTest[] };
    doc.tests.forEach((t, i) => {
      const checks = t.alert_rule_test.filter((c) => local.has(c.alertname));
      if (checks.length === 0) return;
      it(`${file} #${i + 1}: fires and stays quiet where promtool expects`, () => {
        const step = seconds(t.interval) * 1000;
        const series = t.input_series.map((s) => ({ ...parseSeries(s.series), values: expand(s.values) }));
        const evaluator = new AlertEvaluator(alertRules());
        const until = Math.max(...checks.map((c) => seconds(c.eval_time) * 1000));
        const byTime = new Map(checks.map((c) => [seconds(c.eval_time) * 1000, [] as typeof checks]));
        for (const c of checks) byTime.get(seconds(c.eval_time) * 1000)!.push(c);
        for (let at = 0, k = 0; at <= until; at += step, k++) {
          const families: MetricFamilyJson[] = series
            .filter((s) => k < s.values.length)
            .map((s) => ({ name: s.name, values: [{ labels: s.labels, value: s.values[k]!, metricName: s.name }] }));
          evaluator.observe(at, families);
          evaluator.evaluate(at);
          for (const c of byTime.get(at) ?? []) {
            const firing = evaluator
              .alerts()
              .filter((a) => a.state === "firing" && a.labels.alertname === c.alertname)
              .map(({ labels: { alertname: _, ...rest } }) => rest);
            expect(firing, `${c.alertname} at ${c.eval_time}`).toEqual(expect.arrayContaining(c.exp_alerts.map((e) => e.exp_labels)));
            expect(firing, `${c.alertname} at ${c.eval_time}`).toHaveLength(c.exp_alerts.length);
          }
        }
      });
    });
  }
});

describe("AlertEvaluator transitions", () => {
  it("reports an alert once when it fires and once when it resolves", () => {
    const evaluator = new AlertEvaluator(alertRules());
    const sample = (t: number, age: number) =>
      evaluator.observe(t, [{ name: "ecom_table_freshness_seconds", values: [{ labels: { table: "silver.payments" }, value: age }] }]);
    sample(0, 10);
    expect(evaluator.evaluate(0)).toEqual({ firing: [], resolved: [] });
    sample(60_000, 700);
    const fired = evaluator.evaluate(60_000);
    expect(fired.firing.map((a) => [a.labels, a.annotations.summary])).toEqual([
      [
        { alertname: "EcomTableFreshnessBreach", severity: "critical", objective: "10m", table: "silver.payments" },
        "silver.payments has had no new data for longer than its objective (10m)",
      ],
    ]);
    sample(120_000, 760);
    expect(evaluator.evaluate(120_000)).toEqual({ firing: [], resolved: [] });
    sample(180_000, 5);
    const resolved = evaluator.evaluate(180_000);
    expect(resolved.resolved.map((a) => [a.labels.table, a.activeSince, a.resolvedAt])).toEqual([["silver.payments", 60_000, 180_000]]);
    expect(evaluator.alerts()).toEqual([]);
  });

  it("computes quantiles as histogram_quantile does", () => {
    const b = (le: number, count: number) => ({ le, count });
    expect(histogramQuantile(0.99, [b(1, 0), b(5, 0), b(10, 100), b(Infinity, 100)])).toBeCloseTo(9.95);
    expect(histogramQuantile(0.5, [b(1, 50), b(2, 100), b(Infinity, 100)])).toBe(1);
    expect(histogramQuantile(0.99, [b(1, 0), b(Infinity, 10)])).toBe(1);
    expect(histogramQuantile(0.99, [b(1, 0), b(Infinity, 0)])).toBeUndefined();
  });
});
