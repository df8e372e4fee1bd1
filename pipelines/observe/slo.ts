/**
 * The service level objectives, in one place: every threshold the alerts
 * (alerts.ts), the generated Prometheus rules and Cloud Monitoring policies
 * (infra/monitoring, `ecom monitoring generate`), the local alert webhook of
 * `ecom start` and `ecom status` use. Change a number here, regenerate,
 * commit both (a test fails while the committed files differ).
 *
 * Durations are seconds.
 */
import type { JobName } from "../../schemas/ops.js";

export type Severity = "critical" | "warning";

export interface FreshnessObjective {
  /** `schema.table`, as the `table` label reads. */
  table: string;
  /** now - newest committed data may reach this, no more. */
  seconds: number;
  /** What a breach pages as. */
  severity: Severity;
}

const MIN = 60;
const HOUR = 3600;

/** Every Silver and Gold table (a test checks the list is complete). Orders, payments and the money in Gold: 10 minutes. */
export const FRESHNESS: readonly FreshnessObjective[] = [
  { table: "silver.order_events", seconds: 10 * MIN, severity: "critical" },
  { table: "silver.payment_events", seconds: 10 * MIN, severity: "critical" },
  { table: "silver.orders", seconds: 10 * MIN, severity: "critical" },
  { table: "silver.payments", seconds: 10 * MIN, severity: "critical" },
  { table: "gold.daily_revenue", seconds: 10 * MIN, severity: "critical" },
  { table: "gold.revenue_by_minute", seconds: 10 * MIN, severity: "critical" },
  { table: "gold.payment_health", seconds: 10 * MIN, severity: "critical" },
  { table: "silver.clickstream_events", seconds: 15 * MIN, severity: "warning" },
  { table: "gold.conversion_funnel", seconds: 30 * MIN, severity: "warning" },
  { table: "gold.cart_abandonment", seconds: 30 * MIN, severity: "warning" },
  { table: "gold.order_fulfilment", seconds: 30 * MIN, severity: "warning" },
  { table: "silver.inventory_events", seconds: 1 * HOUR, severity: "warning" },
  { table: "silver.inventory", seconds: 1 * HOUR, severity: "warning" },
  { table: "gold.inventory_levels", seconds: 1 * HOUR, severity: "warning" },
  { table: "silver.customer_events", seconds: 1 * HOUR, severity: "warning" },
  { table: "gold.customer_activity", seconds: 1 * HOUR, severity: "warning" },
];

export const SLO = {
  /** Pub/Sub publish -> committed and acknowledged, per message: analytics within 5 s. */
  latency: { quantile: 0.99, seconds: 5, windowSeconds: 5 * MIN, forSeconds: 5 * MIN },
  /** Share of events dead-lettered. */
  deadLetters: { ratio: 0.02, windowSeconds: 10 * MIN, forSeconds: 5 * MIN },
  /** Messages waiting on the subscription, and the oldest one's age. */
  backlog: { messages: 100_000, messagesForSeconds: 10 * MIN, oldestUnackedAgeSeconds: 2 * MIN, ageForSeconds: 1 * MIN },
  /** A new unknown field within this window is worth a look (it never fails an event). */
  schemaDrift: { windowSeconds: 15 * MIN },
  jobs: {
    /** A failed run with no success since, within this window, alerts (how DAG failures alert). */
    failureWindowSeconds: 1 * HOUR,
    /** Longest time since the latest successful run, per job; daily jobs get a day and two hours. Absent: not scheduled. */
    staleAfterSeconds: {
      dead_letter_replay: 26 * HOUR,
      gold_rebuild: 26 * HOUR,
      report: 26 * HOUR,
      erasure: 26 * HOUR,
      retention: 26 * HOUR,
      crm_load: 26 * HOUR,
    } satisfies Partial<Record<JobName, number>>,
  },
  /** 99.9 % of scrapes answered; pipeline down = the scrape fails or vanishes for 2 minutes. */
  availability: { objective: 0.999, downForSeconds: 2 * MIN, burnRate: 14.4, longWindowSeconds: 1 * HOUR, shortWindowSeconds: 5 * MIN },
  /** The Prometheus scrape job name the rules expect for `up`. */
  scrapeJob: "ecom",
} as const;

/** The freshness objectives with some replaced (`ecom start --freshness-slo table=seconds`). */
export function freshnessObjectives(overrides: Readonly<Record<string, number>> = {}): FreshnessObjective[] {
  const unknown = Object.keys(overrides).filter((t) => !FRESHNESS.some((f) => f.table === t));
  if (unknown.length) throw new Error(`no freshness objective for ${unknown.join(", ")}; the tables are: ${FRESHNESS.map((f) => f.table).join(", ")}`);
  return FRESHNESS.map((f) => (overrides[f.table] === undefined ? f : { ...f, seconds: overrides[f.table]! }));
}
