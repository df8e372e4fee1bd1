/**
 * Card numbers (PANs) are never legitimate in an event. This module finds
 * every Luhn-valid sequence of 13-19 digits inside any run of digits and
 * separators (schemas/personal-data.ts says which characters separate), in
 * strings, object keys and JSON numbers, and redacts it.
 *
 * A run is tried window by window, not only whole: a card number next to a
 * quantity, a house number or a reference is still found. Unicode digits
 * (full-width, mathematical, other scripts) count as the digits they are.
 * The only exemption is a value that is a UUID as a whole (32 hex digits are
 * not a card number); a UUID-shaped part of a longer text is scanned.
 *
 * Every function here is pure; `count` says how many card numbers went.
 */
import { CARD_NUMBERS } from "../schemas/personal-data.js";

export const PAN_REDACTION = CARD_NUMBERS.redaction;

const SEP_CLASS = CARD_NUMBERS.separators;
const SEPARATOR = new RegExp(`^[${SEP_CLASS}]$`, "u");
const MIN = CARD_NUMBERS.minDigits;
const MAX = CARD_NUMBERS.maxDigits;
/**
 * Cheapest test, one pass: could the text hold a card number? Not when it has
 * fewer than MIN characters that are ASCII digits or not ASCII at all (a digit
 * of another script); when it is all ASCII, a pattern without Unicode classes
 * decides.
 */
function mayHoldPan(text: string): boolean {
  if (text.length < MIN) return false;
  let n = 0;
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
    else if (c >= 0x80) {
      n++;
      ascii = false;
    }
  }
  if (n < MIN) return false;
  return ascii ? ASCII_CANDIDATE.test(text) : CANDIDATE.test(text);
}

/** The same pattern for an all-ASCII text, without Unicode classes (much faster): the ASCII separators, as `\xNN`. */
const ASCII_SEPARATORS = Array.from({ length: 128 }, (_, c) => c)
  .filter((c) => SEPARATOR.test(String.fromCharCode(c)))
  .map((c) => `\\x${c.toString(16).padStart(2, "0")}`)
  .join("");
const ASCII_CANDIDATE = new RegExp(`[0-9](?:[${ASCII_SEPARATORS}]*[0-9]){${MIN - 1}}`);

/** Cheap test: at least MIN digit-like characters with only separators between them. */
const CANDIDATE = new RegExp(`[\\p{Nd}\\p{No}](?:[${SEP_CLASS}]*[\\p{Nd}\\p{No}]){${MIN - 1}}`, "u");
const WHOLE_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

let nonAsciiDigits: Map<number, number> | undefined;

/** The value of every non-ASCII code point that is a decimal digit or normalizes (NFKC) to one. */
function digitTable(): Map<number, number> {
  if (nonAsciiDigits) return nonAsciiDigits;
  const table = new Map<number, number>();
  const nd = /\p{Nd}/u;
  const no = /\p{No}/u;
  let runStart = -1;
  for (let cp = 0x80; cp <= 0x1ffff; cp++) {
    const ch = String.fromCodePoint(cp);
    const isNd = nd.test(ch);
    if (!isNd) runStart = -1;
    else if (runStart < 0) runStart = cp;
    if (!isNd && !no.test(ch)) continue;
    const folded = ch.normalize("NFKC");
    if (folded.length === 1 && folded >= "0" && folded <= "9") table.set(cp, folded.charCodeAt(0) - 48);
    // Script digits (Arabic-Indic, Devanagari, ...) come in runs of ten from zero.
    else if (isNd) table.set(cp, (cp - runStart) % 10);
  }
  return (nonAsciiDigits = table);
}

/** The digit a code point stands for, or -1. */
function digitOf(cp: number): number {
  if (cp >= 48 && cp <= 57) return cp - 48;
  if (cp < 0x80) return -1;
  return digitTable().get(cp) ?? -1;
}

function isSeparator(cp: number): boolean {
  if (cp === 32 || cp === 45 || cp === 46 || cp === 95 || cp === 47) return true; // space - . _ /
  if (cp < 0x80 && cp !== 9 && cp !== 92 && cp !== 44 && cp !== 39) return false;
  return SEPARATOR.test(String.fromCodePoint(cp));
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Spans `[from, to)` (UTF-16 offsets) of the card numbers in `text`: for
 * every run of digits and separators, every window of 13-19 digits is
 * checked (prefix sums make each check O(1)); overlapping hits merge.
 */
export function findPanSpans(text: string): [number, number][] {
  if (!mayHoldPan(text) || WHOLE_UUID.test(text)) return [];
  const spans: [number, number][] = [];
  const digits: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const flush = (): void => {
    if (digits.length >= MIN) windows(digits, starts, ends, spans);
    digits.length = 0;
    starts.length = 0;
    ends.length = 0;
  };
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const d = digitOf(cp);
    if (d >= 0) {
      digits.push(d);
      starts.push(i);
      ends.push(i + width);
    } else if (!(digits.length > 0 && isSeparator(cp))) flush();
    i += width;
  }
  flush();
  return mergeSpans(spans);
}

/** Overlapping spans as one, in order. */
function mergeSpans(spans: [number, number][]): [number, number][] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [spans[0]!];
  for (const s of spans.slice(1)) {
    const last = merged[merged.length - 1]!;
    if (s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push(s);
  }
  return merged;
}

/** Adds the text span of every Luhn-valid window of the run to `out`. */
function windows(d: readonly number[], starts: readonly number[], ends: readonly number[], out: [number, number][]): void {
  const n = d.length;
  // plain[p][k] / doubled[p][k]: sums over indexes < k of parity p, of the digit and of its Luhn double.
  const plain = [new Int32Array(n + 1), new Int32Array(n + 1)];
  const doubled = [new Int32Array(n + 1), new Int32Array(n + 1)];
  for (let k = 0; k < n; k++) {
    const v = d[k]!;
    const dv = v * 2 > 9 ? v * 2 - 9 : v * 2;
    for (let p = 0; p < 2; p++) {
      plain[p]![k + 1] = plain[p]![k]! + (k % 2 === p ? v : 0);
      doubled[p]![k + 1] = doubled[p]![k]! + (k % 2 === p ? dv : 0);
    }
  }
  let runFrom = -1;
  let runTo = -1;
  for (let i = 0; i + MIN <= n; i++) {
    for (let len = MIN; len <= MAX && i + len <= n; len++) {
      const j = i + len; // window [i, j): the last digit j-1 is not doubled, every second one left of it is
      const keep = (j - 1) % 2;
      const sum = plain[keep]![j]! - plain[keep]![i]! + doubled[1 - keep]![j]! - doubled[1 - keep]![i]!;
      if (sum % 10 !== 0) continue;
      if (runFrom >= 0 && i <= runTo) runTo = Math.max(runTo, j - 1);
      else {
        if (runFrom >= 0) out.push([starts[runFrom]!, ends[runTo]!]);
        runFrom = i;
        runTo = j - 1;
      }
    }
  }
  if (runFrom >= 0) out.push([starts[runFrom]!, ends[runTo]!]);
}

/**
 * The text a URL-encoded string stands for (`%34%31`, `%EF%BC%94` -> the
 * digits; `+` -> space), with the span of the original each character came
 * from, or undefined when nothing is encoded.
 */
function percentDecoded(text: string): { text: string; from: number[]; to: number[] } | undefined {
  if (!/%[0-9a-fA-F]{2}/.test(text)) return undefined;
  let out = "";
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      const lead = Number.parseInt(text.slice(i + 1, i + 3), 16);
      const len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      const bytes = [lead];
      let j = i + 3;
      while (bytes.length < len && text[j] === "%" && /^[0-9a-fA-F]{2}$/.test(text.slice(j + 1, j + 3))) {
        bytes.push(Number.parseInt(text.slice(j + 1, j + 3), 16));
        j += 3;
      }
      const ch = Buffer.from(bytes).toString("utf8");
      for (let k = 0; k < ch.length; k++) {
        from.push(i);
        to.push(j);
      }
      out += ch;
      i = j;
    } else {
      out += text[i] === "+" ? " " : text[i];
      from.push(i);
      to.push(i + 1);
      i++;
    }
  }
  return { text: out, from, to };
}

/** Card-number spans of a text, also where it is URL-encoded (mapped back onto the encoded text). */
function panSpansOf(text: string): [number, number][] {
  const spans = findPanSpans(text);
  const decoded = text.length >= MIN && text.includes("%") ? percentDecoded(text) : undefined;
  if (!decoded) return spans;
  const more = findPanSpans(decoded.text).map(([a, b]) => [decoded.from[a]!, decoded.to[b - 1]!] as [number, number]);
  return more.length === 0 ? spans : mergeSpans([...spans, ...more]);
}

/** True when the text holds a card number, plain or URL-encoded. */
export function holdsPan(text: string): boolean {
  return panSpansOf(text).length > 0;
}

/** Redacts every card number in a text, URL-encoded ones too; `count` says how many. */
export function redactPansInText(text: string): { text: string; count: number } {
  const spans = panSpansOf(text);
  if (spans.length === 0) return { text, count: 0 };
  let out = "";
  let at = 0;
  for (const [from, to] of spans) {
    out += text.slice(at, from) + PAN_REDACTION;
    at = to;
  }
  return { text: out + text.slice(at), count: spans.length };
}

/** True when the digits of a JSON number hold a card number (e.g. a PAN sent as a number). */
export function numberHoldsPan(n: number): boolean {
  if (Number.isInteger(n)) return Math.abs(n) >= 10 ** (MIN - 1) && findPanSpans(BigInt(n).toString()).length > 0;
  const s = String(n);
  return s.replace(/[^0-9]/g, "").length >= MIN && findPanSpans(s).length > 0;
}

/**
 * Where a JSON text may hold a number token of 13 characters or more (after
 * `:`, `,` or `[`, as a value stands). Its digits are read from the text:
 * JSON.parse rounds an integer of more than 15 digits, and a double drops the
 * trailing zeros of a fraction.
 */
const MAYBE_LONG_NUMBER = /[:,[]\s*-?\d[\d.eE+-]{12}/;
/** A JSON string (skipped whole) or a number token. */
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*/g;

/**
 * Card numbers in the number tokens of a JSON text, before it is parsed:
 * JSON.parse rounds an integer of more than 15 digits, so its digits are
 * checked here, on the text. A number that holds a card number becomes the
 * string `"[REDACTED_PAN]"`. Strings are left to the parsed-value scrub.
 */
export function redactPanNumbersInJson(text: string): { text: string; count: number } {
  if (!MAYBE_LONG_NUMBER.test(text)) return { text, count: 0 };
  let count = 0;
  const out = text.replace(STRING_OR_NUMBER, (token) => {
    if (token.charCodeAt(0) === 34) return token;
    const mantissa = token.split(/[eE]/)[0]!;
    if (mantissa.replace(/[^0-9]/g, "").length < MIN || findPanSpans(mantissa).length === 0) return token;
    count++;
    return JSON.stringify(PAN_REDACTION);
  });
  return count ? { text: out, count } : { text, count: 0 };
}

const DIGIT_OR_SEPARATOR_ESCAPE = /\\u([0-9a-fA-F]{4})/g;

/**
 * The text of a message that could not be parsed (too large, malformed, too
 * deep), with its card numbers redacted. JSON escapes of digits and
 * separators (`\u0034`) are resolved first, so an escaped card number is
 * found too.
 */
export function redactPansInRawText(text: string): { text: string; count: number } {
  const unescaped = text.includes("\\u")
    ? text.replace(DIGIT_OR_SEPARATOR_ESCAPE, (m, hex: string) => {
        const cp = Number.parseInt(hex, 16);
        return digitOf(cp) >= 0 || isSeparator(cp) ? String.fromCharCode(cp) : m;
      })
    : text;
  return redactPansInText(unescaped);
}
