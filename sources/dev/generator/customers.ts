/**
 * Customers: registered ones (`cus_100000` .. `cus_149999`) and guests, each
 * with a name, email, phone and address consistent with their country.
 *
 * Guarantees: a registered customer's starting profile is a pure function of
 * (seed, index), drawn from its own stream, so `syntheticCustomer` can build a
 * CRM export that matches the event stream without running the simulation.
 * Phone numbers have fewer than 13 digits, so none looks like a card number.
 * Profiles are mutable: a profile_update changes the cached profile, and later
 * events of that customer carry the new values.
 */
import { Rand, UPPER, seedState } from "./random.js";
import { COUNTRIES, COUNTRY_CUM } from "./reference/countries.js";
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, TRANSLIT } from "./reference/people.js";

/** Registered customers are `cus_100000` .. `cus_149999` (index 0 .. CUSTOMER_POOL_SIZE-1). */
export const CUSTOMER_POOL_SIZE = 50_000;

export function customerUserId(index: number): string {
  return "cus_" + (100_000 + index);
}

export interface Address {
  line1: string;
  city: string;
  postal_code: string;
  country: string;
}

export interface Profile {
  userId: string | undefined; // undefined for guests
  first: string;
  last: string;
  name: string;
  email: string;
  phone: string;
  address: Address;
  /** index into COUNTRIES */
  country: number;
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

/** The customers one simulation has met, and the draws that pick them. */
export class Customers {
  private readonly profiles = new Map<number, Profile>();
  private guests = 0;

  constructor(
    private readonly seed: number,
    private readonly r: Rand,
  ) {}

  /** A registered customer; some are much more active than others. */
  registered(): Profile {
    const u = this.r.float();
    const index = Math.floor(CUSTOMER_POOL_SIZE * u * Math.sqrt(u));
    let p = this.profiles.get(index);
    if (p === undefined) {
      p = makeProfile(this.seed, index, -1);
      this.profiles.set(index, p);
    }
    return p;
  }

  /** A new guest living in `country` (guests are never met twice). */
  guest(country: number): Profile {
    return makeProfile(this.seed ^ 0x6a09e667, CUSTOMER_POOL_SIZE + this.guests++, country);
  }
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

export function makeAddress(r: Rand, country: number): Address {
  const c = COUNTRIES[country]!;
  const [city, prefix] = r.pick(c.cities);
  const street = r.pick(c.streets);
  const num = r.int(1, 220);
  let line1 = c.numberFirst ? num + " " + street : street + " " + num;
  if (c.code === "US" && r.chance(0.15)) line1 += ", Apt " + r.int(1, 40) + r.chars(1, "ABCD");
  return { line1, city, postal_code: postalCode(r, country, prefix), country: c.code };
}

export function makeEmail(r: Rand, first: string, last: string): string {
  const n = r.int(0, 99);
  const local = asciiSlug(first) + (r.chance(0.7) ? "." : "_") + asciiSlug(last) + (n < 60 ? "" : String(n));
  return local + "@" + r.pick(EMAIL_DOMAINS);
}

/** Fictional phone numbers, always fewer than 13 digits (so never a PAN). */
export function phoneNumber(r: Rand, country: number): string {
  switch (COUNTRIES[country]!.code) {
    case "US":
      return "+1 " + r.pick(["415", "212", "512", "312", "206", "303", "617", "404"]) + " 555 01" + r.digits(2);
    case "GB":
      return "+44 7700 900" + r.digits(3);
    case "DE":
      return "+49 30 " + r.digits(8);
    case "FR":
      return "+33 6 " + r.digits(2) + " " + r.digits(2) + " " + r.digits(2) + " " + r.digits(2);
    case "NL":
      return "+31 6 " + r.digits(8);
    case "ES":
      return "+34 6" + r.digits(2) + " " + r.digits(3) + " " + r.digits(3);
    case "IE":
      return "+353 85 " + r.digits(3) + " " + r.digits(4);
    default:
      return "+39 3" + r.digits(2) + " " + r.digits(3) + " " + r.digits(4);
  }
}

function postalCode(r: Rand, country: number, prefix: string): string {
  switch (COUNTRIES[country]!.code) {
    case "US":
      return prefix + r.digits(2);
    case "GB":
      return prefix + " " + r.int(1, 9) + r.chars(2, UPPER);
    case "DE":
      return prefix + r.digits(3);
    case "FR":
      return prefix + r.digits(2);
    case "NL":
      return prefix + r.digits(2) + " " + r.chars(2, UPPER);
    case "ES":
      return prefix + r.digits(2);
    case "IE":
      return prefix + " " + r.chars(1, UPPER) + r.digits(3);
    default:
      return prefix + r.digits(2);
  }
}

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
