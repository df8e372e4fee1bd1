/**
 * Map a validated, scrubbed event to its Silver row: typed columns, personal
 * fields only as tokens. Column names and order come from `schemas/silver.ts`.
 *
 * Personal data the contract does not name is caught by the rules of
 * schemas/personal-data.ts: unknown fields (`extras`, at any depth) whose
 * name or value looks personal become tokens, and every text column that is
 * not a validated code keeps no email and no personal URL parameter in clear.
 */
import { EVENT_PERSONAL_COLUMNS, TOKEN_PATTERN } from "../schemas/personal-columns.js";
import type { AnyEvent, Domain, EventOf } from "../schemas/registry.js";
import { DOMAINS } from "../schemas/registry.js";
import { isPersonalName, isPersonalValue, scrubFreeText } from "./personal.js";
import { ERASED } from "./protect.js";
import { type TokenKey, tokenize, tokenizeValue } from "./tokenize.js";
import type { ValidEvent } from "./types.js";

/** A Silver row: column name -> value. Timestamps are epoch milliseconds, dates `YYYY-MM-DD`. */
export type SilverRow = Record<string, string | number | boolean | null>;

export interface SilverContext {
  tokenKey: TokenKey;
  ingestedAtMs: number;
}

const DAY_MS = 86_400_000;
const dayNames = new Map<number, string>();

/** `YYYY-MM-DD` of an epoch-ms instant, UTC (memoized per day: it is on the hot path). */
export function utcDate(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let name = dayNames.get(day);
  if (name === undefined) {
    name = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayNames.size > 10_000) dayNames.clear();
    dayNames.set(day, name);
  }
  return name;
}

export function toSilverRow(valid: ValidEvent, ctx: SilverContext): { domain: Domain; row: SilverRow } {
  const e = valid.event;
  const key = ctx.tokenKey;
  const ctxObj = e.context;
  const row: SilverRow = {
    event_id: e.event_id,
    event_type: e.event_type,
    schema_version: e.schema_version,
    event_time: valid.eventTimeMs,
    event_date: utcDate(valid.eventTimeMs),
    source: e.source,
    user_token: e.user_id === undefined ? null : tokenize(e.user_id, key, "id"),
    anonymous_token: e.anonymous_id === undefined ? null : tokenize(e.anonymous_id, key, "id"),
    session_id: e.session_id ?? null,
    ip_token: ctxObj?.ip === undefined ? null : tokenize(ctxObj.ip, key, "id"),
    user_agent_token: ctxObj?.user_agent === undefined ? null : tokenize(ctxObj.user_agent, key, "id"),
    locale: ctxObj?.locale ?? null,
    country: ctxObj?.country ?? null,
    app_version: ctxObj?.app_version ?? null,
  };
  payloadColumns(e, row, key);
  for (const column of FREE_TEXT_COLUMNS[valid.domain]) {
    const v = row[column];
    if (typeof v === "string") row[column] = scrubFreeText(v, key);
  }
  row.extras = valid.extras ? JSON.stringify(silverExtras(valid.extras, key)) : null;
  row.pii_key_id = key.id;
  row.ingested_at = ctx.ingestedAtMs;
  return { domain: valid.domain, row };
}

/** The Silver token an erased person's row holds instead of theirs, inside texts too. */
export const ERASED_TOKEN = "[erased]";

const TOKEN_IN_TEXT = new RegExp(TOKEN_PATTERN, "g");

/**
 * Removes an erased person from their row (in place): every token column and
 * the session id become null, and every token inside a text or JSON column
 * becomes the erased marker; the business facts stay.
 */
export function eraseFromRow(row: SilverRow, domain: Domain): void {
  const cols = EVENT_PERSONAL_COLUMNS[domain];
  for (const c of [...cols.identity, ...cols.otherTokens]) row[c] = null;
  if (cols.session) row[cols.session] = null;
  for (const c of [...cols.freeText, ...cols.json]) {
    const v = row[c];
    if (typeof v === "string" && v.includes("tok_")) row[c] = v.replace(TOKEN_IN_TEXT, ERASED_TOKEN);
  }
}

/** Per domain, the text columns whose producer text is scrubbed of emails and personal URL parameters. */
const FREE_TEXT_COLUMNS = Object.fromEntries(DOMAINS.map((d) => [d, EVENT_PERSONAL_COLUMNS[d].freeText])) as Record<Domain, string[]>;

const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));
const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
/** A JSON column from producer data: personal members and values as tokens, texts scrubbed. */
const json = (v: unknown, key: TokenKey): string | null => (v === undefined ? null : JSON.stringify(silverValue(v, key, undefined)));

function payloadColumns(e: AnyEvent, row: SilverRow, key: TokenKey): void {
  switch (e.event_type) {
    case "page_view":
    case "search":
    case "add_to_cart":
      return clickstream(e, row, key);
    case "order_created":
    case "order_confirmed":
    case "order_shipped":
    case "order_delivered":
    case "order_cancelled":
      return order(e, row, key);
    case "payment_initiated":
    case "payment_success":
    case "payment_failure":
    case "payment_refund":
      return payment(e, row);
    case "stock_update":
    case "price_change":
      return inventory(e, row);
    case "login":
    case "profile_update":
      return customer(e, row, key);
  }
}

type Clickstream = EventOf<"page_view" | "search" | "add_to_cart">;
function clickstream(e: Clickstream, row: SilverRow, key: TokenKey): void {
  const p = e.payload as Partial<EventOf<"page_view">["payload"] & EventOf<"search">["payload"] & EventOf<"add_to_cart">["payload"]>;
  row.url = str(p.url);
  row.path = str(p.path);
  row.referrer = str(p.referrer);
  row.title = str(p.title);
  row.product_id = str(p.product_id);
  row.query = str(p.query);
  row.results_count = num(p.results_count);
  row.filters = json(p.filters, key);
  row.cart_id = str(p.cart_id);
  row.sku = str(p.sku);
  row.quantity = num(p.quantity);
  row.unit_price_minor = num(p.unit_price_minor);
  row.currency = str(p.currency);
}

type Order = EventOf<"order_created" | "order_confirmed" | "order_shipped" | "order_delivered" | "order_cancelled">;
function order(e: Order, row: SilverRow, key: TokenKey): void {
  row.order_id = e.payload.order_id;
  const created = e.event_type === "order_created" ? e.payload : undefined;
  const p = e.payload as Partial<EventOf<"order_shipped">["payload"] & EventOf<"order_cancelled">["payload"]>;
  row.cart_id = str(created?.cart_id);
  row.item_count = created ? created.items.length : null;
  row.units = created ? created.items.reduce((n, i) => n + i.quantity, 0) : null;
  row.items = created
    ? JSON.stringify(
        created.items.map((i) => ({
          product_id: i.product_id,
          sku: i.sku,
          quantity: i.quantity,
          unit_price_minor: i.unit_price_minor,
        })),
      )
    : null;
  row.subtotal_minor = num(created?.subtotal_minor);
  row.tax_minor = num(created?.tax_minor);
  row.shipping_minor = num(created?.shipping_minor);
  row.total_minor = num(created?.total_minor);
  row.currency = str(created?.currency);
  const customer = created?.customer;
  // An erased person's replayed order carries ERASED markers: no token, not a shared one.
  row.customer_email_token = customer && customer.email !== ERASED ? tokenize(customer.email, key, "email") : null;
  row.customer_phone_token = customer?.phone === undefined ? null : tokenize(customer.phone, key, "phone");
  row.customer_name_token = customer?.name === undefined ? null : tokenize(customer.name, key, "text");
  const address = customer?.shipping_address;
  if (address) {
    const { country, ...rest } = address;
    row.shipping_address_token = Object.values(rest).every((v) => v === ERASED) ? null : tokenizeValue(rest, key);
    row.ship_country = country;
  } else {
    row.shipping_address_token = null;
    row.ship_country = null;
  }
  row.carrier = str(p.carrier);
  row.tracking_number = str(p.tracking_number);
  row.cancel_reason = str(p.reason);
}

type Payment = EventOf<"payment_initiated" | "payment_success" | "payment_failure" | "payment_refund">;
function payment(e: Payment, row: SilverRow): void {
  const p = e.payload as Partial<
    EventOf<"payment_initiated">["payload"] &
      EventOf<"payment_success">["payload"] &
      EventOf<"payment_failure">["payload"] &
      EventOf<"payment_refund">["payload"]
  >;
  row.payment_id = str(p.payment_id);
  row.order_id = str(p.order_id);
  row.refund_id = str(p.refund_id);
  row.amount_minor = num(p.amount_minor);
  row.currency = str(p.currency);
  row.method = str(p.method);
  row.gateway = str(p.gateway);
  row.gateway_txn_id = str(p.gateway_txn_id);
  row.card_brand = str(p.card?.brand);
  row.card_last4 = str(p.card?.last4);
  row.card_token = str(p.card?.token);
  row.failure_code = str(p.failure_code);
  row.failure_message = str(p.failure_message);
  row.refund_reason = e.event_type === "payment_refund" ? str(p.reason) : null;
}

function inventory(e: EventOf<"stock_update" | "price_change">, row: SilverRow): void {
  const p = e.payload as Partial<EventOf<"stock_update">["payload"] & EventOf<"price_change">["payload"]>;
  row.sku = str(p.sku);
  row.warehouse_id = str(p.warehouse_id);
  row.quantity_on_hand = num(p.quantity_on_hand);
  row.delta = num(p.delta);
  row.old_price_minor = num(p.old_price_minor);
  row.new_price_minor = num(p.new_price_minor);
  row.currency = str(p.currency);
}

function customer(e: EventOf<"login" | "profile_update">, row: SilverRow, key: TokenKey): void {
  const login = e.event_type === "login" ? e.payload : undefined;
  const profile = e.event_type === "profile_update" ? e.payload : undefined;
  row.login_method = str(login?.method);
  row.login_success = login ? login.success : null;
  row.changed_fields = profile ? json(profile.changed_fields, key) : null;
  row.email_token = profile?.email === undefined ? null : tokenize(profile.email, key, "email");
  row.phone_token = profile?.phone === undefined ? null : tokenize(profile.phone, key, "phone");
  row.name_token = profile?.name === undefined ? null : tokenize(profile.name, key, "text");
  row.address_token = profile?.address === undefined ? null : tokenizeValue(profile.address, key);
}

/**
 * Unknown fields, by path: one whose path names something personal at any
 * level is kept only as a token; otherwise its content is, member by member.
 * Members are in sorted order, so a producer's key order (or a replay's) never
 * changes the row.
 */
function silverExtras(extras: Record<string, unknown>, key: TokenKey): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(extras).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const segments = path.split(".").map((s) => s.replace(/\[\]$/, ""));
    const personal = segments.some((seg, i) => isPersonalName(seg, i > 0 ? segments[i - 1] : undefined));
    out[path] = personal ? tokenizeValue(value, key) : silverValue(value, key, segments[segments.length - 1]);
  }
  return out;
}

/** A copy of a producer value for Silver: personal members and values as tokens, other texts scrubbed. */
function silverValue(value: unknown, key: TokenKey, name: string | undefined): unknown {
  if (typeof value === "string") {
    const scrubbed = scrubFreeText(value, key);
    if (scrubbed !== value) return scrubbed;
    return isPersonalValue(value) ? tokenizeValue(value, key) : value;
  }
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => silverValue(v, key, name));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    out[k] = isPersonalName(k, name) ? tokenizeValue(v, key) : silverValue(v, key, k);
  }
  return out;
}
