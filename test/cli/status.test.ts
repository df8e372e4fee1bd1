/**
 * `ecom status` without a running instance, on the built CLI: after an
 * ingest and a Gold rebuild it lists every table's freshness against its
 * objective, the latest job runs ops.job_runs holds (a failed ingest too), the
 * committed rates, and no alert; looked at 20 minutes later the tables with
 * objectives under 20 minutes breach and only those; 27 hours later the
 * Gold rebuild is stale as well.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type StatusReport, statusJob } from "../../jobs/status.js";
import { FRESHNESS } from "../../pipelines/observe/slo.js";
import { generated, tempDir, writeNdjson } from "../helpers/data.js";

const CLI = path.resolve("dist/cli/main.js");
const ecom = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ECOM_LOG_LEVEL: "warn" } });

describe("ecom status (no instance)", () => {
  const tmp = tempDir("status");
  const dataDir = path.join(tmp, "data");
  const file = writeNdjson(path.join(tmp, "events.ndjson"), generated(2000, 21));

  it("reports freshness, rates and job runs from the store, and the alerts one look decides", async () => {
    expect(ecom("ingest", file, "--data-dir", dataDir, "--json").status).toBe(0);
    expect(ecom("gold", "rebuild", "--data-dir", dataDir).status).toBe(0);
    // A run that fails inside the job (a corrupt gzip file) is recorded as failed.
    const corrupt = path.join(tmp, "corrupt.ndjson.gz");
    fs.writeFileSync(corrupt, '{"not":"gzip"}\n');
    expect(ecom("ingest", corrupt, "--data-dir", dataDir).status).toBe(1);

    const run = ecom("status", "--data-dir", dataDir, "--json");
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as StatusReport;
    expect(r.source).toBe("store");
    expect(r.freshness.map((f) => f.table)).toEqual(FRESHNESS.map((f) => f.table));
    for (const f of r.freshness) expect(f, f.table).toMatchObject({ ok: true, slo_seconds: FRESHNESS.find((x) => x.table === f.table)!.seconds });
    expect(r.freshness.every((f) => f.seconds !== null && f.seconds < 120)).toBe(true);
    expect(r.rates.batches).toBeGreaterThan(0);
    expect(r.rates.events_per_s).toBe(Math.round((2000 / 300) * 10) / 10);
    expect(r.alerts).toEqual([]);
    expect(Object.fromEntries(r.jobs.map((j) => [j.job, j.outcome]))).toEqual({ ingest: "failed", gold_rebuild: "succeeded" });
    const ingest = r.jobs.find((j) => j.job === "ingest")!;
    expect(ingest.error).toBe("incorrect header check");
    expect(Date.parse(ingest.last_success_at!)).toBeLessThanOrEqual(Date.parse(ingest.finished_at));

    // The text page says the same.
    const text = ecom("status", "--data-dir", dataDir).stdout;
    expect(text).toContain("No ecom start runs on this data dir");
    expect(text).toMatch(/silver\.orders\s+\S+ s\s+10\.0 min\s+ok/);
    expect(text).toMatch(/ingest\s+failed/);

    const later = await statusJob(dataDir, Date.now() + 20 * 60_000);
    const breached = later.alerts.filter((a) => a.name === "EcomTableFreshnessBreach").map((a) => a.labels.table);
    expect(breached.sort()).toEqual(
      FRESHNESS.filter((f) => f.seconds < 20 * 60)
        .map((f) => f.table)
        .sort(),
    );
    expect(
      later.freshness
        .filter((f) => !f.ok)
        .map((f) => f.table)
        .sort(),
    ).toEqual(breached.sort());

    const dayLater = await statusJob(dataDir, Date.now() + 27 * 3600_000);
    expect(dayLater.alerts.filter((a) => a.name === "EcomJobStale").map((a) => a.labels.job)).toEqual(["gold_rebuild"]);
  });
});
