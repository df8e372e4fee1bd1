/**
 * The alerts, defined once from the objectives of slo.ts. Each condition is
 * a small expression tree that renders two ways: as PromQL (the Prometheus
 * rules and the Cloud Monitoring policies generated into infra/monitoring,
 * see monitoring-files.ts) and as a local evaluation over samples of the
 * process's own registry (alert-eval.ts, `ecom start --alert-webhook`). So
 * the rules Prometheus runs and the ones the process runs cannot drift.
 *
 * What alerts, and why it matters (the README's SRE section has what to do):
 *   freshness    a table's newest data is older than its objective
 *   backlog      the oldest unacked message is old, or many wait
 *   dead letters more than 2 % of events are rejected
 *   latency      p99 publish -> committed over 5 s
 *   drift        producers started sending a field the contract lacks
 *   jobs         a batch job (a DAG task) failed, or has not succeeded in time
 *   down         Prometheus cannot scrape the pipeline (not evaluated locally)
 */
import type { JobName } from "../../schemas/ops.js";
import { FRESHNESS, type FreshnessObjective, SLO, type Severity } from "./slo.js";

/** A series selector: label equal to a value, or to one of several. */
export interface Selector {
  metric: string;
  match?: Readonly<Record<string, string | readonly string[]>>;
}

export type Expr =
  /** The latest value of each series, maximum over the series that share the `by` labels. */
  | { kind: "max"; sel: Selector; by: readonly string[] }
  /** time() - the value (a Unix-seconds timestamp gauge). */
  | { kind: "age"; sel: Selector }
  /** Per `by` group, how much a counter grew over the window. */
  | { kind: "increase"; sel: Selector; by: readonly string[]; windowSeconds: number }
  /** Per series, how much a gauge changed over the window. */
  | { kind: "delta"; sel: Selector; by: readonly string[]; windowSeconds: number }
  /** rate(numerator) / rate(denominator), each summed over every series. */
  | { kind: "ratio"; num: Selector; den: Selector; windowSeconds: number }
  /** The q-quantile of a histogram over the window, per `by` group. */
  | { kind: "quantile"; q: number; histogram: string; by: readonly string[]; windowSeconds: number }
  /** Prometheus's own `up` for the scrape job: 0, or gone. */
  | { kind: "down"; job: string };

export interface AlertRule {
  /** Alert name (several rules may share one: one per severity or threshold). */
  alert: string;
  expr: Expr;
  /** The condition: expr compared with the threshold. */
  op: ">" | "==";
  threshold: number;
  /** How long the condition must hold before it fires, seconds (0: at once). */
  forSeconds: number;
  severity: Severity;
  /** More labels of the alert (what tells the rules of one alert name apart). */
  labels?: Readonly<Record<string, string>>;
  /** One line; may name the series' labels as {{ $labels.<name> }}. */
  summary: string;
  /** False: only an outside scraper can see it (the process cannot report its own death). */
  local: boolean;
}

/** The README's SRE section: each alert has a heading named after it (the repository's README, relative to its root). */
export const RUNBOOK_BASE = "README.md";
export const runbookUrl = (alert: string): string => `${RUNBOOK_BASE}#${alert.toLowerCase()}`;

/** A duration as Prometheus writes it: 90 -> 1m30s, 3600 -> 1h. */
export function promDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  let s = Math.round(seconds);
  let out = "";
  for (const [unit, n] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${unit}`;
      s %= n;
    }
  }
  return out;
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/** The alert rules for these objectives (the defaults of slo.ts unless some were replaced). */
export function alertRules(freshness: readonly FreshnessObjective[] = FRESHNESS): AlertRule[] {
  const rules: AlertRule[] = [];
  // One rule per (objective, severity): the tables that share them, in one selector.
  for (const group of groupBy(freshness, (f) => `${f.seconds}/${f.severity}`).values()) {
    const { seconds, severity } = group[0]!;
    rules.push({
      alert: "EcomTableFreshnessBreach",
      expr: { kind: "max", sel: { metric: "ecom_table_freshness_seconds", match: { table: group.map((f) => f.table) } }, by: ["table"] },
      op: ">",
      threshold: seconds,
      forSeconds: 0,
      severity,
      labels: { objective: promDuration(seconds) },
      summary: `{{ $labels.table }} has had no new data for longer than its objective (${promDuration(seconds)})`,
      local: true,
    });
  }
  const b = SLO.backlog;
  rules.push(
    {
      alert: "EcomPubSubOldestUnackedAge",
      expr: { kind: "max", sel: { metric: "ecom_pubsub_oldest_unacked_age_seconds" }, by: ["subscription"] },
      op: ">",
      threshold: b.oldestUnackedAgeSeconds,
      forSeconds: b.ageForSeconds,
      severity: "critical",
      summary: `The oldest unacknowledged message on {{ $labels.subscription }} is older than ${promDuration(b.oldestUnackedAgeSeconds)}`,
      local: true,
    },
    {
      alert: "EcomPubSubBacklog",
      expr: { kind: "max", sel: { metric: "ecom_pubsub_backlog_messages" }, by: ["subscription"] },
      op: ">",
      threshold: b.messages,
      forSeconds: b.messagesForSeconds,
      severity: "warning",
      summary: `More than ${b.messages} messages wait on {{ $labels.subscription }}`,
      local: true,
    },
    {
      alert: "EcomDeadLetterRate",
      expr: {
        kind: "ratio",
        num: { metric: "ecom_events_total", match: { outcome: "dead_lettered" } },
        den: { metric: "ecom_events_total" },
        windowSeconds: SLO.deadLetters.windowSeconds,
      },
      op: ">",
      threshold: SLO.deadLetters.ratio,
      forSeconds: SLO.deadLetters.forSeconds,
      severity: "warning",
      summary: `More than ${SLO.deadLetters.ratio * 100} % of events are dead-lettered (over ${promDuration(SLO.deadLetters.windowSeconds)})`,
      local: true,
    },
    {
      alert: "EcomIngestLatencyP99",
      expr: {
        kind: "quantile",
        q: SLO.latency.quantile,
        histogram: "ecom_ingest_latency_seconds",
        by: ["domain"],
        windowSeconds: SLO.latency.windowSeconds,
      },
      op: ">",
      threshold: SLO.latency.seconds,
      forSeconds: SLO.latency.forSeconds,
      severity: "critical",
      summary: `p99 publish -> committed latency of {{ $labels.domain }} events is over ${SLO.latency.seconds}s`,
      local: true,
    },
    {
      alert: "EcomSchemaDrift",
      expr: { kind: "delta", sel: { metric: "ecom_schema_drift_fields" }, by: ["event_type"], windowSeconds: SLO.schemaDrift.windowSeconds },
      op: ">",
      threshold: 0,
      forSeconds: 0,
      severity: "warning",
      summary: "Producers send new fields the {{ $labels.event_type }} schema does not know (kept in Silver extras; see ops.schema_drift)",
      local: true,
    },
    {
      alert: "EcomJobFailed",
      expr: {
        kind: "increase",
        sel: { metric: "ecom_job_runs_total", match: { outcome: "failed" } },
        by: ["job"],
        windowSeconds: SLO.jobs.failureWindowSeconds,
      },
      op: ">",
      threshold: 0,
      forSeconds: 0,
      severity: "warning",
      summary: `A run of the {{ $labels.job }} job failed in the last ${promDuration(SLO.jobs.failureWindowSeconds)} (ops.job_runs has the error)`,
      local: true,
    },
  );
  const stale = Object.entries(SLO.jobs.staleAfterSeconds) as [JobName, number][];
  for (const [seconds, jobs] of groupBy(stale, ([, s]) => s)) {
    rules.push({
      alert: "EcomJobStale",
      expr: { kind: "age", sel: { metric: "ecom_job_last_success_timestamp_seconds", match: { job: jobs.map(([j]) => j) } } },
      op: ">",
      threshold: seconds,
      forSeconds: 0,
      severity: "warning",
      labels: { objective: promDuration(seconds) },
      summary: `The {{ $labels.job }} job has not succeeded for more than ${promDuration(seconds)}`,
      local: true,
    });
  }
  rules.push({
    alert: "EcomPipelineDown",
    expr: { kind: "down", job: SLO.scrapeJob },
    op: "==",
    threshold: 0,
    forSeconds: SLO.availability.downForSeconds,
    severity: "critical",
    summary: `Prometheus cannot scrape the ecom pipeline (job ${SLO.scrapeJob})`,
    local: false,
  });
  return rules;
}

// PromQL rendering.

function matcher(name: string, v: string | readonly string[]): string {
  if (typeof v === "string") return `${name}=${JSON.stringify(v)}`;
  if (v.length === 1) return `${name}=${JSON.stringify(v[0])}`;
  // Table names hold dots: a class keeps the regex free of backslashes (which PromQL and YAML would each escape).
  return `${name}=~"${v.map((x) => x.replace(/[.]/g, "[.]")).join("|")}"`;
}

export function selectorPromQL(sel: Selector, suffix = ""): string {
  const m = Object.entries(sel.match ?? {}).map(([k, v]) => matcher(k, v));
  return `${sel.metric}${suffix}${m.length ? `{${m.join(",")}}` : ""}`;
}

const byClause = (by: readonly string[]): string => (by.length ? ` by (${by.join(", ")})` : "");

/** The expression as PromQL, without its comparison. */
export function exprPromQL(e: Expr): string {
  switch (e.kind) {
    case "max":
      return `max${byClause(e.by)} (${selectorPromQL(e.sel)})`;
    case "age":
      return `time() - ${selectorPromQL(e.sel)}`;
    case "increase":
      return `sum${byClause(e.by)} (increase(${selectorPromQL(e.sel)}[${promDuration(e.windowSeconds)}]))`;
    case "delta":
      return `max${byClause(e.by)} (delta(${selectorPromQL(e.sel)}[${promDuration(e.windowSeconds)}]))`;
    case "ratio": {
      const w = promDuration(e.windowSeconds);
      return `sum(rate(${selectorPromQL(e.num)}[${w}])) / sum(rate(${selectorPromQL(e.den)}[${w}]))`;
    }
    case "quantile":
      return `histogram_quantile(${e.q}, sum by (${["le", ...e.by].join(", ")}) (rate(${e.histogram}_bucket[${promDuration(e.windowSeconds)}])))`;
    case "down":
      return `up{job=${JSON.stringify(e.job)}}`;
  }
}

/** The whole condition as PromQL. */
export function rulePromQL(r: AlertRule): string {
  const e = exprPromQL(r.expr);
  if (r.expr.kind === "down") return `${e} == 0 or absent(${e})`;
  return `${r.expr.kind === "age" || r.expr.kind === "ratio" ? `(${e})` : e} ${r.op} ${r.threshold}`;
}
