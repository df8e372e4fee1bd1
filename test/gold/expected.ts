/**
 * Gold figures computed independently from the generated input events, in
 * plain TypeScript (no SQL), straight from the meanings in the issue and the
 * models' headers. The tests compare every Gold table with these.
 */
import { type GeneratedMessage, takeMessages } from "../../sources/dev/generator/index.js";

export interface Ev {
  event_id: string;
  event_type: string;
  t: number;
  user_id?: string;
  session_id?: string;
  p: any;
}

export const GEN = { seed: 20260301, ratePerSecond: 2, startTime: new Date("2026-03-01T21:10:00Z"), duplicateFraction: 0.02, invalidFraction: 0.01 };

export function generate(count: number, seed = GEN.seed): { messages: GeneratedMessage[]; events: Ev[] } {
  const messages = takeMessages({ ...GEN, seed }, count);
  const seen = new Set<string>();
  const events: Ev[] = [];
  for (const m of messages) {
    if (m.kind !== "valid" || seen.has(m.eventId!)) continue;
    seen.add(m.eventId!);
    const e = JSON.parse(m.data);
    events.push({ event_id: e.event_id, event_type: e.event_type, t: Date.parse(e.event_time), user_id: e.user_id, session_id: e.session_id, p: e.payload });
  }
  return { messages, events };
}

/** DATE columns compare as `YYYY-MM-DD`, TIMESTAMP columns as epoch ms. */
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const minute = (t: number) => Math.floor(t / 60_000) * 60_000;
const hour = (t: number) => Math.floor(t / 3_600_000) * 3_600_000;

function bump<K>(m: Map<K, Record<string, number>>, k: K, fields: Record<string, number>): void {
  const r = m.get(k) ?? {};
  for (const [f, v] of Object.entries(fields)) r[f] = (r[f] ?? 0) + v;
  m.set(k, r);
}

const CLICK = new Set(["page_view", "search", "add_to_cart"]);

/** Continuous percentile (linear interpolation between closest ranks), as quantile_cont / PERCENTILE_CONT. */
export function percentileCont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const a = [...values].sort((x, y) => x - y);
  const pos = p * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return a[lo]! + (a[hi]! - a[lo]!) * (pos - lo);
}

export type Row = Record<string, string | number | boolean | null>;

export function expectedGold(events: readonly Ev[]): Record<string, Row[]> {
  const out: Record<string, Row[]> = {};

  // daily_revenue, revenue_by_minute
  const daily = new Map<string, Record<string, number>>();
  const byMinute = new Map<string, Record<string, number>>();
  for (const e of events) {
    if (e.event_type === "order_created") {
      bump(daily, `${day(e.t)}|${e.p.currency}`, { orders: 1, gross: e.p.total_minor, refunds: 0 });
      bump(byMinute, `${minute(e.t)}|${e.p.currency}`, { orders: 1, gross: e.p.total_minor });
    } else if (e.event_type === "payment_refund") bump(daily, `${day(e.t)}|${e.p.currency}`, { orders: 0, gross: 0, refunds: e.p.amount_minor });
  }
  out.daily_revenue = [...daily].map(([k, v]) => {
    const [date, currency] = k.split("|");
    return { date: date!, currency: currency!, orders: v.orders!, gross_minor: v.gross!, refunds_minor: v.refunds!, net_minor: v.gross! - v.refunds! };
  });
  out.revenue_by_minute = [...byMinute].map(([k, v]) => {
    const [m, currency] = k.split("|");
    return { minute: Number(m), currency: currency!, orders: v.orders!, gross_minor: v.gross! };
  });

  // conversion_funnel, cart_abandonment
  const ordersOfCart = new Map<string, Set<string>>();
  const paid = new Set<string>();
  for (const e of events) {
    if (e.event_type === "order_created" && e.p.cart_id) {
      const s = ordersOfCart.get(e.p.cart_id) ?? new Set<string>();
      s.add(e.p.order_id);
      ordersOfCart.set(e.p.cart_id, s);
    }
    if (e.event_type === "payment_success") paid.add(e.p.order_id);
  }
  const sessions = new Map<string, { first: number; viewed: boolean; searched: boolean; added: boolean; carts: Set<string> }>();
  const carts = new Map<string, { first: number; last: number }>();
  for (const e of events) {
    if (!CLICK.has(e.event_type)) continue;
    if (e.session_id) {
      const s = sessions.get(e.session_id) ?? { first: Infinity, viewed: false, searched: false, added: false, carts: new Set<string>() };
      s.first = Math.min(s.first, e.t);
      if (e.event_type === "page_view") s.viewed = true;
      if (e.event_type === "search") s.searched = true;
      if (e.event_type === "add_to_cart") {
        s.added = true;
        s.carts.add(e.p.cart_id);
      }
      sessions.set(e.session_id, s);
    }
    if (e.event_type === "add_to_cart") {
      const c = carts.get(e.p.cart_id) ?? { first: Infinity, last: -Infinity };
      c.first = Math.min(c.first, e.t);
      c.last = Math.max(c.last, e.t);
      carts.set(e.p.cart_id, c);
    }
  }
  const funnel = new Map<string, Record<string, number>>();
  for (const s of sessions.values()) {
    const orders = [...s.carts].flatMap((c) => [...(ordersOfCart.get(c) ?? [])]);
    bump(funnel, day(s.first), {
      sessions: 1,
      viewed: +s.viewed,
      searched: +s.searched,
      added_to_cart: +s.added,
      ordered: +(orders.length > 0),
      paid: +orders.some((o) => paid.has(o)),
    });
  }
  out.conversion_funnel = [...funnel].map(([date, v]) => ({ date, ...v }) as Row);
  const newest = Math.max(...events.map((e) => e.t));
  const abandonment = new Map<string, Record<string, number>>();
  for (const [id, c] of carts) {
    const ordered = ordersOfCart.has(id);
    bump(abandonment, day(c.first), { carts: 1, ordered: +ordered, abandoned: +(!ordered && c.last < newest - 30 * 60_000) });
  }
  out.cart_abandonment = [...abandonment].map(([date, v]) => ({ date, ...v, abandonment_rate: v.abandoned! / v.carts! }) as Row);

  // payment_health
  const method = new Map<string, string>();
  for (const e of events) {
    if (e.event_type !== "payment_initiated") continue;
    const prev = method.get(e.p.payment_id);
    if (prev === undefined || e.p.method > prev) method.set(e.p.payment_id, e.p.method);
  }
  const health = new Map<string, Record<string, number>>();
  for (const e of events) {
    const kind = { payment_initiated: "initiated", payment_success: "succeeded", payment_failure: "failed" }[e.event_type];
    if (!kind) continue;
    bump(health, `${hour(e.t)}|${e.p.gateway ?? "unknown"}|${method.get(e.p.payment_id) ?? "unknown"}`, { initiated: 0, succeeded: 0, failed: 0, [kind]: 1 });
  }
  out.payment_health = [...health].map(([k, v]) => {
    const [h, gateway, m] = k.split("|");
    const outcomes = v.succeeded! + v.failed!;
    return {
      hour: Number(h),
      gateway: gateway!,
      method: m!,
      initiated: v.initiated!,
      succeeded: v.succeeded!,
      failed: v.failed!,
      success_rate: outcomes ? v.succeeded! / outcomes : null,
    };
  });

  // order_fulfilment
  const STEPS = ["created", "confirmed", "shipped", "delivered", "cancelled"];
  const firstOf = new Map<string, Record<string, number>>();
  for (const e of events) {
    if (!e.event_type.startsWith("order_")) continue;
    const step = e.event_type.slice("order_".length);
    const o = firstOf.get(e.p.order_id) ?? {};
    o[step] = Math.min(o[step] ?? Infinity, e.t);
    firstOf.set(e.p.order_id, o);
  }
  const ful = new Map<string, { counts: Record<string, number>; ship: number[]; deliver: number[] }>();
  for (const o of firstOf.values()) {
    for (const s of STEPS) {
      if (o[s] === undefined) continue;
      const d = day(o[s]!);
      const f = ful.get(d) ?? { counts: Object.fromEntries(STEPS.map((x) => [x, 0])), ship: [], deliver: [] };
      f.counts[s]!++;
      if (s === "shipped" && o.created !== undefined) f.ship.push((o.shipped! - o.created) / 3_600_000);
      if (s === "delivered" && o.created !== undefined) f.deliver.push((o.delivered! - o.created) / 3_600_000);
      ful.set(d, f);
    }
  }
  out.order_fulfilment = [...ful].map(([date, f]) => ({
    date,
    ...f.counts,
    p50_hours_to_ship: percentileCont(f.ship, 0.5),
    p95_hours_to_ship: percentileCont(f.ship, 0.95),
    p50_hours_to_deliver: percentileCont(f.deliver, 0.5),
  }));

  // inventory_levels
  const latest = new Map<string, Ev>();
  for (const e of events) {
    if (e.event_type !== "stock_update") continue;
    const k = `${e.p.sku}|${e.p.warehouse_id}`;
    const cur = latest.get(k);
    if (!cur || e.t > cur.t || (e.t === cur.t && e.event_id > cur.event_id)) latest.set(k, e);
  }
  out.inventory_levels = [...latest.values()].map((e) => ({
    sku: e.p.sku,
    warehouse_id: e.p.warehouse_id,
    quantity_on_hand: e.p.quantity_on_hand,
    as_of: e.t,
    low_stock: e.p.quantity_on_hand < 10,
  }));

  // customer_activity
  const activeOn = new Map<string, Set<string>>();
  const firstDay = new Map<string, string>();
  const logins = new Map<string, Record<string, number>>();
  for (const e of events) {
    const own = CLICK.has(e.event_type) || e.event_type === "login" || e.event_type === "profile_update" || e.event_type === "order_created";
    if (own && e.user_id) {
      const d = day(e.t);
      const s = activeOn.get(d) ?? new Set<string>();
      s.add(e.user_id);
      activeOn.set(d, s);
      const f = firstDay.get(e.user_id);
      if (f === undefined || d < f) firstDay.set(e.user_id, d);
    }
    if (e.event_type === "login") bump(logins, day(e.t), { logins: 1, failed_logins: +(e.p.success === false) });
  }
  const dates = new Set([...activeOn.keys(), ...logins.keys()]);
  out.customer_activity = [...dates].map((date) => {
    const users = activeOn.get(date) ?? new Set<string>();
    return {
      date,
      active_customers: users.size,
      new_customers: [...users].filter((u) => firstDay.get(u) === date).length,
      logins: logins.get(date)?.logins ?? 0,
      failed_logins: logins.get(date)?.failed_logins ?? 0,
    };
  });
  return out;
}
