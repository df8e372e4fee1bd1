import { protos } from "@google-cloud/dlp";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_DLP_INFO_TYPES, type DlpInspector, DlpInspectionError, type DlpInspectorOptions, openDlpInspector } from "../../sinks/dlp/inspector.js";
import { fromCodepoints, fromUtf8Bytes, utf16Span } from "../../sinks/dlp/offsets.js";
import type { TextInspector } from "../../sinks/roles.js";
import { type TextFinding, applyFindings } from "../../transforms/text-findings.js";
import { type LocalDlp, PERSON_NAMES, type RecordedRequest, startLocalDlp } from "../helpers/dlp-server.js";
import { plainTexts, randomEmail } from "../helpers/free-text.js";
import { Seeded } from "../helpers/hostile.js";

interface Planted {
  value: string;
  infoType: string;
  start: number;
  end: number;
}

/** Neighbours that make UTF-8, codepoint and UTF-16 offsets differ. */
const NON_ASCII = ["naïve café", "😀", "東京の寿司", "Grüße", "🇩🇪🍺", "𠜎 rare CJK", "ﬁ ligature", "à bientôt", "👩‍👩‍👧 family"];

/** A text with personal values of the local DLP's kinds planted between plain and non-ASCII words. */
function dlpText(r: Seeded, plain: string, personalShare: number): { text: string; planted: Planted[] } {
  let text = r.chance(0.7) ? `${r.pick(NON_ASCII)} ` : "";
  const planted: Planted[] = [];
  const n = r.chance(personalShare) ? 1 + r.int(3) : 0;
  for (let i = 0; i < n; i++) {
    text += `${r.chance(0.5) ? r.pick(NON_ASCII) : plain} `;
    const [value, infoType] = r.pick<() => [string, string]>([
      () => [randomEmail(r), "EMAIL_ADDRESS"],
      () => [`+${1 + r.int(98)} ${r.digits(3)} ${r.digits(3)} ${r.digits(4)}`, "PHONE_NUMBER"],
      () => [r.pick(PERSON_NAMES), "PERSON_NAME"],
    ])();
    planted.push({ value, infoType, start: text.length, end: text.length + value.length });
    // A word after the value, so no number of the next phrase reads as more of a phone number.
    text += `${value} ${r.pick(["thanks", "ok", "🙏", "merci", "谢谢"])} `;
  }
  text += r.chance(0.5) ? plain : r.pick(NON_ASCII);
  return { text, planted };
}

/** `count` texts, `personalShare` of them with one to three personal values. */
function dlpTexts(seed: number, count: number, personalShare = 0.75): { text: string; planted: Planted[] }[] {
  const r = new Seeded(seed);
  const plain = plainTexts(seed + 1, count);
  return plain.map((p) => dlpText(r, p, personalShare));
}

const spans = (text: string, fs: readonly (TextFinding | Planted)[]) =>
  [...fs].sort((a, b) => a.start - b.start || a.end - b.end).map((f) => `${f.infoType} [${f.start},${f.end}) ${JSON.stringify(text.slice(f.start, f.end))}`);

describe("Cloud DLP inspector through the official client, against a local DLP", () => {
  let dlp: LocalDlp;
  let inspector: DlpInspector;
  const opened: DlpInspector[] = [];
  const open = (more: Partial<DlpInspectorOptions> = {}): DlpInspector => {
    const i = openDlpInspector({
      project: "ecom-test",
      location: "europe-west1",
      apiEndpoint: "127.0.0.1",
      port: dlp.port,
      insecure: true,
      timeoutMs: 10_000,
      ...more,
    });
    opened.push(i);
    return i;
  };
  /** Requests sent since the last call. */
  let seen = 0;
  const sent = (): RecordedRequest[] => {
    const out = dlp.requests.slice(seen);
    seen = dlp.requests.length;
    return out;
  };

  // The client must never go looking for a GCE metadata server (no such host here, and none may be tried).
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);

  beforeAll(async () => {
    process.on("warning", onWarning);
    dlp = await startLocalDlp();
    inspector = open();
  });
  beforeEach(() => {
    dlp.setLimits({ maxRequestBytes: 524_288, maxCells: 50_000, maxFindingsPerRequest: 3_000 });
    sent();
  });
  afterAll(async () => {
    for (const i of opened) await i.close();
    // Whatever a test sent, no request ever asked DLP to echo a value.
    expect(dlp.requests.length).toBeGreaterThan(0);
    expect(dlp.requests.filter((r) => r.inspectConfig?.includeQuote === true)).toEqual([]);
    await dlp.stop();
    process.off("warning", onWarning);
    expect(warnings.filter((w) => /metadata/i.test(w))).toEqual([]);
  });

  it("inspects a batch of 5 000 texts in one request and maps every finding to its text and UTF-16 span", async () => {
    // A fifth of the texts with personal data: fewer findings than DLP returns for one request (3 000).
    const cases = dlpTexts(11, 5_000, 0.2);
    const texts = cases.map((c) => c.text);
    const plantedCount = cases.reduce((n, c) => n + c.planted.length, 0);
    expect(plantedCount).toBeGreaterThan(1_500);
    expect(plantedCount).toBeLessThan(3_000);
    const got = await inspector.inspect(texts);
    const requests = sent();
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req!.parent).toBe("projects/ecom-test/locations/europe-west1");
    expect(req!.inspectConfig?.includeQuote ?? false).toBe(false);
    expect(req!.inspectConfig?.infoTypes?.map((t) => t.name)).toEqual([...DEFAULT_DLP_INFO_TYPES]);
    expect(req!.inspectConfig?.minLikelihood).toBe("POSSIBLE");
    expect(req!.item?.table?.rows).toHaveLength(new Set(texts).size);

    expect(got).toHaveLength(texts.length);
    let shifted = 0;
    for (let i = 0; i < cases.length; i++) {
      const { text, planted } = cases[i]!;
      expect(spans(text, got[i]!), text).toEqual(spans(text, planted));
      // Offsets that UTF-8 bytes or codepoints would have put elsewhere: the conversion is exercised.
      for (const p of planted) if (Buffer.byteLength(text.slice(0, p.start)) !== p.start || [...text.slice(0, p.start)].length !== p.start) shifted++;
    }
    expect(shifted).toBeGreaterThan(plantedCount / 2);
    expect(new Set(cases.flatMap((c) => c.planted.map((p) => p.infoType)))).toEqual(new Set(["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON_NAME"]));

    // The findings applied leave none of the planted values.
    for (let i = 0; i < cases.length; i++) {
      const out = applyFindings(texts[i]!, got[i]!, (_s, type) => `[${type}]`);
      for (const p of cases[i]!.planted) expect(out).not.toContain(p.value);
    }
  });

  it("cuts a batch beyond DLP's limits into the fewest requests that fit", async () => {
    const limits = { maxRequestBytes: 40_000, maxCells: 700 };
    dlp.setLimits(limits);
    // One request at a time, so they arrive in the order they were planned.
    const small = open({ limits, concurrency: 1 });
    const cases = dlpTexts(12, 5_000);
    const got = await small.inspect(cases.map((c) => c.text));
    const requests = sent();
    const rows = requests.map((r) => r.item?.table?.rows ?? []);
    expect(rows.flat()).toHaveLength(new Set(cases.map((c) => c.text)).size);
    expect(requests.length).toBeGreaterThanOrEqual(Math.ceil(rows.flat().length / limits.maxCells));
    for (let i = 0; i < requests.length; i++) {
      expect(requests[i]!.bytes).toBeLessThanOrEqual(limits.maxRequestBytes);
      expect(rows[i]!.length).toBeLessThanOrEqual(limits.maxCells);
      if (i + 1 === requests.length) continue;
      // Fewest: no request could have taken the next one's first row (the real encoder says so).
      const withNext = protos.google.privacy.dlp.v2.InspectContentRequest.encode({
        ...requests[i]!,
        item: { table: { ...requests[i]!.item!.table!, rows: [...rows[i]!, rows[i + 1]![0]!] } },
      } as protos.google.privacy.dlp.v2.IInspectContentRequest).finish().length;
      expect(
        withNext > limits.maxRequestBytes || rows[i]!.length === limits.maxCells,
        `request ${i} of ${requests[i]!.bytes} bytes could have taken the next row`,
      ).toBe(true);
    }
    expect(requests.length).toBeGreaterThan(1);
    for (let i = 0; i < cases.length; i++) expect(spans(cases[i]!.text, got[i]!)).toEqual(spans(cases[i]!.text, cases[i]!.planted));
  });

  it("finds every value of a text too long for one request, those on a cut between pieces too", async () => {
    const limits = { maxRequestBytes: 30_000 };
    dlp.setLimits(limits);
    const small = open({ limits });
    const r = new Seeded(13);
    let text = "";
    const planted: Planted[] = [];
    while (text.length < 150_000) {
      text += `${r.pick(NON_ASCII)} ${"lorem ipsum ".repeat(r.int(40))}`;
      const email = randomEmail(r);
      planted.push({ value: email, infoType: "EMAIL_ADDRESS", start: text.length, end: text.length + email.length });
      text += `${email} `;
    }
    const [got] = await small.inspect([text]);
    const requests = sent();
    expect(requests.length).toBeGreaterThan(5);
    for (const req of requests) expect(req.bytes).toBeLessThanOrEqual(limits.maxRequestBytes);
    expect(spans(text, got!)).toEqual(spans(text, planted));
  });

  it("inspects again in halves when DLP truncates a request's findings, and loses none", async () => {
    dlp.setLimits({ maxFindingsPerRequest: 40 });
    const cases = dlpTexts(14, 300);
    const got = await inspector.inspect(cases.map((c) => c.text));
    expect(sent().length).toBeGreaterThan(8);
    for (let i = 0; i < cases.length; i++) expect(spans(cases[i]!.text, got[i]!)).toEqual(spans(cases[i]!.text, cases[i]!.planted));
  });

  it("asks for the configured info types and likelihood, and reports only those", async () => {
    const cases = dlpTexts(15, 500);
    const likely = open({ infoTypes: ["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON_NAME"], minLikelihood: "LIKELY" });
    const got = await likely.inspect(cases.map((c) => c.text));
    const [req] = sent();
    expect(req!.inspectConfig?.minLikelihood).toBe("LIKELY");
    expect(req!.inspectConfig?.infoTypes?.map((t) => t.name)).toEqual(["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON_NAME"]);
    for (let i = 0; i < cases.length; i++) {
      const { text, planted } = cases[i]!;
      expect(spans(text, got[i]!)).toEqual(
        spans(
          text,
          planted.filter((p) => p.infoType !== "PERSON_NAME"),
        ),
      ); // names are only POSSIBLE
    }
    const emails = open({ infoTypes: ["EMAIL_ADDRESS"] });
    const onlyEmails = await emails.inspect(cases.map((c) => c.text));
    expect(new Set(onlyEmails.flat().map((f) => f.infoType))).toEqual(new Set(["EMAIL_ADDRESS"]));
  });

  it("sends nothing for empty texts and inspects a repeated text once", async () => {
    expect(await inspector.inspect([])).toEqual([]);
    expect(await inspector.inspect(["", ""])).toEqual([[], []]);
    expect(sent()).toHaveLength(0);
    const text = "write to anna.svensson@example.com 😀";
    const got = await inspector.inspect([text, "", text]);
    const [req] = sent();
    expect(req!.item?.table?.rows).toHaveLength(1);
    expect(got[0]).toEqual([{ start: 9, end: 34, infoType: "EMAIL_ADDRESS" }]);
    expect(got[1]).toEqual([]);
    expect(got[2]).toEqual(got[0]);
  });

  it("rejects the batch when DLP fails, saying where and what to check, with no text of the batch", async () => {
    const cases = dlpTexts(16, 20);
    const texts = cases.map((c) => c.text);
    dlp.failNext(status.PERMISSION_DENIED, `Permission 'dlp.content.inspect' denied; sample anna.svensson@example.com +44 20 7946 0958 ${cases[0]!.text}`);
    const err = await inspector.inspect(texts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DlpInspectionError);
    const message = String((err as Error).message);
    expect(message).toMatch(/project ecom-test, location europe-west1, endpoint 127\.0\.0\.1:\d+/);
    expect(message).toContain("PERMISSION_DENIED");
    expect(message).toContain("roles/dlp.user");
    expect(message).toContain("Nothing of the batch may be committed");
    expect((err as DlpInspectionError).code).toBe(status.PERMISSION_DENIED);
    // The server's own words may echo what it was sent: none of them is repeated.
    expect(message).not.toMatch(/sample|anna|7946|dlp\.content/);
    for (const c of cases) for (const p of c.planted) expect(message).not.toContain(p.value);

    dlp.failNext(status.RESOURCE_EXHAUSTED, "Quota exceeded for quota metric 'Number of requests'");
    await expect(inspector.inspect(texts)).rejects.toThrow(/RESOURCE_EXHAUSTED\. DLP's quota is used up/);
  });

  it("retries DLP's transient errors within its timeout, and then rejects", async () => {
    const cases = dlpTexts(17, 50);
    dlp.failNext(status.UNAVAILABLE, "try again", 2);
    const got = await inspector.inspect(cases.map((c) => c.text));
    expect(sent()).toHaveLength(3);
    for (let i = 0; i < cases.length; i++) expect(spans(cases[i]!.text, got[i]!)).toEqual(spans(cases[i]!.text, cases[i]!.planted));

    const impatient = open({ timeoutMs: 1_500 });
    dlp.failNext(status.UNAVAILABLE, "still down", 1_000);
    await expect(impatient.inspect(["a text"])).rejects.toThrow(
      /ecom: Cloud DLP could not inspect a batch of 1 texts \(project ecom-test.*(UNAVAILABLE|DEADLINE_EXCEEDED)/,
    );
    dlp.clearFailures();
  });

  it("rejects when DLP cannot be reached at all", async () => {
    const nowhere = openDlpInspector({ project: "ecom-test", apiEndpoint: "127.0.0.1", port: 9, insecure: true, timeoutMs: 1_000 });
    opened.push(nowhere);
    await expect(nowhere.inspect(["a text"])).rejects.toThrow(/location global, endpoint 127\.0\.0\.1:9\).*(UNAVAILABLE|DEADLINE_EXCEEDED)/);
  });

  it("plays the TextInspector role and refuses invalid options, naming each problem", () => {
    const role: TextInspector = inspector;
    expect(role.name).toBe("cloud-dlp");
    expect(() => openDlpInspector({ project: "ecom-test", insecure: true })).toThrow(/insecure: insecure needs an apiEndpoint/);
    expect(() => openDlpInspector({ project: "Bad Project" })).toThrow(/project: must be a GCP project id/);
    expect(() => openDlpInspector({ project: "ecom-test", minLikelihood: "SURE" as never })).toThrow(/minLikelihood/);
    expect(() => openDlpInspector({ project: "ecom-test", infoTypes: [] })).toThrow(/infoTypes/);
    expect(() => openDlpInspector({ project: "ecom-test", extra: 1 } as never)).toThrow(/extra|unrecognized/i);
  });
});

describe("DLP offsets to UTF-16", () => {
  const TEXTS = ["plain ascii", "naïve café crème", "東京の寿司", "😀😁 emoji", "🇩🇪 flag ﬁ", "𠜎𠜱 astral CJK", "mixed é 😀 東 a"];

  it("turns byte and codepoint ranges of generated texts into the same UTF-16 span", () => {
    const r = new Seeded(21);
    for (let i = 0; i < 5_000; i++) {
      const text = Array.from({ length: 1 + r.int(4) }, () => r.pick(TEXTS)).join(r.pick([" ", "", "·"]));
      const points = [...text];
      const a = r.int(points.length + 1);
      const b = a + r.int(points.length - a + 1);
      const start = points.slice(0, a).join("").length;
      const end = points.slice(0, b).join("").length;
      const bytes = { start: Buffer.byteLength(points.slice(0, a).join("")), end: Buffer.byteLength(points.slice(0, b).join("")) };
      expect(fromUtf8Bytes(text, bytes.start, bytes.end)).toEqual({ start, end });
      expect(fromCodepoints(text, a, b)).toEqual({ start, end });
      // int64 as the client may hand it over: strings.
      expect(utf16Span(text, { start: String(bytes.start), end: String(bytes.end) }, { start: String(a), end: String(b) })).toEqual({ start, end });
    }
  });

  it("widens a byte range inside a character to the whole character, covers both ranges, refuses ranges beyond the text", () => {
    const text = "a😀b東c"; // bytes: a 0, 😀 1-4, b 5, 東 6-8, c 9
    expect(fromUtf8Bytes(text, 2, 3)).toEqual({ start: 1, end: 3 });
    expect(fromUtf8Bytes(text, 7, 8)).toEqual({ start: 4, end: 5 });
    expect(utf16Span(text, { start: 0, end: 1 }, { start: 2, end: 3 })).toEqual({ start: 0, end: 4 });
    expect(fromUtf8Bytes(text, 0, 11)).toBeUndefined();
    expect(fromCodepoints(text, 0, 6)).toBeUndefined();
    expect(fromCodepoints(text, 3, 2)).toBeUndefined();
    expect(utf16Span(text, { start: -1, end: 2 }, undefined)).toBeUndefined();
    expect(utf16Span(text, { start: 0, end: 1 }, { start: 0, end: 99 })).toBeUndefined();
    expect(utf16Span(text, { end: 1 }, undefined)).toEqual({ start: 0, end: 1 }); // proto3 leaves a 0 out
  });
});
