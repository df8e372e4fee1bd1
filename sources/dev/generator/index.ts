/**
 * Seeded, deterministic generator of realistic e-commerce traffic that follows
 * the event contract (/work/shared/event-contract.md): the envelope and the
 * 16 event types its tables list (the page says 17).
 *
 * Model: a discrete-event simulation over simulated (event) time. The clock
 * advances by exactly 1/ratePerSecond seconds per emitted message (valid,
 * duplicate or invalid). Every tick emits one message: either the next due
 * scheduled action (a session's next click, a payment result, a shipment, ...)
 * or, when nothing is due, a spontaneous one (a new session, an inventory
 * event, ...). So the number of concurrent sessions adapts itself to the rate.
 * Above ~2.3k events/s think times between clicks are compressed to keep the
 * number of open sessions (memory) bounded at about 20k.
 *
 * Warm start: the shop already existed before `startTime`. During the first
 * half hour of event time some sessions are entered mid-way ("warm" sessions),
 * and during the first 72 hours some orders placed before `startTime` enter
 * the stream at a later stage (payment_initiated, confirmed, shipped,
 * delivered, cancelled, refunded); their earlier events were never emitted.
 * Without this, a stream at 1000 events/s would contain no deliveries for
 * hours. Consequence for consumers: order_* / payment_refund events can refer
 * to orders whose order_created is not in the stream (never the other way
 * round for carts and payments: every order_created cart_id had an in-stream
 * add_to_cart, every payment_success an in-stream payment_initiated).
 *
 * Timing: event_time is the simulated clock, except that ~3% of ios/android
 * events arrive up to 90 s late (offline buffering) and duplicates repeat an
 * earlier message (at most 10 minutes old) byte for byte.
 *
 * Everything random comes from pure-rand's xoroshiro128+ (one stream for the
 * simulation, one jumped-away stream for duplicates/invalid messages), so the
 * same seed and options give byte-identical output. No generated id, phone
 * number, tracking number or token contains 13+ digits in a row, so the only
 * card numbers (PANs) in the output are the deliberately injected test PANs
 * (about 1 valid event in 5000, in a search query or a failure_message).
 *
 * Speed: the hot paths concatenate JSON by hand (the result is byte-identical
 * to JSON.stringify of the event object); see emitRaw.
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

export interface GeneratorOptions {
  seed: number; // same seed + options => byte-identical output
  ratePerSecond: number; // simulated events per second of event time (also used by callers for pacing)
  startTime: Date; // event_time of the first event
  duplicateFraction?: number; // 0..1: fraction of emitted messages that are exact re-sends of an earlier message
  invalidFraction?: number; // 0..1: fraction that are invalid (garbage, non-object, unknown type/version, missing field, wrong type, bad id)
}

export type MessageKind = "valid" | "duplicate" | "invalid";

export interface GeneratedMessage {
  data: string; // the exact message body (one JSON line, no newline)
  attributes: { event_id?: string; event_type?: string }; // Pub/Sub attributes; absent when unknown for invalid ones
  kind: MessageKind;
  eventId?: string; // the envelope event_id when there is one
}

/** Infinite stream of messages; the caller takes what it needs. */
export function* generateMessages(opts: GeneratorOptions): Generator<GeneratedMessage> {
  const sim = new Simulation(opts);
  for (;;) yield sim.next();
}

export function takeMessages(opts: GeneratorOptions, count: number): GeneratedMessage[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const sim = new Simulation(opts);
  const out: GeneratedMessage[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = sim.next();
  return out;
}

/** Registered customers are `cus_100000` .. `cus_149999` (index 0 .. CUSTOMER_POOL_SIZE-1). */
export const CUSTOMER_POOL_SIZE = 50_000;

export function customerUserId(index: number): string {
  return "cus_" + (100_000 + index);
}

export interface SyntheticCustomer {
  user_id: string;
  email: string;
  phone: string;
  first_name: string;
  last_name: string;
  country: string;
  address: { line1: string; city: string; postal_code: string; country: string };
}

/**
 * The profile the generator uses for registered customer `index` with `seed`
 * (before any profile_update the stream applies to it). A pure function of
 * (seed, index), so a CRM export can be built that matches the event stream.
 */
export function syntheticCustomer(seed: number, index: number): SyntheticCustomer {
  if (!Number.isInteger(index) || index < 0 || index >= CUSTOMER_POOL_SIZE) throw new RangeError(`customer index out of range: ${index}`);
  const p = makeProfile(Math.trunc(seed), index, -1);
  return {
    user_id: customerUserId(index),
    email: p.email,
    phone: p.phone,
    first_name: p.first,
    last_name: p.last,
    country: COUNTRIES[p.country]!.code,
    address: { ...p.address },
  };
}

// ---------------------------------------------------------------------------
// Random numbers (pure-rand xoroshiro128+, used in place)
// ---------------------------------------------------------------------------

const B36 = "0123456789abcdefghijklmnopqrstuvwxyz";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";

function seedState(seed: number, salt: number): JumpableRandomGenerator {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const s = Math.trunc(seed);
  const lo = s | 0;
  const hi = Math.floor(s / 4294967296) | 0;
  // s01 = ~hi and s10 = hi ^ salt... never all zero because s01 and s10 differ when salt == 0
  const g = xoroshiro128plusFromState([~hi, ~lo ^ salt, lo, hi ^ salt]);
  for (let i = 0; i < 24; i++) g.next(); // decorrelate neighbouring seeds
  return g;
}

class Rand {
  constructor(readonly g: JumpableRandomGenerator) {}
  u32(): number {
    return this.g.next() >>> 0;
  }
  /** uniform in [0, 1) with 32 bits of resolution */
  float(): number {
    return (this.g.next() >>> 0) * 2.3283064365386963e-10;
  }
  /** uniform integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return uniformInt(this.g, lo, hi);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(arr: readonly T[]): T {
    return arr[uniformInt(this.g, 0, arr.length - 1)]!;
  }
  /** index into a cumulative weight table */
  weighted(cum: readonly number[]): number {
    const x = this.float() * cum[cum.length - 1]!;
    let i = 0;
    while (cum[i]! <= x) i++;
    return i;
  }
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  digits(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += (this.g.next() >>> 0) % 10;
    return s;
  }
  /** n random characters of `alphabet`; never 13+ digits in a row (so never a PAN) */
  chars(n: number, alphabet: string): string {
    for (;;) {
      let s = "";
      for (let i = 0; i < n; i++) s += alphabet[(this.g.next() >>> 0) % alphabet.length];
      if (n < 13 || !/\d{13}/.test(s)) return s;
    }
  }
  /** 12 lowercase base-36 characters (at most 12 digits in a row, so never a PAN) */
  id12(): string {
    return b36x6(this.g.next() >>> 0) + b36x6(this.g.next() >>> 0);
  }
  /**
   * Random UUID v4, lowercase. Ids whose hex digits contain a run of 13 or
   * more decimal digits (dashes ignored) are redrawn, so no event id can ever
   * look like a card number to a PAN scrubber. Built as one flat string (no
   * rope of concatenations), which keeps long-lived ids cheap for the GC.
   */
  uuid(): string {
    const g = this.g;
    const c = UUID_CODES;
    for (;;) {
      const a = g.next() >>> 0;
      const b = ((g.next() & 0xffff0fff) | 0x00004000) >>> 0;
      const v = ((g.next() & 0x3fffffff) | 0x80000000) >>> 0;
      const d = g.next() >>> 0;
      if (hasLongDecimalRun(a, b, v, d)) continue;
      let x = a;
      for (let k = 7; k >= 0; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      x = b;
      for (let k = 17; k >= 14; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      for (let k = 12; k >= 9; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      x = v;
      for (let k = 27; k >= 24; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      for (let k = 22; k >= 19; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      x = d;
      for (let k = 35; k >= 28; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      return String.fromCharCode.apply(null, c);
    }
  }
}

const HEX_CODES: number[] = [];
for (let i = 0; i < 16; i++) HEX_CODES.push(i.toString(16).charCodeAt(0));
const UUID_CODES: number[] = new Array<number>(36).fill(45); // "-" at 8, 13, 18, 23 stay

function b36x6(x: number): string {
  let s = B36[x % 36]!;
  x = Math.floor(x / 36);
  for (let i = 1; i < 6; i++) {
    s += B36[x % 36];
    x = Math.floor(x / 36);
  }
  return s;
}

function hasLongDecimalRun(a: number, b: number, c: number, d: number): boolean {
  let run = 0;
  for (let w = 0; w < 4; w++) {
    const v = w === 0 ? a : w === 1 ? b : w === 2 ? c : d;
    for (let sh = 28; sh >= 0; sh -= 4) {
      if (((v >>> sh) & 15) < 10) {
        if (++run >= 13) return true;
      } else run = 0;
    }
  }
  return false;
}

function cumulative(weights: readonly number[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const w of weights) out.push((s += w));
  return out;
}

const TRANSLIT: Record<string, string> = {
  "á": "a", "à": "a", "â": "a", "ä": "a", "ã": "a", "å": "a", "æ": "ae", "ç": "c", "é": "e", "è": "e", "ê": "e",
  "ë": "e", "í": "i", "ì": "i", "î": "i", "ï": "i", "ñ": "n", "ó": "o", "ò": "o", "ô": "o", "ö": "o", "õ": "o",
  "ø": "o", "ß": "ss", "ú": "u", "ù": "u", "û": "u", "ü": "u", "ý": "y", "ÿ": "y",
};

/** lowercase ASCII letters and digits only (accents transliterated, everything else dropped) */
function asciiSlug(s: string): string {
  let out = "";
  for (const ch of s.toLowerCase()) {
    const c = ch.charCodeAt(0);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) out += ch;
    else {
      const t = TRANSLIT[ch];
      if (t !== undefined) out += t;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------

const CURRENCIES = ["USD", "EUR", "GBP"] as const;
const FX = [1, 0.92, 0.79];
const FREE_SHIPPING_FROM = [5000, 4900, 4000];
const SHIPPING_FEE = [599, 495, 399];
const EXPRESS_FEE = [1499, 1295, 999];

const WAREHOUSES = ["wh-us-east-1", "wh-us-west-2", "wh-uk-1", "wh-eu-central-1"];

const CARRIER_UPS = 0,
  CARRIER_FEDEX = 1,
  CARRIER_DHL = 2,
  CARRIER_ROYAL_MAIL = 3,
  CARRIER_COLISSIMO = 4,
  CARRIER_POSTNL = 5;
const CARRIERS = ["UPS", "FedEx", "DHL", "Royal Mail", "Colissimo", "PostNL"];
const UPS_SHIPPERS = ["9F27WA", "X74E1R", "V2W3RY", "A8K40E", "H6Y21W"];

interface CountryInfo {
  code: string;
  cur: number;
  locale: string;
  tax: number;
  weight: number;
  numberFirst: boolean;
  cities: readonly (readonly [string, string])[];
  streets: readonly string[];
  carriers: readonly number[];
  warehouses: readonly number[];
}

const COUNTRIES: readonly CountryInfo[] = [
  {
    code: "US", cur: 0, locale: "en-US", tax: 0.0725, weight: 45, numberFirst: true,
    cities: [["San Francisco", "941"], ["New York", "100"], ["Austin", "787"], ["Chicago", "606"], ["Seattle", "981"], ["Denver", "802"], ["Boston", "021"], ["Atlanta", "303"]],
    streets: ["Main Street", "Oak Avenue", "Market Street", "Maple Drive", "Sunset Boulevard", "Elm Street", "Cedar Lane"],
    carriers: [CARRIER_UPS, CARRIER_UPS, CARRIER_FEDEX, CARRIER_DHL], warehouses: [0, 1],
  },
  {
    code: "GB", cur: 2, locale: "en-GB", tax: 0.2, weight: 20, numberFirst: true,
    cities: [["London", "SW1A"], ["Manchester", "M1"], ["Birmingham", "B1"], ["Leeds", "LS1"], ["Glasgow", "G2"], ["Bristol", "BS1"], ["Edinburgh", "EH1"]],
    streets: ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Queen's Road"],
    carriers: [CARRIER_ROYAL_MAIL, CARRIER_ROYAL_MAIL, CARRIER_DHL], warehouses: [2],
  },
  {
    code: "DE", cur: 1, locale: "de-DE", tax: 0.19, weight: 12, numberFirst: false,
    cities: [["Berlin", "10"], ["München", "80"], ["Hamburg", "20"], ["Köln", "50"], ["Frankfurt am Main", "60"]],
    streets: ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Lindenallee"],
    carriers: [CARRIER_DHL], warehouses: [3],
  },
  {
    code: "FR", cur: 1, locale: "fr-FR", tax: 0.2, weight: 10, numberFirst: true,
    cities: [["Paris", "750"], ["Lyon", "690"], ["Marseille", "130"], ["Toulouse", "310"], ["Bordeaux", "330"]],
    streets: ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue du Commerce", "place Bellecour"],
    carriers: [CARRIER_COLISSIMO, CARRIER_COLISSIMO, CARRIER_DHL], warehouses: [3],
  },
  {
    code: "NL", cur: 1, locale: "nl-NL", tax: 0.21, weight: 5, numberFirst: false,
    cities: [["Amsterdam", "10"], ["Rotterdam", "30"], ["Utrecht", "35"], ["Den Haag", "25"]],
    streets: ["Keizersgracht", "Damrak", "Prinsengracht", "Stationsweg"],
    carriers: [CARRIER_POSTNL, CARRIER_POSTNL, CARRIER_DHL], warehouses: [3],
  },
  {
    code: "ES", cur: 1, locale: "es-ES", tax: 0.21, weight: 4, numberFirst: false,
    cities: [["Madrid", "280"], ["Barcelona", "080"], ["Valencia", "460"], ["Sevilla", "410"]],
    streets: ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida Diagonal"],
    carriers: [CARRIER_DHL], warehouses: [3],
  },
  {
    code: "IE", cur: 1, locale: "en-IE", tax: 0.23, weight: 2, numberFirst: true,
    cities: [["Dublin", "D02"], ["Cork", "T12"], ["Galway", "H91"]],
    streets: ["O'Connell Street", "Grafton Street", "Main Street", "Shop Street"],
    carriers: [CARRIER_DHL], warehouses: [3],
  },
  {
    code: "IT", cur: 1, locale: "it-IT", tax: 0.22, weight: 2, numberFirst: false,
    cities: [["Roma", "001"], ["Milano", "201"], ["Torino", "101"], ["Napoli", "801"]],
    streets: ["Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele II", "Via Dante"],
    carriers: [CARRIER_DHL], warehouses: [3],
  },
];
const COUNTRY_CUM = cumulative(COUNTRIES.map((c) => c.weight));

function postalCode(r: Rand, country: number, prefix: string): string {
  switch (COUNTRIES[country]!.code) {
    case "US": return prefix + r.digits(2);
    case "GB": return prefix + " " + r.int(1, 9) + r.chars(2, UPPER);
    case "DE": return prefix + r.digits(3);
    case "FR": return prefix + r.digits(2);
    case "NL": return prefix + r.digits(2) + " " + r.chars(2, UPPER);
    case "ES": return prefix + r.digits(2);
    case "IE": return prefix + " " + r.chars(1, UPPER) + r.digits(3);
    default: return prefix + r.digits(2);
  }
}

/** Fictional phone numbers, always fewer than 13 digits (so never a PAN). */
function phoneNumber(r: Rand, country: number): string {
  switch (COUNTRIES[country]!.code) {
    case "US": return "+1 " + r.pick(["415", "212", "512", "312", "206", "303", "617", "404"]) + " 555 01" + r.digits(2);
    case "GB": return "+44 7700 900" + r.digits(3);
    case "DE": return "+49 30 " + r.digits(8);
    case "FR": return "+33 6 " + r.digits(2) + " " + r.digits(2) + " " + r.digits(2) + " " + r.digits(2);
    case "NL": return "+31 6 " + r.digits(8);
    case "ES": return "+34 6" + r.digits(2) + " " + r.digits(3) + " " + r.digits(3);
    case "IE": return "+353 85 " + r.digits(3) + " " + r.digits(4);
    default: return "+39 3" + r.digits(2) + " " + r.digits(3) + " " + r.digits(4);
  }
}

const FIRST_NAMES = [
  "James", "Mary", "Olivia", "Liam", "Emma", "Noah", "Sophia", "Lucas", "Mia", "Ethan", "Amelia", "Oliver",
  "Charlotte", "Elijah", "Ava", "Mateo", "Chloé", "Léa", "Hugo", "Lukas", "Jonas", "Zoë", "Sofía", "Lucía",
  "Daan", "Saoirse", "Giulia", "Marco", "Aisha", "Wei", "Priya", "Kenji", "Fatima", "Omar", "Björn", "Anaïs",
];
const LAST_NAMES = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Müller", "Schmidt", "Schneider",
  "Fischer", "Martin", "Bernard", "Dubois", "Durand", "de Vries", "Jansen", "García", "Fernández", "López",
  "Murphy", "O'Brien", "Kelly", "Rossi", "Russo", "Bianchi", "Taylor", "Evans", "Wilson", "Nguyen", "Khan",
  "Patel", "Kowalski", "Novák", "Silva",
];
const EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"];

interface Address {
  line1: string;
  city: string;
  postal_code: string;
  country: string;
}

interface Profile {
  userId: string | undefined; // undefined for guests
  first: string;
  last: string;
  name: string;
  email: string;
  phone: string;
  address: Address;
  country: number;
}

function makeAddress(r: Rand, country: number): Address {
  const c = COUNTRIES[country]!;
  const [city, prefix] = r.pick(c.cities);
  const street = r.pick(c.streets);
  const num = r.int(1, 220);
  let line1 = c.numberFirst ? num + " " + street : street + " " + num;
  if (c.code === "US" && r.chance(0.15)) line1 += ", Apt " + r.int(1, 40) + r.chars(1, "ABCD");
  return { line1, city, postal_code: postalCode(r, country, prefix), country: c.code };
}

function makeEmail(r: Rand, first: string, last: string): string {
  const n = r.int(0, 99);
  const local = asciiSlug(first) + (r.chance(0.7) ? "." : "_") + asciiSlug(last) + (n < 60 ? "" : String(n));
  return local + "@" + r.pick(EMAIL_DOMAINS);
}

/** Profile of customer `index` (registered when index < CUSTOMER_POOL_SIZE, else a guest). */
function makeProfile(seed: number, index: number, forceCountry: number): Profile {
  const r = new Rand(seedState(seed, (Math.imul(index + 1, 0x9e3779b1) ^ 0x5bd1e995) | 0));
  const country = forceCountry >= 0 ? forceCountry : r.weighted(COUNTRY_CUM);
  const first = r.pick(FIRST_NAMES);
  const last = r.pick(LAST_NAMES);
  return {
    userId: index < CUSTOMER_POOL_SIZE ? customerUserId(index) : undefined,
    first,
    last,
    name: first + " " + last,
    email: makeEmail(r, first, last),
    phone: phoneNumber(r, country),
    address: makeAddress(r, country),
    country,
  };
}

// Catalog ------------------------------------------------------------------

interface CategoryDef {
  slug: string;
  title: string;
  nouns: readonly string[];
  lo: number; // USD minor
  hi: number;
  variants: readonly string[];
}
const SIZES = ["XS", "S", "M", "L", "XL"];
const SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44", "45"];
const COLORS = ["BLK", "WHT", "NVY", "GRN", "RED", "GRY", "BEI"];
const CATEGORIES: readonly CategoryDef[] = [
  { slug: "womens-clothing", title: "Women's Clothing", nouns: ["Dress", "Blouse", "Cardigan", "Skirt", "Jumpsuit"], lo: 1999, hi: 14999, variants: SIZES },
  { slug: "mens-clothing", title: "Men's Clothing", nouns: ["T-Shirt", "Oxford Shirt", "Chinos", "Hoodie", "Jacket"], lo: 1499, hi: 19999, variants: SIZES },
  { slug: "shoes", title: "Shoes", nouns: ["Running Shoe", "Sneaker", "Chelsea Boot", "Loafer", "Sandal"], lo: 3999, hi: 17999, variants: SHOE_SIZES },
  { slug: "electronics", title: "Electronics", nouns: ["Wireless Earbuds", "USB-C Cable", "Power Bank", "Bluetooth Speaker", "Smartwatch Band"], lo: 999, hi: 29999, variants: COLORS },
  { slug: "home", title: "Home & Kitchen", nouns: ["Linen Duvet Cover", "Ceramic Mug", "Scented Candle", "Throw Blanket", "Cast Iron Pan"], lo: 799, hi: 12999, variants: COLORS },
  { slug: "beauty", title: "Beauty", nouns: ["Face Serum", "Lip Balm", "Shampoo Bar", "Sunscreen SPF 50", "Hand Cream"], lo: 499, hi: 5999, variants: [] },
  { slug: "sports", title: "Sports & Outdoors", nouns: ["Yoga Mat", "Water Bottle", "Resistance Bands", "Gym Bag", "Cycling Gloves"], lo: 999, hi: 8999, variants: COLORS },
  { slug: "kids", title: "Kids & Toys", nouns: ["Plush Bear", "Wooden Puzzle", "Rain Jacket", "Building Blocks", "Backpack"], lo: 999, hi: 4999, variants: [] },
];
const ADJECTIVES = ["Classic", "Organic", "Everyday", "Premium", "Slim Fit", "Vintage", "Eco", "Ultra", "Soft", "Essential", "Nordic", "Urban"];
const N_PRODUCTS = 400;

interface Product {
  id: string;
  name: string;
  path: string;
  cat: number;
  firstSku: number;
  nSkus: number;
}

interface Catalog {
  products: Product[];
  skuCode: string[];
  skuProduct: number[];
  prices: Int32Array; // [sku * 3 + currency]
  stock: Int32Array; // [sku * WAREHOUSES.length + warehouse]
}

function to99(x: number): number {
  return Math.max(99, Math.round(x / 100) * 100 - 1);
}

function buildCatalog(r: Rand): Catalog {
  const products: Product[] = [];
  const skuCode: string[] = [];
  const skuProduct: number[] = [];
  const basePrices: number[] = [];
  for (let i = 0; i < N_PRODUCTS; i++) {
    const cat = r.int(0, CATEGORIES.length - 1);
    const c = CATEGORIES[cat]!;
    const name = r.pick(ADJECTIVES) + " " + r.pick(c.nouns);
    const num = 10_000 + i * 7 + r.int(0, 6);
    const id = "prod_" + num;
    const u = r.float();
    const base = to99(c.lo + (c.hi - c.lo) * u * u);
    const firstSku = skuCode.length;
    const nSkus = c.variants.length === 0 ? 1 : r.int(1, Math.min(4, c.variants.length));
    const start = c.variants.length === 0 ? 0 : r.int(0, c.variants.length - nSkus);
    for (let v = 0; v < nSkus; v++) {
      skuCode.push("SKU-" + num + (c.variants.length === 0 ? "" : "-" + c.variants[start + v]));
      skuProduct.push(i);
      basePrices.push(base);
    }
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    products.push({ id, name, path: "/p/" + slug + "/" + id, cat, firstSku, nSkus });
  }
  const nSku = skuCode.length;
  const prices = new Int32Array(nSku * 3);
  const stock = new Int32Array(nSku * WAREHOUSES.length);
  for (let s = 0; s < nSku; s++) {
    for (let k = 0; k < 3; k++) prices[s * 3 + k] = k === 0 ? basePrices[s]! : to99(basePrices[s]! * FX[k]!);
    for (let w = 0; w < WAREHOUSES.length; w++) stock[s * WAREHOUSES.length + w] = r.int(0, 400);
  }
  return { products, skuCode, skuProduct, prices, stock };
}

// Clickstream reference data --------------------------------------------------

const PLATFORM_WEB = 0,
  PLATFORM_IOS = 1,
  PLATFORM_ANDROID = 2;
const PLATFORM_SOURCES = ["web", "ios", "android"];
const PLATFORM_CUM = cumulative([55, 25, 20]);
const USER_AGENTS: readonly (readonly string[])[] = [
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
  ],
  [
    "ExampleShop/5.12.3 (iPhone15,2; iOS 17.4.1; Scale/3.00)",
    "ExampleShop/5.12.3 (iPhone14,7; iOS 17.3; Scale/3.00)",
    "ExampleShop/5.12.2 (iPhone13,1; iOS 16.7.5; Scale/3.00)",
    "ExampleShop/5.11.0 (iPad13,4; iPadOS 17.4; Scale/2.00)",
  ],
  [
    "ExampleShop/5.12.1 (Linux; Android 14; Pixel 8 Build/UQ1A)",
    "ExampleShop/5.12.1 (Linux; Android 14; SM-S921B Build/UP1A)",
    "ExampleShop/5.12.0 (Linux; Android 13; SM-A546B Build/TP1A)",
    "ExampleShop/5.10.4 (Linux; Android 12; Redmi Note 11 Build/SKQ1)",
  ],
];
const WEB_APP_VERSION = "2025.4.2";
const WEB_BASE = "https://shop.example.com";
const APP_BASE = "exampleshop://app";
const TITLE_SUFFIX = " | Example Shop";
const EXTERNAL_REFERRERS = ["https://www.google.com/", "https://www.google.com/", "https://www.bing.com/", "https://www.facebook.com/", "https://www.instagram.com/", "https://duckduckgo.com/"];
const UTM = ["?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale", "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", "?utm_source=instagram&utm_medium=social", "?gclid=Cj0KCQjw"];
const SEARCH_TERMS = [
  "running shoes", "black dress", "wireless earbuds", "gift for dad", "linen shirt", "usb c cable", "yoga mat",
  "rain jacket kids", "cast iron pan", "scented candle", "chelsea boots", "hoodie", "power bank 20000",
  "sunscreen", "water bottle", "sale", "summer dress", "laufschuhe", "robe noire", "zapatillas", "regenjas",
  "bluetooth speaker", "mens chinos", "duvet cover double", "face serum vitamin c", "wooden puzzle", "sneakers white",
  "cardigan", "gym bag", "lip balm", "throw blanket", "smartwatch band", "runnning shoes", "earbuds noise cancelling",
];
const SORTS = ["relevance", "price_asc", "price_desc", "newest"];

/**
 * The hot paths (envelope, page_view, search, add_to_cart) concatenate JSON by
 * hand; the strings they splice in come from these lists (plus ids, numbers
 * and timestamps), so make sure none of them needs JSON escaping.
 */
function assertJsonSafe(...lists: readonly (readonly string[])[]): void {
  for (const list of lists) {
    for (const v of list) if (/["\\\u0000-\u001f\u007f-\uffff]/.test(v)) throw new Error(`not JSON-safe: ${v}`);
  }
}

// Payments ---------------------------------------------------------------------

const METHOD_CARD = 0,
  METHOD_WALLET = 1,
  METHOD_BANK = 2,
  METHOD_COD = 3;
const METHODS = ["card", "wallet", "bank_transfer", "cod"];
const GW_STRIPE = 0,
  GW_ADYEN = 1,
  GW_PAYPAL = 2,
  GW_BRAINTREE = 3,
  GW_OFFLINE = 4;
const GATEWAYS = ["stripe", "adyen", "paypal", "braintree", "offline"];
const CARD_BRANDS = ["visa", "visa", "visa", "mastercard", "mastercard", "amex"];
const FAILURES: readonly (readonly [string, string])[] = [
  ["card_declined", "Your card was declined."],
  ["card_declined", "Your card was declined."],
  ["insufficient_funds", "Your card has insufficient funds."],
  ["insufficient_funds", "Your card has insufficient funds."],
  ["expired_card", "Your card has expired."],
  ["incorrect_cvc", "Your card's security code is incorrect."],
  ["do_not_honor", "The issuer declined the transaction (do not honor)."],
  ["processing_error", "An error occurred while processing your card. Try again in a little bit."],
  ["authentication_required", "3-D Secure authentication failed."],
];
const WALLET_FAILURES: readonly (readonly [string, string])[] = [
  ["payer_action_required", "The payer did not approve the payment."],
  ["instrument_declined", "The funding instrument presented was declined."],
];
const BANK_FAILURES: readonly (readonly [string, string])[] = [["transfer_expired", "The bank transfer was not received in time."]];
const CANCEL_REASONS = ["customer_request", "customer_request", "customer_request", "out_of_stock", "fraud_suspected", "address_unverifiable"];
const REFUND_REASONS = ["return", "return", "damaged_item", "not_as_described", "late_delivery"];

/** Luhn-valid well-known test card numbers, injected rarely into free text. */
const TEST_PANS = ["4111111111111111", "4242424242424242", "5555555555554444", "5105105105105100", "378282246310005", "6011111111111117", "4000056655665556"];

function formatPan(r: Rand, pan: string): string {
  const style = r.int(0, 2);
  if (style === 0) return pan;
  const sep = style === 1 ? " " : "-";
  if (pan.length === 15) return pan.slice(0, 4) + sep + pan.slice(4, 10) + sep + pan.slice(10);
  return pan.replace(/(\d{4})(?=\d)/g, "$1" + sep);
}

// ---------------------------------------------------------------------------
// Simulation state
// ---------------------------------------------------------------------------

interface Ctx {
  ip: string;
  user_agent: string;
  locale: string;
  country: string;
  app_version: string;
}

interface Session {
  id: string;
  anon: string;
  profile: Profile | undefined;
  userId: string | undefined;
  platform: number;
  source: string;
  ctxIp: string; // JSON of the session's Ctx: ctxIp + ctxRest (shared between sessions)
  ctxRest: string;
  tail: string; // cached envelope tail up to ctxIp (see emitS), valid while tailUser === userId
  tailUser: string | undefined | null;
  country: number;
  cur: number;
  cartId: string | undefined;
  cartSkus: number[];
  cartQtys: number[];
  cartPrices: number[];
  steps: number;
  maxSteps: number;
  lastRef: string | undefined; // previous page: its path (+query) on this site, or an external URL
  lastProduct: number;
  lastTime: number;
  phase: number;
  triedLogin: boolean;
}

const PH_BROWSE = 0,
  PH_LOGIN_RETRY = 1,
  PH_CHECKOUT_LOGIN = 2,
  PH_PLACE_ORDER = 3,
  PH_CONFIRM_PAGE = 4;

interface Order {
  id: string;
  userId: string | undefined;
  cur: number;
  country: number;
  total: number;
  warehouse: number;
  lines: number[]; // packed order lines: sku, quantity, unit price (minor), sku, ... (exact size: orders live for hours)
  method: number;
  gateway: number;
  paymentId: string | undefined;
  attempts: number;
  paid: boolean;
  stockIdx: number;
  reason: string; // cancel or refund reason for the scheduled action
  refundAmount: number;
}

// Scheduled actions
const A_SESSION = 0,
  A_PAY_INIT = 1,
  A_PAY_RESULT = 2,
  A_CONFIRM = 3,
  A_SHIP = 4,
  A_DELIVER = 5,
  A_CANCEL = 6,
  A_REFUND = 7,
  A_STOCK = 8,
  A_COD_COLLECT = 9;

/** Binary min-heap of scheduled actions keyed by (due, insertion order). */
class Agenda {
  private due: number[] = [];
  private seq: number[] = [];
  private kind: number[] = [];
  private ref: (Session | Order | undefined)[] = [];
  private n = 0;
  private counter = 0;
  topKind = 0;
  topRef: Session | Order | undefined;

  get size(): number {
    return this.n;
  }
  peekDue(): number {
    return this.n > 0 ? this.due[0]! : Infinity;
  }
  push(due: number, kind: number, ref: Session | Order): void {
    const q = this.counter++;
    let i = this.n++;
    const D = this.due, S = this.seq, K = this.kind, R = this.ref;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pd = D[p]!;
      if (pd < due || (pd === due && S[p]! < q)) break;
      D[i] = pd;
      S[i] = S[p]!;
      K[i] = K[p]!;
      R[i] = R[p]!;
      i = p;
    }
    D[i] = due;
    S[i] = q;
    K[i] = kind;
    R[i] = ref;
  }
  /** removes the top; its kind and ref are left in topKind/topRef */
  pop(): void {
    const D = this.due, S = this.seq, K = this.kind, R = this.ref;
    this.topKind = K[0]!;
    this.topRef = R[0];
    const last = --this.n;
    const d = D[last]!, s = S[last]!, k = K[last]!, r = R[last];
    R[last] = undefined; // capacity is kept; drop the reference
    if (last === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const c2 = c + 1;
      if (c2 < last && (D[c2]! < D[c]! || (D[c2] === D[c] && S[c2]! < S[c]!))) c = c2;
      const cd = D[c]!;
      if (d < cd || (d === cd && s < S[c]!)) break;
      D[i] = cd;
      S[i] = S[c]!;
      K[i] = K[c]!;
      R[i] = R[c]!;
      i = c;
    }
    D[i] = d;
    S[i] = s;
    K[i] = k;
    R[i] = r;
  }
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const WARM_SESSION_HORIZON = 30 * MIN;
const LEGACY_ORDER_HORIZON = 72 * HOUR;
const MAX_DUPLICATE_AGE = 10 * MIN;
const RING = 256; // power of two
const TARGET_MAX_SESSIONS = 20_000;
const PAN_EVERY = 5000;

// Spontaneous (nothing due) choices
const SP_NEW_SESSION = 0,
  SP_WARM_SESSION = 1,
  SP_LEGACY_ORDER = 2,
  SP_REORDER = 3,
  SP_STOCK = 4,
  SP_PRICE = 5;
const SP_BASE_WEIGHTS = [100, 50, 10, 0.6, 14, 2.5];

// Invalid message flavours
const INV_GARBAGE = 0,
  INV_NOT_OBJECT = 1,
  INV_UNKNOWN_TYPE = 2,
  INV_BAD_VERSION = 3,
  INV_MISSING_FIELD = 4,
  INV_WRONG_TYPE = 5,
  INV_BAD_ID = 6;
const INV_CUM = cumulative([14, 10, 15, 15, 18, 16, 12]);
const GARBAGE = [
  "<html><body><h1>502 Bad Gateway</h1></body></html>",
  "event_type=page_view&event_id=1",
  "\u0000\u0001\u0002\u0003\ufffd\ufffd",
  "{\"event_id\": ",
  "undefined",
  "page_view,2024-01-01T00:00:00Z,web",
  "{'event_type': 'page_view'}",
];
const UNKNOWN_TYPES = ["page_vew", "checkout_started", "cart_abandoned", "PAGE_VIEW", "order_returned", "wishlist_add", "add-to-cart"];
const REQUIRED: Record<string, readonly string[]> = {
  page_view: ["url", "path"],
  search: ["query", "results_count"],
  add_to_cart: ["cart_id", "product_id", "sku", "quantity", "unit_price_minor", "currency"],
  order_created: ["order_id", "items", "subtotal_minor", "tax_minor", "shipping_minor", "total_minor", "currency", "customer"],
  order_confirmed: ["order_id"],
  order_shipped: ["order_id", "carrier", "tracking_number"],
  order_delivered: ["order_id"],
  order_cancelled: ["order_id", "reason"],
  payment_initiated: ["payment_id", "order_id", "amount_minor", "currency", "method", "gateway"],
  payment_success: ["payment_id", "order_id", "amount_minor", "currency", "gateway", "gateway_txn_id"],
  payment_failure: ["payment_id", "order_id", "amount_minor", "currency", "gateway", "failure_code"],
  payment_refund: ["refund_id", "payment_id", "order_id", "amount_minor", "currency"],
  stock_update: ["sku", "warehouse_id", "quantity_on_hand"],
  price_change: ["sku", "old_price_minor", "new_price_minor", "currency"],
  login: ["method", "success"],
  profile_update: ["changed_fields"],
};

function checkFraction(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!(typeof v === "number" && v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  return v;
}

assertJsonSafe(
  ADJECTIVES, SIZES, SHOE_SIZES, COLORS, CATEGORIES.map((c) => c.slug), CATEGORIES.map((c) => c.title),
  CATEGORIES.flatMap((c) => c.nouns), EXTERNAL_REFERRERS, UTM, SEARCH_TERMS, SORTS, TEST_PANS,
  [WEB_BASE, APP_BASE, TITLE_SUFFIX, WEB_APP_VERSION], PLATFORM_SOURCES, CURRENCIES, WAREHOUSES,
);

class Simulation {
  private readonly seed: number;
  private readonly r: Rand; // simulation stream
  private readonly f: Rand; // fault stream (kind decisions, duplicates, invalid messages)
  private readonly startMs: number;
  private readonly msPerTick: number;
  private readonly dup: number;
  private readonly inv: number;
  private readonly thinkScale: number;
  private readonly cat: Catalog;
  private readonly agenda = new Agenda();
  private readonly profiles = new Map<number, Profile>();
  private readonly ctxRest: (string | undefined)[] = [];
  private readonly sessionPool: Session[] = [];
  private guestCounter = 0;
  private n = 0;
  private clock = 0;
  private readonly spWeights = SP_BASE_WEIGHTS.slice();
  private readonly spCum = cumulative(SP_BASE_WEIGHTS);
  private spCumAt = -Infinity;
  private panCountdown: number;
  private panPending = false;

  // current output
  private outData = "";
  private outId = "";
  private outType = "";
  private outTime = 0;

  // ring of recent valid messages (for duplicates and invalid variants)
  private readonly ringData: string[] = new Array(RING);
  private readonly ringId: string[] = new Array(RING);
  private readonly ringType: string[] = new Array(RING);
  private readonly ringTime = new Float64Array(RING);
  private readonly useRing: boolean; // only needed for duplicates and invalid messages
  private ringHead = 0;
  private ringCount = 0;

  private flat = 0;
  private isoSec = NaN;
  private isoPrefix = "";

  constructor(opts: GeneratorOptions) {
    if (!opts || typeof opts !== "object") throw new TypeError("options required");
    const rate = opts.ratePerSecond;
    if (!(typeof rate === "number" && Number.isFinite(rate) && rate > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${rate}`);
    if (!(opts.startTime instanceof Date) || Number.isNaN(opts.startTime.getTime())) throw new TypeError("startTime must be a valid Date");
    this.dup = checkFraction("duplicateFraction", opts.duplicateFraction);
    this.inv = checkFraction("invalidFraction", opts.invalidFraction);
    if (this.dup + this.inv > 1) throw new RangeError("duplicateFraction + invalidFraction must be <= 1");
    this.useRing = this.dup > 0 || this.inv > 0;
    this.seed = Math.trunc(opts.seed);
    const g = seedState(opts.seed, 0);
    const fg = g.clone();
    fg.jump();
    this.r = new Rand(g);
    this.f = new Rand(fg);
    this.startMs = opts.startTime.getTime();
    this.msPerTick = 1000 / rate;
    // Bound the number of concurrent sessions (memory) at very high rates by
    // shortening think times (about 8 sessions are open per event/s); at up to
    // ~2.3k events/s think times are realistic, above that they are compressed.
    this.thinkScale = Math.min(1, TARGET_MAX_SESSIONS / (rate * 8.5));
    this.cat = buildCatalog(this.r);
    this.panCountdown = this.r.int(1, 2 * PAN_EVERY - 1);
  }

  next(): GeneratedMessage {
    const n = this.n++;
    this.clock = this.startMs + n * this.msPerTick;
    if (n > 0 && this.useRing) {
      const x = this.f.float();
      if (x < this.dup) return this.duplicate();
      if (x < this.dup + this.inv) return this.invalid();
    }
    this.produceValid();
    const id = this.outId;
    const type = this.outType;
    if (this.useRing) {
      const h = this.ringHead;
      this.ringData[h] = this.outData;
      this.ringId[h] = id;
      this.ringType[h] = type;
      this.ringTime[h] = this.outTime;
      this.ringHead = (h + 1) & (RING - 1);
      if (this.ringCount < RING) this.ringCount++;
    }
    return { data: this.outData, attributes: { event_id: id, event_type: type }, kind: "valid", eventId: id };
  }

  // -------------------------------------------------------------------------
  // Output helpers

  private iso(t: number): string {
    const ms = Math.floor(t);
    const sec = Math.floor(ms / 1000);
    if (sec !== this.isoSec) {
      this.isoSec = sec;
      this.isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
    }
    const rem = ms - sec * 1000;
    return this.isoPrefix + (rem < 10 ? "00" + rem : rem < 100 ? "0" + rem : "" + rem) + "Z";
  }

  /**
   * Serialises the event. The JSON is concatenated by hand: the envelope's
   * strings are ids, constants and timestamps that never need escaping, a
   * session's envelope tail (source, user_id, anonymous_id, session_id,
   * context) is serialised once per session, and the result is exactly
   * JSON.stringify of the event object
   * { event_id, event_type, schema_version, event_time, source, user_id?,
   *   anonymous_id?, session_id?, context?, payload }.
   * `tail` + `tail2` is the envelope from `,"source":` up to (not including) the payload.
   */
  private emitRaw(type: string, tail: string, tail2: string, payload: object | string, t: number): true {
    const id = this.r.uuid();
    const data =
      '{"event_id":"' + id + TYPE_MID[type]! + this.iso(t) + '"' + tail + tail2 +
      ',"payload":' + (typeof payload === "string" ? payload : JSON.stringify(payload)) + "}";
    // Reading a character makes V8 flatten the concatenation rope now, so the
    // message is one flat string (cheaper for the GC and for the consumer).
    this.flat ^= data.charCodeAt(data.length >> 1);
    this.outData = data;
    this.outId = id;
    this.outType = type;
    this.outTime = t;
    if (--this.panCountdown === 0) this.panPending = true;
    return true;
  }

  /** a server-side event (no context); payload is an object or its JSON */
  private emit(type: string, source: string, userId: string | undefined, sessionId: string | undefined, payload: object | string, t: number): true {
    let tail = ',"source":"' + source + '"';
    if (userId !== undefined) tail += ',"user_id":"' + userId + '"';
    if (sessionId !== undefined) tail += ',"session_id":"' + sessionId + '"';
    return this.emitRaw(type, tail, "", payload, t);
  }

  /** a clickstream or customer event of session `s` */
  private emitS(type: string, s: Session, payload: object | string, t: number): true {
    if (s.tailUser !== s.userId) {
      let tail = ',"source":"' + s.source + '"';
      if (s.userId !== undefined) tail += ',"user_id":"' + s.userId + '"';
      tail += ',"anonymous_id":"' + s.anon + '","session_id":"' + s.id + '","context":' + s.ctxIp;
      this.flat ^= tail.charCodeAt(tail.length >> 1); // flatten once, reused for every event of the session
      s.tail = tail;
      s.tailUser = s.userId;
    }
    return this.emitRaw(type, s.tail, s.ctxRest, payload, t);
  }

  private takePan(): string | undefined {
    if (!this.panPending) return undefined;
    this.panPending = false;
    this.panCountdown = this.r.int(1, 2 * PAN_EVERY - 1);
    return formatPan(this.r, this.r.pick(TEST_PANS));
  }

  // -------------------------------------------------------------------------
  // Main loop

  private produceValid(): void {
    const ag = this.agenda;
    for (;;) {
      if (ag.peekDue() <= this.clock) {
        ag.pop();
        if (this.run(ag.topKind, ag.topRef!)) return;
        continue;
      }
      this.spontaneous();
      return;
    }
  }

  private run(kind: number, ref: Session | Order): boolean {
    switch (kind) {
      case A_SESSION: return this.sessionStep(ref as Session);
      case A_PAY_INIT: return this.payInit(ref as Order);
      case A_PAY_RESULT: return this.payResult(ref as Order);
      case A_CONFIRM: return this.confirm(ref as Order);
      case A_SHIP: return this.ship(ref as Order);
      case A_DELIVER: return this.deliver(ref as Order);
      case A_CANCEL: return this.cancel(ref as Order);
      case A_REFUND: return this.refund(ref as Order);
      case A_STOCK: return this.orderStock(ref as Order);
      case A_COD_COLLECT: return this.codCollect(ref as Order);
      default: return false;
    }
  }

  private spontaneous(): void {
    const elapsed = this.clock - this.startMs;
    // refresh the decaying warm-start weights about once per simulated minute
    if (elapsed - this.spCumAt >= MIN || elapsed < this.spCumAt) {
      this.spCumAt = elapsed;
      const w = this.spWeights;
      w[SP_WARM_SESSION] = SP_BASE_WEIGHTS[SP_WARM_SESSION]! * Math.max(0, 1 - elapsed / WARM_SESSION_HORIZON);
      w[SP_LEGACY_ORDER] = SP_BASE_WEIGHTS[SP_LEGACY_ORDER]! * Math.max(0, 1 - elapsed / LEGACY_ORDER_HORIZON);
      let s = 0;
      for (let i = 0; i < w.length; i++) this.spCum[i] = s += w[i]!;
    }
    switch (this.r.weighted(this.spCum)) {
      case SP_NEW_SESSION: this.newSession(false); return;
      case SP_WARM_SESSION: this.newSession(true); return;
      case SP_LEGACY_ORDER: this.legacyOrder(); return;
      case SP_REORDER: this.reorder(); return;
      case SP_STOCK: this.stockUpdate(); return;
      default: this.priceChange(); return;
    }
  }

  // -------------------------------------------------------------------------
  // Customers

  private profile(index: number): Profile {
    let p = this.profiles.get(index);
    if (p === undefined) {
      p = makeProfile(this.seed, index, -1);
      this.profiles.set(index, p);
    }
    return p;
  }

  private randomCustomerIndex(): number {
    const u = this.r.float();
    return Math.floor(CUSTOMER_POOL_SIZE * u * Math.sqrt(u)); // some customers are much more active
  }

  private guestProfile(country: number): Profile {
    return makeProfile(this.seed ^ 0x6a09e667, CUSTOMER_POOL_SIZE + this.guestCounter++, country);
  }

  // -------------------------------------------------------------------------
  // Catalog helpers

  private popularProduct(): number {
    const u = this.r.float();
    return Math.floor(N_PRODUCTS * u * u);
  }

  private popularSku(): number {
    const p = this.cat.products[this.popularProduct()]!;
    return p.firstSku + this.r.int(0, p.nSkus - 1);
  }

  // -------------------------------------------------------------------------
  // Sessions (clickstream + customer events)

  /**
   * The session's context as JSON, in two parts: `{"ip":"…"` (returned) and a
   * cached serialisation of the rest (user agent, locale, country, app
   * version; left in this.lastCtxRest) that sessions share. Together they
   * equal JSON.stringify of a Ctx.
   */
  private lastCtxRest = "";
  private contextJson(platform: number, country: number): string {
    const r = this.r;
    let ip: string;
    if (r.chance(0.12)) {
      ip = "2001:db8:" + r.int(0, 0xffff).toString(16) + ":" + r.int(0, 0xffff).toString(16) + "::" + r.int(1, 0xffff).toString(16);
    } else {
      let a = r.int(11, 223);
      if (a === 127 || a === 10 || a === 172 || a === 192) a += 1;
      ip = a + "." + r.int(0, 255) + "." + r.int(0, 255) + "." + r.int(1, 254);
    }
    const c = COUNTRIES[country]!;
    const english = !(c.cur !== 1 || r.chance(0.85));
    const uas = USER_AGENTS[platform]!;
    const uaIdx = r.int(0, uas.length - 1);
    const key = ((platform * 8 + uaIdx) * COUNTRIES.length + country) * 2 + (english ? 1 : 0);
    let rest = this.ctxRest[key];
    if (rest === undefined) {
      const ua = uas[uaIdx]!;
      const ctx: Ctx = {
        ip: "",
        user_agent: ua,
        locale: english ? "en-GB" : c.locale,
        country: c.code,
        app_version: platform === PLATFORM_WEB ? WEB_APP_VERSION : ua.slice(12, ua.indexOf(" ")),
      };
      rest = this.ctxRest[key] = JSON.stringify(ctx).slice('{"ip":""'.length);
    }
    this.lastCtxRest = rest;
    return '{"ip":"' + ip + '"';
  }

  private newSession(warm: boolean): void {
    const r = this.r;
    const platform = r.weighted(PLATFORM_CUM);
    const registered = r.chance(warm ? 0.5 : 0.45);
    let profile: Profile | undefined;
    let country: number;
    if (registered) {
      profile = this.profile(this.randomCustomerIndex());
      country = profile.country;
    } else {
      country = r.weighted(COUNTRY_CUM);
    }
    const bounce = !warm && r.chance(0.3);
    const id = r.uuid();
    const anon = r.uuid();
    const ctxIp = this.contextJson(platform, country);
    const ctxRest = this.lastCtxRest;
    // ended sessions are recycled (fewer objects for the GC to move around)
    let s = this.sessionPool.pop();
    if (s === undefined) {
      s = {
        id, anon, profile, userId: undefined, platform, source: "", ctxIp, ctxRest, tail: "", tailUser: null, country, cur: 0, cartId: undefined,
        cartSkus: [], cartQtys: [], cartPrices: [], steps: 0, maxSteps: 0, lastRef: undefined, lastProduct: -1,
        lastTime: 0, phase: PH_BROWSE, triedLogin: false,
      };
    } else {
      s.id = id;
      s.anon = anon;
      s.profile = profile;
      s.userId = undefined;
      s.platform = platform;
      s.ctxIp = ctxIp;
      s.ctxRest = ctxRest;
      s.tail = "";
      s.tailUser = null;
      s.country = country;
      s.cartId = undefined;
      s.cartSkus.length = s.cartQtys.length = s.cartPrices.length = 0;
      s.lastRef = undefined;
      s.lastProduct = -1;
      s.phase = PH_BROWSE;
      s.triedLogin = false;
    }
    s.source = PLATFORM_SOURCES[platform]!;
    s.cur = COUNTRIES[country]!.cur;
    s.steps = warm ? r.int(2, 8) : 0;
    s.lastTime = this.clock;
    s.maxSteps = bounce ? 1 : s.steps + 2 + Math.min(60, Math.floor(r.exp(7)));
    if (warm) {
      // entered mid-session: already browsing (its earlier events predate the stream)
      s.userId = profile?.userId;
      s.lastProduct = this.popularProduct();
      s.lastRef = this.cat.products[s.lastProduct]!.path;
      this.browse(s, this.clock);
    } else if (profile !== undefined && r.chance(0.3)) {
      this.login(s, this.clock, r.chance(0.92));
    } else {
      s.userId = profile?.userId;
      this.landing(s, this.clock);
    }
    this.continueSession(s);
  }

  private urlFor(s: Session, path: string): string {
    return (s.platform === PLATFORM_WEB ? WEB_BASE : APP_BASE) + path;
  }

  /** event time of a session event: mobile apps sometimes deliver late (buffered offline) */
  private sessionTime(s: Session): number {
    let t = this.clock;
    if (s.platform !== PLATFORM_WEB && this.r.chance(0.03)) t = Math.max(s.lastTime, t - 500 - this.r.float() * 90 * SEC);
    if (t < s.lastTime) t = s.lastTime;
    s.lastTime = t;
    return t;
  }

  private endSession(s: Session): void {
    s.profile = undefined;
    s.lastRef = undefined;
    if (this.sessionPool.length < 4096) this.sessionPool.push(s);
  }

  private continueSession(s: Session): void {
    s.steps++;
    if (s.phase === PH_BROWSE && s.steps >= s.maxSteps) return this.endSession(s);
    const think = (1500 + Math.min(120 * SEC, this.r.exp(9 * SEC))) * this.thinkScale;
    this.agenda.push(this.clock + think, A_SESSION, s);
  }

  private sessionStep(s: Session): boolean {
    const r = this.r;
    const t = this.sessionTime(s);
    switch (s.phase) {
      case PH_LOGIN_RETRY: {
        const ok = r.chance(0.8);
        s.phase = PH_BROWSE;
        this.login(s, t, ok);
        break;
      }
      case PH_CHECKOUT_LOGIN: {
        if (s.profile === undefined) {
          // an anonymous shopper signs into their account to check out
          s.profile = this.profile(this.randomCustomerIndex());
        }
        s.phase = PH_PLACE_ORDER;
        s.triedLogin = true;
        s.userId = s.profile.userId;
        this.emitS("login", s, { method: r.pick(["password", "password", "oauth"]), success: true }, t);
        break;
      }
      case PH_PLACE_ORDER:
        s.phase = PH_CONFIRM_PAGE;
        this.placeOrder(s);
        break;
      case PH_CONFIRM_PAGE:
        this.pageView(s, t, "/checkout/confirmation", "Thank you for your order", undefined);
        this.endSession(s);
        return true;
      default:
        this.browse(s, t);
    }
    this.continueSession(s);
    return true;
  }

  private browse(s: Session, t: number): void {
    const r = this.r;
    const hasCart = s.cartSkus.length > 0;
    const x = r.float() * 100;
    let acc = hasCart ? 4 + Math.min(3, s.cartSkus.length) : 0;
    if (x < acc) return this.checkout(s, t);
    if (x < (acc += s.lastProduct >= 0 ? 13 : 0)) return this.addToCart(s, t);
    if (x < (acc += 17)) return this.search(s, t);
    if (x < (acc += s.userId === undefined && !s.triedLogin ? 2 : 0)) {
      if (s.profile === undefined) s.profile = this.profile(this.randomCustomerIndex());
      return this.login(s, t, r.chance(0.92));
    }
    if (x < (acc += s.userId !== undefined ? 1 : 0)) return this.profileUpdate(s, t);
    if (x < (acc += 12)) return this.otherPage(s, t);
    return this.productPage(s, t, this.popularProduct());
  }

  private pageView(s: Session, t: number, path: string, title: string | undefined, productId: string | undefined, query = ""): void {
    const url = this.urlFor(s, path) + query;
    // hot path, serialised by hand: every piece is JSON-safe by construction (see assertJsonSafe)
    let json = '{"url":"' + url + '","path":"' + path + '"';
    const ref = s.lastRef;
    if (ref !== undefined) json += ',"referrer":"' + (ref.charCodeAt(0) === 47 /* "/" */ ? this.urlFor(s, ref) : ref) + '"';
    if (title !== undefined) json += ',"title":"' + title + '"';
    if (productId !== undefined) json += ',"product_id":"' + productId + '"';
    s.lastRef = query === "" ? path : path + query; // no per-event string kept alive
    this.emitS("page_view", s, json + "}", t);
  }

  private productPage(s: Session, t: number, pi: number): void {
    const p = this.cat.products[pi]!;
    s.lastProduct = pi;
    this.pageView(s, t, p.path, p.name + TITLE_SUFFIX, p.id);
  }

  private otherPage(s: Session, t: number): void {
    const r = this.r;
    const x = r.int(0, 9);
    if (x < 5) {
      const c = CATEGORIES[r.int(0, CATEGORIES.length - 1)]!;
      this.pageView(s, t, "/c/" + c.slug, c.title + TITLE_SUFFIX, undefined);
    } else if (x < 7) this.pageView(s, t, "/", "Example Shop", undefined);
    else if (x < 8 && s.cartSkus.length > 0) this.pageView(s, t, "/cart", "Your cart" + TITLE_SUFFIX, undefined);
    else if (x < 9 && s.userId !== undefined) this.pageView(s, t, "/account/orders", "Your orders" + TITLE_SUFFIX, undefined);
    else this.pageView(s, t, "/sale", "Sale" + TITLE_SUFFIX, undefined);
  }

  private landing(s: Session, t: number): void {
    const r = this.r;
    if (s.platform === PLATFORM_WEB) {
      const x = r.float();
      s.lastRef = x < 0.55 ? r.pick(EXTERNAL_REFERRERS) : undefined;
      const query = r.chance(0.3) ? r.pick(UTM) : "";
      const y = r.int(0, 19);
      if (y < 7) return this.pageView(s, t, "/", "Example Shop", undefined, query);
      if (y < 12) {
        const c = CATEGORIES[r.int(0, CATEGORIES.length - 1)]!;
        return this.pageView(s, t, "/c/" + c.slug, c.title + TITLE_SUFFIX, undefined, query);
      }
      const pi = this.popularProduct();
      const p = this.cat.products[pi]!;
      s.lastProduct = pi;
      return this.pageView(s, t, p.path, p.name + TITLE_SUFFIX, p.id, query);
    }
    this.pageView(s, t, "/", "Home", undefined);
  }

  private search(s: Session, t: number): void {
    const r = this.r;
    const pan = this.takePan();
    const query = pan ?? r.pick(SEARCH_TERMS);
    const results = pan !== undefined || r.chance(0.08) ? 0 : Math.min(2000, 1 + Math.floor(r.exp(60)));
    // serialised by hand (JSON-safe pieces): { query, results_count, filters? }
    let json = '{"query":"' + query + '","results_count":' + results;
    if (r.chance(0.3)) {
      json +=
        ',"filters":{"category":"' + CATEGORIES[r.int(0, CATEGORIES.length - 1)]!.slug +
        '","max_price_minor":' + r.int(1, 30) * 1000 +
        ',"in_stock":true,"sort":"' + r.pick(SORTS) + '"}';
    }
    this.emitS("search", s, json + "}", t);
    s.lastRef = "/search";
    if (results > 0 && r.chance(0.6)) s.lastProduct = this.popularProduct();
  }

  private addToCart(s: Session, t: number): void {
    const r = this.r;
    const p = this.cat.products[s.lastProduct]!;
    const sku = p.firstSku + r.int(0, p.nSkus - 1);
    const qty = r.chance(0.82) ? 1 : r.int(2, 3);
    const price = this.cat.prices[sku * 3 + s.cur]!;
    if (s.cartId === undefined) s.cartId = "cart_" + r.id12();
    const i = s.cartSkus.indexOf(sku);
    if (i >= 0) s.cartQtys[i] += qty;
    else {
      s.cartSkus.push(sku);
      s.cartQtys.push(qty);
      s.cartPrices.push(price);
    }
    const json =
      '{"cart_id":"' + s.cartId + '","product_id":"' + p.id + '","sku":"' + this.cat.skuCode[sku]! +
      '","quantity":' + qty + ',"unit_price_minor":' + price + ',"currency":"' + CURRENCIES[s.cur]! + '"}';
    this.emitS("add_to_cart", s, json, t);
  }

  private checkout(s: Session, t: number): void {
    const r = this.r;
    this.pageView(s, t, "/checkout", "Checkout" + TITLE_SUFFIX, undefined);
    if (r.chance(0.3)) {
      s.phase = PH_BROWSE; // abandoned at checkout; the session ends
      s.maxSteps = s.steps;
      return;
    }
    if (s.userId === undefined && r.chance(0.5)) s.phase = PH_CHECKOUT_LOGIN;
    else s.phase = PH_PLACE_ORDER;
  }

  private login(s: Session, t: number, success: boolean): void {
    const r = this.r;
    s.triedLogin = true;
    if (success && s.profile !== undefined) s.userId = s.profile.userId;
    else if (!success) {
      s.userId = undefined;
      if (s.phase === PH_BROWSE && r.chance(0.7)) s.phase = PH_LOGIN_RETRY;
      else s.profile = undefined; // gave up, browses anonymously
    }
    const method = r.weighted(LOGIN_METHOD_CUM);
    this.emitS("login", s, { method: LOGIN_METHODS[method]!, success }, t);
  }

  private profileUpdate(s: Session, t: number): void {
    const r = this.r;
    const p = s.profile!;
    if (r.chance(0.08)) {
      this.emitS("profile_update", s, { changed_fields: ["password"] }, t);
      return;
    }
    const changed: string[] = [];
    let email: string | undefined, phone: string | undefined, name: string | undefined, address: Address | undefined;
    const mask = r.int(1, 15);
    if (mask & 1) {
      p.email = makeEmail(r, p.first, p.last + (r.chance(0.5) ? "" : String(r.int(1, 9))));
      email = p.email;
      changed.push("email");
    }
    if (mask & 2) {
      p.phone = phoneNumber(r, p.country);
      phone = p.phone;
      changed.push("phone");
    }
    if (mask & 4) {
      p.last = r.pick(LAST_NAMES);
      p.name = p.first + " " + p.last;
      name = p.name;
      changed.push("name");
    }
    if (mask & 8) {
      p.address = makeAddress(r, p.country);
      address = p.address;
      changed.push("address");
    }
    this.emitS("profile_update", s, { changed_fields: changed, email, phone, name, address }, t);
  }

  // -------------------------------------------------------------------------
  // Orders

  private newOrder(userId: string | undefined, cur: number, country: number, skus: number[], qtys: number[], prices: number[]): Order {
    const n = skus.length;
    const lines = new Array<number>(n * 3);
    for (let i = 0; i < n; i++) {
      lines[3 * i] = skus[i]!;
      lines[3 * i + 1] = qtys[i]!;
      lines[3 * i + 2] = prices[i]!;
    }
    return {
      id: "ord_" + this.r.id12(),
      userId,
      cur,
      country,
      total: 0,
      warehouse: this.r.pick(COUNTRIES[country]!.warehouses),
      lines,
      method: -1,
      gateway: -1,
      paymentId: undefined,
      attempts: 0,
      paid: false,
      stockIdx: 0,
      reason: "",
      refundAmount: 0,
    };
  }

  /** emits order_created and schedules the payment */
  private createOrder(o: Order, cartId: string | undefined, customer: Profile, sessionId: string | undefined): void {
    const r = this.r;
    const items: { product_id: string; sku: string; quantity: number; unit_price_minor: number }[] = [];
    let subtotal = 0;
    const lines = o.lines;
    for (let i = 0; i < lines.length; i += 3) {
      const sku = lines[i]!;
      const q = lines[i + 1]!;
      const price = lines[i + 2]!;
      subtotal += q * price;
      items.push({ product_id: this.cat.products[this.cat.skuProduct[sku]!]!.id, sku: this.cat.skuCode[sku]!, quantity: q, unit_price_minor: price });
    }
    const tax = Math.round(subtotal * COUNTRIES[o.country]!.tax);
    const express = r.chance(0.1);
    const shipping = (subtotal >= FREE_SHIPPING_FROM[o.cur]! ? 0 : SHIPPING_FEE[o.cur]!) + (express ? EXPRESS_FEE[o.cur]! : 0);
    o.total = subtotal + tax + shipping;
    const payload = {
      order_id: o.id,
      cart_id: cartId,
      items,
      subtotal_minor: subtotal,
      tax_minor: tax,
      shipping_minor: shipping,
      total_minor: o.total,
      currency: CURRENCIES[o.cur],
      customer: {
        email: customer.email,
        phone: r.chance(0.85) ? customer.phone : undefined,
        name: r.chance(0.97) ? customer.name : undefined,
        shipping_address: customer.address,
      },
    };
    this.emit("order_created", "order-service", o.userId, sessionId, payload, this.clock);
    this.agenda.push(this.clock + 800 + r.float() * 9 * SEC, A_PAY_INIT, o);
  }

  private placeOrder(s: Session): void {
    const customer = s.profile ?? this.guestProfile(s.country);
    const o = this.newOrder(s.userId, s.cur, s.country, s.cartSkus, s.cartQtys, s.cartPrices);
    this.createOrder(o, s.cartId, customer, s.id);
    s.cartId = undefined;
    s.cartSkus.length = s.cartQtys.length = s.cartPrices.length = 0; // the order copied them
    if (this.r.chance(0.3)) {
      s.phase = PH_BROWSE; // no confirmation page view: the session ends here
      s.maxSteps = s.steps + 1;
    }
  }

  /** a repeat order placed without a cart (subscription / reorder from order history via the API) */
  private reorder(): void {
    const r = this.r;
    const p = this.profile(this.randomCustomerIndex());
    const n = r.int(1, 2);
    const skus: number[] = [], qtys: number[] = [], prices: number[] = [];
    const cur = COUNTRIES[p.country]!.cur;
    for (let i = 0; i < n; i++) {
      const sku = this.popularSku();
      if (skus.includes(sku)) continue;
      skus.push(sku);
      qtys.push(r.int(1, 3));
      prices.push(this.cat.prices[sku * 3 + cur]!);
    }
    const o = this.newOrder(p.userId, cur, p.country, skus, qtys, prices);
    this.createOrder(o, undefined, p, undefined);
  }

  /** an order placed before startTime entering the stream at a later stage */
  private legacyOrder(): void {
    const r = this.r;
    const registered = r.chance(0.85);
    const p = registered ? this.profile(this.randomCustomerIndex()) : undefined;
    const country = p !== undefined ? p.country : r.weighted(COUNTRY_CUM);
    const cur = COUNTRIES[country]!.cur;
    const n = r.chance(0.6) ? 1 : r.int(2, 3);
    const skus: number[] = [], qtys: number[] = [], prices: number[] = [];
    let subtotal = 0;
    for (let i = 0; i < n; i++) {
      const sku = this.popularSku();
      if (skus.includes(sku)) continue;
      const q = r.chance(0.85) ? 1 : 2;
      const price = this.cat.prices[sku * 3 + cur]!;
      skus.push(sku);
      qtys.push(q);
      prices.push(price);
      subtotal += q * price;
    }
    const o = this.newOrder(p?.userId, cur, country, skus, qtys, prices);
    o.total = subtotal + Math.round(subtotal * COUNTRIES[country]!.tax) + (subtotal >= FREE_SHIPPING_FROM[cur]! ? 0 : SHIPPING_FEE[cur]!);
    const stage = r.weighted(LEGACY_STAGE_CUM);
    if (stage === 0) {
      this.payInit(o);
      return;
    }
    // already paid (by card or wallet) before the stream started
    o.method = r.chance(0.75) ? METHOD_CARD : METHOD_WALLET;
    o.gateway = this.pickGateway(o.method);
    o.paymentId = "pay_" + r.id12();
    o.attempts = 1;
    o.paid = true;
    switch (stage) {
      case 1: this.confirm(o); return;
      case 2: this.ship(o); return;
      case 3: this.deliver(o); return;
      case 4:
        o.reason = r.pick(CANCEL_REASONS);
        this.cancel(o);
        return;
      default:
        o.reason = r.pick(REFUND_REASONS);
        o.refundAmount = r.chance(0.5) ? o.total : o.lines[2]!;
        this.refund(o);
    }
  }

  // -------------------------------------------------------------------------
  // Payments and fulfilment

  private pickMethod(country: number): number {
    const x = this.r.float();
    const eu = COUNTRIES[country]!.cur === 1;
    if (x < 0.68) return METHOD_CARD;
    if (x < 0.9) return METHOD_WALLET;
    if (x < 0.96) return eu ? METHOD_BANK : METHOD_CARD;
    return METHOD_COD;
  }

  private pickGateway(method: number): number {
    const r = this.r;
    switch (method) {
      case METHOD_CARD: return r.pick([GW_STRIPE, GW_STRIPE, GW_ADYEN, GW_BRAINTREE]);
      case METHOD_WALLET: return r.chance(0.7) ? GW_PAYPAL : GW_STRIPE;
      case METHOD_BANK: return GW_ADYEN;
      default: return GW_OFFLINE;
    }
  }

  private gatewayTxnId(gw: number): string {
    const r = this.r;
    switch (gw) {
      case GW_STRIPE: return "ch_" + r.chars(24, ALNUM);
      case GW_ADYEN: return "psp_" + r.id12().toUpperCase();
      case GW_PAYPAL: return r.chars(17, UPPER_ALNUM);
      case GW_BRAINTREE: return r.chars(8, "abcdefghijklmnopqrstuvwxyz0123456789");
      default: return "cod_" + r.id12();
    }
  }

  private payInit(o: Order): boolean {
    const r = this.r;
    o.attempts++;
    if (o.attempts === 1 || r.chance(0.4)) {
      o.method = this.pickMethod(o.country);
      if (o.attempts > 1 && o.method === METHOD_COD) o.method = METHOD_WALLET;
    }
    o.gateway = this.pickGateway(o.method);
    o.paymentId = "pay_" + r.id12();
    const card = o.method === METHOD_CARD ? { brand: r.pick(CARD_BRANDS), last4: r.digits(4), token: "tok_" + r.chars(16, ALNUM) } : undefined;
    const payload = {
      payment_id: o.paymentId,
      order_id: o.id,
      amount_minor: o.total,
      currency: CURRENCIES[o.cur],
      method: METHODS[o.method]!,
      gateway: GATEWAYS[o.gateway]!,
      card,
    };
    this.emit("payment_initiated", "payment-service", o.userId, undefined, payload, this.clock);
    if (o.method === METHOD_COD) {
      this.agenda.push(this.clock + 5 * SEC + r.float() * 55 * SEC, A_CONFIRM, o); // paid on delivery
    } else {
      const delay = o.method === METHOD_BANK ? 5 * MIN + r.float() * 4 * HOUR : 700 + r.float() * 7 * SEC;
      this.agenda.push(this.clock + delay, A_PAY_RESULT, o);
    }
    return true;
  }

  private payResult(o: Order): boolean {
    const r = this.r;
    const viaGateway = r.chance(0.7);
    const source = viaGateway ? "gateway:" + GATEWAYS[o.gateway]! : "payment-service";
    const userId = viaGateway ? undefined : o.userId;
    if (r.chance(o.attempts === 1 ? 0.9 : 0.78)) {
      o.paid = true;
      const payload = {
        payment_id: o.paymentId!,
        order_id: o.id,
        amount_minor: o.total,
        currency: CURRENCIES[o.cur],
        gateway: GATEWAYS[o.gateway]!,
        gateway_txn_id: this.gatewayTxnId(o.gateway),
      };
      this.emit("payment_success", source, userId, undefined, payload, this.clock);
      this.agenda.push(this.clock + 2 * SEC + r.float() * 58 * SEC, A_CONFIRM, o);
      return true;
    }
    const list = o.method === METHOD_CARD ? FAILURES : o.method === METHOD_WALLET ? WALLET_FAILURES : BANK_FAILURES;
    const [code, message] = r.pick(list);
    const pan = this.takePan();
    const failureMessage = pan !== undefined ? "Card " + pan + " was declined by the issuer" : r.chance(0.85) ? message : undefined;
    const payload = {
      payment_id: o.paymentId!,
      order_id: o.id,
      amount_minor: o.total,
      currency: CURRENCIES[o.cur],
      gateway: GATEWAYS[o.gateway]!,
      failure_code: code,
      failure_message: failureMessage,
    };
    this.emit("payment_failure", source, userId, undefined, payload, this.clock);
    if (o.attempts < 3 && r.chance(0.6)) {
      this.agenda.push(this.clock + 20 * SEC + r.float() * 280 * SEC, A_PAY_INIT, o);
    } else {
      o.reason = "payment_failed";
      this.agenda.push(this.clock + 15 * MIN + r.float() * 30 * MIN, A_CANCEL, o);
    }
    return true;
  }

  private confirm(o: Order): boolean {
    const r = this.r;
    this.emit("order_confirmed", "order-service", o.userId, undefined, { order_id: o.id }, this.clock);
    if (r.chance(0.04)) {
      o.reason = r.pick(CANCEL_REASONS);
      this.agenda.push(this.clock + 10 * MIN + r.float() * 8 * HOUR, A_CANCEL, o);
    } else {
      this.agenda.push(this.clock + 40 * MIN + Math.min(30 * HOUR, r.exp(7 * HOUR)), A_SHIP, o);
    }
    return true;
  }

  private cancel(o: Order): boolean {
    const r = this.r;
    this.emit("order_cancelled", "order-service", o.userId, undefined, { order_id: o.id, reason: o.reason }, this.clock);
    if (o.paid && o.paymentId !== undefined) {
      o.reason = "order_cancelled";
      o.refundAmount = o.total;
      this.agenda.push(this.clock + MIN + r.float() * 59 * MIN, A_REFUND, o);
    }
    return true;
  }

  private trackingNumber(carrier: number): string {
    const r = this.r;
    switch (carrier) {
      case CARRIER_UPS: return "1Z" + r.pick(UPS_SHIPPERS) + "03" + r.digits(8);
      case CARRIER_FEDEX: return r.digits(12);
      case CARRIER_DHL: return r.digits(10);
      case CARRIER_ROYAL_MAIL: return r.chars(2, UPPER) + r.digits(9) + "GB";
      case CARRIER_COLISSIMO: return "6A" + r.digits(11);
      default: return "3S" + r.chars(4, UPPER) + r.digits(7);
    }
  }

  private ship(o: Order): boolean {
    const r = this.r;
    const carrier = r.pick(COUNTRIES[o.country]!.carriers);
    const payload = { order_id: o.id, carrier: CARRIERS[carrier]!, tracking_number: this.trackingNumber(carrier) };
    this.emit("order_shipped", "order-service", o.userId, undefined, payload, this.clock);
    o.stockIdx = 0;
    this.agenda.push(this.clock + 500 + r.float() * 4500, A_STOCK, o);
    if (!r.chance(0.005)) this.agenda.push(this.clock + 6 * HOUR + Math.min(90 * HOUR, r.exp(22 * HOUR)), A_DELIVER, o); // else lost in transit
    return true;
  }

  private orderStock(o: Order): boolean {
    const i = o.stockIdx++;
    const sku = o.lines[3 * i]!;
    const k = sku * WAREHOUSES.length + o.warehouse;
    const old = this.cat.stock[k]!;
    const q = Math.max(0, old - o.lines[3 * i + 1]!);
    this.cat.stock[k] = q;
    const payload = { sku: this.cat.skuCode[sku]!, warehouse_id: WAREHOUSES[o.warehouse]!, quantity_on_hand: q, delta: q - old };
    this.emit("stock_update", "inventory-service", undefined, undefined, payload, this.clock);
    if (3 * o.stockIdx < o.lines.length) this.agenda.push(this.clock + 200 + this.r.float() * 1800, A_STOCK, o);
    return true;
  }

  private deliver(o: Order): boolean {
    const r = this.r;
    this.emit("order_delivered", "order-service", o.userId, undefined, { order_id: o.id }, this.clock);
    if (o.method === METHOD_COD && !o.paid) {
      this.agenda.push(this.clock + MIN + r.float() * 29 * MIN, A_COD_COLLECT, o);
    } else if (r.chance(0.04)) {
      o.reason = r.pick(REFUND_REASONS);
      o.refundAmount = r.chance(0.4) ? o.total : Math.min(o.total, o.lines[2]!);
      this.agenda.push(this.clock + 2 * HOUR + r.float() * 70 * HOUR, A_REFUND, o);
    }
    return true;
  }

  private codCollect(o: Order): boolean {
    o.paid = true;
    const payload = {
      payment_id: o.paymentId!,
      order_id: o.id,
      amount_minor: o.total,
      currency: CURRENCIES[o.cur],
      gateway: GATEWAYS[o.gateway]!,
      gateway_txn_id: this.gatewayTxnId(o.gateway),
    };
    this.emit("payment_success", "payment-service", o.userId, undefined, payload, this.clock);
    return true;
  }

  private refund(o: Order): boolean {
    const payload = {
      refund_id: "re_" + this.r.id12(),
      payment_id: o.paymentId!,
      order_id: o.id,
      amount_minor: o.refundAmount,
      currency: CURRENCIES[o.cur],
      reason: o.reason,
    };
    this.emit("payment_refund", "payment-service", o.userId, undefined, payload, this.clock);
    return true;
  }

  // -------------------------------------------------------------------------
  // Inventory

  private stockUpdate(): void {
    const r = this.r;
    const sku = this.popularSku();
    const w = r.int(0, WAREHOUSES.length - 1);
    const k = sku * WAREHOUSES.length + w;
    const old = this.cat.stock[k]!;
    const x = r.float();
    let delta: number;
    if (x < 0.3 || old === 0) delta = r.int(24, 400); // restock
    else if (x < 0.45) delta = r.int(1, 3); // returns put back
    else delta = -r.int(1, 12); // other channels / shrinkage
    const q = Math.max(0, old + delta);
    this.cat.stock[k] = q;
    const payload = {
      sku: this.cat.skuCode[sku]!,
      warehouse_id: WAREHOUSES[w]!,
      quantity_on_hand: q,
      delta: r.chance(0.05) ? undefined : q - old, // a periodic full count carries no delta
    };
    this.emit("stock_update", "inventory-service", undefined, undefined, payload, this.clock);
  }

  private priceChange(): void {
    const r = this.r;
    const sku = this.popularSku();
    const cur = r.weighted(CURRENCY_CUM);
    const k = sku * 3 + cur;
    const old = this.cat.prices[k]!;
    let next = to99(old * (r.chance(0.5) ? 0.6 + r.float() * 0.3 : 1.05 + r.float() * 0.35));
    if (next === old) next = old + 100;
    this.cat.prices[k] = next;
    const payload = { sku: this.cat.skuCode[sku]!, old_price_minor: old, new_price_minor: next, currency: CURRENCIES[cur] };
    this.emit("price_change", "inventory-service", undefined, undefined, payload, this.clock);
  }

  // -------------------------------------------------------------------------
  // Duplicates and invalid messages

  private recentIndex(): number {
    const f = this.f;
    const u = f.float();
    const k = Math.floor(u * u * this.ringCount);
    let idx = (this.ringHead - 1 - k) & (RING - 1);
    if (this.ringTime[idx]! < this.clock - MAX_DUPLICATE_AGE) idx = (this.ringHead - 1) & (RING - 1);
    return idx;
  }

  private duplicate(): GeneratedMessage {
    const idx = this.recentIndex();
    const id = this.ringId[idx]!;
    return { data: this.ringData[idx]!, attributes: { event_id: id, event_type: this.ringType[idx]! }, kind: "duplicate", eventId: id };
  }

  private invalid(): GeneratedMessage {
    const f = this.f;
    const flavour = f.weighted(INV_CUM);
    const src = this.ringData[this.recentIndex()]!;
    if (flavour === INV_GARBAGE) {
      const data = f.chance(0.5) ? src.slice(0, f.int(1, src.length - 2)) : f.pick(GARBAGE);
      return { data, attributes: {}, kind: "invalid" };
    }
    if (flavour === INV_NOT_OBJECT) {
      const data = f.pick(["[]", "null", "42", "true", "\"page_view\"", "[" + src + "]"]);
      return { data, attributes: {}, kind: "invalid" };
    }
    const ev = JSON.parse(src) as Record<string, unknown> & { payload: Record<string, unknown> };
    let id = f.uuid();
    ev.event_id = id;
    switch (flavour) {
      case INV_UNKNOWN_TYPE:
        ev.event_type = f.pick(UNKNOWN_TYPES);
        break;
      case INV_BAD_VERSION:
        ev.schema_version = f.chance(0.7) ? 99 : 2;
        break;
      case INV_MISSING_FIELD: {
        const req = REQUIRED[ev.event_type as string]!;
        delete ev.payload[f.pick(req)];
        break;
      }
      case INV_WRONG_TYPE:
        wrongType(f, ev.payload);
        break;
      default: {
        id = f.pick(["not-a-uuid", "", "12345", "evt_" + f.id12(), id.slice(0, 23), id.replace(/[0-9a-f]/, "z")]);
        ev.event_id = id;
      }
    }
    const type = ev.event_type as string;
    const attributes: { event_id?: string; event_type?: string } = id === "" ? { event_type: type } : { event_id: id, event_type: type };
    return { data: JSON.stringify(ev), attributes, kind: "invalid", eventId: id === "" ? undefined : id };
  }
}

const TYPE_MID: Record<string, string> = {};
for (const t of Object.keys(REQUIRED)) TYPE_MID[t] = '","event_type":"' + t + '","schema_version":1,"event_time":"';

const LOGIN_METHODS = ["password", "oauth", "sso"];
const LOGIN_METHOD_CUM = cumulative([70, 25, 5]);
const CURRENCY_CUM = cumulative([50, 35, 15]);
/** payment pending, confirm, ship, deliver, cancel, refund */
const LEGACY_STAGE_CUM = cumulative([8, 6, 34, 40, 5, 7]);

/** give one required payload field the wrong JSON type (money becomes a decimal string) */
function wrongType(f: Rand, payload: Record<string, unknown>): void {
  const keys = Object.keys(payload);
  for (const k of keys) {
    const v = payload[k];
    if (k.endsWith("_minor") && typeof v === "number") {
      payload[k] = (v / 100).toFixed(2);
      return;
    }
  }
  for (const k of ["quantity", "results_count", "quantity_on_hand"]) {
    if (typeof payload[k] === "number") {
      payload[k] = String(payload[k]);
      return;
    }
  }
  if (typeof payload.success === "boolean") {
    payload.success = payload.success ? "true" : "false";
    return;
  }
  if (Array.isArray(payload.changed_fields)) {
    payload.changed_fields = (payload.changed_fields as string[]).join(",");
    return;
  }
  if (Array.isArray(payload.items)) {
    payload.items = {};
    return;
  }
  // page_view / order_* with only string fields: a number where a string belongs
  for (const k of ["order_id", "url", "query"]) {
    if (typeof payload[k] === "string") {
      payload[k] = f.int(1, 99999);
      return;
    }
  }
}
