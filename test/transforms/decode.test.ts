import { describe, expect, it } from "vitest";
import { MAX_EVENT_BYTES, decode } from "../../transforms/decode.js";
import { message, orderCreated } from "../helpers/events.js";

describe("decode", () => {
  it("turns a JSON object into a value", () => {
    const r = decode(message(orderCreated()));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.event_type).toBe("order_created");
  });

  it.each([
    ["not json", "malformed_json"],
    ["[1,2]", "not_an_object"],
    ["null", "not_an_object"],
    ["42", "not_an_object"],
    ['"text"', "not_an_object"],
  ])("dead-letters %s as %s with the bytes kept", (raw, reason) => {
    const r = decode(message(raw));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.raw.toString()).toBe(raw);
      expect(r.stage).toBe("decode");
    }
  });

  it("dead-letters events over 1 MiB as too_large", () => {
    const big = JSON.stringify({ pad: "x".repeat(MAX_EVENT_BYTES) });
    const r = decode(message(big));
    expect(r.ok || r.reason).toBe("too_large");
  });

  it("counts bytes, not characters, for text lines near the limit", () => {
    const euros = "€".repeat(Math.ceil(MAX_EVENT_BYTES / 3) + 10); // 3 bytes each: over the limit in bytes
    const r = decode({ data: JSON.stringify({ euros }), origin: "t", receivedAtMs: 0 });
    expect(r.ok || r.reason).toBe("too_large");
  });

  it("redacts card numbers from the raw bytes of a dead letter", () => {
    const r = decode(message('{"broken": "4111 1111 1111 1111"'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.raw.toString()).not.toContain("4111 1111");
      expect(r.pansRedacted).toBe(1);
    }
  });

  it("keeps the Pub/Sub attributes' event_id on a decode failure when it is a UUID, and nothing else", () => {
    const id = "0B8E5A7E-4C1F-4D2A-9A3B-1C2D3E4F5A6B";
    const r = decode({ data: Buffer.from("{"), attributes: { event_id: id, event_type: "login" }, origin: "t", receivedAtMs: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.event_id, r.event_type]).toEqual([id.toLowerCase(), "login"]);
    const odd = decode({
      data: Buffer.from("{"),
      attributes: { event_id: "ann@example.com", event_type: "4111 1111 1111 1111" },
      origin: "t",
      receivedAtMs: 0,
    });
    if (!odd.ok) expect([odd.event_id, odd.event_type]).toEqual([undefined, undefined]);
  });
});
