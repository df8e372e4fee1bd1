/**
 * Cloud DLP's offsets into a text, turned into the UTF-16 offsets the
 * platform works in (JavaScript strings, sinks/roles.ts TextFinding).
 *
 * DLP gives a finding's place twice, relative to the cell that holds it: a
 * byte range into the text's UTF-8 encoding and a codepoint range. Both
 * differ from UTF-16 offsets as soon as a text holds anything but ASCII
 * (2-3 UTF-8 bytes for an accent or a CJK character, 4 bytes, 2 UTF-16
 * units and 1 codepoint for an emoji). Guarantees: when both ranges are
 * given the span covers both; a byte offset inside a character widens the
 * span to the whole character; a range that does not fit the text is
 * refused (undefined), so the caller fails closed instead of misplacing
 * what it would replace.
 */

/** A DLP range, as the client returns it: int64 comes as a number, a string or a Long. */
export interface DlpRange {
  start?: number | string | { toString(): string } | null;
  end?: number | string | { toString(): string } | null;
}

/** The UTF-16 span of one finding, or undefined when its ranges do not fit the text. */
export function utf16Span(
  text: string,
  byteRange: DlpRange | null | undefined,
  codepointRange: DlpRange | null | undefined,
): { start: number; end: number } | undefined {
  const bytes = byteRange ? fromUtf8Bytes(text, int(byteRange.start), int(byteRange.end)) : undefined;
  const points = codepointRange ? fromCodepoints(text, int(codepointRange.start), int(codepointRange.end)) : undefined;
  if (byteRange && !bytes) return undefined;
  if (codepointRange && !points) return undefined;
  if (bytes && points) return { start: Math.min(bytes.start, points.start), end: Math.max(bytes.end, points.end) };
  return bytes ?? points;
}

/** A proto3 int64 as the client hands it over; an unset field is 0. NaN for anything else. */
function int(v: DlpRange["start"]): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === "number" ? v : Number(String(v));
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

function valid(start: number, end: number): boolean {
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start;
}

/** UTF-16 offsets of a codepoint range. */
export function fromCodepoints(text: string, start: number, end: number): { start: number; end: number } | undefined {
  if (!valid(start, end)) return undefined;
  let cp = 0;
  let i = 0;
  let from = -1;
  for (;;) {
    if (cp === start) from = i;
    if (cp === end) return from < 0 ? undefined : { start: from, end: i };
    if (i >= text.length) return undefined;
    i += isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
    cp++;
  }
}

/** UTF-16 offsets of a UTF-8 byte range; a byte offset inside a character takes the whole character. */
export function fromUtf8Bytes(text: string, start: number, end: number): { start: number; end: number } | undefined {
  if (!valid(start, end) || end > utf8Length(text)) return undefined;
  let byte = 0;
  let i = 0;
  let from = -1;
  let to = -1;
  while (i < text.length && (from < 0 || to < 0)) {
    const w = utf8Width(text, i);
    // The start rounds down to the character holding its byte, the end up to the next character's start.
    if (from < 0 && byte + w.bytes > start) from = i;
    if (to < 0 && byte >= end) to = i;
    byte += w.bytes;
    i += w.units;
  }
  if (from < 0) from = text.length;
  if (to < 0) to = text.length;
  return { start: from, end: Math.max(from, to) };
}

function utf8Width(text: string, i: number): { bytes: number; units: number } {
  const c = text.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (isHigh(c) && isLow(text.charCodeAt(i + 1))) return { bytes: 4, units: 2 };
  // A lone surrogate is encoded as U+FFFD: 3 bytes.
  return { bytes: 3, units: 1 };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The UTF-8 length of a text, as a request carries it (lone surrogates as U+FFFD). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
