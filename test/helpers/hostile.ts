/**
 * Hostile producers, generated: card numbers in every placement and
 * separator, personal data in every placement and spelling, and messages
 * built to break a step. Seeded, so a failing case can be replayed; every
 * case says what it planted, so a test can look for exactly that value
 * afterwards (test/helpers/scan.ts).
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

export class Seeded {
  private readonly rng: ReturnType<typeof xoroshiro128plus>;

  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  int(n: number): number {
    return uniformInt(this.rng, 0, n - 1);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  chance(p: number): boolean {
    return this.int(1_000_000) < p * 1_000_000;
  }

  digits(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }

  uuid(): string {
    const h = () => this.int(16).toString(16);
    const part = (n: number) => Array.from({ length: n }, h).join("");
    return `${part(8)}-${part(4)}-4${part(3)}-${"89ab"[this.int(4)]}${part(3)}-${part(12)}`;
  }
}

/** The check digit that makes `body` Luhn-valid. */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const BRAND_PREFIXES = ["4", "51", "52", "53", "54", "55", "2221", "34", "37", "6011", "65", "35", "62", "36", "30"];

/** A random Luhn-valid card number of 13-19 digits with a real brand prefix. */
export function randomPan(r: Seeded, length = 13 + r.int(7)): string {
  const prefix = r.pick(BRAND_PREFIXES);
  const body = prefix + r.digits(length - prefix.length - 1);
  return body + luhnCheckDigit(body);
}

/** Digits of other scripts and compatibility forms, by their zero. */
const DIGIT_ZEROS = [0xff10 /* full-width */, 0x0660 /* Arabic-Indic */, 0x06f0, 0x0966 /* Devanagari */, 0x09e6, 0x1d7ce /* math bold */, 0x1d7ec];

const SEPARATORS = [" ", "  ", "   ", "-", " - ", ".", "_", "/", "\u00a0", "\u2009", "\u202f", "\u3000", "\u2013", "\u200b", "\u00ad", ",", "\\"];

export interface FormattedPan {
  text: string;
  style: string;
}

/** A card number written the way a hostile or careless producer might. */
export function formatPan(r: Seeded, pan: string): FormattedPan {
  const style = r.int(7);
  const groups = (size: number, sep: string) => pan.match(new RegExp(`.{1,${size}}`, "g"))!.join(sep);
  switch (style) {
    case 0:
      return { text: pan, style: "plain" };
    case 1: {
      const sep = r.pick(SEPARATORS);
      return { text: groups(4, sep), style: `groups of 4 by ${JSON.stringify(sep)}` };
    }
    case 2: {
      // A different separator, or none, between every pair of digits.
      let t = pan[0]!;
      for (const d of pan.slice(1)) t += (r.chance(0.4) ? r.pick(SEPARATORS) : "") + d;
      return { text: t, style: "mixed separators" };
    }
    case 3: {
      const zero = r.pick(DIGIT_ZEROS);
      return { text: [...pan].map((d) => String.fromCodePoint(zero + Number(d))).join(""), style: `digits from U+${zero.toString(16)}` };
    }
    case 4: {
      const zero = r.pick(DIGIT_ZEROS);
      return { text: [...pan].map((d) => (r.chance(0.5) ? String.fromCodePoint(zero + Number(d)) : d)).join(""), style: "mixed scripts" };
    }
    case 5:
      return { text: groups(r.pick([3, 4, 5, 6]), r.pick(SEPARATORS)), style: "odd groups" };
    default:
      return { text: `${pan.slice(0, 8)}-${pan.slice(8, 12)}-${pan.slice(12)}`, style: "UUID-like groups" };
  }
}

/** Text around the card number: neighbours that glue other digits to its run. */
export function withNeighbours(r: Seeded, pan: string): string {
  switch (r.int(7)) {
    case 0:
      return `${pan} ${1 + r.int(9)}`; // a quantity after it
    case 1:
      return `${1 + r.int(999)} ${pan}`; // a house number before it
    case 2:
      return `REF-${r.digits(2 + r.int(4))}-${pan}`; // a reference before it
    case 3:
      return `${pan}-${r.digits(1 + r.int(3))}`;
    case 4:
      return `order ${r.digits(4)} paid with ${pan} thanks`;
    case 5:
      return `ref ${r.uuid()} card ${pan}`; // a UUID-shaped part beside it
    default:
      return pan;
  }
}

export interface PlantedEvent {
  /** The NDJSON line. */
  line: string;
  /** What a test must never find stored in clear. */
  planted: string[];
  /** The person's identifiers: tokens in Silver (session_id stays), never in clear in Bronze. */
  identifiers?: string[];
  /** Where it was put, for the failure message. */
  where: string;
}

function baseEvent(r: Seeded, type: "search" | "order_created" | "payment_failure" | "page_view" | "profile_update"): Record<string, unknown> {
  const env = {
    event_id: r.uuid(),
    event_type: type,
    schema_version: 1,
    event_time: `2026-11-2${r.int(8)}T${String(10 + r.int(10))}:${String(10 + r.int(50))}:00Z`,
    user_id: `u-${r.int(1000)}`,
    session_id: `s-${r.int(100000)}`,
  };
  switch (type) {
    case "search":
      return { ...env, source: "web", payload: { query: "blue shoes", results_count: 3 } };
    case "page_view":
      return { ...env, source: "web", payload: { url: "https://shop.example.com/p/1", path: "/p/1", title: "Shoes" } };
    case "profile_update":
      return { ...env, source: "ios", payload: { changed_fields: ["email"] } };
    case "payment_failure":
      return {
        ...env,
        source: "payment-service",
        payload: {
          payment_id: `pay-${r.int(1e6)}`,
          order_id: `o-${r.int(1e6)}`,
          amount_minor: 1999,
          currency: "USD",
          gateway: "stripe",
          failure_code: "card_declined",
          failure_message: "declined",
        },
      };
    default:
      return {
        ...env,
        source: "order-service",
        payload: {
          order_id: `o-${r.int(1e6)}`,
          items: [{ product_id: "p-1", sku: "sku-1", quantity: 1, unit_price_minor: 1000 }],
          subtotal_minor: 1000,
          tax_minor: 0,
          shipping_minor: 0,
          total_minor: 1000,
          currency: "USD",
          customer: { email: `c${r.int(1e6)}@example.com`, shipping_address: { line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" } },
        },
      };
  }
}

type Placement = (r: Seeded, text: string, digits: string) => { value: Record<string, unknown> | string; where: string };

/** Where a card number can hide: every kind of field, key, number, and message that is not even valid. */
const PAN_PLACEMENTS: Placement[] = [
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "query"], t), where: "search query" }),
  (r, t) => ({ value: set(baseEvent(r, "payment_failure"), ["payload", "failure_message"], `declined: ${t}`), where: "failure message" }),
  (r, t) => ({ value: set(baseEvent(r, "page_view"), ["payload", "title"], t), where: "page title" }),
  (r, t) => ({
    value: set(baseEvent(r, "page_view"), ["payload", "url"], `https://shop.example.com/pay?card=${encodeURIComponent(t)}`),
    where: "url query (encoded)",
  }),
  (r, t) => ({ value: set(baseEvent(r, "page_view"), ["payload", "path"], `/p/${t}`), where: "path" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "note"], t), where: "unknown field" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "meta", "deep", "x"], t), where: "nested unknown field" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "tags"], ["a", t, "b"]), where: "array element" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "meta"], { [t]: 1 }), where: "object key" }),
  (r, t) => ({
    value: set(baseEvent(r, "order_created"), ["payload", "customer", "shipping_address", "line1"], `${t} Main St`),
    where: "address line (personal field)",
  }),
  (r, t) => ({ value: set(baseEvent(r, "order_created"), ["payload", "customer", "name"], t), where: "customer name (personal field)" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["context", "user_agent"], `Mozilla ${t}`), where: "user agent" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "filters"], { note: t }), where: "search filters" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["event_type"], t), where: "event_type (dead letter)" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["event_id"], t), where: "event_id (dead letter)" }),
  (r, t) => ({ value: set(baseEvent(r, "search"), ["payload", "results_count"], t), where: "wrong-typed field (dead letter)" }),
  (_r, t) => ({ value: `{"event_type":"search","payload":{"query":${JSON.stringify(t)}`, where: "malformed JSON" }),
  (r, t) => ({
    value: JSON.stringify(set(baseEvent(r, "search"), ["payload", "query"], t)).replace(/[0-9]/g, (d) => `\\u003${d}`),
    where: "JSON-escaped digits",
  }),
];

/** JSON numbers (the text is written by hand: a 19-digit integer must not go through a double). */
const NUMBER_PLACEMENTS: Placement[] = [
  (r, _t, d) => ({ value: JSON.stringify(baseEvent(r, "search")).replace(`"results_count":3`, `"results_count":3,"ref":${d}`), where: "JSON number" }),
  (r, _t, d) => ({ value: JSON.stringify(baseEvent(r, "search")).replace(`"results_count":3`, `"results_count":${d}`), where: "JSON number in a typed field" }),
  (r, _t, d) => ({
    value: JSON.stringify(baseEvent(r, "search")).replace(`"results_count":3`, `"results_count":3,"amounts":[1,${d.slice(0, 8)}.${d.slice(8)}]`),
    where: "JSON float",
  }),
];

function set(obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  let o = obj;
  for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
  return obj;
}

/** `count` events, each hiding one card number somewhere, written some hostile way. */
export function panEvents(seed: number, count: number): (PlantedEvent & { pan: string })[] {
  const r = new Seeded(seed);
  const out: (PlantedEvent & { pan: string })[] = [];
  for (let i = 0; i < count; i++) {
    const pan = randomPan(r);
    const numeric = r.chance(0.15);
    if (numeric) {
      const placement = r.pick(NUMBER_PLACEMENTS);
      const { value, where } = placement(r, pan, pan);
      out.push({ line: value as string, planted: [pan], pan, where });
      continue;
    }
    const f = formatPan(r, pan);
    const text = withNeighbours(r, f.text);
    const { value, where } = r.pick(PAN_PLACEMENTS)(r, text, pan);
    out.push({ line: typeof value === "string" ? value : JSON.stringify(value), planted: [pan], pan, where: `${where}, ${f.style}: ${JSON.stringify(text)}` });
  }
  return out;
}

/** Sensitive authentication data: never stored anywhere, not even in a dead letter. */
export function sensitiveAuthEvents(seed: number, count: number): PlantedEvent[] {
  const r = new Seeded(seed);
  const names = [
    "cvv",
    "CVC",
    "cvv2",
    "card_holder",
    "cardHolderName",
    "name_on_card",
    "expiry",
    "expiryDate",
    "exp_month",
    "expYear",
    "security_code",
    "pin",
    "password",
  ];
  const out: PlantedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const secret = `sad${r.digits(3)}x${r.int(1e6)}`;
    const name = r.pick(names);
    const e = baseEvent(r, r.pick(["search", "payment_failure", "page_view"] as const));
    const where = r.int(4);
    if (where === 0) set(e, ["payload", name], secret);
    else if (where === 1) set(e, ["payload", "card"], { brand: "visa", last4: "4242", [name === "pin" ? "number" : name]: secret });
    else if (where === 2) set(e, ["payload", "meta", "items"], [{ [name]: secret }]);
    else set(e, ["payload", "card"], { exp: secret, name: secret });
    // Some of them also break the schema, so the dead letter must be clean too.
    if (r.chance(0.3)) e.schema_version = "one";
    out.push({ line: JSON.stringify(e), planted: [secret], where: `${name} (${where})` });
  }
  return out;
}

/** Personal data the contract does not name, in every placement and spelling. */
export function personalDataEvents(seed: number, count: number): PlantedEvent[] {
  const r = new Seeded(seed);
  const out: PlantedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const email = `p${r.int(1e9)}.${["smith", "doe", "jones"][r.int(3)]}@mail${r.int(100)}.example.org`;
    const ip = `${10 + r.int(200)}.${r.int(255)}.${r.int(255)}.${1 + r.int(250)}`;
    const phone = `+${1 + r.int(98)} ${r.digits(3)} ${r.digits(3)} ${r.digits(4)}`;
    const surname = `Zq${r.digits(6)}ovsky`;
    const kind = r.int(14);
    const e = baseEvent(r, kind < 9 ? "search" : kind < 12 ? "page_view" : "profile_update");
    let planted: string[];
    let where: string;
    switch (kind) {
      case 0:
        set(e, ["payload", "meta"], { email, source: "newsletter" });
        [planted, where] = [[email], "payload.meta.email"];
        break;
      case 1:
        set(e, ["payload", r.pick(["customerEmail", "CustomerEmail", "customer-email", "e_mail", "emailAddress"])], email);
        [planted, where] = [[email], "camelCase email"];
        break;
      case 2:
        set(e, ["context", r.pick(["clientIp", "client_ip", "remoteAddr", "ipAddress", "X-Forwarded-For"])], ip);
        [planted, where] = [[ip], "ip spelling"];
        break;
      case 3:
        set(e, ["payload", r.pick(["surname", "lastName", "family_name", "fullName"])], surname);
        [planted, where] = [[surname], "surname spelling"];
        break;
      case 4:
        set(
          e,
          ["payload", "people"],
          [
            { kind: "friend", email },
            { kind: "other", phone },
          ],
        );
        [planted, where] = [[email, phone], "array of objects"];
        break;
      case 5:
        set(e, ["payload", "contacts"], [email, phone]);
        [planted, where] = [[email, phone], "array of values"];
        break;
      case 6:
        set(e, ["payload", "query"], `orders for ${email} please`);
        [planted, where] = [[email], "email typed into the search box"];
        break;
      case 7:
        set(e, ["payload", "note"], ip);
        set(e, ["payload", "other"], phone);
        [planted, where] = [[ip, phone], "personal values under plain names"];
        break;
      case 8:
        set(e, ["payload", "filters"], { brand: "acme", owner: { email } });
        [planted, where] = [[email], "search filters"];
        break;
      case 9:
        set(e, ["payload", "url"], `https://shop.example.com/account?email=${encodeURIComponent(email)}&utm_source=mail`);
        [planted, where] = [[email], "?email= in the url"];
        break;
      case 10:
        set(e, ["payload", "referrer"], `https://mail.example.com/read?to=${email}#phone=${encodeURIComponent(phone)}`);
        [planted, where] = [[email, phone], "referrer parameters"];
        break;
      case 11:
        set(e, ["payload", "path"], `/users/${email}/orders`);
        [planted, where] = [[email], "email in the path"];
        break;
      default:
        set(e, ["payload", "changed_fields"], ["email", email]);
        [planted, where] = [[email], "changed_fields value"];
    }
    // The person's identifiers must not stay linked in clear in Bronze either.
    e.user_id = `user-${r.int(1e9)}`;
    e.anonymous_id = `anon-${r.digits(10)}`;
    e.session_id = `sess-${r.digits(10)}`;
    out.push({ line: JSON.stringify(e), planted, identifiers: [e.user_id as string, e.anonymous_id as string, e.session_id as string], where });
  }
  return out;
}
