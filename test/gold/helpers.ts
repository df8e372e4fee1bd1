/** Shared by the Gold tests: temp data dirs, batch ingest, Gold snapshots and row comparison. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { GOLD_MODELS } from "../../gold/models/index.js";
import type { Engine } from "../../pipelines/local/engine.js";
import type { DuckDbStore } from "../../sinks/duckdb/store.js";
import type { GeneratedMessage } from "../../sources/dev/generator/index.js";
import type { Row } from "./expected.js";

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ecom-gold-${name}-`));
}

export async function ingest(engine: Engine, messages: readonly GeneratedMessage[], origin = "test"): Promise<void> {
  await engine.processBatch(
    messages.map((m) => ({ data: m.data, attributes: m.attributes as Record<string, string>, origin, receivedAtMs: Date.now() })),
    origin,
  );
}

/** Key columns of each table (its grain), to sort and match rows. */
export const KEYS: Record<string, string[]> = {
  daily_revenue: ["date", "currency"],
  revenue_by_minute: ["minute", "currency"],
  conversion_funnel: ["date"],
  cart_abandonment: ["date"],
  payment_health: ["hour", "gateway", "method"],
  order_fulfilment: ["date"],
  inventory_levels: ["sku", "warehouse_id"],
  customer_activity: ["date"],
};

/** Every Gold table, DATE as `YYYY-MM-DD`, TIMESTAMP as epoch ms, sorted by key. */
export async function goldSnapshot(store: DuckDbStore): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const m of GOLD_MODELS) {
    const cols = m.columns.map((c) =>
      c.type === "DATE" ? `CAST(${c.name} AS VARCHAR) AS ${c.name}` : c.type === "TIMESTAMP" ? `epoch_ms(${c.name}) AS ${c.name}` : c.name,
    );
    out[m.name] = (await store.query(`SELECT ${cols.join(", ")} FROM gold.${m.name} ORDER BY ${KEYS[m.name]!.join(", ")}`)) as Row[];
  }
  return out;
}

const keyOf = (table: string, r: Row) => KEYS[table]!.map((k) => String(r[k])).join("|");

/** Asserts two tables hold the same rows (floats within 1e-9 relative). */
export function expectSameRows(table: string, actual: readonly Row[], expected: readonly Row[]): void {
  const a = new Map(actual.map((r) => [keyOf(table, r), r]));
  const e = new Map(expected.map((r) => [keyOf(table, r), r]));
  expect([...a.keys()].sort(), `${table}: the same keys`).toEqual([...e.keys()].sort());
  for (const [k, er] of e) {
    const ar = a.get(k)!;
    for (const [col, ev] of Object.entries(er)) {
      const av = ar[col];
      if (typeof ev === "number" && !Number.isInteger(ev)) {
        expect(typeof av, `${table} ${k} ${col}`).toBe("number");
        expect(Math.abs((av as number) - ev), `${table} ${k} ${col}: ${av} vs ${ev}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ev)));
      } else expect(av, `${table} ${k} ${col}`).toEqual(ev);
    }
    expect(Object.keys(ar).sort(), `${table}: columns`).toEqual(Object.keys(er).sort());
  }
}

export function expectSameGold(actual: Record<string, Row[]>, expected: Record<string, Row[]>): void {
  for (const m of GOLD_MODELS) expectSameRows(m.name, actual[m.name]!, expected[m.name]!);
}

/** Seeded shuffle (mulberry32), so a failing order can be replayed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
