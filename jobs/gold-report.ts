/**
 * `ecom report`: a day's headline numbers from Gold (revenue by currency,
 * conversion rate, cart abandonment rate, payment success by gateway). Reads
 * through the running instance when there is one, else opens the data dir
 * (which first finishes any Gold refresh a crash interrupted).
 */
import { findInstance, queryInstance } from "../pipelines/local/instance.js";
import type { EngineServices } from "../pipelines/local/engine.js";
import { withEngine } from "./gold-rebuild.js";
import { recordedJob } from "./job-runs.js";

export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

export interface Report {
  date: string;
  revenue: { currency: string; orders: number; gross_minor: number; refunds_minor: number; net_minor: number }[];
  conversion: { sessions: number; ordered: number; paid: number; conversion_rate: number | null; paid_rate: number | null };
  abandonment: { carts: number; ordered: number; abandoned: number; abandonment_rate: number | null };
  payments: { gateway: string; initiated: number; succeeded: number; failed: number; success_rate: number | null }[];
  /** The newest date Gold has revenue for (to point at when `date` is empty). */
  latest_date: string | null;
}

/** Runs `work` with a Gold reader for the data dir. */
export async function withGoldQuery<T>(dataDir: string, work: (q: Query) => Promise<T>, services: EngineServices = {}): Promise<T> {
  const instance = findInstance(dataDir);
  if (instance) return work((sql) => queryInstance(instance, sql));
  return withEngine(dataDir, (engine) => work((sql) => engine.store.query(sql)), services);
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const rate = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** `ecom report` for a UTC day (YYYY-MM-DD) of the data dir; recorded in ops.job_runs (job `report`). */
export function reportJob(dataDir: string, date: string, onWarning?: (message: string) => void, services: EngineServices = {}): Promise<Report> {
  return recordedJob(dataDir, "report", () => withGoldQuery(dataDir, (q) => buildReport(q, date), services), {
    counts: (r) => ({ currencies: r.revenue.length, orders: r.revenue.reduce((n, x) => n + x.orders, 0), gateways: r.payments.length }),
    onWarning,
  });
}

/** The report of a UTC day, YYYY-MM-DD. */
export async function buildReport(q: Query, date: string): Promise<Report> {
  // Spelled into SQL from its parsed value, so no other text can reach the statement (an invalid date throws here).
  const d = `DATE '${new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10)}'`;
  const revenue = (await q(`SELECT currency, orders, gross_minor, refunds_minor, net_minor FROM gold.daily_revenue WHERE date = ${d} ORDER BY currency`)).map(
    (r) => ({
      currency: String(r.currency),
      orders: num(r.orders),
      gross_minor: num(r.gross_minor),
      refunds_minor: num(r.refunds_minor),
      net_minor: num(r.net_minor),
    }),
  );
  const f = (await q(`SELECT sessions, ordered, paid FROM gold.conversion_funnel WHERE date = ${d}`))[0] ?? {};
  const c = (await q(`SELECT carts, ordered, abandoned FROM gold.cart_abandonment WHERE date = ${d}`))[0] ?? {};
  const payments = (
    await q(`SELECT gateway, sum(initiated) AS initiated, sum(succeeded) AS succeeded, sum(failed) AS failed
             FROM gold.payment_health WHERE CAST(hour AS DATE) = ${d} GROUP BY gateway ORDER BY gateway`)
  ).map((r) => {
    const ok = num(r.succeeded);
    const ko = num(r.failed);
    return { gateway: String(r.gateway), initiated: num(r.initiated), succeeded: ok, failed: ko, success_rate: rate(ok, ok + ko) };
  });
  const latest = (await q(`SELECT CAST(max(date) AS VARCHAR) AS d FROM gold.daily_revenue`))[0]?.d;
  const sessions = num(f.sessions);
  const carts = num(c.carts);
  return {
    date,
    revenue,
    conversion: {
      sessions,
      ordered: num(f.ordered),
      paid: num(f.paid),
      conversion_rate: rate(num(f.ordered), sessions),
      paid_rate: rate(num(f.paid), sessions),
    },
    abandonment: { carts, ordered: num(c.ordered), abandoned: num(c.abandoned), abandonment_rate: rate(num(c.abandoned), carts) },
    payments,
    latest_date: latest === null || latest === undefined ? null : String(latest),
  };
}

/** Minor units as major units of the currency (2 decimals for USD, 0 for JPY, ...), with thousands separators. */
export function formatMoney(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // Not an ISO 4217 code Intl knows: keep 2.
  }
  return (minor / 10 ** digits).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const percent = (r: number | null): string => (r === null ? "n/a" : `${(r * 100).toFixed(1)}%`);
