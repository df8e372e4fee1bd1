import { describe, expect, it } from "vitest";
import { createRegistry, EVENT_TYPE_NAMES } from "../../schemas/registry.js";
import { decode } from "../../transforms/decode.js";
import type { DeadLetter, ValidEvent } from "../../transforms/types.js";
import { createValidator } from "../../transforms/validate.js";
import { message, orderCreated } from "../helpers/events.js";

const validator = createValidator(createRegistry());
function run(value: unknown): ValidEvent | DeadLetter {
  const d = decode(message(value));
  return d.ok ? validator.validate(d) : d;
}

describe("validate", () => {
  it("accepts a contract-conforming event and normalizes the event_id to lower case", () => {
    const r = run(orderCreated({ event_id: "0B8E5A7E-4C1F-4D2A-9A3B-1C2D3E4F5A6B" }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.event.event_id).toBe("0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b");
      expect(r.domain).toBe("order");
      expect(r.eventTimeMs).toBe(Date.parse("2026-11-25T10:00:00Z"));
      expect(r.extras).toBeNull();
    }
  });

  it("registers 16 event types, each at version 1", () => {
    expect(EVENT_TYPE_NAMES).toHaveLength(16);
    expect(
      createRegistry()
        .entries()
        .map((e) => e.version),
    ).toEqual(new Array(16).fill(1));
  });

  it.each([
    [{ ...orderCreated(), event_type: "order_teleported" }, "unknown_type", []],
    [{ ...orderCreated(), schema_version: 99 }, "unknown_version", []],
    [orderCreated({}, { total_minor: "1100" }), "schema_violation", ["payload.total_minor"]],
    [orderCreated({}, { total_minor: 10.5 }), "schema_violation", ["payload.total_minor"]],
    [orderCreated({}, { items: [] }), "schema_violation", ["payload.items"]],
    [orderCreated({ event_id: "not-a-uuid" }), "schema_violation", ["event_id"]],
    [orderCreated({ event_time: "2026-11-25 10:00:00" }), "schema_violation", ["event_time"]],
    [orderCreated({ source: "web" }), "schema_violation", ["source"]],
    [{ ...orderCreated(), schema_version: "1" }, "schema_violation", ["schema_version"]],
  ])("dead-letters bad events with a reason and the failing paths (%#)", (value, reason, paths) => {
    const r = run(value);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      for (const p of paths) expect(r.paths).toContain(p);
      expect(JSON.parse(r.raw.toString())).toEqual(value);
    }
  });

  it("never puts field values into the detail (they may be personal)", () => {
    const r = run(orderCreated({}, { customer: { email: 12345 } }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.paths).toContain("payload.customer.email");
      expect(r.detail).not.toContain("12345");
    }
  });

  it("keeps unknown fields as extras instead of failing (schema drift)", () => {
    const r = run(orderCreated({ experiment: "b" }, { coupon_code: "SAVE10", customer: { email: "a@b.c", loyalty: 3 } }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.extras).toEqual({ experiment: "b", "payload.coupon_code": "SAVE10", "payload.customer.loyalty": 3 });
  });

  it("accepts gateway:<name> sources for payments", () => {
    const r = run({
      event_id: "1b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
      event_type: "payment_success",
      schema_version: 1,
      event_time: "2026-11-25T10:00:00+01:00",
      source: "gateway:stripe",
      payload: { payment_id: "p", order_id: "o", amount_minor: 100, currency: "EUR", gateway: "stripe", gateway_txn_id: "t" },
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(new Date(r.eventTimeMs).toISOString()).toBe("2026-11-25T09:00:00.000Z");
  });

  it("redacts card numbers from valid events and counts them", () => {
    const r = run({
      event_id: "2b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
      event_type: "search",
      schema_version: 1,
      event_time: "2026-11-25T10:00:00Z",
      source: "web",
      payload: { query: "4111 1111 1111 1111", results_count: 0 },
    });
    expect(r.ok && r.pansRedacted).toBe(1);
    if (r.ok) expect(JSON.stringify(r.event)).not.toContain("4111");
  });
});
