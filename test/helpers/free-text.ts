/**
 * Free texts, generated: personal values (emails, phone numbers, IP
 * addresses, personal URL parameters, person names) planted in search
 * queries, failure messages and URLs, each case saying exactly where it put
 * what; and texts with nothing personal that look like they might (product
 * searches, prices, dates, versions, quantities, tracking references).
 * Seeded, so a failing case can be replayed. Non-ASCII neighbours
 * (accents, CJK, emoji) are mixed in, so UTF-16 and UTF-8 offsets differ.
 */
import { Seeded } from "./hostile.js";

export interface Planted {
  /** The planted value exactly as it stands in the text. */
  value: string;
  infoType: string;
  /** UTF-16 span of the value in the text. */
  start: number;
  end: number;
}

export interface PlantedText {
  text: string;
  planted: Planted[];
  /** What was planted how, for a failure message. */
  where: string;
}

const FIRST = ["anna", "Bob", "chloé", "dmitri", "EVE", "farah", "gus", "hana", "ivan", "jo"];
const LAST = ["smith", "Doe", "jones", "o-neil", "van.dyke", "li", "muller", "garcia"];
const DOMAINS = ["example.com", "mail.example.org", "sub.example.co.uk", "x-y.example.net", "EXAMPLE.IO", "shop.example.travel"];

/** An email in one of many spellings (ASCII: what an address is). */
export function randomEmail(r: Seeded): string {
  const f = r
    .pick(FIRST)
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "");
  const l = r.pick(LAST);
  const local = r.pick([
    `${f}.${l}`,
    `${f}${r.int(1000)}`,
    `${f}+${r.pick(["news", "shop", "x1"])}`,
    `${f[0]}_${l}`,
    `${f.toUpperCase()}.${l}`,
    `${f}-${l}.${r.int(99)}`,
    `${r.digits(6)}`,
    `${f}.${l}.${r.pick(["work", "home"])}`,
  ]);
  return `${local}@${r.pick(DOMAINS)}`;
}

/** A phone number in a shape a person writes: international, North American, national with a trunk 0. */
export function randomPhone(r: Seeded): string {
  const nxx = () => String(2 + r.int(8)) + r.digits(2); // area codes and exchanges start with 2-9
  switch (r.int(9)) {
    case 0:
      return `+${1 + r.int(98)} ${r.digits(3)} ${r.digits(3)} ${r.digits(4)}`;
    case 1:
      return `+44 ${r.pick(["20", "(0)20 "]).trim()} ${r.digits(4)} ${r.digits(4)}`;
    case 2:
      return `+49${r.pick(["151", "160", "30"])}${r.digits(8)}`;
    case 3:
      return `+33 ${1 + r.int(9)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`;
    case 4: {
      const sep = r.pick(["-", ".", " "]);
      return `${nxx()}${sep}${nxx()}${sep}${r.digits(4)}`;
    }
    case 5:
      return `(${nxx()}) ${nxx()}-${r.digits(4)}`;
    case 6:
      return `1-${nxx()}-${nxx()}-${r.digits(4)}`;
    case 7:
      return `0${1 + r.int(9)}${r.digits(2)} ${r.digits(3)} ${r.digits(4)}`;
    default:
      return `0${1 + r.int(9)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`;
  }
}

export function randomIp(r: Seeded): string {
  if (r.chance(0.25)) {
    const g = () => (1 + r.int(0xfffe)).toString(16);
    return r.chance(0.5) ? `2001:db8:${g()}:${g()}::${g()}` : `fe80::${g()}:${g()}:${g()}:${g()}`;
  }
  return `${1 + r.int(223)}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
}

/** Words around a planted value: plain, accented, CJK, emoji. Each one ends and starts with a letter or an emoji, never a digit. */
const BEFORE = ["contact", "please reach", "Grüße an", "联系", "écrire à", "😀 write to", "from", "orders for", "Ask", "naïve café 🍰 for", "전화"];
const AFTER = ["thanks", "asap 🙏", "bitte", "谢谢", "today", "merci", "for the refund", "👍", "ok"];

/** Punctuation a value may stand in, with the texts that go around it. */
const WRAPS: [string, string][] = [
  ["", ""],
  ["(", ")"],
  ["<", ">"],
  ['"', '"'],
  ["", "."],
  ["", ","],
  ["", "!"],
  ["«", "»"],
];

/** A text with one or two personal values, each standing where the case says. */
export function personalTexts(seed: number, count: number): PlantedText[] {
  const r = new Seeded(seed);
  const out: PlantedText[] = [];
  for (let i = 0; i < count; i++) {
    const kinds = r.chance(0.3) ? [r.int(5), r.int(5)] : [r.int(5)];
    let text = r.chance(0.5) ? "" : `${r.pick(plainPhrases)(r)} `;
    const planted: Planted[] = [];
    const where: string[] = [];
    for (const kind of kinds) {
      const piece = plantOne(r, kind);
      text += `${r.pick(BEFORE)} `;
      for (const p of piece.planted) planted.push({ ...p, start: text.length + p.start, end: text.length + p.end });
      text += `${piece.text} ${r.pick(AFTER)} `;
      where.push(piece.where);
    }
    if (r.chance(0.5)) text += r.pick(plainPhrases)(r);
    out.push({ text: text.trimEnd(), planted, where: where.join(" + ") });
  }
  return out;
}

function plantOne(r: Seeded, kind: number): PlantedText {
  const [open, close] = r.pick(WRAPS);
  const wrap = (value: string, infoType: string, where: string): PlantedText => ({
    text: `${open}${value}${close}`,
    planted: [{ value, infoType, start: open.length, end: open.length + value.length }],
    where: `${where} in ${JSON.stringify(open + close)}`,
  });
  switch (kind) {
    case 0:
      return wrap(randomEmail(r), "EMAIL_ADDRESS", "email");
    case 1:
      return wrap(randomPhone(r), "PHONE_NUMBER", "phone");
    case 2: {
      const ip = randomIp(r);
      if (!ip.includes(":") && r.chance(0.3)) {
        const port = `:${1 + r.int(65535)}`;
        return { text: `${ip}${port}`, planted: [{ value: ip, infoType: "IP_ADDRESS", start: 0, end: ip.length }], where: "ip:port" };
      }
      return wrap(ip, "IP_ADDRESS", "ip");
    }
    case 3:
      return gluedEmail(r);
    default:
      return personalUrl(r);
  }
}

/** An email glued into a path or after `mailto:`: no token boundary, found anyway. */
function gluedEmail(r: Seeded): PlantedText {
  const email = randomEmail(r);
  const [before, after] = r.pick<[string, string]>([
    ["/users/", "/orders"],
    ["mailto:", ""],
    ["https://shop.example.com/u/", ""],
    ["邮箱", "谢谢"],
    ["ℹ️", "🙂"],
  ]);
  return {
    text: `${before}${email}${after}`,
    planted: [{ value: email, infoType: "EMAIL_ADDRESS", start: before.length, end: before.length + email.length }],
    where: `email glued in ${before}…${after}`,
  };
}

/** A URL with personal parameters among plain ones; the planted spans are the raw (encoded) values. */
export function personalUrl(r: Seeded): PlantedText {
  let text = `https://shop.example.com/${r.pick(["account", "p/123", "checkout", "suche"])}`;
  const planted: Planted[] = [];
  const where: string[] = [];
  let sep = "?";
  const params = 1 + r.int(3);
  for (let i = 0; i < params; i++) {
    if (r.chance(0.4)) {
      text += `${sep}${r.pick(["utm_source=mail", "page=2", "sort=price", "q=iphone%2015", "lang=de", "ref=ab12"])}`;
    } else {
      const [name, value, infoType] = r.pick<() => [string, string, string]>([
        () => [r.pick(["email", "customerEmail", "e_mail"]), randomEmail(r), "EMAIL_ADDRESS"],
        () => ["to", randomEmail(r), "EMAIL_ADDRESS"],
        () => [r.pick(["phone", "mobile", "tel"]), randomPhone(r), "PHONE_NUMBER"],
        () => [r.pick(["clientIp", "ip"]), randomIp(r), "IP_ADDRESS"],
        () => [r.pick(["name", "lastName", "fullName"]), `${r.pick(FIRST)} ${r.pick(LAST)}`, "PERSON_NAME"],
        () => [r.pick(["street", "address"]), `${1 + r.int(300)} ${r.pick(["Main St", "Rue de la Paix", "Hauptstraße"])}`, "STREET_ADDRESS"],
        () => [r.pick(["user_id", "customerId"]), `u-${r.digits(6)}`, "PERSONAL_URL_PARAMETER"],
      ])();
      const raw = r.chance(0.7) ? encodeURIComponent(value) : value.replace(/ /g, "+");
      text += `${sep}${name}=`;
      planted.push({ value: raw, infoType, start: text.length, end: text.length + raw.length });
      text += raw;
      where.push(name);
    }
    sep = r.chance(0.8) ? "&" : "#";
  }
  return { text, planted, where: `url with ${where.join(", ") || "no personal"} parameters` };
}

type Phrase = (r: Seeded) => string;

const PRODUCTS = ["iphone", "samsung galaxy", "pixel", "nike air max", "lego", "sony wh-1000xm5", "café crème", "東京 tea", "größe", "ipad pro", "4k tv"];

/** Texts with nothing personal in them that hold numbers of every other kind. */
export const plainPhrases: Phrase[] = [
  (r) => `${r.pick(PRODUCTS)} ${1 + r.int(20)} ${r.pick(["pro", "max", "ultra", "mini"])} ${r.pick([64, 128, 256, 512])}gb`,
  (r) => `iphone ${10 + r.int(7)} pro ${r.pick([128, 256, 512])}gb`,
  (r) => `${r.pick(PRODUCTS)} size ${5 + r.int(10)}${r.pick(["", ".5"])}`,
  (r) => `${r.pick(["$", "€", "£", "¥"])}${1 + r.int(9)},${r.digits(3)}.${r.digits(2)}`,
  (r) => `${1 + r.int(999)}.${r.digits(2)} ${r.pick(["USD", "EUR", "руб", "円"])}`,
  (r) => `€ ${r.int(100)},${r.digits(2)} - € ${100 + r.int(900)},${r.digits(2)}`,
  (r) => `${1 + r.int(9)} ${r.digits(3)} ${r.digits(3)} руб`,
  (r) => `+${r.int(50)}.${r.digits(1)}% ${r.pick(["off", "today", "YoY"])}`,
  (r) => `${2000 + r.int(30)}-${String(1 + r.int(12)).padStart(2, "0")}-${String(1 + r.int(28)).padStart(2, "0")}`,
  (r) =>
    `${String(1 + r.int(28)).padStart(2, "0")}.${String(1 + r.int(12)).padStart(2, "0")}.${2000 + r.int(30)} ${String(r.int(24)).padStart(2, "0")}:${r.digits(2)}`,
  (r) => `${String(1 + r.int(12)).padStart(2, "0")}/${String(1 + r.int(28)).padStart(2, "0")}/${2000 + r.int(30)}`,
  (r) => `${2000 + r.int(30)}-11-05T${String(r.int(24)).padStart(2, "0")}:30:00Z`,
  (r) => `delivered ${r.pick(["Nov", "Dec", "Jan"])} ${1 + r.int(28)}, ${2020 + r.int(8)}`,
  (r) => `v${r.int(20)}.${r.int(20)}.${r.int(100)}`,
  (r) => `${r.pick(["version", "build", "firmware", "release"])} ${r.int(20)}.${r.int(10)}.${r.int(256)}.${r.int(256)}`,
  (r) => `${r.pick(["node", "ios", "android", "chrome"])} ${r.int(130)}.${r.int(10)}.${r.int(10000)}${r.pick(["", `.${r.int(1000)}`])}`,
  (r) => `build ${10}.0.${19000 + r.int(1000)}.${r.int(5000)}`,
  (r) => `1Z${r.digits(3)}AA${r.digits(10)}`,
  (r) => `ORD-${2020 + r.int(8)}-${r.digits(6)}`,
  (r) => `order #${1 + r.int(9)}${r.digits(8)}`,
  (r) => `ref ${1 + r.int(9)}${r.digits(3)}-${r.digits(4)}-${r.digits(4)}`,
  (r) => `tracking 9400 ${Array.from({ length: 4 }, () => `${1 + r.int(9)}${r.digits(3)}`).join(" ")} ${1 + r.int(9)}${r.digits(1)}`,
  (r) => `RMA ${2020 + r.int(8)}-${String(1 + r.int(12)).padStart(2, "0")}-${r.digits(4)}`,
  (r) => `${1 + r.int(9)} x ${r.pick([250, 500, 1000])} ml`,
  (r) => `sizes ${10 + r.int(5)} ${12 + r.int(5)} ${14 + r.int(5)} ${16 + r.int(5)} ${18 + r.int(5)}`,
  (r) => `${r.pick([1280, 1920, 3840])}x${r.pick([720, 1080, 2160])} ${r.int(30) + 20} x ${r.int(30) + 20} x ${r.int(30) + 20} cm`,
  (r) => `https://shop.example.com/p/${r.digits(5)}?utm_source=mail&page=${r.int(9)}&sort=price#reviews`,
  (r) => `payment declined: insufficient funds (code ${r.digits(2)}), retry ${r.int(5)}/3`,
  (r) => `lego ${7 + r.int(3)}${r.digits(4)} millennium falcon 😍`,
  (r) => `between ${String(r.int(24)).padStart(2, "0")}:00 and ${String(r.int(24)).padStart(2, "0")}:30`,
  (r) => `cancelled: ${r.pick(["changed my mind", "found it cheaper", "délai trop long", "太贵了", "arrived late 😡"])}`,
  (r) => `IBAN-free note ${r.int(100)}.${r.int(100)} std::vector a::b 10:30:00 00:1A:2B:3C:4D:5E`,
];

/** `count` texts with nothing personal: one to three phrases, with non-ASCII joiners. */
export function plainTexts(seed: number, count: number): string[] {
  const r = new Seeded(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + r.int(3);
    const parts: string[] = [];
    for (let j = 0; j < n; j++) parts.push(r.pick(plainPhrases)(r));
    out.push(parts.join(r.pick([" ", " and ", ", ", " · ", " 和 ", " 🛒 "])));
  }
  return out;
}
