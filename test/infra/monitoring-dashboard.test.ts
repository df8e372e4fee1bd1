/**
 * The Cloud Monitoring dashboard (infra/monitoring/dashboard-operations.json,
 * for `gcloud monitoring dashboards create --config-from-file`) shows the
 * operations view over the metrics the code exports: every metric name its
 * PromQL reads is one the registry (pipelines/observe/metrics.ts) exports
 * under that name, every metric the local operations page reads is on it,
 * and its tiles fit the 48-column grid without overlapping.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { OPS_METRICS } from "../../jobs/dashboard/ops.js";
import { PipelineMetrics } from "../../pipelines/observe/metrics.js";

interface Tile {
  xPos?: number;
  yPos?: number;
  width: number;
  height: number;
  widget: Record<string, unknown> & { title?: string };
}
const dashboard = JSON.parse(fs.readFileSync("infra/monitoring/dashboard-operations.json", "utf8")) as {
  displayName: string;
  mosaicLayout: { columns: number; tiles: Tile[] };
};
const tiles = dashboard.mosaicLayout.tiles;

/** Every prometheusQuery in the definition, wherever a widget keeps it. */
function queries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) queries(n, out);
  else if (node && typeof node === "object")
    for (const [k, v] of Object.entries(node)) {
      if (k === "prometheusQuery" && typeof v === "string") out.push(v);
      else queries(v, out);
    }
  return out;
}

/** PromQL's functions, aggregations and keywords these queries may use; any other identifier outside labels is a metric. */
const PROMQL_WORDS = new Set(
  "sum min max avg count topk bottomk rate irate increase histogram_quantile time vector clamp_min clamp_max abs by without on ignoring group_left group_right and or unless bool offset".split(
    " ",
  ),
);

/** The metric names a PromQL expression reads: identifiers left after label matchers, groupings, ranges and strings are removed. */
function metricNames(promql: string): string[] {
  const bare = promql
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const ids = bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [];
  return [...new Set(ids.filter((id) => !PROMQL_WORDS.has(id)))];
}

/** The series names the registry exports: each family, and a histogram's _bucket, _sum and _count. */
async function exportedNames(): Promise<Set<string>> {
  const m = new PipelineMetrics({ processMetrics: false });
  const out = new Set<string>();
  for (const f of await m.registry.getMetricsAsJSON()) {
    if (String(f.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) out.add(f.name + s);
    else out.add(f.name);
  }
  return out;
}

describe("Cloud Monitoring operations dashboard", () => {
  const all = queries(dashboard);

  it("reads only metrics the registry exports", async () => {
    const exported = await exportedNames();
    expect(all.length).toBeGreaterThan(10);
    for (const q of all) {
      const names = metricNames(q);
      expect(names.length, q).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${name} in ${q}`).toBe(true);
    }
  });

  it("shows every metric the local operations page shows, and the open incidents", () => {
    const used = new Set(all.flatMap(metricNames).map((n) => n.replace(/_(bucket|sum|count)$/, "")));
    for (const name of Object.values(OPS_METRICS)) expect(used.has(name), name).toBe(true);
    expect(tiles.some((t) => "incidentList" in t.widget)).toBe(true);
  });

  it("lays its titled tiles on the 48-column grid without overlap", () => {
    expect(dashboard.displayName).toMatch(/ecom-stream/);
    expect(dashboard.mosaicLayout.columns).toBe(48);
    const cells = new Set<string>();
    for (const t of tiles) {
      expect(t.widget.title, JSON.stringify(t.widget).slice(0, 80)).toBeTruthy();
      const x = t.xPos ?? 0;
      const y = t.yPos ?? 0;
      expect(x + t.width, t.widget.title).toBeLessThanOrEqual(48);
      for (let i = x; i < x + t.width; i++)
        for (let j = y; j < y + t.height; j++) {
          expect(cells.has(`${i},${j}`), `${t.widget.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
    }
  });

  it("finds the metric names in PromQL (the parser the checks rely on)", () => {
    expect(metricNames('sum by (le, domain) (rate(ecom_x_bucket{outcome="a b"}[5m])) / on (table) max(ecom_y) or vector(0)')).toEqual([
      "ecom_x_bucket",
      "ecom_y",
    ]);
    expect(metricNames("time() - max by (job) (ecom_job_last_success_timestamp_seconds)")).toEqual(["ecom_job_last_success_timestamp_seconds"]);
  });
});
