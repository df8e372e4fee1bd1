import { describe, expect, it } from "vitest";
import { sanitize } from "../../transforms/sanitize.js";
import { PAN_REDACTION, luhnValid, redactPansInText } from "../../transforms/scrub-pans.js";

describe("PAN scrubbing", () => {
  it("knows the Luhn check", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("378282246310005")).toBe(true); // Amex test number
  });

  it.each([
    ["4111111111111111", 1],
    ["4111 1111 1111 1111", 1],
    ["4111-1111-1111-1111", 1],
    ["card 5555555555554444 and 378282246310005", 2],
    ["4111111111113", 0], // Luhn-invalid, and too short for a window inside it
    ["4111111111111112", 1], // Luhn-invalid as a whole, but digits 4-16 are a Luhn-valid 13-digit window
    ["411111111111", 0], // 12 digits
    ["1234567890123", 0], // 13 digits, Luhn-invalid, and no window inside is a card number
    ["order 0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b", 0],
    ["+1 555 0100", 0],
    ["00000000-0000-4000-8000-000000000011", 0], // an all-digit UUID is not a card number
    ["12345678-1234-4123-8123-123456789012", 0], // a whole-value UUID
    ["12345678-1234-4123-8123-123456789012 paid with 4111-1111-1111-1111", 2], // a UUID-shaped part of a text is scanned
  ])("finds %j: %i", (text, count) => {
    const r = redactPansInText(text);
    expect(r.count).toBe(count);
    if (count) expect(r.text).toContain(PAN_REDACTION);
    else expect(r.text).toBe(text);
  });

  it("scrubs every string of an object in place, nested and in arrays", () => {
    const v = { a: "4111111111111111", b: { c: ["x", "pay 4111 1111 1111 1111 now"] }, n: 4111111111111111, last4: "1111" };
    expect(sanitize(v)).toEqual({ ok: true, pansRedacted: 3, dropped: 0 });
    expect(v.n).toBe(PAN_REDACTION); // a card number sent as a JSON number
    expect(v.a).toBe(PAN_REDACTION);
    expect(v.b.c[1]).toBe(`pay ${PAN_REDACTION} now`);
    expect(v.last4).toBe("1111");
  });
});
