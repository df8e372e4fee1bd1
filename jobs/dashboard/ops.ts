/**
 * The figures of the operations dashboard, from the process's metrics
 * registry (prom-client's `getMetricsAsJSON()` families) and the instance's
 * alert state.
 *
 * A sampler reads the registry every `everyMs` and keeps `keepMs` of
 * samples, so a page loaded at any time gets rates and series at once:
 * - throughput: `ecom_events_total` per second, now (over the last 10 s) and
 *   between consecutive samples; backlog and oldest-unacked age per
 *   subscription, now and as series;
 * - latency p50/p99 per domain (`ecom_e2e_latency_seconds`,
 *   `ecom_ingest_latency_seconds`) and of the batch commit, over the window
 *   the samples cover, computed from the histogram buckets as Prometheus's
 *   histogram_quantile does (linear within a bucket);
 * - dead letters per reason (since start and in the window), card numbers
 *   redacted, schema drift per event type, freshness of each table against
 *   its SLO, job runs per outcome and last success, alerts firing.
 *
 * Every label value shown is one the metrics export (closed sets: event
 * types, reasons, domains, tables, jobs), never event data.
 */
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { Alert } from "../../pipelines/observe/alert-eval.js";

/** The metric names the page reads (the metrics registry exports them; infra/monitoring uses the same). */
export const OPS_METRICS = {
  events: "ecom_events_total",
  deadLetters: "ecom_dead_letters_total",
  pansRedacted: "ecom_pans_redacted_total",
  e2eLatency: "ecom_e2e_latency_seconds",
  ingestLatency: "ecom_ingest_latency_seconds",
  batchCommit: "ecom_batch_commit_seconds",
  backlog: "ecom_pubsub_backlog_messages",
  oldestUnacked: "ecom_pubsub_oldest_unacked_age_seconds",
  schemaDrift: "ecom_schema_drift_fields",
  freshness: "ecom_table_freshness_seconds",
  freshnessSlo: "ecom_table_freshness_slo_seconds",
  jobLastSuccess: "ecom_job_last_success_timestamp_seconds",
  jobRuns: "ecom_job_runs_total",
} as const;

/** One metric family as prom-client's `Registry.getMetricsAsJSON()` returns it. */
export type MetricFamily = MetricObjectWithValues<MetricValue<string>>;

export interface AlertState {
  name: string;
  severity: string;
  /** `firing`, or `pending` while its `for` duration runs. */
  state: string;
  /** When it started to hold (ISO time), if known. */
  since: string | null;
  summary: string;
}

/** The page's rows for the alerts an AlertEvaluator holds (pending or firing), firing first. */
export function alertStatesOf(alerts: readonly Alert[]): AlertState[] {
  return alerts
    .map((a) => ({
      name: a.labels.alertname ?? "",
      severity: a.labels.severity ?? "",
      state: a.state,
      since: new Date(a.activeSince).toISOString(),
      summary: a.annotations.summary,
    }))
    .sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === "firing" ? -1 : 1));
}

/** Where the page's figures come from; either may be missing (then the page says it is not wired). */
export interface OpsSources {
  metrics?: () => Promise<MetricFamily[]>;
  alerts?: () => Promise<AlertState[]>;
}

interface Point {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

interface Sample {
  t: number;
  points: Point[];
  byKey: Map<string, number>;
}

const key = (metric: string, labels: Record<string, string>): string =>
  metric +
  "{" +
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",") +
  "}";

function sampleOf(t: number, families: MetricFamily[]): Sample {
  const points: Point[] = [];
  for (const f of families) {
    for (const v of f.values) {
      const labels: Record<string, string> = {};
      for (const [k, l] of Object.entries(v.labels ?? {})) if (l !== undefined) labels[k] = String(l);
      points.push({ metric: (v as { metricName?: string }).metricName ?? f.name, labels, value: Number(v.value) });
    }
  }
  return { t, points, byKey: new Map(points.map((p) => [key(p.metric, p.labels), p.value])) };
}

const pointsOf = (s: Sample, metric: string): Point[] => s.points.filter((p) => p.metric === metric);

/** Sum of a metric's points grouped by one label (all points when `by` is undefined: key ""). */
function sumBy(s: Sample | undefined, metric: string, by?: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!s) return out;
  for (const p of pointsOf(s, metric)) {
    const k = by === undefined ? "" : (p.labels[by] ?? "");
    out.set(k, (out.get(k) ?? 0) + p.value);
  }
  return out;
}

/** Per-second rate of each group between two samples (counter resets read as a restart from 0). */
function ratesBy(now: Sample, then: Sample | undefined, metric: string, by?: string): Map<string, number> {
  const dt = then ? (now.t - then.t) / 1000 : 0;
  const a = sumBy(now, metric, by);
  const b = sumBy(then, metric, by);
  const out = new Map<string, number>();
  for (const [k, v] of a) {
    const before = b.get(k) ?? 0;
    out.set(k, dt > 0 ? (v >= before ? v - before : v) / dt : 0);
  }
  return out;
}

/**
 * The q-quantile of cumulative histogram buckets, as Prometheus's histogram_quantile computes it: linear
 * interpolation inside the bucket that holds the rank, the first bucket starting at 0, and the upper bound of
 * the last finite bucket when the rank falls in +Inf. Null when the buckets hold no observation.
 */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (sorted.length === 0 || total <= 0 || sorted.at(-1)!.le !== Number.POSITIVE_INFINITY) return null;
  const rank = q * total;
  let i = sorted.findIndex((b) => b.count >= rank);
  if (i < 0) i = sorted.length - 1;
  if (sorted[i]!.le === Number.POSITIVE_INFINITY) return sorted.length >= 2 ? sorted[sorted.length - 2]!.le : null;
  const lower = i === 0 ? 0 : sorted[i - 1]!.le;
  const lowerCount = i === 0 ? 0 : sorted[i - 1]!.count;
  const upper = sorted[i]!.le;
  if (i === 0 && upper <= 0) return upper;
  const inBucket = sorted[i]!.count - lowerCount;
  return inBucket > 0 ? lower + ((upper - lower) * (rank - lowerCount)) / inBucket : upper;
}

/** A histogram's buckets for each value of `by`, as the increase between two samples (all since start when `then` is undefined). */
function bucketsBy(now: Sample, then: Sample | undefined, name: string, by?: string): Map<string, { buckets: { le: number; count: number }[]; count: number }> {
  const out = new Map<string, Map<number, number>>();
  for (const p of pointsOf(now, `${name}_bucket`)) {
    const group = by === undefined ? "" : (p.labels[by] ?? "");
    const le = p.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(p.labels.le);
    const before = then?.byKey.get(key(p.metric, p.labels)) ?? 0;
    const inc = p.value >= before ? p.value - before : p.value;
    const m = out.get(group) ?? new Map<number, number>();
    m.set(le, (m.get(le) ?? 0) + inc);
    out.set(group, m);
  }
  return new Map(
    [...out].map(([g, m]) => {
      const buckets = [...m].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
      return [g, { buckets, count: buckets.at(-1)?.count ?? 0 }];
    }),
  );
}

const round = (v: number | null, digits = 3): number | null => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
const sortedEntries = (m: Map<string, number>): [string, number][] => [...m].sort(([a], [b]) => a.localeCompare(b));

export interface OpsView {
  generated_at: string;
  /** False when no metrics registry is wired into this instance: every figure below is then empty. */
  metrics_wired: boolean;
  alerts_wired: boolean;
  /** Seconds the windowed figures (latency, dead letters in window) cover. */
  window_seconds: number;
  throughput: {
    events_per_s: number;
    by_outcome: Record<string, number>;
    series: { t: string; events_per_s: number; by_outcome: Record<string, number> }[];
  };
  events: { outcome: string; total: number }[];
  backlog: { subscription: string; messages: number; oldest_unacked_age_seconds: number | null }[];
  backlog_series: { t: string; messages: Record<string, number>; oldest_unacked_age_seconds: Record<string, number> }[];
  latency: { domain: string; e2e_p50: number | null; e2e_p99: number | null; ingest_p50: number | null; ingest_p99: number | null; events: number }[];
  batch_commit: { p50: number | null; p99: number | null; batches: number };
  dead_letters: { reason: string; total: number; in_window: number }[];
  pans_redacted: number;
  schema_drift: { event_type: string; fields: number }[];
  freshness: { table: string; seconds: number | null; slo_seconds: number | null; within_slo: boolean | null }[];
  jobs: { job: string; runs: Record<string, number>; last_success: string | null }[];
  alerts: AlertState[];
}

export interface SamplerOptions {
  /** How often the registry is read (default 2000 ms). */
  everyMs?: number;
  /** How much history is kept: the window of the rates, series and quantiles (default 5 minutes). */
  keepMs?: number;
  now?: () => number;
}

const M = OPS_METRICS;

/** Reads the sources on a timer and answers the page's figures from the latest read and the samples kept. */
export class OpsSampler {
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly everyMs: number;
  private readonly keepMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sources: OpsSources,
    opts: SamplerOptions = {},
  ) {
    this.everyMs = opts.everyMs ?? 2000;
    this.keepMs = opts.keepMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  /** Takes the first sample (the baseline of the window) and starts the timer. */
  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the registry now and keeps the sample. */
  async sample(): Promise<void> {
    if (!this.sources.metrics) return;
    const s = sampleOf(this.now(), await this.sources.metrics());
    this.samples.push(s);
    const oldest = s.t - this.keepMs;
    while (this.samples.length > 2 && this.samples[0]!.t < oldest) this.samples.shift();
  }

  /** The page's figures: the registry read now, against the samples kept. */
  async view(): Promise<OpsView> {
    const alerts = this.sources.alerts ? await this.sources.alerts() : [];
    const now = this.sources.metrics ? sampleOf(this.now(), await this.sources.metrics()) : undefined;
    const base = this.samples[0];
    const empty: OpsView = {
      generated_at: new Date(this.now()).toISOString(),
      metrics_wired: now !== undefined,
      alerts_wired: this.sources.alerts !== undefined,
      window_seconds: now && base ? Math.round((now.t - base.t) / 1000) : 0,
      throughput: { events_per_s: 0, by_outcome: {}, series: [] },
      events: [],
      backlog: [],
      backlog_series: [],
      latency: [],
      batch_commit: { p50: null, p99: null, batches: 0 },
      dead_letters: [],
      pans_redacted: 0,
      schema_drift: [],
      freshness: [],
      jobs: [],
      alerts,
    };
    if (!now) return empty;

    // "Now" is the last 10 s: the newest kept sample at least 10 s old, else the oldest.
    const tenAgo = [...this.samples].reverse().find((s) => s.t <= now.t - 10_000) ?? base;
    const byOutcome = ratesBy(now, tenAgo, M.events, "outcome");
    const series = this.samples.slice(1).map((s, i) => {
      const r = ratesBy(s, this.samples[i], M.events, "outcome");
      return {
        t: new Date(s.t).toISOString(),
        events_per_s: round(
          [...r.values()].reduce((a, b) => a + b, 0),
          1,
        )!,
        by_outcome: Object.fromEntries(sortedEntries(r).map(([k, v]) => [k, round(v, 1)!])),
      };
    });

    const backlog = sumBy(now, M.backlog, "subscription");
    const oldest = sumBy(now, M.oldestUnacked, "subscription");
    const backlogSeries = [...this.samples, now].map((s) => ({
      t: new Date(s.t).toISOString(),
      messages: Object.fromEntries(sumBy(s, M.backlog, "subscription")),
      oldest_unacked_age_seconds: Object.fromEntries(sumBy(s, M.oldestUnacked, "subscription")),
    }));

    const e2e = bucketsBy(now, base, M.e2eLatency, "domain");
    const ingest = bucketsBy(now, base, M.ingestLatency, "domain");
    const domains = [...new Set([...e2e.keys(), ...ingest.keys()])].sort();
    const latency = domains.map((domain) => {
      const a = e2e.get(domain)?.buckets ?? [];
      const b = ingest.get(domain)?.buckets ?? [];
      return {
        domain,
        e2e_p50: round(histogramQuantile(0.5, a)),
        e2e_p99: round(histogramQuantile(0.99, a)),
        ingest_p50: round(histogramQuantile(0.5, b)),
        ingest_p99: round(histogramQuantile(0.99, b)),
        events: e2e.get(domain)?.count ?? ingest.get(domain)?.count ?? 0,
      };
    });
    const commit = bucketsBy(now, base, M.batchCommit).get("") ?? { buckets: [], count: 0 };

    const deadTotal = sumBy(now, M.deadLetters, "reason");
    const deadBase = sumBy(base, M.deadLetters, "reason");
    const freshness = sumBy(now, M.freshness, "table");
    const slo = sumBy(now, M.freshnessSlo, "table");
    const tables = [...new Set([...freshness.keys(), ...slo.keys()])].sort();
    const runs = new Map<string, Record<string, number>>();
    for (const p of pointsOf(now, M.jobRuns)) {
      const job = p.labels.job ?? "";
      const r = runs.get(job) ?? {};
      r[p.labels.outcome ?? ""] = (r[p.labels.outcome ?? ""] ?? 0) + p.value;
      runs.set(job, r);
    }
    const lastSuccess = sumBy(now, M.jobLastSuccess, "job");
    const jobs = [...new Set([...runs.keys(), ...lastSuccess.keys()])].sort();

    return {
      ...empty,
      throughput: {
        events_per_s: round(
          [...byOutcome.values()].reduce((a, b) => a + b, 0),
          1,
        )!,
        by_outcome: Object.fromEntries(sortedEntries(byOutcome).map(([k, v]) => [k, round(v, 1)!])),
        series,
      },
      events: sortedEntries(sumBy(now, M.events, "outcome")).map(([outcome, total]) => ({ outcome, total })),
      backlog: [...new Set([...backlog.keys(), ...oldest.keys()])].sort().map((subscription) => ({
        subscription,
        messages: backlog.get(subscription) ?? 0,
        oldest_unacked_age_seconds: oldest.get(subscription) ?? null,
      })),
      backlog_series: backlogSeries,
      latency,
      batch_commit: { p50: round(histogramQuantile(0.5, commit.buckets)), p99: round(histogramQuantile(0.99, commit.buckets)), batches: commit.count },
      dead_letters: sortedEntries(deadTotal).map(([reason, total]) => ({ reason, total, in_window: total - (deadBase.get(reason) ?? 0) })),
      pans_redacted: sumBy(now, M.pansRedacted).get("") ?? 0,
      schema_drift: sortedEntries(sumBy(now, M.schemaDrift, "event_type")).map(([event_type, fields]) => ({ event_type, fields })),
      freshness: tables.map((table) => {
        const seconds = freshness.get(table) ?? null;
        const target = slo.get(table) ?? null;
        return { table, seconds: round(seconds, 1), slo_seconds: target, within_slo: seconds === null || target === null ? null : seconds <= target };
      }),
      jobs: jobs.map((job) => {
        const at = lastSuccess.get(job);
        return { job, runs: runs.get(job) ?? {}, last_success: at ? new Date(at * 1000).toISOString() : null };
      }),
    };
  }
}
