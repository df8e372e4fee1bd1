/**
 * The built-in text inspector: personal data in free text (search queries,
 * failure messages, titles, URLs, referrers) found by the rules of
 * schemas/personal-data.ts, in the shape of the TextInspector role
 * (sinks/roles.ts), so the commit takes its findings from it or from Cloud
 * DLP (sinks/dlp/inspector.ts) alike. Pure.
 *
 * What it finds, under DLP's info type names:
 *  - EMAIL_ADDRESS: every email anywhere in a text, glued to other words
 *    too (`/users/a@b.example/orders` gives `a@b.example`);
 *  - PHONE_NUMBER and IP_ADDRESS: only where one stands as a token (or a
 *    run of whole words) of its own, in the shapes FREE_TEXT_VALUES lists:
 *    "iphone 15 pro 256gb", dates, prices, versions, quantities and order
 *    references give none;
 *  - the value of every personal URL parameter: exactly the spans
 *    `scrubFreeText` (transforms/personal.ts) replaces.
 *
 * Guarantees: findings are sorted by start (longest first at one start),
 * without exact duplicates, in UTF-16 offsets into the text; spans of
 * different rules may overlap, and `applyFindings` merges them. Nothing of
 * a text is ever logged or thrown.
 *
 * For the commit: `builtInInspector` (the role, one call per batch),
 * `findPersonalText` (one text, synchronously) and `applyFindings` (the
 * texts rewritten from any inspector's findings).
 */
import { isIP } from "node:net";
import { FREE_TEXT_VALUES, PERSONAL_VALUES } from "../schemas/personal-data.js";
import { URL_PARAM, decodeComponent, isPersonalParameter, isPersonalValue, nameWords } from "./personal.js";
import { type TokenKey, tokenize } from "./tokenize.js";

/** Personal data found in a text: its span (UTF-16 offsets, `end` exclusive) and what it is (DLP's info type names). */
export interface TextFinding {
  start: number;
  end: number;
  infoType: string;
}

const TYPES = FREE_TEXT_VALUES.infoTypes;
const EMAIL_ALL = new RegExp(PERSONAL_VALUES.email.source, "g");
const EMAIL_ONE = new RegExp(PERSONAL_VALUES.email.source);
const VERSION_WORDS = new Set<string>(FREE_TEXT_VALUES.versionWords);
const [INTERNATIONAL, ...NATIONAL] = FREE_TEXT_VALUES.phones;
const PARAMETER_TYPES: [Set<string>, string][] = [
  [new Set(FREE_TEXT_VALUES.parameterNames.email), TYPES.email],
  [new Set(FREE_TEXT_VALUES.parameterNames.phone), TYPES.phone],
  [new Set(FREE_TEXT_VALUES.parameterNames.ip), TYPES.ip],
  [new Set(FREE_TEXT_VALUES.parameterNames.personName), TYPES.personName],
  [new Set(FREE_TEXT_VALUES.parameterNames.address), TYPES.address],
];

/** Everything personal in one text, sorted by start. */
export function findPersonalText(text: string): TextFinding[] {
  const found: TextFinding[] = [];
  if (text.includes("@")) findEmails(text, found);
  if (text.includes("=")) findParameters(text, found);
  if (/\d/.test(text)) findNumbers(text, found);
  if (found.length < 2) return found;
  found.sort((a, b) => a.start - b.start || b.end - a.end || (a.infoType < b.infoType ? -1 : a.infoType > b.infoType ? 1 : 0));
  return found.filter((f, i) => i === 0 || f.start !== found[i - 1]!.start || f.end !== found[i - 1]!.end || f.infoType !== found[i - 1]!.infoType);
}

function findEmails(text: string, out: TextFinding[]): void {
  for (const m of text.matchAll(EMAIL_ALL)) {
    // The local part's characters include URL delimiters: `/users/a@b.c` and `?to=a@b.c` hold the address after the last one.
    const at = m[0].indexOf("@");
    let from = 0;
    for (let i = at - 1; i >= 0; i--) {
      if ("/=?&#".includes(m[0][i]!)) {
        from = i + 1;
        break;
      }
    }
    if (from < at) out.push({ start: m.index + from, end: m.index + m[0].length, infoType: TYPES.email });
  }
}

function findParameters(text: string, out: TextFinding[]): void {
  for (const m of text.matchAll(URL_PARAM)) {
    const [whole, sep, name, raw] = m as unknown as [string, string, string, string];
    if (!isPersonalParameter(name, raw)) continue;
    const start = m.index + sep.length + name.length + 1;
    out.push({ start, end: m.index + whole.length, infoType: parameterType(decodeComponent(name), decodeComponent(raw)) });
  }
}

/** The info type of a personal parameter's value: what the value is, else what its name says. */
function parameterType(name: string, value: string): string {
  if (EMAIL_ONE.test(value)) return TYPES.email;
  if (isIP(value.trim()) !== 0) return TYPES.ip;
  if (isPersonalValue(value)) return TYPES.phone;
  for (const word of nameWords(name)) {
    for (const [words, type] of PARAMETER_TYPES) if (words.has(word)) return type;
  }
  return TYPES.other;
}

/** A whitespace-separated word: its raw bounds, and the bounds without the punctuation around it. */
interface Word {
  rawStart: number;
  rawEnd: number;
  start: number;
  end: number;
}

const LEADING = "\"'[<{«“‘";
const TRAILING = "\"'\\]>}.,;:!?»”’";

function wordsOf(text: string): Word[] {
  const words: Word[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const rawStart = m.index;
    const rawEnd = rawStart + m[0].length;
    let start = rawStart;
    let end = rawEnd;
    while (start < end && LEADING.includes(text[start]!)) start++;
    for (;;) {
      const c = text[end - 1];
      if (end > start && c !== undefined && TRAILING.includes(c)) end--;
      // A closing parenthesis is punctuation when the word opens none: `(call 555-867-5309)`.
      else if (end > start && c === ")" && count(text, start, end, "(") < count(text, start, end, ")")) end--;
      else break;
    }
    if (start < end && text[start] === "(" && count(text, start, end, "(") > count(text, start, end, ")")) start++;
    // A value in parentheses, `(10.0.0.1)`; an area code or trunk, `(555)`, `(0)`, stays itself.
    if (end - start > 2 && text[start] === "(" && text[end - 1] === ")" && /\D/.test(text.slice(start + 1, end - 1))) {
      start++;
      end--;
    }
    words.push({ rawStart, rawEnd, start, end });
  }
  return words;
}

function count(text: string, from: number, to: number, c: string): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text[i] === c) n++;
  return n;
}

const NUMERIC_WORD = /^[+(]?[\d().-]*\d[\d().-]*$/;
/** Phone groups are joined by one space (or a no-break space); a run of longer gaps is a list of numbers. */
const GAP = new Set([" ", "\u00a0"]);
const MAX_PHONE_WORDS = 7;

function findNumbers(text: string, out: TextFinding[]): void {
  const words = wordsOf(text);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const token = text.slice(w.start, w.end);
    if (!/\d/.test(token)) continue;
    const ip = ipSpan(text, words, i, token);
    if (ip) {
      out.push(ip);
      continue;
    }
    if (!NUMERIC_WORD.test(token)) continue;
    const last = phoneRun(text, words, i);
    if (last >= 0) {
      out.push({ start: w.start, end: words[last]!.end, infoType: TYPES.phone });
      i = last;
    }
  }
}

/** The last word of the longest run from word `i` that is a phone number, or -1. */
function phoneRun(text: string, words: readonly Word[], i: number): number {
  let last = i;
  // Grow the run while the next word joins by a single space and nothing was cut from the words inside it.
  while (last + 1 < words.length && last - i + 1 < MAX_PHONE_WORDS) {
    const a = words[last]!;
    const b = words[last + 1]!;
    if (a.end !== a.rawEnd || b.start !== b.rawStart || b.rawStart - a.rawEnd !== 1 || !GAP.has(text[a.rawEnd]!)) break;
    if (!NUMERIC_WORD.test(text.slice(b.start, b.end))) break;
    last++;
  }
  // The longest run that is a phone wins: `+44 20 7946 0958` over `+44 20`.
  for (let j = last; j >= i; j--) {
    if (isPhone(text.slice(words[i]!.start, words[j]!.end))) return j;
  }
  return -1;
}

function isPhone(candidate: string): boolean {
  if (candidate.length > 26 || !/^[\d+() .\-\u00a0]+$/.test(candidate)) return false;
  const digits = candidate.replace(/\D/g, "").length;
  if (candidate.startsWith("+")) {
    const { min, max } = FREE_TEXT_VALUES.phoneDigits.international;
    if (digits < min || digits > max) return false;
    // `+12345678.90` is an amount: one decimal point and no other separator.
    const separators = candidate.slice(1).replace(/\d/g, "");
    if (separators === ".") return false;
    return INTERNATIONAL!.test(candidate);
  }
  const { min, max } = FREE_TEXT_VALUES.phoneDigits.national;
  if (digits < min || digits > max) return false;
  return NATIONAL.some((shape) => shape.test(candidate));
}

/** An IP address standing as word `i` (an IPv4 address may carry a `:port`, which is not part of the finding). */
function ipSpan(text: string, words: readonly Word[], i: number, token: string): TextFinding | undefined {
  const w = words[i]!;
  if (token.includes(":") && isIP(token) === 6) {
    // `a::b` and `::1` are valid IPv6 but no one's address; a real one has three groups or an IPv4 tail.
    const real = token.split(":").filter(Boolean).length >= 3 || token.includes(".");
    return real ? { start: w.start, end: w.end, infoType: TYPES.ip } : undefined;
  }
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/.exec(token);
  if (!v4 || isIP(v4[1]!) !== 4 || v4[1]!.startsWith("0")) return undefined;
  const previous = i > 0 ? text.slice(words[i - 1]!.start, words[i - 1]!.end).toLowerCase() : "";
  if (VERSION_WORDS.has(previous)) return undefined;
  return { start: w.start, end: w.start + v4[1]!.length, infoType: TYPES.ip };
}

/**
 * The text with every finding's span replaced by `replace(span, infoType)`.
 * Findings may come in any order and overlap: overlapping spans are merged
 * into one (its info type is the one of the finding that starts first,
 * the longest of those), and a span is widened rather than split a
 * surrogate pair. Throws a RangeError, naming only offsets, for a finding
 * outside the text: an inspector that misplaces a span is a bug, and the
 * batch must fail rather than keep what it meant to replace.
 */
export function applyFindings(text: string, findings: readonly TextFinding[], replace: (span: string, infoType: string) => string): string {
  if (findings.length === 0) return text;
  const spans: TextFinding[] = [];
  for (const f of findings) {
    if (!Number.isInteger(f.start) || !Number.isInteger(f.end) || f.start < 0 || f.end < f.start || f.end > text.length) {
      throw new RangeError(`a finding [${f.start}, ${f.end}) lies outside its text of ${text.length} UTF-16 units`);
    }
    if (f.start === f.end) continue;
    let { start, end } = f;
    if (start > 0 && isLowSurrogate(text.charCodeAt(start)) && isHighSurrogate(text.charCodeAt(start - 1))) start--;
    if (end < text.length && isLowSurrogate(text.charCodeAt(end)) && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    spans.push({ start, end, infoType: f.infoType });
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let at = 0;
  for (let i = 0; i < spans.length; ) {
    const first = spans[i]!;
    let end = first.end;
    for (i++; i < spans.length && spans[i]!.start < end; i++) end = Math.max(end, spans[i]!.end);
    out += text.slice(at, first.start) + replace(text.slice(first.start, end), first.infoType);
    at = end;
  }
  return out + text.slice(at);
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The built-in detector in the TextInspector role (sinks/roles.ts): the whole batch at once, findings per text in order. */
export const builtInInspector: { readonly name: string; inspect(texts: readonly string[]): Promise<TextFinding[][]> } = {
  name: "built-in",
  inspect(texts: readonly string[]): Promise<TextFinding[][]> {
    try {
      return Promise.resolve(texts.map(findPersonalText));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};

/** A finding's span as its Silver token (emails normalized as emails), for `applyFindings`. */
export function tokenRedaction(key: TokenKey): (span: string, infoType: string) => string {
  return (span, infoType) => tokenize(span, key, infoType === TYPES.email ? "email" : "text");
}
