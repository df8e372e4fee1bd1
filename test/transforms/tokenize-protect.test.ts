import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../schemas/registry.js";
import { decode } from "../../transforms/decode.js";
import { ERASED, decryptPii, protectForBronze, restoreFromBronze, subjectOf } from "../../transforms/protect.js";
import { toSilverRow } from "../../transforms/to-silver.js";
import { tokenize } from "../../transforms/tokenize.js";
import type { ValidEvent } from "../../transforms/types.js";
import { createValidator } from "../../transforms/validate.js";
import { message, orderCreated } from "../helpers/events.js";

const key = { id: "t1", secret: randomBytes(32) };
const validator = createValidator(createRegistry());
function valid(value: unknown): ValidEvent {
  const d = decode(message(value));
  if (!d.ok) throw new Error(d.detail);
  const v = validator.validate(d);
  if (!v.ok) throw new Error(v.detail);
  return v;
}
const PII = ["Ann@Example.com", "Ann Smith", "+1 555 0100", "1 Main St", "Springfield", "12345", "10.1.2.3", "Mozilla/5.0"];

describe("tokenize", () => {
  it("is deterministic per key, normalizes emails, differs across keys", () => {
    expect(tokenize("Ann@Example.com ", key, "email")).toBe(tokenize("ann@example.com", key, "email"));
    expect(tokenize("ann@example.com", key, "email")).not.toBe(tokenize("ann@example.com", { id: "t2", secret: randomBytes(32) }, "email"));
    expect(tokenize("ann@example.com", key, "email")).toMatch(/^tok_[A-Za-z0-9_-]{22}$/);
  });
});

describe("Silver row", () => {
  it("holds typed columns and personal data only as tokens", () => {
    const v = valid(orderCreated({ context: { ip: "10.1.2.3", user_agent: "Mozilla/5.0", country: "US" } }, { secret_note: "x" }));
    const { domain, row } = toSilverRow(v, { tokenKey: key, ingestedAtMs: 1 });
    expect(domain).toBe("order");
    expect(row).toMatchObject({
      event_id: "0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
      event_date: "2026-11-25",
      order_id: "o-1",
      total_minor: 1100,
      currency: "USD",
      item_count: 1,
      units: 2,
      ship_country: "US",
      country: "US",
      customer_email_token: tokenize("ann@example.com", key, "email"),
      user_token: tokenize("u-1", key, "id"),
      pii_key_id: "t1",
    });
    const text = JSON.stringify(row);
    for (const p of PII) expect(text).not.toContain(p);
    expect(JSON.parse(row.extras as string)).toEqual({ "payload.secret_note": "x" });
  });

  it("tokenizes unknown fields whose names look personal", () => {
    const v = valid(orderCreated({}, { customer: { email: "a@b.c", birth_date: "1990-01-01" } }));
    const { row } = toSilverRow(v, { tokenKey: key, ingestedAtMs: 1 });
    expect(row.extras).not.toContain("1990-01-01");
    expect(JSON.parse(row.extras as string)["payload.customer.birth_date"]).toMatch(/^tok_/);
  });
});

describe("Bronze protection", () => {
  it("encrypts personal fields under the subject key and restores them with it", () => {
    const original = orderCreated({ context: { ip: "10.1.2.3", user_agent: "Mozilla/5.0" } });
    const v = valid(original);
    expect(subjectOf(v.event, key)).toEqual({ kind: "user", token: tokenize("u-1", key, "id") });
    const subjectKey = { kid: "k_random", key: randomBytes(32) };
    const bronze = protectForBronze(v.event, subjectKey);
    const line = JSON.stringify(bronze);
    for (const p of PII) expect(line).not.toContain(p);
    expect(line).toContain('"country":"US"'); // the shipping country is not personal
    expect(bronze._pii?.kid).toBe(subjectKey.kid);
    const restored = restoreFromBronze(JSON.parse(line), subjectKey.key);
    expect(restored).toEqual({ ...original, event_id: "0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b" });
  });

  it("leaves personal fields unreadable once the key is gone (erasure)", () => {
    const v = valid(orderCreated());
    const bronze = protectForBronze(v.event, { kid: "sk_x", key: randomBytes(32) });
    expect(() => decryptPii(bronze._pii!, randomBytes(32))).toThrow();
    const restored = restoreFromBronze(bronze, undefined) as { payload: { customer: Record<string, unknown> } };
    // Required fields hold the marker (the event stays valid for replay), optional ones stay absent.
    expect(restored.payload.customer.email).toBe(ERASED);
    expect(restored.payload.customer.phone).toBeUndefined();
    expect(restored.payload.customer.shipping_address).toEqual({ country: "US", line1: ERASED, city: ERASED, postal_code: ERASED });
    expect(JSON.stringify(restored)).not.toMatch(/Ann|Main St|Springfield|555/);
  });

  it("uses the email as subject when there is no user_id, and drops PII when there is no subject", () => {
    const v = valid(orderCreated({ user_id: undefined }));
    expect(subjectOf(v.event, key)).toEqual({ kind: "email", token: tokenize("ann@example.com", key, "email") });
    const anon = valid({
      event_id: "5b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
      event_type: "page_view",
      schema_version: 1,
      event_time: "2026-11-25T10:00:00Z",
      source: "web",
      context: { ip: "10.1.2.3" },
      payload: { url: "https://shop/x", path: "/x" },
    });
    expect(subjectOf(anon.event, key)).toBeUndefined();
    const bronze = protectForBronze(anon.event, undefined);
    expect(JSON.stringify(bronze)).not.toContain("10.1.2.3");
    expect(bronze._pii_dropped).toEqual(["context.ip"]);
  });
});
