/**
 * Where personal data can sit in Silver, per table, derived from the table
 * declarations and the rules of personal-data.ts: what to-silver scrubs,
 * what the subject index records, and what erasure, export and the
 * verification scan read and rewrite.
 */
import { CLEAR_SILVER_COLUMNS } from "./personal-data.js";
import { DOMAINS, type Domain } from "./registry.js";
import { EVENT_TABLES, STATE_TABLES } from "./silver.js";
import type { TableDef } from "./table.js";

/** The kinds of identifier a person is found by. */
export type IdentityKind = "user" | "anon" | "email" | "phone";

/** Silver columns holding the token of an identifier of a person, and its kind. */
export const IDENTITY_TOKEN_COLUMNS: Readonly<Record<string, IdentityKind>> = {
  user_token: "user",
  anonymous_token: "anon",
  customer_email_token: "email",
  email_token: "email",
  customer_phone_token: "phone",
  phone_token: "phone",
};

/** What a Silver token looks like (tokenize.ts), also inside a text or a JSON column. */
export const TOKEN_PATTERN = "tok_[A-Za-z0-9_-]{22}";

export interface PersonalColumns {
  /** Identity token columns (user, anonymous id, emails, phones): a person's rows are found by them. */
  identity: string[];
  /** Every other token column (ip, user agent, name, address): theirs in the person's own rows. */
  otherTokens: string[];
  /** The clickstream session id (random, but it links a person's page views). */
  session: string | undefined;
  /** Producer text (every other string column) scrubbed of emails and personal URL parameters: their tokens can sit inside. */
  freeText: string[];
  /** JSON columns (extras, filters, items, changed fields): tokens can sit inside. */
  json: string[];
}

const CLEAR = new Set<string>(CLEAR_SILVER_COLUMNS);

export function personalColumns(table: TableDef): PersonalColumns {
  const names = table.columns.map((c) => c.name);
  const tokens = names.filter((n) => n.endsWith("_token"));
  return {
    identity: tokens.filter((n) => n in IDENTITY_TOKEN_COLUMNS),
    otherTokens: tokens.filter((n) => !(n in IDENTITY_TOKEN_COLUMNS)),
    session: names.includes("session_id") ? "session_id" : undefined,
    freeText: table.columns.filter((c) => c.type === "STRING" && !CLEAR.has(c.name) && !c.name.endsWith("_token")).map((c) => c.name),
    json: table.columns.filter((c) => c.type === "JSON").map((c) => c.name),
  };
}

export const EVENT_PERSONAL_COLUMNS = Object.fromEntries(DOMAINS.map((d) => [d, personalColumns(EVENT_TABLES[d])])) as Record<Domain, PersonalColumns>;

/** State tables with token columns (silver.orders' user_token), with the event table their rows come from. */
export const STATE_PERSONAL_COLUMNS: { table: TableDef; columns: PersonalColumns }[] = STATE_TABLES.map((t) => ({
  table: t,
  columns: personalColumns(t),
})).filter((s) => s.columns.identity.length + s.columns.otherTokens.length > 0);
