/**
 * Retention on a real data dir: generated traffic at six points spread over
 * seven years, ingested into real Bronze files and a real DuckDB file, then
 * `runRetention`. The expectations are counted by the test itself (its own
 * cutoffs, SQL and a walk of the Bronze folder), never taken from the code
 * under test: what is older than each cutoff is gone, what is newer stays,
 * deleted = before - after, the dry run lists exactly what the run then
 * deletes and deletes nothing, the audit table and folder are untouched, a
 * second run deletes nothing, a Gold rebuild afterwards changes no figure.
 * The CLI is checked on the built binary, with a running instance too.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goldOf } from "../../gold/register.js";
import { goldRoutes } from "../../gold/routes.js";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { type RetentionReport, runRetention } from "../../jobs/retention.js";
import { openRuntime } from "../../jobs/runtime.js";
import type { Engine } from "../../pipelines/local/engine.js";
import { serveEngine } from "../../pipelines/local/instance.js";
import { DEFAULT_RETENTION } from "../../schemas/retention.js";
import { takeMessages } from "../../sources/dev/generator/index.js";
import { tempDir, writeNdjson } from "../helpers/data.js";

const CLI = path.resolve("dist/cli/main.js");
const DAY = 86_400_000;
const NOW = Date.now();
const POLICY = { ...DEFAULT_RETENTION, silverYears: 3 };

/** The test's own cutoffs: the UTC day so many calendar years back. */
function yearsAgo(years: number): string {
  const d = new Date(NOW);
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.toISOString().slice(0, 10);
}
const BRONZE_CUTOFF = yearsAgo(5);
const SILVER_CUTOFF = yearsAgo(3);

/** Noon UTC, `days` days before today. */
const daysAgo = (days: number) => new Date(Math.floor(NOW / DAY) * DAY - days * DAY + 12 * 3_600_000);

/** Points in time, oldest first: two before Bronze's cutoff, two between the cutoffs, two kept everywhere. */
const CHUNKS = [
  { name: "7y", start: daysAgo(7 * 366) },
  { name: "5y+20d", start: daysAgo(5 * 366 + 20) },
  { name: "4y", start: daysAgo(4 * 365) },
  { name: "3y+10d", start: daysAgo(3 * 366 + 10) },
  { name: "2y", start: daysAgo(2 * 365) },
  { name: "10d", start: daysAgo(10) },
];

const SILVER_EVENT_TABLES = ["clickstream_events", "order_events", "payment_events", "inventory_events", "customer_events"].map((t) => `silver.${t}`);
const GOLD_DATE_TABLES = ["daily_revenue", "conversion_funnel", "cart_abandonment", "order_fulfilment", "customer_activity"].map((t) => `gold.${t}`);

function bronzeFiles(dataDir: string): string[] {
  const root = path.join(dataDir, "bronze");
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}
const dtOf = (f: string) => /dt=(\d{4}-\d{2}-\d{2})/.exec(f)![1]!;

interface Snapshot {
  count: Record<string, number>;
  old: Record<string, number>;
  claims: number;
  manifests: number;
  gold: Record<string, string>;
  audit: string;
}

describe("retention on a data dir with dates spread over seven years", () => {
  let dir: string;
  let dataDir: string;
  let agedBatches: number;
  let agedClaims: number;
  let before: Snapshot;
  let dry: RetentionReport;
  let afterDry: Snapshot;
  let filesBefore: string[];
  let filesAfterDry: string[];
  let run: RetentionReport;
  let after: Snapshot;
  let filesAfter: string[];
  const auditFile = () => path.join(dataDir, "audit", "2019-03-01.jsonl");

  async function snapshot(engine: Engine): Promise<Snapshot> {
    const n = async (sql: string) => Number((await engine.store.query(sql))[0]!.n);
    const count: Record<string, number> = {};
    const old: Record<string, number> = {};
    for (const t of SILVER_EVENT_TABLES) {
      count[t] = await n(`SELECT count(*) AS n FROM ${t}`);
      old[t] = await n(`SELECT count(*) AS n FROM ${t} WHERE event_date < DATE '${SILVER_CUTOFF}'`);
    }
    for (const [t, c] of [
      ["silver.orders", "last_event_time"],
      ["silver.payments", "last_event_time"],
      ["silver.inventory", "as_of"],
      ["gold.inventory_levels", "as_of"],
    ] as const) {
      count[t] = await n(`SELECT count(*) AS n FROM ${t}`);
      old[t] = await n(`SELECT count(*) AS n FROM ${t} WHERE ${c} < TIMESTAMP '${SILVER_CUTOFF}'`);
    }
    count["ops.subject_index"] = await n(`SELECT count(*) AS n FROM ops.subject_index`);
    old["ops.subject_index"] = await n(`SELECT count(*) AS n FROM ops.subject_index WHERE event_date < DATE '${SILVER_CUTOFF}'`);
    for (const t of GOLD_DATE_TABLES) {
      count[t] = await n(`SELECT count(*) AS n FROM ${t}`);
      old[t] = await n(`SELECT count(*) AS n FROM ${t} WHERE date < DATE '${SILVER_CUTOFF}'`);
    }
    for (const [t, c] of [
      ["gold.revenue_by_minute", "minute"],
      ["gold.payment_health", "hour"],
    ] as const) {
      count[t] = await n(`SELECT count(*) AS n FROM ${t}`);
      old[t] = await n(`SELECT count(*) AS n FROM ${t} WHERE ${c} < TIMESTAMP '${SILVER_CUTOFF}'`);
    }
    count["ops.dead_letters"] = await n(`SELECT count(*) AS n FROM ops.dead_letters`);
    old["ops.dead_letters"] = await n(`SELECT count(*) AS n FROM ops.dead_letters WHERE received_at < now()::TIMESTAMP - INTERVAL 30 DAY`);
    const gold: Record<string, string> = {};
    for (const t of [...GOLD_DATE_TABLES, "gold.revenue_by_minute", "gold.payment_health", "gold.inventory_levels"]) {
      gold[t] = JSON.stringify(await engine.store.query(`SELECT * FROM ${t} ORDER BY ALL`));
    }
    return {
      count,
      old,
      claims: await n(`SELECT count(*) AS n FROM ops.seen_events`),
      manifests: await n(`SELECT count(*) AS n FROM ops.batches`),
      gold,
      audit: JSON.stringify(await engine.store.query(`SELECT seq, entry::VARCHAR AS e, entry_hash, recorded_at FROM ops.privacy_audit ORDER BY seq`)),
    };
  }

  async function withStore<T>(work: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = await openRuntime(dataDir);
    try {
      return await work(engine);
    } finally {
      engine.close();
    }
  }

  beforeAll(async () => {
    dir = tempDir("retention");
    dataDir = path.join(dir, "data");
    const engine = await openRuntime(dataDir);
    try {
      let seed = 100;
      for (const chunk of CHUNKS) {
        const messages = takeMessages({ seed: seed++, ratePerSecond: 200, startTime: chunk.start, duplicateFraction: 0.02, invalidFraction: 0.03 }, 600);
        await ingestFiles(engine, [writeNdjson(path.join(dir, `${chunk.name}.ndjson`), messages)], { batchSize: 5000 });
        // The two oldest chunks' batches are made old too: committed more than five years ago.
        if (chunk.name === "5y+20d") {
          agedBatches = Number((await engine.store.query(`SELECT count(*) AS n FROM ops.batches`))[0]!.n);
          agedClaims = Number((await engine.store.query(`SELECT count(*) AS n FROM ops.seen_events`))[0]!.n);
          await engine.store.conn.run(`UPDATE ops.batches SET committed_at = committed_at - INTERVAL 6 YEAR`);
        }
      }
      await goldOf(engine)!.flush();
      // Half the dead letters were received 40 days ago.
      await engine.store.conn.run(`UPDATE ops.dead_letters SET received_at = received_at - INTERVAL 40 DAY WHERE hash(dl_id) % 2 = 0`);
      // The privacy audit log: entries from long ago, and its folder.
      for (let seq = 1; seq <= 3; seq++) {
        await engine.store.conn.run(
          `INSERT INTO ops.privacy_audit VALUES (${seq}, '{"kind":"erase","request_id":"r${seq}"}', '${"0".repeat(64)}', '${String(seq).repeat(64)}', TIMESTAMP '2019-03-0${seq} 10:00:00')`,
        );
      }
    } finally {
      engine.close();
    }
    fs.mkdirSync(path.dirname(auditFile()), { recursive: true });
    fs.writeFileSync(auditFile(), '{"seq":1}\n');

    before = await withStore(snapshot);
    filesBefore = bronzeFiles(dataDir);
    dry = await runRetention(dataDir, { policy: POLICY, dryRun: true, nowMs: NOW });
    filesAfterDry = bronzeFiles(dataDir);
    afterDry = await withStore(snapshot);
    run = await runRetention(dataDir, { policy: POLICY, dryRun: false, nowMs: NOW });
    filesAfter = bronzeFiles(dataDir);
    after = await withStore(snapshot);
  }, 240_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the data spans the cutoffs: every table has rows older and newer than its cutoff", () => {
    for (const t of [...SILVER_EVENT_TABLES, "ops.subject_index", "ops.dead_letters", "gold.daily_revenue", "gold.revenue_by_minute"]) {
      expect(before.old[t], t).toBeGreaterThan(0);
      expect(before.count[t]! - before.old[t]!, t).toBeGreaterThan(0);
    }
    expect(filesBefore.filter((f) => dtOf(f) < BRONZE_CUTOFF).length).toBeGreaterThan(0);
    expect(filesBefore.filter((f) => dtOf(f) >= BRONZE_CUTOFF && dtOf(f) < SILVER_CUTOFF).length).toBeGreaterThan(0);
  });

  it("reports the cutoffs it applied", () => {
    expect(run.cutoffs.bronze).toBe(BRONZE_CUTOFF);
    expect(run.cutoffs.silver_gold).toBe(SILVER_CUTOFF);
    expect(Date.parse(run.cutoffs.dead_letters)).toBe(NOW - 30 * DAY);
  });

  it("the dry run deletes nothing and lists exactly what the run then deletes", () => {
    expect(filesAfterDry).toEqual(filesBefore);
    expect(afterDry).toEqual(before);
    expect(dry.dry_run).toBe(true);
    expect(dry.tables).toEqual(run.tables);
    expect(dry.bronze).toEqual(run.bronze);
    expect(dry.totals).toEqual(run.totals);
  });

  it("rows older than each cutoff are gone, newer rows stay, and deleted = before - after", () => {
    const reported = new Map(run.tables.map((t) => [t.target, t.rows]));
    for (const t of Object.keys(before.count)) {
      expect(after.old[t], `${t}: nothing older than the cutoff`).toBe(0);
      expect(after.count[t], `${t}: the newer rows stay`).toBe(before.count[t]! - before.old[t]!);
      expect(reported.get(t), `${t}: reported deleted`).toBe(before.count[t]! - after.count[t]!);
    }
    expect(run.totals.rows).toBe(run.tables.reduce((n, t) => n + t.rows, 0));
  });

  it("Bronze partitions before the Bronze cutoff are gone, the others untouched, files counted", () => {
    const gone = filesBefore.filter((f) => dtOf(f) < BRONZE_CUTOFF);
    expect(filesAfter).toEqual(filesBefore.filter((f) => dtOf(f) >= BRONZE_CUTOFF));
    expect(run.bronze.files).toBe(gone.length);
    expect(run.totals.files).toBe(gone.length);
    expect(new Set(run.bronze.list.map((p) => p.partition))).toEqual(new Set(gone.map((f) => f.split("/").slice(0, 2).join("/"))));
    for (const p of run.bronze.list) expect(p.date < BRONZE_CUTOFF).toBe(true);
  });

  it("drops the dedupe claims and manifests of batches older than Bronze whose files are all gone, and no other", () => {
    expect(run.tables.find((t) => t.target === "ops.seen_events")!.rows).toBe(agedClaims);
    expect(run.tables.find((t) => t.target === "ops.batches")!.rows).toBe(agedBatches);
    expect(after.claims).toBe(before.claims - agedClaims);
    expect(after.manifests).toBe(before.manifests - agedBatches);
  });

  it("never touches the privacy audit log, its table or its folder", () => {
    expect(after.audit).toBe(before.audit);
    expect(JSON.parse(after.audit)).toHaveLength(3);
    expect(fs.readFileSync(auditFile(), "utf8")).toBe('{"seq":1}\n');
    expect(run.kept).toContain("ops.privacy_audit");
  });

  it("a second run deletes nothing", async () => {
    const again = await runRetention(dataDir, { policy: POLICY, dryRun: false, nowMs: NOW });
    expect(again.totals).toEqual({ rows: 0, files: 0 });
    expect(bronzeFiles(dataDir)).toEqual(filesAfter);
  });

  it("a Gold rebuild after retention gives the same figures, but for new_customers, which counts first activity in the retained Silver", async () => {
    const rebuilt = await withStore(async (engine) => {
      await goldOf(engine)!.gold.rebuild();
      return snapshot(engine);
    });
    const { "gold.customer_activity": activityRebuilt, ...othersRebuilt } = rebuilt.gold;
    const { "gold.customer_activity": activityAfter, ...othersAfter } = after.gold;
    expect(othersRebuilt).toEqual(othersAfter);
    type Activity = { date: string; active_customers: number; new_customers: number; logins: number; failed_logins: number };
    const was = JSON.parse(activityAfter!) as Activity[];
    const now = JSON.parse(activityRebuilt!) as Activity[];
    expect(now.map((r) => ({ ...r, new_customers: 0 }))).toEqual(was.map((r) => ({ ...r, new_customers: 0 })));
    // Customers first seen in the expired years count as new on their first retained day: the figure grows, never shrinks.
    for (let i = 0; i < was.length; i++) {
      expect(now[i]!.new_customers).toBeGreaterThanOrEqual(was[i]!.new_customers);
      expect(now[i]!.new_customers).toBeLessThanOrEqual(now[i]!.active_customers);
    }
    expect(now.reduce((n, r) => n + r.new_customers, 0)).toBeGreaterThan(was.reduce((n, r) => n + r.new_customers, 0));
  });
});

describe("ecom retention run on the built CLI", () => {
  let dir: string;
  let dataDir: string;

  beforeAll(async () => {
    dir = tempDir("retention-cli");
    dataDir = path.join(dir, "data");
    const file = writeNdjson(
      path.join(dir, "old.ndjson"),
      takeMessages({ seed: 7, ratePerSecond: 200, startTime: daysAgo(4 * 366), duplicateFraction: 0, invalidFraction: 0 }, 300),
    );
    const engine = await openRuntime(dataDir);
    try {
      await ingestFiles(engine, [file], { batchSize: 5000 });
    } finally {
      engine.close();
    }
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ecom = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, "--data-dir", dataDir], { encoding: "utf8" });

  it("refuses --silver-years outside 3..5 before doing anything (exit 2, named by the flag)", () => {
    const r = ecom("retention", "run", "--silver-years", "6");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--silver-years: must be a whole number from 3 to 5");
  });

  it("--dry-run --json: the last stdout line is one JSON object with counts per target, cutoffs and seconds", () => {
    const r = ecom("retention", "run", "--dry-run", "--json", "--silver-years", "3");
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as RetentionReport;
    expect(report.dry_run).toBe(true);
    expect(report.cutoffs.silver_gold).toBe(SILVER_CUTOFF);
    const orders = report.tables.find((t) => t.target === "silver.order_events")!;
    expect(orders.rows).toBeGreaterThan(0);
    expect(report.totals.rows).toBeGreaterThan(orders.rows);
    expect(report.bronze.files).toBe(0); // four years old: Bronze keeps it
    expect(typeof report.seconds).toBe("number");
  });

  it("with `ecom start` holding the data dir: a dry run goes through the instance, a real run refuses and deletes nothing", async () => {
    const engine = await openRuntime(dataDir);
    const server = await serveEngine(engine, goldRoutes(engine));
    try {
      const count = async () => Number((await engine.store.query(`SELECT count(*) AS n FROM silver.order_events`))[0]!.n);
      const rows = await count();
      // Asynchronous: this process serves the instance the child asks.
      const dryRun = await execFileAsync(process.execPath, [CLI, "retention", "run", "--dry-run", "--json", "--data-dir", dataDir]);
      expect(dryRun.status, dryRun.stderr).toBe(0);
      expect((JSON.parse(dryRun.stdout.trim().split("\n").at(-1)!) as RetentionReport).tables.find((t) => t.target === "silver.order_events")!.rows).toBe(rows);
      const real = await execFileAsync(process.execPath, [CLI, "retention", "run", "--data-dir", dataDir]);
      expect(real.status).toBe(1);
      expect(real.stderr).toMatch(/ecom start \(pid \d+\) is running on .*stop it \(Ctrl-C\) before a retention run/);
      expect(await count()).toBe(rows);
    } finally {
      await server.close();
      engine.close();
    }
  }, 60_000);

  it("a real run prints what it deleted", () => {
    const r = ecom("retention", "run");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/deleted \d+ rows in \d+ tables and 0 Bronze files/);
    expect(
      execFileSync(process.execPath, [CLI, "query", `SELECT count(*) AS n FROM silver.order_events`, "--json", "--data-dir", dataDir], { encoding: "utf8" }),
    ).toContain('"n":0');
  });
});

function execFileAsync(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8" }, (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
