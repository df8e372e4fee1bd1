/** The generator as a whole: determinism, the contract of every valid message, coverage of the event types, the clock. */
import { describe, expect, it } from "vitest";
import { type GeneratedMessage, generateMessages, takeMessages } from "../../../../sources/dev/generator/index.js";
import { CLIENT_SOURCES, CONTRACT_TYPES, type Obj, UUID_V4_LOWER, validate } from "./contract.js";
import { type Ev, START, opts, parsedValid, take } from "./traffic.js";

describe("validator sanity (the contract checks themselves)", () => {
  it("accepts a hand-written valid event and rejects broken ones", () => {
    const ok = {
      event_id: "0b7e3a8c-1f2d-4e5a-9b6c-7d8e9f0a1b2c",
      event_type: "add_to_cart",
      schema_version: 1,
      event_time: "2025-03-01T08:00:00Z",
      source: "web",
      anonymous_id: "a",
      payload: { cart_id: "c", product_id: "p", sku: "s", quantity: 1, unit_price_minor: 1999, currency: "USD" },
    };
    expect(validate(JSON.stringify(ok))).toBeNull();
    expect(validate("{")).toBe("not_json");
    expect(validate("[1]")).toBe("not_object");
    expect(validate(JSON.stringify({ ...ok, event_id: "nope" }))).toBe("bad_event_id");
    expect(validate(JSON.stringify({ ...ok, event_type: "nope" }))).toBe("unknown_type");
    expect(validate(JSON.stringify({ ...ok, schema_version: 99 }))).toBe("bad_version");
    expect(validate(JSON.stringify({ ...ok, source: "order-service" }))).toBe("envelope");
    expect(validate(JSON.stringify({ ...ok, payload: { ...ok.payload, sku: undefined } }))).toBe("missing_field");
    expect(validate(JSON.stringify({ ...ok, payload: { ...ok.payload, unit_price_minor: "19.99" } }))).toBe("wrong_type");
    expect(validate(JSON.stringify({ ...ok, payload: { ...ok.payload, unit_price_minor: 19.99 } }))).toBe("wrong_type");
  });
});

describe("determinism", () => {
  it("same seed and options give byte-identical output; a different seed differs", () => {
    const o = opts({ duplicateFraction: 0.05, invalidFraction: 0.05 });
    const a = takeMessages(o, 5000);
    const b = takeMessages({ ...o, startTime: new Date(START.getTime()) }, 5000);
    expect(b.map((m) => m.data)).toEqual(a.map((m) => m.data));
    expect(b).toEqual(a);
    const c = takeMessages({ ...o, seed: 43 }, 5000);
    expect(c.map((m) => m.data)).not.toEqual(a.map((m) => m.data));
    expect(c[0]!.eventId).not.toBe(a[0]!.eventId);
  });

  it("generateMessages yields the same sequence as takeMessages", () => {
    const o = opts({ duplicateFraction: 0.02, invalidFraction: 0.02 });
    const a = takeMessages(o, 3000);
    const it = generateMessages(o);
    const b: GeneratedMessage[] = [];
    for (let i = 0; i < 3000; i++) b.push(it.next().value as GeneratedMessage);
    expect(b).toEqual(a);
  });

  it("rejects bad options", () => {
    expect(() => takeMessages(opts({ ratePerSecond: 0 }), 1)).toThrow();
    expect(() => takeMessages(opts({ duplicateFraction: 1.5 }), 1)).toThrow();
    expect(() => takeMessages(opts({ invalidFraction: -0.1 }), 1)).toThrow();
    expect(() => takeMessages(opts({ startTime: new Date("nope") }), 1)).toThrow();
  });
});

describe("valid messages follow the contract", () => {
  const msgs = take(opts({ ratePerSecond: 50 }), 30_000);

  it("every valid message is canonical JSON of an event that satisfies the contract", () => {
    const bad: string[] = [];
    for (const m of msgs) {
      const reason = m.kind !== "valid" ? "kind " + m.kind : validate(m.data);
      if (reason !== null) bad.push(reason + ": " + m.data);
      else if (m.data.includes("\n") || JSON.stringify(JSON.parse(m.data)) !== m.data) bad.push("not canonical: " + m.data);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it("envelope details: v4 lowercase ids, Z timestamps, schema_version 1, attributes mirror the envelope", () => {
    const bad: string[] = [];
    for (const m of msgs) {
      const ev = JSON.parse(m.data) as Ev & { schema_version: number };
      if (!UUID_V4_LOWER.test(ev.event_id)) bad.push("id " + ev.event_id);
      if (!ev.event_time.endsWith("Z")) bad.push("time " + ev.event_time);
      if (ev.schema_version !== 1) bad.push("version " + ev.schema_version);
      if (
        m.eventId !== ev.event_id ||
        m.attributes.event_id !== ev.event_id ||
        m.attributes.event_type !== ev.event_type ||
        Object.keys(m.attributes).length !== 2
      ) {
        bad.push("attributes " + JSON.stringify(m.attributes) + " " + m.eventId);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(JSON.parse(msgs[0]!.data).event_time).toBe(START.toISOString());
  });

  it("clickstream and customer events carry context; anonymous ones carry anonymous_id only", () => {
    let anonymous = 0,
      loggedIn = 0;
    const bad: string[] = [];
    const currencies = new Set<string>(),
      gateways = new Set<string>();
    for (const m of msgs) {
      const ev = JSON.parse(m.data) as Ev & { context?: Obj; anonymous_id?: string; session_id?: string };
      if (CLIENT_SOURCES.has(ev.source)) {
        const ctx = ev.context;
        if (!ctx || !["ip", "user_agent", "locale", "country", "app_version"].every((k) => typeof ctx[k] === "string")) bad.push("context " + m.data);
        if (typeof ev.anonymous_id !== "string" || typeof ev.session_id !== "string") bad.push("ids " + m.data);
        if (ev.user_id === undefined) anonymous++;
        else loggedIn++;
      }
      if (typeof ev.payload.currency === "string") currencies.add(ev.payload.currency);
      if (typeof ev.payload.gateway === "string") gateways.add(ev.payload.gateway);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(anonymous).toBeGreaterThan(1000);
    expect(loggedIn).toBeGreaterThan(1000);
    expect([...currencies].sort()).toEqual(["EUR", "GBP", "USD"]);
    expect(gateways.size).toBeGreaterThanOrEqual(3);
  });

  it("valid event_ids are unique", () => {
    const big = take(opts({ ratePerSecond: 500, duplicateFraction: 0.05, invalidFraction: 0.05 }), 100_000);
    const ids = new Set<string>();
    let n = 0;
    for (const m of big) {
      if (m.kind !== "valid") continue;
      n++;
      ids.add(m.eventId!);
    }
    expect(ids.size).toBe(n);
  });
});

describe("coverage of event types", () => {
  for (const rate of [1, 50, 1000]) {
    it(`all contract event types appear in 20 000 messages at ${rate} events/s`, () => {
      const seen = new Set(parsedValid(take(opts({ ratePerSecond: rate }), 20_000)).map((e) => e.event_type));
      expect([...seen].sort()).toEqual([...CONTRACT_TYPES].sort());
    });
  }
});

describe("the simulated clock", () => {
  const msgs = take(opts({ ratePerSecond: 50 }), 30_000);

  it("the simulated clock advances by 1/rate seconds per message", () => {
    const last = JSON.parse(msgs[msgs.length - 1]!.data) as Ev;
    const expected = START.getTime() + ((msgs.length - 1) * 1000) / 50;
    const t = Date.parse(last.event_time);
    expect(t).toBeLessThanOrEqual(expected);
    expect(t).toBeGreaterThan(expected - 120_000); // mobile clients occasionally deliver late
  });
});
