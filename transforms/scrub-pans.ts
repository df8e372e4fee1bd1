/**
 * Card numbers (PANs) are never legitimate in an event (contract: 13-19 digits,
 * spaces or dashes allowed, Luhn-valid). This step redacts them from every
 * string, in place, and counts them, before anything is written anywhere.
 */

export const PAN_REDACTION = "[REDACTED_PAN]";

// A run of 13-19 digits, single spaces or dashes allowed between digits, not
// glued to further digits on either side.
const PAN_CANDIDATE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;
const MAYBE_PAN = /\d(?:[ -]?\d){12}/;
// A UUID is 32 hex digits in 8-4-4-4-12 groups, not a 13-19 digit card number,
// even when its groups happen to be all decimal digits.
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

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

/** Redacts every PAN in a text; `count` says how many. */
export function redactPansInText(text: string): { text: string; count: number } {
  if (!MAYBE_PAN.test(text)) return { text, count: 0 };
  let count = 0;
  const uuids = text.includes("-") ? [...text.matchAll(UUID)].map((m) => [m.index, m.index + m[0].length] as const) : [];
  const out = text.replace(PAN_CANDIDATE, (match: string, offset: number) => {
    if (uuids.some(([from, to]) => offset < to && offset + match.length > from)) return match;
    const digits = match.replace(/[ -]/g, "");
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return match;
    count++;
    return PAN_REDACTION;
  });
  return { text: out, count };
}

/** Redacts PANs in every string of a JSON value, in place. Returns how many. */
export function scrubPans(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const container = value as Record<string | number, unknown>;
  let count = 0;
  for (const key of Array.isArray(value) ? value.keys() : Object.keys(value)) {
    const v = container[key];
    if (typeof v === "string") {
      const r = redactPansInText(v);
      if (r.count) {
        container[key] = r.text;
        count += r.count;
      }
    } else if (typeof v === "object" && v !== null) count += scrubPans(v);
  }
  return count;
}
