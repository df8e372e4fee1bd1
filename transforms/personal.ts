/**
 * Classifies field names and values by the rules of
 * schemas/personal-data.ts: sensitive authentication data (dropped),
 * personal names and values (tokens in Silver, ciphertext in Bronze), and
 * free text whose emails and personal URL parameters become tokens. Pure;
 * name verdicts are memoized because field names repeat on every event.
 */
import { isIP } from "node:net";
import { PERSONAL_NAMES, PERSONAL_VALUES, SENSITIVE_AUTH_FIELDS } from "../schemas/personal-data.js";
import { type TokenKey, tokenize } from "./tokenize.js";

const WORDS = new Set<string>(PERSONAL_NAMES.words);
const COMPOUNDS = PERSONAL_NAMES.compounds;
const THING_NAMES = new Set<string>(PERSONAL_NAMES.notAPersonsName);
const SAD_EXACT = new Set<string>(SENSITIVE_AUTH_FIELDS.exact);
const SAD_CONTAINS = SENSITIVE_AUTH_FIELDS.contains;
const CARD_CHILDREN = new Set<string>(SENSITIVE_AUTH_FIELDS.cardChildren);
const CARD_ALLOWED = new Set<string>(SENSITIVE_AUTH_FIELDS.cardAllowed);

/** Lower case, letters and digits only: `Card-Holder_Name` -> `cardholdername`. */
export function normalizeName(name: string): string {
  return name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "");
}

/** The words of a field name: `customerEmailAddress`, `customer_email.address`, `line1` -> customer, email, address / line, 1. */
export function nameWords(name: string): string[] {
  return name
    .normalize("NFKC")
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1 $2")
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1 $2")
    .replace(/(\p{L})(\p{N})/gu, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

interface NameVerdict {
  personal: boolean;
  sensitive: boolean;
  card: boolean;
}

const verdicts = new Map<string, NameVerdict>();
const PHONE_THINGS = new Set<string>(PERSONAL_NAMES.notAPersonsPhone);

function verdict(name: string): NameVerdict {
  let v = verdicts.get(name);
  if (v) return v;
  const joined = normalizeName(name);
  const words = nameWords(name);
  // `line1`, `ipv4` are words of their own too.
  const glued = words.flatMap((w, i) => (i + 1 < words.length && /^\d+$/.test(words[i + 1]!) ? [w + words[i + 1]] : []));
  const all = [...words, ...glued];
  let personal = false;
  for (let i = 0; i < all.length && !personal; i++) {
    const w = all[i]!;
    if (!WORDS.has(w)) continue;
    // `product_name`, `campaignName`: a thing's name, not a person's.
    if ((w === "name" || w === "names") && i > 0 && THING_NAMES.has(all[i - 1]!)) continue;
    personal = true;
  }
  // Names run together: `customeremailaddress`, `recipientname`, `contactphone`.
  if (!personal) personal = COMPOUNDS.some((c) => joined.includes(c));
  if (!personal && joined.length > 4 && joined.endsWith("name")) personal = !THING_NAMES.has(joined.slice(0, -4));
  if (!personal && joined.length > 5 && joined.endsWith("phone")) personal = !PHONE_THINGS.has(joined);
  v = {
    personal,
    sensitive: SAD_EXACT.has(joined) || SAD_CONTAINS.some((c) => joined.includes(c)),
    card: words.includes("card") || joined === "cc" || joined.endsWith("card"),
  };
  if (verdicts.size > 50_000) verdicts.clear();
  verdicts.set(name, v);
  return v;
}

/**
 * A field whose name looks personal (any case or spelling). `parent` is the
 * name of the object holding it: a `name` inside `product` is the product's.
 */
export function isPersonalName(name: string, parent?: string): boolean {
  if (!verdict(name).personal) return false;
  if (parent === undefined || normalizeName(name) !== "name") return true;
  const words = nameWords(parent);
  return !THING_NAMES.has(words[words.length - 1] ?? "");
}

/** Sensitive authentication data: never stored. `inCard` = the field sits in a card object. */
export function isSensitiveName(name: string, inCard: boolean): boolean {
  const v = verdict(name);
  if (v.sensitive) return true;
  if (!inCard) return false;
  const n = normalizeName(name);
  if (CARD_ALLOWED.has(n)) return false;
  return CARD_CHILDREN.has(n) || nameWords(name).some((w) => CARD_CHILDREN.has(w));
}

/** An object under this name is a card (`card`, `credit_card`, `paymentCard`). */
export function isCardName(name: string): boolean {
  return verdict(name).card;
}

const EMAIL_ANYWHERE = new RegExp(PERSONAL_VALUES.email.source);
const EMAIL_ALL = new RegExp(PERSONAL_VALUES.email.source, "g");

/** A value that is personal whatever its field is called: holds an email, or is an IP address or a phone number. */
export function isPersonalValue(value: unknown): boolean {
  if (typeof value !== "string" || value.length < 3) return false;
  if (value.includes("@") && EMAIL_ANYWHERE.test(value)) return true;
  if (value.length <= 45 && (value.includes(".") || value.includes(":")) && isIP(value) !== 0) return true;
  if (value.length <= 24 && PERSONAL_VALUES.phone.test(value)) {
    const digits = value.replace(/\D/g, "").length;
    const shaped = value.startsWith("+") || value.startsWith("(") || /\d[\s.-]\d/.test(value);
    return shaped && digits >= PERSONAL_VALUES.phoneDigits.min && digits <= PERSONAL_VALUES.phoneDigits.max;
  }
  return false;
}

/** A URL query or fragment parameter: `?email=a%40b.c`, `&clientIp=...`, `#phone=...` (separator, name, raw value). */
export const URL_PARAM = /([?&#;])([^=&#\s]{1,128})=([^&#\s]*)/g;

/** A URL component decoded (`+` as a space); the text as it is when it does not decode. */
export function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** A URL parameter (raw name and value, as in the text) whose value `scrubFreeText` replaces: a value, under a personal name or itself personal. */
export function isPersonalParameter(rawName: string, rawValue: string): boolean {
  const value = decodeComponent(rawValue);
  return value !== "" && (isPersonalName(decodeComponent(rawName)) || isPersonalValue(value));
}

/** True when a text holds something `scrubFreeText` would replace (cheap test first). */
export function holdsPersonalText(text: string): boolean {
  if (text.includes("@") && EMAIL_ANYWHERE.test(text)) return true;
  if (!text.includes("=")) return false;
  for (const m of text.matchAll(URL_PARAM)) {
    if (isPersonalParameter(m[2]!, m[3]!)) return true;
  }
  return false;
}

/**
 * Free text for Silver: every email becomes its token, and a URL parameter
 * whose name or value looks personal keeps only a token of its value.
 */
export function scrubFreeText(text: string, key: TokenKey): string {
  if (!text.includes("@") && !text.includes("=")) return text;
  let out = text;
  if (out.includes("=")) {
    out = out.replace(URL_PARAM, (m, sep: string, name: string, raw: string) => {
      if (!isPersonalParameter(name, raw)) return m;
      const value = decodeComponent(raw);
      return `${sep}${name}=${tokenize(value, key, value.includes("@") ? "email" : "text")}`;
    });
  }
  if (out.includes("@")) out = out.replace(EMAIL_ALL, (email) => tokenize(email, key, "email"));
  return out;
}
