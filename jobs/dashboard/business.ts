/**
 * The figures of the business dashboard for a range of UTC days, read with
 * one read-only statement each (the caller's Query goes through the
 * instance's read-only guard):
 *
 * - revenue by day and currency, and its totals per currency: gold.daily_revenue;
 * - the conversion funnel summed over the days: gold.conversion_funnel;
 * - cart abandonment by day and in total: gold.cart_abandonment;
 * - payment success by gateway over the days' hours: gold.payment_health;
 * - top products (units ordered, from the order_created items in Silver,
 *   with their views and adds to cart): no Gold table has products;
 * - top searches and top zero-result searches (silver.clickstream_events
 *   search rows): counts per query text as Silver stores it (scrubbed of card
 *   numbers and emails at ingest), and only for a query typed in at least
 *   `SEARCH_MIN_SESSIONS` sessions, so a text one person typed is never shown.
 *
 * Money stays in minor units beside its currency; no figure adds currencies.
 */
import type { Query } from "../gold-report.js";

/** A query text is listed only when this many distinct sessions searched it in the range. */
export const SEARCH_MIN_SESSIONS = 3;
/** Rows in each top list. */
export const TOP_N = 10;
/** Longest range a request may ask for. */
export const MAX_RANGE_DAYS = 366;
/** Days in the default range, which ends on the newest day with data. */
export const DEFAULT_RANGE_DAYS = 7;

export interface DayRange {
  from: string;
  to: string;
}

export interface BusinessFigures {
  range: DayRange & { days: number };
  /** The newest UTC day Gold has data for (null: none yet). */
  latest_date: string | null;
  generated_at: string;
  revenue: {
    daily: { date: string; currency: string; orders: number; gross_minor: number; refunds_minor: number; net_minor: number }[];
    totals: { currency: string; orders: number; gross_minor: number; refunds_minor: number; net_minor: number }[];
  };
  funnel: { sessions: number; viewed: number; searched: number; added_to_cart: number; ordered: number; paid: number; conversion_rate: number | null };
  abandonment: {
    carts: number;
    ordered: number;
    abandoned: number;
    open: number;
    abandonment_rate: number | null;
    daily: { date: string; carts: number; ordered: number; abandoned: number; abandonment_rate: number | null }[];
  };
  payments: { gateway: string; initiated: number; succeeded: number; failed: number; success_rate: number | null }[];
  top_products: { product_id: string; units: number; orders: number; views: number; adds_to_cart: number }[];
  top_searches: { query: string; searches: number; sessions: number; zero_results: number }[];
  zero_result_searches: { query: string; searches: number; sessions: number }[];
  search_min_sessions: number;
}

/** A request's range was not two valid days in order within MAX_RANGE_DAYS: the message says what to send. */
export class RangeRefused extends Error {}

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(value: string, name: string): number {
  const ms = DAY.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) throw new RangeRefused(`${name} must be a date as YYYY-MM-DD`);
  return ms;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * The range a request asks for (`from`, `to`: YYYY-MM-DD, both included). Either may be left out: the
 * range then ends on `latest` (the newest day with data, else today) and spans DEFAULT_RANGE_DAYS.
 */
export function requestedRange(params: URLSearchParams, latest: string | null, today = new Date()): DayRange {
  const f = params.get("from") || undefined;
  const t = params.get("to") || undefined;
  const toMs =
    t !== undefined
      ? parseDay(t, "to")
      : f !== undefined
        ? parseDay(f, "from") + (DEFAULT_RANGE_DAYS - 1) * DAY_MS
        : parseDay(latest ?? day(today.getTime()), "latest");
  const fromMs = f !== undefined ? parseDay(f, "from") : toMs - (DEFAULT_RANGE_DAYS - 1) * DAY_MS;
  if (fromMs > toMs) throw new RangeRefused("from must be on or before to");
  if ((toMs - fromMs) / DAY_MS + 1 > MAX_RANGE_DAYS) throw new RangeRefused(`a range spans at most ${MAX_RANGE_DAYS} days`);
  return { from: day(fromMs), to: day(toMs) };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const rate = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const sum = <T>(rows: T[], f: (r: T) => number): number => rows.reduce((s, r) => s + f(r), 0);

/** The newest day any day-grained Gold table has a row for. */
export async function latestDay(q: Query): Promise<string | null> {
  const [r] = await q(`SELECT CAST(greatest(
      (SELECT max(date) FROM gold.daily_revenue), (SELECT max(date) FROM gold.conversion_funnel), (SELECT max(date) FROM gold.cart_abandonment)
    ) AS VARCHAR) AS d`);
  return r?.d === null || r?.d === undefined ? null : String(r.d);
}

/** Every figure of the business page for `range`. */
export async function businessFigures(q: Query, range: DayRange, latest: string | null): Promise<BusinessFigures> {
  // Spelled into SQL from parsed days only (requestedRange), so no other text reaches a statement.
  const from = `DATE '${day(parseDay(range.from, "from"))}'`;
  const to = `DATE '${day(parseDay(range.to, "to"))}'`;
  const days = `BETWEEN ${from} AND ${to}`;

  const daily = (
    await q(`SELECT CAST(date AS VARCHAR) AS date, currency, orders, gross_minor, refunds_minor, net_minor
             FROM gold.daily_revenue WHERE date ${days} ORDER BY date, currency`)
  ).map((r) => ({
    date: String(r.date),
    currency: String(r.currency),
    orders: num(r.orders),
    gross_minor: num(r.gross_minor),
    refunds_minor: num(r.refunds_minor),
    net_minor: num(r.net_minor),
  }));
  const currencies = [...new Set(daily.map((r) => r.currency))].sort();
  const totals = currencies.map((currency) => {
    const rows = daily.filter((r) => r.currency === currency);
    return {
      currency,
      orders: sum(rows, (r) => r.orders),
      gross_minor: sum(rows, (r) => r.gross_minor),
      refunds_minor: sum(rows, (r) => r.refunds_minor),
      net_minor: sum(rows, (r) => r.net_minor),
    };
  });

  const [f = {}] = await q(`SELECT sum(sessions) AS sessions, sum(viewed) AS viewed, sum(searched) AS searched, sum(added_to_cart) AS added_to_cart,
                                   sum(ordered) AS ordered, sum(paid) AS paid
                            FROM gold.conversion_funnel WHERE date ${days}`);
  const funnel = {
    sessions: num(f.sessions),
    viewed: num(f.viewed),
    searched: num(f.searched),
    added_to_cart: num(f.added_to_cart),
    ordered: num(f.ordered),
    paid: num(f.paid),
    conversion_rate: rate(num(f.ordered), num(f.sessions)),
  };

  const carts = (await q(`SELECT CAST(date AS VARCHAR) AS date, carts, ordered, abandoned FROM gold.cart_abandonment WHERE date ${days} ORDER BY date`)).map(
    (r) => ({
      date: String(r.date),
      carts: num(r.carts),
      ordered: num(r.ordered),
      abandoned: num(r.abandoned),
      abandonment_rate: rate(num(r.abandoned), num(r.carts)),
    }),
  );
  const cartTotal = sum(carts, (r) => r.carts);
  const cartOrdered = sum(carts, (r) => r.ordered);
  const cartAbandoned = sum(carts, (r) => r.abandoned);

  const payments = (
    await q(`SELECT gateway, sum(initiated) AS initiated, sum(succeeded) AS succeeded, sum(failed) AS failed
             FROM gold.payment_health WHERE CAST(hour AS DATE) ${days} GROUP BY gateway ORDER BY gateway`)
  ).map((r) => {
    const ok = num(r.succeeded);
    const ko = num(r.failed);
    return { gateway: String(r.gateway), initiated: num(r.initiated), succeeded: ok, failed: ko, success_rate: rate(ok, ok + ko) };
  });

  const topProducts = (
    await q(`WITH sold AS (
               SELECT i.value->>'product_id' AS product_id, sum(CAST(i.value->>'quantity' AS BIGINT)) AS units, count(DISTINCT o.order_id) AS orders
               FROM silver.order_events AS o, json_each(o.items) AS i
               WHERE o.event_type = 'order_created' AND o.event_date ${days}
               GROUP BY 1
             ), seen AS (
               SELECT product_id, count(*) FILTER (WHERE event_type = 'page_view') AS page_views, count(*) FILTER (WHERE event_type = 'add_to_cart') AS adds
               FROM silver.clickstream_events
               WHERE product_id IS NOT NULL AND event_date ${days}
               GROUP BY 1
             )
             SELECT sold.product_id, sold.units, sold.orders, coalesce(seen.page_views, 0) AS page_views, coalesce(seen.adds, 0) AS adds
             FROM sold LEFT JOIN seen USING (product_id)
             WHERE sold.product_id IS NOT NULL
             ORDER BY sold.units DESC, sold.orders DESC, sold.product_id
             LIMIT ${TOP_N}`)
  ).map((r) => ({ product_id: String(r.product_id), units: num(r.units), orders: num(r.orders), views: num(r.page_views), adds_to_cart: num(r.adds) }));

  const searches = `FROM silver.clickstream_events WHERE event_type = 'search' AND query IS NOT NULL AND event_date ${days}`;
  const topSearches = (
    await q(`SELECT query, count(*) AS searches, count(DISTINCT session_id) AS sessions, count(*) FILTER (WHERE results_count = 0) AS zero_results
             ${searches}
             GROUP BY query HAVING count(DISTINCT session_id) >= ${SEARCH_MIN_SESSIONS}
             ORDER BY searches DESC, query LIMIT ${TOP_N}`)
  ).map((r) => ({ query: String(r.query), searches: num(r.searches), sessions: num(r.sessions), zero_results: num(r.zero_results) }));
  const zeroResults = (
    await q(`SELECT query, count(*) AS searches, count(DISTINCT session_id) AS sessions
             ${searches} AND results_count = 0
             GROUP BY query HAVING count(DISTINCT session_id) >= ${SEARCH_MIN_SESSIONS}
             ORDER BY searches DESC, query LIMIT ${TOP_N}`)
  ).map((r) => ({ query: String(r.query), searches: num(r.searches), sessions: num(r.sessions) }));

  return {
    range: { ...range, days: (parseDay(range.to, "to") - parseDay(range.from, "from")) / DAY_MS + 1 },
    latest_date: latest,
    generated_at: new Date().toISOString(),
    revenue: { daily, totals },
    funnel,
    abandonment: {
      carts: cartTotal,
      ordered: cartOrdered,
      abandoned: cartAbandoned,
      open: cartTotal - cartOrdered - cartAbandoned,
      abandonment_rate: rate(cartAbandoned, cartTotal),
      daily: carts,
    },
    payments,
    top_products: topProducts,
    top_searches: topSearches,
    zero_result_searches: zeroResults,
    search_min_sessions: SEARCH_MIN_SESSIONS,
  };
}
