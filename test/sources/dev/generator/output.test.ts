/**
 * Pins the generator's exact output. Fixtures, benchmarks and CRM exports are
 * built from seeded traffic, so a refactor of the generator must not change
 * a single byte of it. The digests were recorded when this test was added; if
 * a change to the traffic is intended, recompute them and say so in the
 * commit.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type GeneratedMessage, type GeneratorOptions, syntheticCustomer, takeMessages } from "../../../../sources/dev/generator/index.js";

/** sha256 over every field of every message, one JSON line per message. */
function digest(messages: readonly GeneratedMessage[]): string {
  const h = createHash("sha256");
  for (const m of messages) h.update(JSON.stringify([m.kind, m.eventId ?? null, m.attributes, m.data]) + "\n");
  return h.digest("hex");
}

function kinds(messages: readonly GeneratedMessage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of messages) out[m.kind] = (out[m.kind] ?? 0) + 1;
  return out;
}

describe("the same seed gives the same traffic as before", () => {
  it("seed 42 with the CLI's default rate and fractions: the first 20 000 messages", () => {
    const opts: GeneratorOptions = {
      seed: 42,
      ratePerSecond: 2000,
      startTime: new Date("2026-11-25T00:00:00Z"),
      duplicateFraction: 0.01,
      invalidFraction: 0.005,
    };
    const messages = takeMessages(opts, 20_000);
    expect(kinds(messages)).toEqual({ valid: 19_708, duplicate: 198, invalid: 94 });
    expect(digest(messages)).toBe("7d0a5f2bb0c3b096d18c2d1096577c7701f81ed1051d721d7183aef96e4a47ee");
    // The NDJSON bodies alone, as `ecom generate --out` writes them.
    const ndjson = createHash("sha256")
      .update(messages.map((m) => m.data + "\n").join(""))
      .digest("hex");
    expect(ndjson).toBe("975eb7615727939cb1cee16456de95bda013af4166a0a51ecf0f6a4f97edcec9");
  });

  it("seed 7 at 50 000 events/s with many duplicates and invalid messages: the first 20 000 messages", () => {
    const opts: GeneratorOptions = {
      seed: 7,
      ratePerSecond: 50_000,
      startTime: new Date("2026-03-29T00:59:00Z"),
      duplicateFraction: 0.2,
      invalidFraction: 0.1,
    };
    const messages = takeMessages(opts, 20_000);
    expect(kinds(messages)).toEqual({ valid: 14_035, duplicate: 3_973, invalid: 1_992 });
    expect(digest(messages)).toBe("f8f06a0ffe894245db99001f3e2917848606e4dbcec8121d1d82dcab440d64b0");
  });

  it("registered customers' profiles (what a CRM export is built from)", () => {
    expect(syntheticCustomer(42, 0)).toEqual({
      user_id: "cus_100000",
      email: "elijah_dubois@example.org",
      phone: "+49 30 64334104",
      first_name: "Elijah",
      last_name: "Dubois",
      country: "DE",
      address: { line1: "Schillerstraße 20", city: "Köln", postal_code: "50749", country: "DE" },
    });
    const h = createHash("sha256");
    for (let i = 0; i < 1000; i++) h.update(JSON.stringify(syntheticCustomer(42, i)) + "\n");
    expect(h.digest("hex")).toBe("6f2d9d722d488448f294ef59bcfee437e88cb206b46cf6e8f103944857f2a7f4");
  });
});
