/**
 * The step functions against generated hostile producers, thousands of
 * cases: whatever a message holds, what the steps hand on (the Silver row,
 * the Bronze line, the decrypted Bronze envelope, every dead-letter column)
 * holds no card number and no sensitive authentication data, and personal
 * data only as tokens (Silver) or ciphertext (Bronze).
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { elementSteps, parseMessage, project } from "../../pipelines/ingest-steps.js";
import { deadLetterRow } from "../../transforms/dead-letter.js";
import { createRegistry } from "../../schemas/registry.js";
import { decryptPii, restoreFromBronze } from "../../transforms/protect.js";
import type { DeadLetter, RawMessage, ValidEvent } from "../../transforms/types.js";
import { type PlantedEvent, panEvents, personalDataEvents, sensitiveAuthEvents } from "../helpers/hostile.js";
import { digitsOf } from "../helpers/scan.js";

const steps = elementSteps(createRegistry());
const tokenKey = { id: "t1", secret: randomBytes(32) };
const subjectKey = { kid: "sk_test", key: randomBytes(32) };

interface Stored {
  /** Silver row, or every dead-letter column. */
  silverOrDeadLetter: string;
  /** The Bronze line as written. */
  bronze?: string;
  /** The Bronze envelope decrypted: encrypted is still stored, so card numbers must not be in it either. */
  envelope?: string;
  outcome: ValidEvent | DeadLetter;
}

function run(line: string): Stored {
  const message: RawMessage = { data: Buffer.from(line), origin: "hostile", receivedAtMs: 0 };
  const r = parseMessage(steps, message);
  if (!r.ok) {
    const row = deadLetterRow(r);
    return { silverOrDeadLetter: JSON.stringify({ ...row, raw: Buffer.from(row.raw).toString("utf8") }), outcome: r };
  }
  const p = project(r, subjectKey, { tokenKey, ingestedAtMs: 1 });
  const bronze = JSON.parse(p.bronzeLine) as { _pii?: { iv: string; ct: string; kid: string; alg: "A256GCM" } };
  return {
    silverOrDeadLetter: JSON.stringify(p.row),
    bronze: p.bronzeLine,
    envelope: bronze._pii ? JSON.stringify(decryptPii(bronze._pii, subjectKey.key)) : undefined,
    outcome: r,
  };
}

const leaksDigits = (text: string | undefined, pan: string): boolean => text !== undefined && digitsOf(text).includes(pan);

describe("card numbers, generated in every placement and separator", () => {
  const cases = panEvents(20261201, 3000);

  it("are never handed on, in Silver, Bronze, the Bronze envelope or a dead letter, and each is counted", () => {
    const leaks: string[] = [];
    let counted = 0;
    for (const c of cases) {
      const s = run(c.line);
      counted += s.outcome.pansRedacted > 0 ? 1 : 0;
      for (const [place, text] of [
        ["silver/dead letter", s.silverOrDeadLetter],
        ["bronze", s.bronze],
        ["envelope", s.envelope],
      ] as const) {
        if (leaksDigits(text, c.pan)) leaks.push(`${c.where} -> ${place}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(counted).toBe(cases.length);
  });

  it("cover every placement class and reach both Silver and the dead-letter store", () => {
    const wheres = new Set(cases.map((c) => c.where.split(",")[0]));
    expect(wheres.size).toBeGreaterThanOrEqual(20);
    const outcomes = cases.map((c) => run(c.line).outcome.ok);
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(1000);
    expect(outcomes.filter((ok) => !ok).length).toBeGreaterThan(300);
  });

  it("spare what is not a card number: a whole-value UUID, a Luhn-invalid number, 12 digits, a phone number", () => {
    for (const text of ["12345678-1234-4123-8123-123456789012", "4111111111113", "411111111111", "+1 555 0100 ext 12"]) {
      const line = JSON.stringify({
        event_id: "0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
        event_type: "search",
        schema_version: 1,
        event_time: "2026-11-25T10:00:00Z",
        source: "web",
        payload: { query: text, results_count: 0 },
      });
      const s = run(line);
      expect(s.outcome.ok && s.outcome.pansRedacted).toBe(0);
      expect(JSON.parse(s.silverOrDeadLetter).query).toBe(text);
    }
  });
});

describe("sensitive authentication data (card holder, CVV, expiry, PIN, password)", () => {
  it("is dropped everywhere, dead letters included", () => {
    const leaks: string[] = [];
    let dead = 0;
    for (const c of sensitiveAuthEvents(7, 1000)) {
      const s = run(c.line);
      if (!s.outcome.ok) dead++;
      for (const text of [s.silverOrDeadLetter, s.bronze, s.envelope]) if (text?.includes(c.planted[0]!)) leaks.push(c.where);
    }
    expect(leaks).toEqual([]);
    expect(dead).toBeGreaterThan(100);
  });

  it("is dropped from messages that are not even JSON", () => {
    const s = run(`{"event_type":"payment_initiated","payload":{"card":{"cvv":"987","card_holder":"Ann Smith","number":"4111 1111 1111 1111"}`);
    expect(s.outcome.ok).toBe(false);
    expect(s.silverOrDeadLetter).not.toMatch(/987|Ann Smith|4111/);
  });
});

describe("personal data the contract does not name", () => {
  const cases = personalDataEvents(99, 2000);

  function check(c: PlantedEvent): string[] {
    const s = run(c.line);
    const problems: string[] = [];
    if (!s.outcome.ok) return [`${c.where}: dead-lettered (${s.outcome.reason}: ${s.outcome.detail})`];
    for (const v of c.planted) {
      if (s.silverOrDeadLetter.toLowerCase().includes(v.toLowerCase()) || s.silverOrDeadLetter.includes(encodeURIComponent(v)))
        problems.push(`${c.where}: in Silver`);
      if (s.bronze!.toLowerCase().includes(v.toLowerCase()) || s.bronze!.includes(encodeURIComponent(v))) problems.push(`${c.where}: in Bronze in clear`);
      // Encrypted, not lost: the envelope holds it, so a replay and an export can give it back.
      if (![v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)].some((form) => s.envelope?.includes(form)))
        problems.push(`${c.where}: not in the Bronze envelope`);
    }
    for (const id of c.identifiers ?? []) if (s.bronze!.includes(id)) problems.push(`${c.where}: identifier ${id} in Bronze in clear`);
    return problems;
  }

  it("is tokenized in Silver and encrypted in Bronze, at any depth, in any spelling, in free text and URLs", () => {
    expect(cases.flatMap(check)).toEqual([]);
  });

  it("comes back whole from Bronze with the subject's key (replay), and stays gone without it (erasure)", () => {
    for (const c of cases.slice(0, 300)) {
      const original = JSON.parse(c.line) as Record<string, unknown>;
      const s = run(c.line);
      const restored = restoreFromBronze(JSON.parse(s.bronze!), subjectKey.key);
      expect(restored).toEqual({ ...original, event_id: String(original.event_id).toLowerCase() });
      const erased = JSON.stringify(restoreFromBronze(JSON.parse(s.bronze!), undefined));
      for (const v of [...c.planted, ...(c.identifiers ?? [])]) expect(erased).not.toContain(v);
    }
  });

  it("joins across tables: an email typed into a search box gets the same token as the same email on an order", () => {
    const email = "Joint.Person@Example.org";
    const search = run(
      JSON.stringify({
        event_id: "1b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
        event_type: "search",
        schema_version: 1,
        event_time: "2026-11-25T10:00:00Z",
        source: "web",
        payload: { query: `status of ${email}`, results_count: 0 },
      }),
    );
    const order = run(
      JSON.stringify({
        event_id: "2b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
        event_type: "order_created",
        schema_version: 1,
        event_time: "2026-11-25T10:00:00Z",
        source: "order-service",
        payload: {
          order_id: "o",
          items: [{ product_id: "p", sku: "s", quantity: 1, unit_price_minor: 1 }],
          subtotal_minor: 1,
          tax_minor: 0,
          shipping_minor: 0,
          total_minor: 1,
          currency: "USD",
          customer: { email },
        },
      }),
    );
    const token = JSON.parse(order.silverOrDeadLetter).customer_email_token as string;
    expect(JSON.parse(search.silverOrDeadLetter).query).toBe(`status of ${token}`);
  });
});

describe("dead letters echo nothing they reject", () => {
  it("names the failing field and a position, never a value", () => {
    const secret = "ann.secret@example.com";
    const bad = [
      `{"event_type": "search", "payload": {"query": "${secret}" "x": 1}}`,
      `{"event_type": ${JSON.stringify(secret)}, "schema_version": 1}`,
      JSON.stringify({
        event_id: secret,
        event_type: "search",
        schema_version: 1,
        event_time: "2026-11-25T10:00:00Z",
        source: "web",
        payload: { query: "q", results_count: 0 },
      }),
      JSON.stringify({
        event_id: "0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
        event_type: "search",
        schema_version: 1,
        event_time: "2026-11-25T10:00:00Z",
        source: "web",
        payload: { query: "q", results_count: 0, filters: { [secret]: { deep: "x".repeat(3) } } },
        user_id: 5,
      }),
    ];
    for (const line of bad) {
      const s = run(line);
      expect(s.outcome.ok).toBe(false);
      const dl = s.outcome as DeadLetter;
      for (const column of [dl.detail, dl.paths.join(" "), dl.event_id ?? "", dl.event_type ?? ""]) expect(column).not.toContain(secret);
    }
    const malformed = run(`{"a": "${secret}" "b": 2}`).outcome as DeadLetter;
    expect(malformed.detail).toBe(`not valid JSON (at character ${`{"a": "${secret}" "b": 2}`.indexOf('"b"') + 1})`);
  });
});
