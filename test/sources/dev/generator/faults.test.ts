/** Duplicates and invalid messages (faults.ts, invalid.ts). */
import { describe, expect, it } from "vitest";
import { type GeneratedMessage, takeMessages } from "../../../../sources/dev/generator/index.js";
import { type Obj, validate } from "./contract.js";
import { type Ev, opts, take } from "./traffic.js";

describe("duplicates and invalid messages", () => {
  const o = opts({ ratePerSecond: 200, duplicateFraction: 0.08, invalidFraction: 0.05 });
  const msgs = take(o, 40_000);

  it("fractions are within tolerance of what was asked", () => {
    const dup = msgs.filter((m) => m.kind === "duplicate").length / msgs.length;
    const inv = msgs.filter((m) => m.kind === "invalid").length / msgs.length;
    expect(Math.abs(dup - 0.08)).toBeLessThan(0.01);
    expect(Math.abs(inv - 0.05)).toBeLessThan(0.01);
    const none = takeMessages(opts(), 5000);
    expect(none.every((m) => m.kind === "valid")).toBe(true);
  });

  it("a duplicate repeats an earlier valid message's exact bytes, event_id and attributes", () => {
    const firstByData = new Map<string, GeneratedMessage>();
    let dups = 0;
    for (const m of msgs) {
      if (m.kind === "valid") {
        expect(firstByData.has(m.data)).toBe(false);
        firstByData.set(m.data, m);
      } else if (m.kind === "duplicate") {
        dups++;
        const orig = firstByData.get(m.data);
        expect(orig).toBeDefined();
        expect(m.eventId).toBe(orig!.eventId);
        expect(m.attributes).toEqual(orig!.attributes);
        expect(validate(m.data)).toBeNull();
      }
    }
    expect(dups).toBeGreaterThan(2000);
  });

  it("invalid messages fail validation, in every flavour, without reusing valid event_ids", () => {
    const validIds = new Set(msgs.filter((m) => m.kind === "valid").map((m) => m.eventId));
    const reasons = new Map<string, number>();
    for (const m of msgs) {
      if (m.kind !== "invalid") continue;
      const reason = validate(m.data);
      expect(reason, m.data).not.toBeNull();
      reasons.set(reason!, (reasons.get(reason!) ?? 0) + 1);
      if (m.eventId !== undefined) expect(validIds.has(m.eventId)).toBe(false);
      // attributes present only when known, and then mirroring the body
      if (reason === "not_json" || reason === "not_object") expect(m.attributes).toEqual({});
      else {
        const ev = JSON.parse(m.data) as Obj;
        if (m.attributes.event_id !== undefined) expect(m.attributes.event_id).toBe(ev.event_id);
        expect(m.attributes.event_type).toBe(ev.event_type);
      }
    }
    for (const r of ["not_json", "not_object", "unknown_type", "bad_version", "missing_field", "wrong_type", "bad_event_id"]) {
      expect(reasons.get(r) ?? 0, r).toBeGreaterThan(20);
    }
  });

  it("event_time is non-decreasing within one hour over the whole stream (duplicates included)", () => {
    let max = -Infinity;
    let worst = 0;
    for (const m of msgs) {
      if (m.kind === "invalid") continue;
      const t = Date.parse((JSON.parse(m.data) as Ev).event_time);
      worst = Math.max(worst, max - t);
      max = Math.max(max, t);
    }
    expect(worst).toBeLessThanOrEqual(3600_000);
  });
});
