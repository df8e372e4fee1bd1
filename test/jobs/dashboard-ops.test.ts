/**
 * The operations page's figures (jobs/dashboard/ops.ts) over a real metrics
 * registry (prom-client, as `ecom start` builds it) and the real alert
 * evaluator: rates between samples, per-reason dead letters in the window,
 * latency quantiles from the histogram buckets, and the alerts the
 * evaluator holds. The clock is the test's, so every figure is exact.
 */
import { describe, expect, it } from "vitest";
import { OpsSampler, alertStatesOf, histogramQuantile } from "../../jobs/dashboard/ops.js";
import { AlertEvaluator } from "../../pipelines/observe/alert-eval.js";
import { alertRules } from "../../pipelines/observe/alerts.js";
import { PipelineMetrics } from "../../pipelines/observe/metrics.js";

describe("histogramQuantile", () => {
  it("interpolates inside the bucket holding the rank, as Prometheus does", () => {
    const b = [
      { le: 1, count: 10 },
      { le: 2, count: 30 },
      { le: 4, count: 40 },
      { le: Number.POSITIVE_INFINITY, count: 40 },
    ];
    expect(histogramQuantile(0.5, b)).toBe(1.5); // rank 20: half-way through (1, 2]
    expect(histogramQuantile(0.25, b)).toBe(1); // rank 10: the top of the first bucket
    expect(histogramQuantile(0.1, b)).toBeCloseTo(0.4, 12); // rank 4 in (0, 1]
    expect(histogramQuantile(0.99, [...b.slice(0, 3), { le: Number.POSITIVE_INFINITY, count: 50 }])).toBe(4); // in +Inf: the last finite bound
    expect(histogramQuantile(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNull();
  });
});

describe("OpsSampler", () => {
  it("answers rates, dead letters in the window, latency per domain and the evaluator's alerts from a real registry", async () => {
    let now = Date.parse("2026-11-20T10:00:00Z");
    const clock = () => now;
    const metrics = new PipelineMetrics({ processMetrics: false, now: clock });
    const evaluator = new AlertEvaluator(alertRules());
    const sampler = new OpsSampler(
      { metrics: () => metrics.registry.getMetricsAsJSON(), alerts: async () => alertStatesOf(evaluator.alerts()) },
      { everyMs: 1000, now: clock },
    );
    const families = () => metrics.registry.getMetricsAsJSON();

    await sampler.sample();
    evaluator.observe(now, await families());
    metrics.events.inc({ event_type: "page_view", outcome: "valid" }, 900);
    metrics.events.inc({ event_type: "page_view", outcome: "dead_lettered" }, 100);
    metrics.deadLetters.inc({ reason: "schema_violation" }, 100);
    for (let i = 0; i < 100; i++) metrics.ingestLatency.observe({ domain: "clickstream" }, i < 50 ? 0.2 : 0.4); // buckets (0.1, 0.25] and (0.25, 0.5]
    now += 20_000;
    await sampler.sample();
    evaluator.observe(now, await families());
    evaluator.evaluate(now);

    const view = await sampler.view();
    expect(view.metrics_wired).toBe(true);
    expect(view.alerts_wired).toBe(true);
    expect(view.window_seconds).toBe(20);
    expect(view.throughput.events_per_s).toBe(50); // 1000 events over the 20 s since the sample 10 s or more before
    expect(view.throughput.by_outcome).toEqual({ dead_lettered: 5, duplicate: 0, valid: 45 });
    expect(view.events).toEqual([
      { outcome: "dead_lettered", total: 100 },
      { outcome: "duplicate", total: 0 },
      { outcome: "valid", total: 900 },
    ]);
    expect(view.dead_letters.find((d) => d.reason === "schema_violation")).toEqual({ reason: "schema_violation", total: 100, in_window: 100 });
    expect(view.dead_letters.filter((d) => d.reason !== "schema_violation").every((d) => d.total === 0)).toBe(true);
    const click = view.latency.find((l) => l.domain === "clickstream")!;
    expect(click.events).toBe(100);
    expect(click.ingest_p50).toBe(0.25); // rank 50: the top of (0.1, 0.25]
    expect(click.ingest_p99).toBe(0.495); // rank 99: 49 of the 50 through (0.25, 0.5]: 0.25 + 0.25 * 49/50
    // A 10 % dead-letter share is over the objective: the rule holds, pending until its `for` has passed.
    expect(view.alerts).toEqual([
      { name: "EcomDeadLetterRate", severity: expect.any(String), state: "pending", since: new Date(now).toISOString(), summary: expect.any(String) },
    ]);
  });

  it("says when no registry is wired, and answers empty figures", async () => {
    const view = await new OpsSampler({}).view();
    expect([view.metrics_wired, view.alerts_wired, view.events, view.alerts]).toEqual([false, false, [], []]);
  });
});
