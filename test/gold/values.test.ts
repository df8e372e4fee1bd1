/**
 * Every Gold table holds the figures the issue defines: computed here, in
 * TypeScript, from the generated input events (expected.ts), and compared
 * with the rows DuckDB computed through the incremental refresh and through a
 * full rebuild.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goldOf, registerGold } from "../../gold/register.js";
import { Engine } from "../../pipelines/local/engine.js";
import { type Ev, type Row, expectedGold, generate } from "./expected.js";
import { expectSameRows, goldSnapshot, ingest, tempDir } from "./helpers.js";

describe("Gold values against figures computed from the input events", () => {
  let dir: string;
  let engine: Engine;
  let events: Ev[];
  let expected: Record<string, Row[]>;
  let incremental: Record<string, Row[]>;
  let rebuilt: Record<string, Row[]>;

  beforeAll(async () => {
    const g = generate(24_000);
    events = g.events;
    expected = expectedGold(events);
    dir = tempDir("values");
    engine = await Engine.open(dir);
    await registerGold(engine);
    for (let i = 0; i < g.messages.length; i += 6_000) await ingest(engine, g.messages.slice(i, i + 6_000));
    incremental = await goldSnapshot(engine.store);
    await goldOf(engine)!.gold.rebuild();
    rebuilt = await goldSnapshot(engine.store);
  });

  afterAll(() => {
    engine?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("ingested exactly the generator's valid events (the input the figures are computed from)", async () => {
    const n = await engine.store.query(`SELECT
      (SELECT count(*) FROM silver.clickstream_events) + (SELECT count(*) FROM silver.order_events) + (SELECT count(*) FROM silver.payment_events)
      + (SELECT count(*) FROM silver.inventory_events) + (SELECT count(*) FROM silver.customer_events) AS n`);
    expect(n[0]!.n).toBe(events.length);
  });

  it("the input spans midnight and exercises every table", () => {
    expect(new Set(expected.daily_revenue!.map((r) => r.date)).size).toBeGreaterThanOrEqual(2);
    for (const [table, rows] of Object.entries(expected)) expect(rows.length, table).toBeGreaterThan(0);
    expect(expected.cart_abandonment!.some((r) => (r.abandoned as number) > 0 && (r.ordered as number) > 0)).toBe(true);
    expect(expected.order_fulfilment!.some((r) => r.p50_hours_to_ship !== null)).toBe(true);
    expect(expected.customer_activity!.some((r) => (r.new_customers as number) < (r.active_customers as number))).toBe(true);
  });

  for (const table of [
    "daily_revenue",
    "revenue_by_minute",
    "conversion_funnel",
    "cart_abandonment",
    "payment_health",
    "order_fulfilment",
    "inventory_levels",
    "customer_activity",
  ]) {
    it(`gold.${table}: incremental refresh and full rebuild both equal the independent figures`, () => {
      expectSameRows(table, incremental[table]!, expected[table]!);
      expectSameRows(table, rebuilt[table]!, expected[table]!);
    });
  }

  it("no window is left dirty after the refreshes", async () => {
    expect(await goldOf(engine)!.gold.pending()).toBe(0);
  });
});
