/**
 * `ecom report` and the analysts' table output: the report's numbers are the
 * ones computed from the input events; `ecom gold rebuild` (the job) rebuilds
 * a range without changing correct rows; formatTable aligns columns.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "../../cli/commands/report.js";
import { formatTable } from "../../cli/format-table.js";
import { goldRebuild } from "../../jobs/gold-rebuild.js";
import { buildReport, formatMoney, withGoldQuery } from "../../jobs/gold-report.js";
import { openRuntime } from "../../jobs/runtime.js";
import { type Ev, type Row, expectedGold, generate } from "./expected.js";
import { expectSameGold, goldSnapshot, ingest, tempDir } from "./helpers.js";

describe("ecom report and ecom gold rebuild", () => {
  let dir: string;
  let events: Ev[];
  let expected: Record<string, Row[]>;

  beforeAll(async () => {
    const g = generate(12_000, 99);
    events = g.events;
    expected = expectedGold(events);
    dir = tempDir("report");
    const engine = await openRuntime(dir);
    await ingest(engine, g.messages);
    engine.close();
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reports a day's revenue by currency, conversion, abandonment and payment success by gateway", async () => {
    const date = expected.daily_revenue![0]!.date as string;
    const r = await withGoldQuery(dir, (q) => buildReport(q, date));
    const rev = expected.daily_revenue!.filter((x) => x.date === date).sort((a, b) => String(a.currency).localeCompare(String(b.currency)));
    expect(r.revenue).toEqual(rev.map(({ date: _d, ...rest }) => rest));
    const funnel = expected.conversion_funnel!.find((x) => x.date === date)!;
    expect(r.conversion.conversion_rate).toBeCloseTo((funnel.ordered as number) / (funnel.sessions as number), 12);
    const carts = expected.cart_abandonment!.find((x) => x.date === date)!;
    expect(r.abandonment.abandonment_rate).toBeCloseTo(carts.abandonment_rate as number, 12);
    // Payment success by gateway over the day, straight from the events.
    const byGateway = new Map<string, { ok: number; ko: number }>();
    for (const e of events) {
      if (new Date(e.t).toISOString().slice(0, 10) !== date) continue;
      if (!["payment_initiated", "payment_success", "payment_failure"].includes(e.event_type)) continue;
      const g = byGateway.get(e.p.gateway) ?? { ok: 0, ko: 0 };
      if (e.event_type === "payment_success") g.ok++;
      if (e.event_type === "payment_failure") g.ko++;
      byGateway.set(e.p.gateway, g);
    }
    expect(r.payments.map((p) => p.gateway).sort()).toEqual([...byGateway.keys()].sort());
    for (const p of r.payments) {
      const g = byGateway.get(p.gateway)!;
      if (g.ok + g.ko === 0) expect(p.success_rate).toBeNull();
      else expect(p.success_rate).toBeCloseTo(g.ok / (g.ok + g.ko), 12);
    }
    const text = renderReport(r);
    expect(text).toContain(`Gold report for ${date}`);
    expect(text).toMatch(/Conversion rate\s+\d+\.\d%/);
    expect(text).toMatch(/Abandonment rate\s+\d+\.\d%/);
  });

  it("says where the data is when the day has none", async () => {
    const r = await withGoldQuery(dir, (q) => buildReport(q, "1999-01-01"));
    expect(renderReport(r)).toMatch(/No events on 1999-01-01\. The newest day with orders is \d{4}-\d{2}-\d{2}: ecom report --date/);
  });

  it("gold rebuild of a day range and of one table leaves the same, correct rows", async () => {
    const date = expected.daily_revenue![0]!.date as string;
    const r = await goldRebuild(dir, { from: date, to: date });
    expect(r.via).toBe("file");
    expect(Object.keys(r.models)).toHaveLength(8);
    await goldRebuild(dir, { models: ["gold.payment_health"] });
    const engine = await openRuntime(dir);
    try {
      expectSameGold(await goldSnapshot(engine.store), expected);
    } finally {
      engine.close();
    }
  });

  it("rejects a bad range", async () => {
    await expect(goldRebuild(dir, { from: "2026-03-02", to: "2026-03-01" })).rejects.toThrow(/before --from/);
    await expect(goldRebuild(dir, { from: "March 1st" })).rejects.toThrow(/--from must be a date/);
  });
});

describe("formatTable", () => {
  it("aligns columns: text left, numbers right, fractions to a shared number of decimals, NULL spelled out", () => {
    const out = formatTable([
      { currency: "EUR", orders: 12, rate: 0.5, note: null },
      { currency: "USD", orders: 1234, rate: 0.123456789, note: "two\nlines" },
    ]);
    expect(out).toBe(
      [
        "currency  orders    rate  note",
        "--------  ------  ------  ----------",
        "EUR           12  0.5000  NULL",
        "USD         1234  0.1235  two\\nlines",
        "(2 rows)",
        "",
      ].join("\n"),
    );
  });

  it("right-aligns numbers already formatted for people (money, percentages) and keeps them as they are", () => {
    const out = formatTable(
      [
        { gross: "10,644.53", rate: "91.2%" },
        { gross: "5.00", rate: "n/a" },
      ],
      { footer: false },
    );
    expect(out).toBe(["    gross   rate", "---------  -----", "10,644.53  91.2%", "     5.00    n/a", ""].join("\n"));
  });

  it("prints an empty result and money in major units", () => {
    expect(formatTable([])).toBe("(no rows)\n");
    expect(formatMoney(123456, "USD")).toBe("1,234.56");
    expect(formatMoney(1234, "JPY")).toBe("1,234");
  });
});
