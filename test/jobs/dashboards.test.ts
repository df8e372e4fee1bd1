/**
 * The two dashboards in a real browser against a real instance: generated
 * days ingested with `ecom ingest`, then `ecom start` consuming what
 * `ecom generate --publish` sends through the Pub/Sub emulator. Every figure
 * the pages show (their data-value attributes) is compared with what
 * `ecom query` returns for the same range, written here independently of the
 * pages' own SQL. The pages load nothing and call nothing outside the
 * instance's 127.0.0.1 port, log no console error, and update live.
 *
 * Screenshots go to the test's temp dir; DASHBOARD_SCREENSHOTS=<dir> also
 * writes them there (`DASHBOARD_SCREENSHOTS=docs` refreshes the README's).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEARCH_MIN_SESSIONS, TOP_N } from "../../jobs/dashboard/business.js";
import { FRESHNESS } from "../../pipelines/observe/slo.js";
import { DEAD_LETTER_REASONS } from "../../transforms/types.js";
import { type BrowserForTests, chromiumMissing, launchChromium } from "../helpers/browser.js";
import { tempDir } from "../helpers/data.js";
import { withEmulator } from "../helpers/emulator.js";

const CLI = path.resolve("dist/cli/main.js");
const run = promisify(execFile);

const noBrowser = chromiumMissing();
if (noBrowser) console.warn(noBrowser.skip);
const emu = noBrowser ? { skip: "no browser" } : await withEmulator();
if ("skip" in emu && !noBrowser) console.warn(emu.skip);

/** The generated history: 20 000 events from 2026-11-01, one every 12.5 s of event time (about 2.9 days). */
const HISTORY = { count: 20_000, rate: 0.08, seed: 7, start: "2026-11-01T00:00:00Z" };
const RANGE = { from: "2026-11-01", to: "2026-11-03" };
const LIVE = [3000, 2000];

type Row = Record<string, unknown>;

describe.skipIf(noBrowser !== undefined || "skip" in emu)("dashboards in a browser", () => {
  const { host, projectId } = emu as Exclude<typeof emu, { skip: string }>;
  const work = tempDir("dashboards");
  const dataDir = path.join(work, "data");
  const shots = path.join(work, "screenshots");
  const env: NodeJS.ProcessEnv = { ...process.env, ECOM_LOG_LEVEL: "warn", PUBSUB_EMULATOR_HOST: host };
  const topicFlags = ["--project-id", projectId, "--topic", "dash-events"];
  let instance: ChildProcess | undefined;
  let stderr = "";
  let browser: BrowserForTests | undefined;
  let links: { ops: string; business: string };
  let origin: string;

  const cli = async (args: string[]) => (await run(process.execPath, [CLI, ...args], { env, maxBuffer: 64 << 20 })).stdout;
  const query = async (sql: string): Promise<Row[]> => JSON.parse((await cli(["query", "--json", "--data-dir", dataDir, sql])).trim().split("\n").pop()!);
  const n = (v: unknown): number => Number(v ?? 0);

  /** Totals of the batches the instance committed from the subscription. */
  const streamed = async () => {
    const [r] = await query(
      `SELECT count(*) AS batches, sum("read") AS read, sum(valid) AS valid, sum(duplicates) AS duplicates, sum(dead_lettered) AS dead_lettered
       FROM ops.batches WHERE origin LIKE 'pubsub:%'`,
    );
    return { batches: n(r!.batches), read: n(r!.read), valid: n(r!.valid), duplicate: n(r!.duplicates), dead_lettered: n(r!.dead_lettered) };
  };

  const until = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> => {
    const end = Date.now() + ms;
    let v = await read();
    while (!ok(v)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}\n${stderr.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 300));
      v = await read();
    }
    return v;
  };

  const publish = (count: number, seed: number) =>
    cli(["generate", "--publish", "--count", String(count), "--rate", "2000", "--seed", String(seed), ...topicFlags]);

  beforeAll(async () => {
    const file = path.join(work, "history.ndjson");
    // The history has no invalid messages: a live bad message with the same bytes as a stored one is a duplicate, and
    // the metrics know how many of a batch's dead letters the store held before but not which (their reasons could swap).
    await cli([
      "generate",
      "--invalid",
      "0",
      "--out",
      file,
      "--count",
      String(HISTORY.count),
      "--rate",
      String(HISTORY.rate),
      "--seed",
      String(HISTORY.seed),
      "--start-time",
      HISTORY.start,
    ]);
    await cli(["ingest", "--data-dir", dataDir, file]);

    instance = spawn(
      process.execPath,
      [CLI, "start", "--data-dir", dataDir, "--no-generator", "--idle-exit", "600", ...topicFlags, "--subscription", "dash-events-sub"],
      {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    instance.stderr!.on("data", (d: Buffer) => (stderr += d));
    const status = await until(
      "the instance",
      async () => {
        try {
          return JSON.parse(await cli(["dashboard", "--json", "--data-dir", dataDir])) as { running: boolean; links: typeof links };
        } catch {
          return { running: false } as { running: false; links: typeof links };
        }
      },
      (s) => s.running,
    );
    links = status.links;
    origin = new URL(links.ops).origin;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    await publish(LIVE[0]!, 21);
    await until("the first tranche", streamed, (s) => s.read >= LIVE[0]!);
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (instance && instance.exitCode === null) {
      const exited = new Promise((r) => instance!.once("close", r));
      instance.kill("SIGINT");
      await exited;
    }
    if (!("skip" in emu)) await emu.stop();
  }, 60_000);

  /** A page opened through its sign-in link, with every request and console error recorded. */
  async function open(link: string) {
    const page = await browser!.context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(link);
    await page.waitForSelector("[data-status].ok");
    return { page, requests, errors };
  }

  const checkQuiet = (requests: string[], errors: string[]) => {
    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((u) => !u.startsWith(origin + "/"))).toEqual([]);
  };

  const table = (page: Page, name: string): Promise<({ key: string } & Record<string, string | null>)[]> =>
    page.$$eval(`tbody[data-table="${name}"] tr[data-key]`, (trs) =>
      trs.map((tr) => ({
        key: tr.getAttribute("data-key")!,
        ...Object.fromEntries(
          [...tr.querySelectorAll("td[data-field]")].map((td) => [td.getAttribute("data-field")!, td.getAttribute("data-value") ?? td.textContent]),
        ),
      })),
    );
  const figure = (page: Page, name: string, key?: string) =>
    page.$eval(key === undefined ? `[data-figure="${name}"]:not([data-key])` : `[data-figure="${name}"][data-key="${key}"]`, (e) =>
      e.getAttribute("data-value"),
    );
  const num = (v: unknown): number | null => (v === null || v === undefined || v === "" ? null : Number(v));

  const screenshot = async (page: Page, name: string) => {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, name), fullPage: true });
    const keep = process.env.DASHBOARD_SCREENSHOTS;
    if (keep) fs.copyFileSync(path.join(shots, name), path.join(path.resolve(keep), name));
  };

  it("operations: event outcomes, dead letters, batches, freshness, job runs and drift equal SQL, and update live", async () => {
    const { page, requests, errors } = await open(links.ops);
    const eventsShown = async () => Object.fromEntries((await table(page, "events")).map((r) => [r.key, num(r.total)]));

    // Outcomes since the instance started = the batches it committed from the subscription.
    let sql = await streamed();
    await until(
      "the page's event totals",
      eventsShown,
      (e) => e.valid === sql.valid && e.duplicate === sql.duplicate && e.dead_lettered === sql.dead_lettered,
      20_000,
    );

    const deadSql = new Map(
      (await query(`SELECT reason, count(*) AS n FROM ops.dead_letters WHERE origin LIKE 'pubsub:%' GROUP BY reason`)).map((r) => [r.reason as string, n(r.n)]),
    );
    const dead = await table(page, "dead_letters");
    expect(dead.map((r) => r.key).sort()).toEqual([...DEAD_LETTER_REASONS].sort());
    for (const r of dead) expect([r.key, num(r.total)]).toEqual([r.key, deadSql.get(r.key) ?? 0]);
    expect(num(await figure(page, "dead_letters.total"))).toBe([...deadSql.values()].reduce((a, b) => a + b, 0));
    expect(sql.dead_lettered).toBeGreaterThan(0); // the generator sends invalid messages: the comparison is not of zeros

    expect(num(await figure(page, "batch_commit.batches"))).toBe(sql.batches);
    const p50 = num(await figure(page, "batch_commit.p50"))!;
    const p99 = num(await figure(page, "batch_commit.p99"))!;
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50);

    // Latency per domain: every domain the subscription delivered has a row, with p50 <= p99.
    const domains = (
      await query(`WITH live AS (SELECT CAST(event_id AS VARCHAR) AS event_id FROM ops.seen_events JOIN ops.batches USING (batch_id) WHERE origin LIKE 'pubsub:%')
         SELECT DISTINCT d FROM (
           SELECT 'clickstream' AS d FROM silver.clickstream_events WHERE event_id IN (SELECT event_id FROM live) UNION ALL
           SELECT 'order' FROM silver.order_events WHERE event_id IN (SELECT event_id FROM live) UNION ALL
           SELECT 'payment' FROM silver.payment_events WHERE event_id IN (SELECT event_id FROM live) UNION ALL
           SELECT 'inventory' FROM silver.inventory_events WHERE event_id IN (SELECT event_id FROM live) UNION ALL
           SELECT 'customer' FROM silver.customer_events WHERE event_id IN (SELECT event_id FROM live)) ORDER BY d`)
    ).map((r) => r.d as string);
    const latency = await table(page, "latency");
    expect(domains.length).toBeGreaterThan(1);
    for (const d of domains) {
      const row = latency.find((l) => l.key === d);
      expect(row, d).toBeDefined();
      expect(num(row!.ingest_p50)).toBeGreaterThan(0);
      expect(num(row!.ingest_p99)).toBeGreaterThanOrEqual(num(row!.ingest_p50)!);
      expect(num(row!.e2e_p99)).toBeGreaterThanOrEqual(num(row!.e2e_p50)!);
    }

    // Freshness: every table of the SLO file with its objective; the age is now - newest commit as SQL reads it.
    const fresh = await table(page, "freshness");
    expect(fresh.map((f) => [f.key, num(f.slo_seconds)]).sort()).toEqual(FRESHNESS.map((f) => [f.table, f.seconds]).sort());
    const generatedAt = Date.parse((await page.getAttribute("[data-status]", "data-updated"))!);
    const [newest] = await query(`SELECT epoch_ms(max(ingested_at)) AS ms FROM silver.order_events`);
    const orders = fresh.find((f) => f.key === "silver.order_events")!;
    expect(Math.abs(num(orders.seconds)! - (generatedAt - n(newest!.ms)) / 1000)).toBeLessThan(2.5);
    expect(orders.status).toBe("ok");

    // Job runs: the ingest run of the history, as ops.job_runs has it.
    const runsSql = await query(
      `SELECT job, count(*) FILTER (WHERE outcome = 'succeeded') AS ok, count(*) FILTER (WHERE outcome = 'failed') AS ko,
              strftime(max(finished_at) FILTER (WHERE outcome = 'succeeded'), '%Y-%m-%dT%H:%M:%S.%g') AS last FROM ops.job_runs GROUP BY job ORDER BY job`,
    );
    expect(runsSql.map((r) => r.job)).toContain("ingest");
    const jobs = await table(page, "jobs");
    const ran = new Map(runsSql.map((r) => [r.job as string, { succeeded: n(r.ok), failed: n(r.ko) }]));
    expect(jobs.map((j) => j.key)).toEqual(expect.arrayContaining([...ran.keys()]));
    for (const j of jobs) expect([j.key, JSON.parse(j.runs!)]).toEqual([j.key, ran.get(j.key) ?? { succeeded: 0, failed: 0 }]);
    for (const r of runsSql) expect(jobs.find((j) => j.key === r.job)!.last_success).toBe(`${r.last}Z`);

    // Drift: distinct unknown paths per type (zero for every type the SQL has none of).
    const driftSql = new Map(
      (await query(`SELECT event_type, count(DISTINCT field_path) AS n FROM ops.schema_drift GROUP BY event_type`)).map((r) => [
        r.event_type as string,
        n(r.n),
      ]),
    );
    for (const r of await table(page, "schema_drift")) expect([r.key, num(r.fields)]).toEqual([r.key, driftSql.get(r.key) ?? 0]);

    // Drained: nothing held. The alert state is not wired into this instance yet, and the page says so.
    expect(num(await figure(page, "backlog.messages"))).toBe(0);
    expect(await figure(page, "alerts.firing")).toBe("");
    expect(await page.textContent('tbody[data-table="alerts"]')).toContain("no alert evaluator wired");

    // Live: the second tranche reaches the page without a reload, and the throughput series saw it.
    const before = sql.read;
    await publish(LIVE[1]!, 22);
    const shownWhileStreaming = await until(
      "throughput on the page",
      async () => num(await figure(page, "throughput.events_per_s")),
      (v) => (v ?? 0) > 0,
      30_000,
    );
    expect(shownWhileStreaming).toBeGreaterThan(0);
    await screenshot(page, "dashboard-operations.png");
    sql = await until("the second tranche", streamed, (s) => s.read >= before + LIVE[1]!);
    await until(
      "the page's event totals after the second tranche",
      eventsShown,
      (e) => e.valid === sql.valid && e.duplicate === sql.duplicate && e.dead_lettered === sql.dead_lettered,
      20_000,
    );
    checkQuiet(requests, errors);
    await page.close();
  });

  it("business: revenue, funnel, abandonment, payments, top products and searches for a chosen range equal SQL", async () => {
    const { page, requests, errors } = await open(links.business);
    const [{ d: latest }] = (await query(
      `SELECT CAST(max(d) AS VARCHAR) AS d FROM (SELECT max(date) AS d FROM gold.daily_revenue UNION ALL SELECT max(date) FROM gold.conversion_funnel
       UNION ALL SELECT max(date) FROM gold.cart_abandonment)`,
    )) as [{ d: string }];
    await until(
      "the default range",
      async () => figure(page, "range.to"),
      (v) => v === latest,
      20_000,
    );

    // Choose the range in the date inputs, as a person does.
    await page.fill('input[name="from"]', RANGE.from);
    await page.fill('input[name="to"]', RANGE.to);
    await page.locator('input[name="to"]').blur();
    await until(
      "the chosen range on the page",
      async () => [await figure(page, "range.from"), await figure(page, "range.to")],
      ([f, t]) => f === RANGE.from && t === RANGE.to,
      20_000,
    );
    expect(new URL(page.url()).search).toBe(`?from=${RANGE.from}&to=${RANGE.to}`);
    expect(num(await figure(page, "range.days"))).toBe(3);
    const days = `BETWEEN DATE '${RANGE.from}' AND DATE '${RANGE.to}'`;

    const revenueSql = await query(
      `SELECT currency, sum(orders) AS orders, sum(gross_minor) AS gross, sum(refunds_minor) AS refunds, sum(net_minor) AS net
       FROM gold.daily_revenue WHERE date ${days} GROUP BY currency ORDER BY currency`,
    );
    expect(revenueSql.length).toBeGreaterThan(1);
    const revenue = await table(page, "revenue");
    expect(revenue.map((r) => [r.key, num(r.orders), num(r.gross), num(r.refunds), num(r.net)])).toEqual(
      revenueSql.map((r) => [r.currency, n(r.orders), n(r.gross), n(r.refunds), n(r.net)]),
    );
    for (const r of revenueSql) expect(num(await figure(page, "revenue.net", r.currency as string))).toBe(n(r.net));
    expect(num(await figure(page, "orders.total"))).toBe(revenueSql.reduce((s, r) => s + n(r.orders), 0));

    const [f] = await query(
      `SELECT sum(sessions) AS sessions, sum(viewed) AS viewed, sum(searched) AS searched, sum(added_to_cart) AS added_to_cart, sum(ordered) AS ordered, sum(paid) AS paid
       FROM gold.conversion_funnel WHERE date ${days}`,
    );
    const funnel = Object.fromEntries((await table(page, "funnel")).map((r) => [r.key, num(r.sessions)]));
    expect(funnel).toEqual({
      sessions: n(f!.sessions),
      viewed: n(f!.viewed),
      searched: n(f!.searched),
      added_to_cart: n(f!.added_to_cart),
      ordered: n(f!.ordered),
      paid: n(f!.paid),
    });
    expect(num(await figure(page, "funnel.conversion_rate"))).toBeCloseTo(n(f!.ordered) / n(f!.sessions), 12);

    const [a] = await query(`SELECT sum(carts) AS carts, sum(ordered) AS ordered, sum(abandoned) AS abandoned FROM gold.cart_abandonment WHERE date ${days}`);
    expect(n(a!.carts)).toBeGreaterThan(0);
    for (const k of ["carts", "ordered", "abandoned"]) expect([k, num(await figure(page, `abandonment.${k}`))]).toEqual([k, n(a![k])]);
    expect(num(await figure(page, "abandonment.open"))).toBe(n(a!.carts) - n(a!.ordered) - n(a!.abandoned));
    expect(num(await figure(page, "abandonment.rate"))).toBeCloseTo(n(a!.abandoned) / n(a!.carts), 12);

    const paySql = await query(
      `SELECT gateway, sum(initiated) AS initiated, sum(succeeded) AS ok, sum(failed) AS ko FROM gold.payment_health
       WHERE hour >= TIMESTAMP '${RANGE.from} 00:00:00' AND hour < TIMESTAMP '${RANGE.to} 00:00:00' + INTERVAL 1 DAY GROUP BY gateway ORDER BY gateway`,
    );
    expect(paySql.length).toBeGreaterThan(1);
    const pay = await table(page, "payments");
    expect(pay.map((p) => [p.key, num(p.initiated), num(p.succeeded), num(p.failed)])).toEqual(
      paySql.map((r) => [r.gateway, n(r.initiated), n(r.ok), n(r.ko)]),
    );
    for (const r of paySql) {
      const shown = num(pay.find((p) => p.key === r.gateway)!.success_rate);
      if (n(r.ok) + n(r.ko) === 0) expect(shown).toBeNull();
      else expect(shown).toBeCloseTo(n(r.ok) / (n(r.ok) + n(r.ko)), 12);
    }

    // Top products from the order items themselves, with their page views and adds to cart in the range.
    const productsSql = await query(
      `WITH items AS (
         SELECT order_id, unnest(from_json(items, '[{"product_id":"VARCHAR","quantity":"BIGINT"}]')) AS i
         FROM silver.order_events WHERE event_type = 'order_created' AND event_date ${days}
       ), sold AS (
         SELECT i.product_id AS product_id, sum(i.quantity) AS units, count(DISTINCT order_id) AS orders FROM items WHERE i.product_id IS NOT NULL GROUP BY 1
       )
       SELECT s.product_id, s.units, s.orders,
              (SELECT count(*) FROM silver.clickstream_events c WHERE c.product_id = s.product_id AND c.event_type = 'page_view' AND c.event_date ${days}) AS views,
              (SELECT count(*) FROM silver.clickstream_events c WHERE c.product_id = s.product_id AND c.event_type = 'add_to_cart' AND c.event_date ${days}) AS adds
       FROM sold s ORDER BY s.units DESC, s.orders DESC, s.product_id LIMIT ${TOP_N}`,
    );
    expect(productsSql.length).toBe(TOP_N);
    const products = await table(page, "top_products");
    expect(products.map((p) => [p.key, num(p.units), num(p.orders), num(p.views), num(p.adds_to_cart)])).toEqual(
      productsSql.map((r) => [r.product_id, n(r.units), n(r.orders), n(r.views), n(r.adds)]),
    );

    // Searches: only queries that enough sessions typed; the zero-result list counts only searches that found nothing.
    const searchSql = (zero: boolean) =>
      query(
        `SELECT query, count(*) AS searches, count(DISTINCT session_id) AS sessions, sum(CASE WHEN results_count = 0 THEN 1 ELSE 0 END) AS zero
         FROM silver.clickstream_events WHERE event_type = 'search' AND query IS NOT NULL AND event_date ${days} ${zero ? "AND results_count = 0" : ""}
         GROUP BY query HAVING count(DISTINCT session_id) >= ${SEARCH_MIN_SESSIONS} ORDER BY searches DESC, query LIMIT ${TOP_N}`,
      );
    const [topSql, zeroSql] = [await searchSql(false), await searchSql(true)];
    expect(topSql.length).toBe(TOP_N);
    expect(zeroSql.length).toBeGreaterThan(0);
    const top = await table(page, "top_searches");
    expect(top.map((s) => [s.key, num(s.searches), num(s.sessions), num(s.zero_results)])).toEqual(
      topSql.map((r) => [r.query, n(r.searches), n(r.sessions), n(r.zero)]),
    );
    const zero = await table(page, "zero_result_searches");
    expect(zero.map((s) => [s.key, num(s.searches), num(s.sessions)])).toEqual(zeroSql.map((r) => [r.query, n(r.searches), n(r.sessions)]));

    // The range survives a reload (it is in the address), and the charts drew.
    await page.reload();
    await until(
      "the range after a reload",
      async () => [await figure(page, "range.from"), await figure(page, "range.to")],
      ([from, to]) => from === RANGE.from && to === RANGE.to,
      20_000,
    );
    expect(await page.$$eval("canvas[data-chart]", (cs) => cs.map((c) => (c as HTMLCanvasElement).width > 0))).toEqual([true, true, true, true]);
    await screenshot(page, "dashboard-business.png");
    checkQuiet(requests, errors);
    await page.close();
  });
});
