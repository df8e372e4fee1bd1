/**
 * The one commit procedure, the same cases on both backends: DuckDB + the
 * local Bronze folder, and BigQuery + GCS through the official clients
 * against the local server that speaks their APIs and runs the SQL the
 * adapter sends (test/helpers/backends.ts). Duplicates within and across
 * batches, a failure at every commit step then a restart, state tables
 * whatever the arrival order, schema drift, dead letters; and the state the
 * two backends reach from the same events is the same. On BigQuery every
 * statement sent parses as BigQuery SQL.
 */
import { parse } from "sql-parser-cst";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultPoint } from "../../pipelines/commit.js";
import { type GeneratedMessage, takeMessages } from "../../sources/dev/generator/index.js";
import type { RawMessage } from "../../transforms/types.js";
import { type Backend, type OpenBackend, type Row, bigqueryBackend, duckdbBackend } from "../helpers/backends.js";
import { START, expected } from "../helpers/data.js";

const SILVER = ["clickstream_events", "order_events", "payment_events", "inventory_events", "customer_events"];
const STATE = { orders: "order_id", payments: "payment_id", inventory: "sku, warehouse_id" } as const;

const asMessages = (ms: readonly GeneratedMessage[], origin: string): RawMessage[] =>
  ms.map((m, i) => ({ data: m.data, attributes: m.attributes as Record<string, string>, origin: `${origin}:${i}`, receivedAtMs: 1_764_000_000_000 }));

async function silverIds(b: OpenBackend): Promise<string[]> {
  const ids: string[] = [];
  for (const t of SILVER) ids.push(...(await b.rows(`silver.${t}`, "event_id")).map((r) => r.event_id as string));
  return ids.sort();
}

async function bronzeIds(b: OpenBackend): Promise<string[]> {
  return [...(await b.bronze()).values()]
    .flat()
    .map((l) => (JSON.parse(l) as { event_id: string }).event_id)
    .sort();
}

async function state(b: OpenBackend): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const [t, key] of Object.entries(STATE)) out[t] = (await b.rows(`silver.${t}`, key)).map(({ updated_at: _u, ...r }) => r);
  return out;
}

const traffic = takeMessages({ seed: 2026, ratePerSecond: 300, startTime: START, duplicateFraction: 0.05, invalidFraction: 0.03 }, 2400);
const exp = expected(traffic);
/** The state each backend reached from the same events, for the cross-backend check. */
const reached = new Map<string, Record<string, Row[]>>();

const BACKENDS: (() => Backend | Promise<Backend>)[] = [duckdbBackend, bigqueryBackend];

for (const make of BACKENDS) {
  describe(`commit on ${make === duckdbBackend ? "duckdb" : "bigquery"}`, () => {
    const made: Backend[] = [];
    const fresh = async (): Promise<Backend> => {
      const b = await make();
      made.push(b);
      return b;
    };
    afterAll(async () => {
      for (const b of made) await b.dispose();
    });

    it("commits every event once: duplicates within a batch, across batches and in a redelivered batch", async () => {
      const backend = await fresh();
      const b = await backend.open();
      const parts = [traffic.slice(0, 1000), traffic.slice(800, 1800), traffic.slice(1800)];
      const results = [];
      for (const [i, part] of parts.entries()) results.push(await b.commit(asMessages(part, `p${i}`), { name: `batch_${i}` }));
      results.push(await b.commit(asMessages(parts[1]!, "again"), { name: "batch_1_redelivered" }));
      for (const r of results) expect(r.read).toBe(r.valid + r.duplicates + r.dead_lettered);
      expect(results.reduce((n, r) => n + r.valid, 0)).toBe(exp.validIds.size);
      expect(results[3]).toMatchObject({ valid: 0, dead_lettered: 0, duplicates: parts[1]!.length });
      expect(await silverIds(b)).toEqual([...exp.validIds].sort());
      expect(await bronzeIds(b)).toEqual([...exp.validIds].sort());
      const dead = await b.rows("ops.dead_letters", "dl_id");
      expect(dead.length).toBe(exp.invalidBodies.size);
      const batches = await b.rows("ops.batches", "batch_id");
      expect(batches.map((r) => Number(r.valid)).reduce((x, y) => x + y, 0)).toBe(exp.validIds.size);
      for (const r of batches) expect(Number(r.read)).toBe(Number(r.valid) + Number(r.duplicates) + Number(r.dead_lettered));
      await b.close();
    });

    for (const point of ["after_bronze_temp", "before_commit", "after_commit", "after_rename"] as FaultPoint[]) {
      it(`fails at ${point}, restarts, and commits every event exactly once`, async () => {
        const backend = await fresh();
        let b = await backend.open();
        const first = await b.commit(asMessages(traffic.slice(0, 1200), "first"), { name: "first" });
        const second = asMessages(traffic.slice(1200), "second");
        const crash = (p: FaultPoint) => {
          if (p === point) throw new Error(`crash at ${p}`);
        };
        await expect(b.commit(second, { name: "second", fault: crash })).rejects.toThrow(`crash at ${point}`);
        await b.close();
        b = await backend.open(); // the process comes back: recovery, and the unacked messages again
        const retry = await b.commit(second, { name: "second" });
        const committedBefore = point === "after_commit" || point === "after_rename";
        // Committed before the failure: the retry finds it (BigQuery, by name) or finds its events claimed (DuckDB).
        expect(retry.valid).toBe(committedBefore ? 0 : exp.validIds.size - first.valid);
        expect(await silverIds(b)).toEqual([...exp.validIds].sort());
        expect(await bronzeIds(b)).toEqual([...exp.validIds].sort());
        const batches = await b.rows("ops.batches", "batch_id");
        expect(batches.reduce((n, r) => n + Number(r.valid), 0)).toBe(exp.validIds.size);
        await b.close();
      });
    }

    it("reaches the same state tables whatever order the events arrive in, one event per batch", async () => {
      const keyed = traffic.filter((m) => m.kind === "valid" && /"event_type":"(order_|payment_|stock_update)/.test(m.data)).slice(0, 60);
      const orders = [keyed, [...keyed].reverse(), [...keyed].sort((x, y) => (x.eventId! < y.eventId! ? -1 : 1))];
      const states: Record<string, Row[]>[] = [];
      for (const [i, order] of orders.entries()) {
        const backend = await fresh();
        const b = await backend.open();
        for (const [j, m] of order.entries()) await b.commit(asMessages([m], `o${i}`), { name: `order_${i}_${j}` });
        states.push(await state(b));
        await b.close();
      }
      expect(states[0]!.orders!.length).toBeGreaterThan(3);
      expect(states[1]).toEqual(states[0]);
      expect(states[2]).toEqual(states[0]);
      reached.set(make === duckdbBackend ? "duckdb" : "bigquery", states[0]!);
    });

    it("counts schema drift per type, version and field, across batches", async () => {
      const backend = await fresh();
      const b = await backend.open();
      const withNote = traffic
        .filter((m) => m.kind === "valid" && m.data.includes('"event_type":"search"'))
        .slice(0, 30)
        .map((m) => ({ ...m, data: m.data.replace('"payload":{', '"payload":{"note":"new field",') }));
      await b.commit(asMessages(withNote.slice(0, 12), "d1"), { name: "drift_1" });
      await b.commit(asMessages(withNote.slice(12), "d2"), { name: "drift_2" });
      const drift = await b.rows("ops.schema_drift", "event_type, field_path");
      expect(drift.map((d) => [d.event_type, Number(d.schema_version), d.field_path, Number(d.events)])).toEqual([["search", 1, "payload.note", 30]]);
      await b.close();
    });

    it("stores each dead letter once with its reason, even when the bad message comes again", async () => {
      const backend = await fresh();
      const b = await backend.open();
      const bad: RawMessage[] = [
        { data: "{not json", origin: "bad:1", receivedAtMs: 1 },
        { data: JSON.stringify({ event_type: "no_such_type", schema_version: 1 }), origin: "bad:2", receivedAtMs: 1 },
      ];
      const first = await b.commit(bad, { name: "dl_1" });
      const again = await b.commit(bad, { name: "dl_2" });
      expect([first.dead_lettered, again.dead_lettered, again.duplicates]).toEqual([2, 0, 2]);
      const rows = await b.rows("ops.dead_letters", "reason");
      expect(rows.map((r) => r.reason)).toEqual(["malformed_json", "unknown_type"]);
      await b.close();
    });

    if (make !== duckdbBackend) {
      it("sends only SQL that parses as BigQuery SQL, and commits each batch in one transaction", async () => {
        const backend = await fresh();
        const b = await backend.open();
        await b.commit(asMessages(traffic.slice(0, 500), "sql"), { name: "sql_1" });
        const sent = backend.sentSql();
        expect(sent.length).toBeGreaterThan(0);
        for (const sql of sent) expect(() => parse(sql, { dialect: "bigquery", paramTypes: ["@name"] }), sql.slice(0, 120)).not.toThrow();
        const scripts = sent.filter((s) => s.startsWith("BEGIN TRANSACTION;"));
        expect(scripts).toHaveLength(1);
        expect(scripts[0]).toMatch(/MERGE `ecom-test\.silver\.orders` T/);
        expect(scripts[0]).toMatch(/COMMIT TRANSACTION;$/);
        await b.close();
      });
    }
  });
}

describe("both backends", () => {
  beforeAll(() => {
    if (reached.size < 2) throw new Error("the per-backend state cases must run first");
  });
  it("reach the same state tables from the same events", () => {
    expect(reached.get("bigquery")).toEqual(reached.get("duckdb"));
  });
});
