import { describe, expect, it } from "vitest";
import { PAN_REDACTION, luhnValid, redactPansInText, scrubPans } from "../../transforms/scrub-pans.js";

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
    ["4111111111111112", 0], // Luhn-invalid
    ["411111111111", 0], // 12 digits
    ["12345678901234567890123", 0], // 23 digits: not a 13-19 digit value
    ["order 0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b", 0],
    ["+1 555 0100", 0],
    ["00000000-0000-4000-8000-000000000011", 0], // an all-digit UUID is not a card number
    ["12345678-1234-4123-8123-123456789012 paid with 4111-1111-1111-1111", 1],
  ])("finds %j: %i", (text, count) => {
    const r = redactPansInText(text);
    expect(r.count).toBe(count);
    if (count) expect(r.text).toContain(PAN_REDACTION);
    else expect(r.text).toBe(text);
  });

  it("scrubs every string of an object in place, nested and in arrays", () => {
    const v = { a: "4111111111111111", b: { c: ["x", "pay 4111 1111 1111 1111 now"] }, n: 4111111111111111, last4: "1111" };
    expect(scrubPans(v)).toBe(2);
    expect(v.a).toBe(PAN_REDACTION);
    expect(v.b.c[1]).toBe(`pay ${PAN_REDACTION} now`);
    expect(v.last4).toBe("1111");
  });
});
