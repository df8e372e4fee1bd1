/** Card numbers planted in free text (pans.ts): rare, and only where the contract has free text. */
import { describe, expect, it } from "vitest";
import { isObj } from "./contract.js";
import { opts, take } from "./traffic.js";

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** any 13..19-digit window (spaces or dashes allowed between digits) that passes Luhn */
function containsPan(s: string): boolean {
  for (const m of s.matchAll(/\d(?:[ -]?\d)+/g)) {
    const digits = m[0].replace(/[ -]/g, "");
    for (let len = 13; len <= 19; len++) {
      for (let i = 0; i + len <= digits.length; i++) if (luhn(digits.slice(i, i + len))) return true;
    }
  }
  return false;
}

function stringLeaves(v: unknown, path: string, out: [string, string][]): void {
  if (typeof v === "string") out.push([path, v]);
  else if (Array.isArray(v)) for (const x of v) stringLeaves(x, path + "[]", out);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) stringLeaves(x, path ? path + "." + k : k, out);
}

describe("card numbers (PAN) in free text", () => {
  it("rarely, a Luhn-valid card number appears in a search query or failure message, and nowhere else", () => {
    const msgs = take(opts({ ratePerSecond: 500 }), 120_000);
    const hits: string[] = [];
    for (const m of msgs) {
      if (!/\d{4}/.test(m.data)) continue;
      const leaves: [string, string][] = [];
      stringLeaves(JSON.parse(m.data), "", leaves);
      for (const [path, v] of leaves) if (containsPan(v)) hits.push(path);
    }
    expect(hits.length).toBeGreaterThanOrEqual(5); // expected ~24 (1 in 5000)
    expect(hits.length).toBeLessThanOrEqual(70);
    for (const p of hits) expect(["payload.query", "payload.failure_message"]).toContain(p);
  });
});
