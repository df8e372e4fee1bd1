/**
 * Current-state tables: whatever the arrival order, the event with the latest
 * event_time wins, and an impossible transition is kept and flagged.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { Engine } from "../../pipelines/local/engine.js";
import { dedupeWithinBatch } from "../../pipelines/ingest-steps.js";
import type { ValidEvent } from "../../transforms/types.js";
import { orderCreated } from "../helpers/events.js";
import { tempDir } from "../helpers/data.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const orderEvent = (n: number, type: string, time: string, payload: Record<string, unknown> = {}) => ({
  event_id: id(n),
  event_type: type,
  schema_version: 1,
  event_time: time,
  source: "order-service",
  payload: { order_id: "o-1", ...payload },
});
const payment = (n: number, type: string, time: string, extra: Record<string, unknown> = {}) => ({
  event_id: id(n),
  event_type: type,
  schema_version: 1,
  event_time: time,
  source: "payment-service",
  payload: { payment_id: "p-1", order_id: "o-1", amount_minor: 1100, currency: "USD", gateway: "stripe", ...extra },
});

describe("state tables", () => {
  it("keep the latest event_time's status in any arrival order, and flag shipped-after-cancelled", async () => {
    const events = [
      orderCreated({ event_id: id(1), event_time: "2026-11-25T10:00:00Z" }, { order_id: "o-1" }),
      orderEvent(2, "order_confirmed", "2026-11-25T10:05:00Z"),
      orderEvent(3, "order_cancelled", "2026-11-25T11:00:00Z", { reason: "customer" }),
      orderEvent(4, "order_shipped", "2026-11-25T12:00:00Z", { carrier: "ups", tracking_number: "1Z" }),
      payment(5, "payment_initiated", "2026-11-25T10:01:00Z", { method: "card" }),
      payment(6, "payment_success", "2026-11-25T10:02:00Z", { gateway_txn_id: "t-1" }),
      payment(7, "payment_refund", "2026-11-25T11:30:00Z", { refund_id: "r-1", amount_minor: 400 }),
    ];
    const orders = [events, [...events].reverse(), [events[3], events[0], events[6], events[2], events[5], events[1], events[4]]];
    const states = [];
    for (const [i, order] of orders.entries()) {
      const dir = tempDir(`state-${i}`);
      const engine = await Engine.open(path.join(dir, "data"));
      try {
        // One event per batch: the merge sees them one at a time, in this order.
        for (const e of order) {
          const file = path.join(dir, `${(e as { event_id: string }).event_id}.ndjson`);
          fs.writeFileSync(file, JSON.stringify(e) + "\n");
          await ingestFiles(engine, [file], { batchSize: 1 });
        }
        states.push({
          order: await engine.store.query(
            `SELECT status, anomaly, strftime(created_at, '%H:%M') AS created, strftime(cancelled_at, '%H:%M') AS cancelled, strftime(shipped_at, '%H:%M') AS shipped, total_minor FROM silver.orders`,
          ),
          payment: await engine.store.query(`SELECT status, refunded_minor, amount_minor, anomaly FROM silver.payments`),
        });
      } finally {
        engine.close();
      }
    }
    expect(states[0]).toEqual({
      order: [{ status: "shipped", anomaly: "shipped_after_cancelled", created: "10:00", cancelled: "11:00", shipped: "12:00", total_minor: 1100 }],
      payment: [{ status: "refunded", refunded_minor: 400, amount_minor: 1100, anomaly: null }],
    });
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
  });
});

describe("dedupe within a batch", () => {
  it("keeps the first copy of each event_id, whatever the content of the others", () => {
    const ev = (eventId: string, tag: string) => ({ event: { event_id: eventId, tag } }) as unknown as ValidEvent;
    const { unique, duplicates } = dedupeWithinBatch([ev("a", "1"), ev("b", "1"), ev("a", "2"), ev("a", "3"), ev("c", "1")]);
    expect(unique.map((u) => `${u.event.event_id}${(u.event as unknown as { tag: string }).tag}`)).toEqual(["a1", "b1", "c1"]);
    expect(duplicates).toBe(2);
  });
});

describe("folders", () => {
  it("ingests every .ndjson and .ndjson.gz file under a folder, recursively", async () => {
    const dir = tempDir("folder");
    const input = path.join(dir, "in", "2026", "11");
    fs.mkdirSync(input, { recursive: true });
    fs.writeFileSync(path.join(input, "a.ndjson"), JSON.stringify(orderCreated({ event_id: id(11) })) + "\n\n");
    const zlib = await import("node:zlib");
    fs.writeFileSync(path.join(dir, "in", "b.ndjson.gz"), zlib.gzipSync(JSON.stringify(orderCreated({ event_id: id(12) })) + "\n"));
    fs.writeFileSync(path.join(dir, "in", "notes.txt"), "not an input");
    const engine = await Engine.open(path.join(dir, "data"));
    try {
      const totals = await ingestFiles(engine, [path.join(dir, "in")], { batchSize: 100 });
      expect(totals).toMatchObject({ read: 2, valid: 2, dead_lettered: 0 });
    } finally {
      engine.close();
    }
  });
});
