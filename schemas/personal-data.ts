/**
 * What the platform treats as personal or payment data, as data: the one
 * place the rules live (contract: "Personal and payment data"). The
 * transforms read these tables; they hold no rule of their own.
 *
 *  - Card numbers: 13-19 digits that pass the Luhn check, whatever stands
 *    between them, are redacted before anything is written.
 *  - Sensitive authentication data (card holder, CVV, expiry, PIN, track
 *    data, passwords): dropped, never stored, not even encrypted.
 *  - Personal data: the contract's fields, the person's identifiers, and any
 *    field whose name or value looks personal (unknown fields are guilty
 *    until a schema version says otherwise). Silver gets tokens, Bronze
 *    ciphertext under the person's key.
 *  - Free text: an email inside any text, and personal query parameters of
 *    a URL, become tokens before Silver.
 */
import type { EventType } from "./registry.js";

export const CARD_NUMBERS = {
  minDigits: 13,
  maxDigits: 19,
  /**
   * Characters that may stand between the digits of one card number, any
   * number of them: spaces of every kind, dashes, dots, underscores,
   * slashes, commas and the invisible format characters a hostile producer
   * can slip between digits.
   */
  separators:
    " \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000" + // spaces
    "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d" + // dashes and minus signs
    ".\u00b7\u2024\u3002\uff0e\uff61" + // dots
    "_\uff3f/\uff0f\\\\,\uff0c'" + // underscores, slashes, commas, apostrophes
    "\u00ad\u180e\u200b-\u200d\u2060\ufeff", // soft hyphen and zero-width characters
  redaction: "[REDACTED_PAN]",
} as const;

/**
 * Field names of sensitive authentication data (PCI DSS: never stored after
 * authorization), compared after normalization (lower case, letters and
 * digits only): `cardHolderName`, `card_holder` and `CARD-HOLDER` are one.
 */
// biome-ignore format: word lists read as paragraphs
export const SENSITIVE_AUTH_FIELDS = {
  exact: [
    "cvv", "cvv2", "cvc", "cvc2", "csc", "cid", "cav2", "securitycode", "cardsecuritycode", "cardverificationvalue",
    "cardverificationcode", "cardholder", "cardholdername", "holdername", "nameoncard", "cardname", "cardowner",
    "expiry", "expirydate", "expiration", "expirationdate", "expdate", "expmonth", "expyear", "expirymonth",
    "expiryyear", "expirationmonth", "expirationyear", "cardexpiry", "cardexp", "validthru", "validthrough",
    "pin", "pinblock", "track", "track1", "track2", "trackdata", "magstripe", "magneticstripe",
    "cardnumber", "pan", "ccnumber", "creditcardnumber", "password", "passwd", "pwd", "passcode", "otp",
  ],
  /** Normalized names that are sensitive wherever they appear inside a longer name. */
  contains: ["cvv", "cvc", "cardholder", "securitycode", "nameoncard", "expirydate", "expirationdate", "password", "cardnumber"],
  /** Inside an object named like a card (`card`, `credit_card`, `paymentCard`), these children are sensitive too. */
  cardChildren: ["name", "holder", "number", "exp", "month", "year", "code", "expires", "expmm", "expyy", "mm", "yy"],
  /** Children of a card object the contract allows (`card.brand`, `card.last4`, `card.token`). */
  cardAllowed: ["brand", "last4", "token", "network", "funding", "country", "wallet"],
} as const;

/** The person's identifiers in the envelope: tokens in Silver, encrypted in Bronze. */
export const PERSON_IDENTIFIERS = ["user_id", "anonymous_id", "session_id"] as const;

/** A personal field of an event type: its path, and for a subtree the children that are not personal. */
export interface PersonalField {
  path: readonly string[];
  exceptChildren?: readonly string[];
}

/** The contract's personal fields, per event type (context fields in every type). */
export const CONTRACT_PERSONAL_FIELDS: { every: PersonalField[]; byType: Partial<Record<EventType, PersonalField[]>> } = {
  every: [{ path: ["context", "ip"] }, { path: ["context", "user_agent"] }],
  byType: {
    order_created: [
      { path: ["payload", "customer", "email"] },
      { path: ["payload", "customer", "phone"] },
      { path: ["payload", "customer", "name"] },
      { path: ["payload", "customer", "shipping_address"], exceptChildren: ["country"] },
    ],
    profile_update: [{ path: ["payload", "email"] }, { path: ["payload", "phone"] }, { path: ["payload", "name"] }, { path: ["payload", "address"] }],
  },
};

/**
 * Names that look personal. A name is split into words (camelCase, snake,
 * kebab, dots, digits apart) and matched word by word; long compounds also
 * match inside a name run together (`customeremailaddress`).
 */
// biome-ignore format: word lists read as paragraphs
export const PERSONAL_NAMES = {
  words: [
    "email", "emails", "mail", "phone", "phones", "mobile", "cell", "cellphone", "telephone", "tel", "fax", "msisdn",
    "name", "names", "firstname", "lastname", "fullname", "surname", "forename", "givenname", "familyname",
    "middlename", "maidenname", "nickname", "username", "displayname", "initials",
    "address", "addresses", "addr", "street", "line1", "line2", "line3", "house", "apartment", "apt", "postcode",
    "postal", "zip", "zipcode", "ip", "ips", "ipv4", "ipv6", "ua", "useragent", "birthday", "birthdate", "dob",
    "birth", "ssn", "passport", "iban", "nationalid", "taxid", "vatid", "license", "licence", "latitude",
    "longitude", "lat", "lng", "lon", "geo", "geolocation", "gps", "coordinates", "coords", "idfa", "gaid",
    "deviceid", "userid", "customerid", "memberid", "personid", "anonymousid", "anonid", "cookieid", "contact",
    "recipient", "fingerprint", "biometric",
  ],
  /** Matched inside a name run together (`customeremailaddress`); each long enough not to occur by chance. */
  compounds: [
    "email", "phonenumber", "mobilenumber", "useragent", "ipaddress", "remoteaddr", "forwardedfor", "firstname",
    "lastname", "fullname", "surname", "givenname", "familyname", "birthdate", "dateofbirth", "birthday",
    "postalcode", "zipcode", "postcode", "streetaddress", "housenumber", "nationalid", "passport", "accountnumber",
    "bankaccount", "routingnumber", "sortcode", "driverslicense", "socialsecurity", "customerid", "userid",
    "anonymousid", "deviceid", "advertisingid", "geolocation", "latitude", "longitude", "username", "displayname",
  ],
  /** `name` next to one of these is a thing's name, not a person's (`product_name`, `campaignName`). */
  notAPersonsName: [
    "product", "brand", "category", "campaign", "item", "page", "event", "file", "host", "app", "application",
    "browser", "os", "store", "shop", "warehouse", "carrier", "gateway", "method", "coupon", "promo", "promotion",
    "list", "variant", "country", "region", "plan", "tier", "sku", "merchant", "collection", "tag", "attribute",
    "field", "column", "table", "screen", "component", "experiment", "feature", "param", "parameter", "key",
    "metric", "step", "stage", "template", "theme", "font", "class", "type", "domain", "service", "queue", "topic",
    "bucket", "city", "locale", "language", "currency", "site", "section", "menu", "button", "link", "widget",
    "model", "device", "bank", "card",
  ],
  /** Names that end in `phone` but are things: a name run together that ends in `phone` is otherwise personal. */
  notAPersonsPhone: ["iphone", "microphone", "headphone", "earphone", "smartphone", "megaphone", "saxophone", "xylophone"],
} as const;

/** Values that are personal whatever their field is called (only whole values, but emails anywhere in text). */
export const PERSONAL_VALUES = {
  /** An email address, also inside free text. */
  email: /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}/g,
  /** A phone number as a whole value: optional +, 7-15 digits, the usual separators. */
  phone: /^\+?[\d\s().\-\u00a0]{7,24}$/,
  phoneDigits: { min: 7, max: 15 },
} as const;

/** Envelope fields that are never personal (they route and identify the event). */
export const NEVER_PERSONAL_PATHS = ["event_id", "event_type", "schema_version", "event_time", "source"] as const;

/**
 * Silver columns that keep their text in clear (every other text column is
 * scrubbed of emails and personal URL parameters): identifiers and codes the
 * platform itself validated.
 */
export const CLEAR_SILVER_COLUMNS = [
  "event_id",
  "event_type",
  "event_date",
  "source",
  "currency",
  "country",
  "ship_country",
  "pii_key_id",
  "method",
  "login_method",
  "locale",
] as const;

/**
 * Personal values the built-in text inspector finds in free text
 * (transforms/text-findings.ts) beside emails and personal URL parameters,
 * and the info type names it reports them under (Cloud DLP's names, so a
 * finding reads the same whichever inspector made it).
 *
 * Phone numbers and IP addresses count only where they stand as a token of
 * their own, and only in shapes a date, a price, a version, a quantity or an
 * order reference does not take: a number with a leading `+`, a North
 * American number with a valid area code and exchange, a national number
 * with a trunk `0` in groups. The price of being conservative: a local
 * number of 7 digits, or one written without any grouping, is not found.
 */
export const FREE_TEXT_VALUES = {
  infoTypes: {
    email: "EMAIL_ADDRESS",
    phone: "PHONE_NUMBER",
    ip: "IP_ADDRESS",
    personName: "PERSON_NAME",
    address: "STREET_ADDRESS",
    /** A URL parameter that is personal by its name but none of the above (`?user_id=...`). */
    other: "PERSONAL_URL_PARAMETER",
  },
  /** Phone shapes, tested on a run of whole words joined by single spaces. */
  phones: [
    // International: + country code, then groups (a "(0)" trunk allowed).
    /^\+[1-9]\d{0,2}(?:[ \u00a0.-]?(?:\(\d{1,4}\)|\d{1,6})){1,7}$/,
    // North America: (NPA) NXX-XXXX or NPA-NXX-XXXX with one separator throughout, optional leading 1.
    /^(?:1[ \u00a0.-]?)?\([2-9]\d{2}\)[ \u00a0]?[2-9]\d{2}[ \u00a0.-]\d{4}$/,
    /^(?:1([ \u00a0.-]))?[2-9]\d{2}([ \u00a0.-])[2-9]\d{2}\2\d{4}$/,
    // National with a trunk 0, in groups of 2-8 digits split by one separator throughout.
    /^0[1-9]\d{0,4}([ \u00a0.-])\d{2,8}(?:\1\d{2,8}){0,4}$/,
  ],
  /** Digits in a phone: fewer are quantities and dates, more are references. */
  phoneDigits: { international: { min: 8, max: 15 }, national: { min: 10, max: 11 } },
  /** A dotted quad after one of these words is a version, not an address (`version 1.2.3.4`, `chrome 12.0.45.6`). */
  versionWords: [
    "v",
    "ver",
    "version",
    "build",
    "release",
    "rel",
    "firmware",
    "fw",
    "update",
    "patch",
    "sdk",
    "api",
    "app",
    "os",
    "ios",
    "ipados",
    "android",
    "windows",
    "macos",
    "linux",
    "chrome",
    "chromium",
    "firefox",
    "safari",
    "edge",
    "opera",
    "node",
  ],
  /**
   * Name words of a personal URL parameter, by the info type its value is
   * reported under when the value itself does not say (an email, an IP
   * address or a phone number says); the first word that matches decides,
   * and a name none matches reports `other`.
   */
  parameterNames: {
    email: ["email", "emails", "mail"],
    phone: ["phone", "phones", "mobile", "cell", "cellphone", "telephone", "tel", "fax", "msisdn"],
    ip: ["ip", "ips", "ipv4", "ipv6"],
    personName: ["name", "names", "firstname", "lastname", "fullname", "surname", "forename", "givenname", "familyname", "nickname", "username", "displayname"],
    address: ["address", "addr", "street", "line1", "line2", "line3", "house", "apartment", "apt", "postcode", "postal", "zip", "zipcode"],
  },
} as const;
