import { describe, expect, it } from "vitest";
import type { TextInspector } from "../../sinks/roles.js";
import { decodeComponent, scrubFreeText } from "../../transforms/personal.js";
import { type TextFinding, applyFindings, builtInInspector, findPersonalText } from "../../transforms/text-findings.js";
import { type TokenKey, tokenize } from "../../transforms/tokenize.js";
import { personalTexts, personalUrl, plainTexts } from "../helpers/free-text.js";
import { Seeded } from "../helpers/hostile.js";

const show = (text: string, fs: readonly TextFinding[]) => fs.map((f) => `${f.infoType} ${JSON.stringify(text.slice(f.start, f.end))} [${f.start},${f.end})`);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("built-in text inspector: what it finds", () => {
  it("finds exactly what was planted, at its UTF-16 span, in 3 000 generated texts", () => {
    const cases = personalTexts(1, 3_000);
    const kinds = new Set<string>();
    for (const c of cases) {
      const expected = c.planted.map((p) => ({ start: p.start, end: p.end, infoType: p.infoType })).sort((a, b) => a.start - b.start);
      for (const p of c.planted) expect(c.text.slice(p.start, p.end), c.where).toBe(p.value);
      expect(show(c.text, findPersonalText(c.text)), `${c.where}: ${JSON.stringify(c.text)}`).toEqual(show(c.text, expected));
      for (const p of c.planted) kinds.add(p.infoType);
    }
    expect([...kinds].sort()).toEqual(["EMAIL_ADDRESS", "IP_ADDRESS", "PERSONAL_URL_PARAMETER", "PERSON_NAME", "PHONE_NUMBER", "STREET_ADDRESS"]);
  });

  it("finds nothing in 5 000 generated texts without personal data (product searches, prices, dates, versions, references)", () => {
    const texts = plainTexts(2, 5_000);
    const found = texts.map((t) => ({ t, f: show(t, findPersonalText(t)) })).filter((x) => x.f.length > 0);
    expect(found.slice(0, 5)).toEqual([]);
  });

  it.each([
    ["iphone 15 pro 256gb", []],
    ["call +44 20 7946 0958 today", ['PHONE_NUMBER "+44 20 7946 0958"']],
    ["(555) 234-5678", ['PHONE_NUMBER "(555) 234-5678"']],
    ["555-234-5678 on 2024-11-05", ['PHONE_NUMBER "555-234-5678"']],
    ["order 123-456-7890", []], // area code 123 does not exist: a reference
    ["555-1234", []], // 7 digits: too short to tell from a reference
    ["from 10.1.2.3:8443 at 10:30", ['IP_ADDRESS "10.1.2.3"']],
    ["version 1.2.3.4", []],
    ["chrome 120.0.6099.109", []],
    ["0.0.0.0", []],
    ["::1 and std::vector", []],
    ["+12345678.90", []], // an amount
  ])("%j", (text, expected) => {
    expect(show(text, findPersonalText(text)).map((s) => s.replace(/ \[.*$/, ""))).toEqual(expected);
  });

  it("reports exactly the spans scrubFreeText replaces in URLs: the findings applied give scrubFreeText's text", () => {
    const key: TokenKey = { id: "k1", secret: Buffer.alloc(32, 7) };
    const r = new Seeded(3);
    let personal = 0;
    for (let i = 0; i < 2_000; i++) {
      const { text } = personalUrl(r);
      const findings = findPersonalText(text);
      personal += findings.length;
      const applied = applyFindings(text, findings, (span) => {
        const value = decodeComponent(span);
        return tokenize(value, key, value.includes("@") ? "email" : "text");
      });
      expect(applied, text).toBe(scrubFreeText(text, key));
    }
    expect(personal).toBeGreaterThan(1_500);
  });

  it("plays the TextInspector role: one call for a batch, findings per text in order", async () => {
    const inspector: TextInspector = builtInInspector;
    const planted = personalTexts(4, 80)
      .filter((c) => c.planted.length > 0)
      .slice(0, 50);
    const cases = [...planted.map((c) => c.text), ...plainTexts(5, 50)];
    const got = await inspector.inspect(cases);
    expect(got).toHaveLength(cases.length);
    expect(got).toEqual(cases.map(findPersonalText));
    expect(got.slice(0, 50).every((f) => f.length > 0)).toBe(true);
    expect(got.slice(50).every((f) => f.length === 0)).toBe(true);
    expect(await inspector.inspect([])).toEqual([]);
  });
});

describe("applyFindings", () => {
  /** Random findings over a text with astral characters, overlapping and unsorted. */
  function randomFindings(r: Seeded, text: string): TextFinding[] {
    return Array.from({ length: r.int(6) }, () => {
      const start = r.int(text.length + 1);
      return { start, end: start + r.int(text.length - start + 1), infoType: r.pick(["A", "B", "C"]) };
    });
  }
  const covered = (text: string, fs: readonly TextFinding[]) => {
    const mask = new Array<boolean>(text.length).fill(false);
    for (const f of fs) for (let i = f.start; i < f.end; i++) mask[i] = true;
    return mask;
  };
  const texts = (r: Seeded) => r.pick(["naïve café 😀 crème", "東京 🍣 寿司 and 🇩🇪 flags", "plain ascii text here", "😀😁😂🤣", "x"]) + r.digits(r.int(4));

  it("drops exactly the covered characters (widened to whole surrogate pairs), in any order of findings", () => {
    const r = new Seeded(6);
    for (let i = 0; i < 3_000; i++) {
      const text = texts(r);
      const fs = randomFindings(r, text);
      const mask = covered(text, fs);
      // A span that cuts a pair takes the whole pair.
      for (let j = 0; j < text.length; j++) {
        const c = text.charCodeAt(j);
        if (c >= 0xd800 && c <= 0xdbff && (mask[j] || mask[j + 1])) mask[j] = mask[j + 1] = true;
      }
      const expected = text
        .split("")
        .filter((_, j) => !mask[j])
        .join("");
      const shuffled = [...fs].sort(() => r.int(3) - 1);
      expect(applyFindings(text, fs, () => "")).toBe(expected);
      expect(applyFindings(text, shuffled, () => "")).toBe(expected);
      expect(applyFindings(text, fs, (span) => span)).toBe(text);
      expect(LONE_SURROGATE.test(applyFindings(text, fs, () => "#"))).toBe(false);
    }
  });

  it("replaces overlapping findings once, with the type of the one that starts first", () => {
    const text = "mail anna@example.com now";
    const out = applyFindings(
      text,
      [
        { start: 10, end: 21, infoType: "DOMAIN" },
        { start: 5, end: 21, infoType: "EMAIL_ADDRESS" },
        { start: 5, end: 9, infoType: "PERSON_NAME" },
        { start: 22, end: 22, infoType: "EMPTY" },
      ],
      (span, type) => `<${type}:${span.length}>`,
    );
    expect(out).toBe("mail <EMAIL_ADDRESS:16> now");
    // Touching spans are two replacements.
    expect(
      applyFindings(
        "abcdef",
        [
          { start: 3, end: 6, infoType: "Y" },
          { start: 0, end: 3, infoType: "X" },
        ],
        (_s, t) => t,
      ),
    ).toBe("XY");
  });

  it("refuses a finding outside its text, naming only offsets", () => {
    const text = "secret anna@example.com";
    for (const bad of [
      { start: -1, end: 3 },
      { start: 5, end: 99 },
      { start: 6, end: 2 },
      { start: 1.5, end: 3 },
    ]) {
      expect(() => applyFindings(text, [{ ...bad, infoType: "EMAIL_ADDRESS" }], () => "")).toThrow(RangeError);
      try {
        applyFindings(text, [{ ...bad, infoType: "EMAIL_ADDRESS" }], () => "");
      } catch (err) {
        expect(String(err)).not.toMatch(/secret|anna/);
      }
    }
  });

  it("leaves none of the planted values once the built-in findings are applied", () => {
    for (const c of personalTexts(7, 2_000)) {
      const out = applyFindings(c.text, findPersonalText(c.text), (_s, type) => `[${type}]`);
      for (const p of c.planted) expect(out, c.where).not.toContain(p.value);
    }
  });
});
