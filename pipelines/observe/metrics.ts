/**
 * The platform's Prometheus metrics, defined once (prom-client): names,
 * types, labels and buckets. `ecom start` serves them at `GET /metrics`; the
 * alert rules (alerts.ts), the dashboards and `ecom status` read these names.
 *
 * Labels hold closed sets only, never a personal value or producer text:
 * `event_type` is one of the contract's types or `other`, `outcome`, `reason`,
 * `domain`, `table` and `job` come from the code, `subscription` from the
 * configuration. Drift field names are never labels (ops.schema_drift has them).
 *
 * Values come from three places: every committed batch (`observeBatch`, from
 * its BatchResult), every acknowledged delivery (`observeIngest`), and
 * sources read when the registry is collected (`provide`): freshness,
 * backlog, drift and job runs, each cheap (kept up to date in memory or
 * cached by its source).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { JOB_NAMES } from "../../schemas/ops.js";
import { type DOMAINS, EVENT_TYPES, EVENT_TYPE_NAMES, type EventType } from "../../schemas/registry.js";
import { DEAD_LETTER_REASONS } from "../../transforms/types.js";
import type { BatchResult } from "../commit.js";
import { type EventTypeLabel, eventTypeLabel } from "./breakdown.js";

export const EVENT_OUTCOMES = ["valid", "duplicate", "dead_lettered"] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

/** Seconds; dense around the 5 s latency objective, long enough for late mobile events (minutes). */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
export const COMMIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

export type DomainLabel = (typeof DOMAINS)[number] | "other";

/** The domain label of a message's event type (its Pub/Sub attribute): the contract's domain, or `other`. */
export function domainLabelOf(eventType: string | undefined): DomainLabel {
  const t = eventTypeLabel(eventType);
  return t === "other" ? "other" : EVENT_TYPES[t].domain;
}

export interface BacklogReading {
  subscription: string;
  /** Messages published and not acknowledged yet. */
  messages: number;
  /** Age of the oldest of them, seconds (0 when none). */
  oldestUnackedAgeSeconds: number;
}

export interface JobRunStats {
  job: string;
  succeeded: number;
  failed: number;
  /** finished_at of the latest successful run, epoch ms. */
  lastSuccessMs?: number;
}

/** What the registry reads when it is collected. Each is called once per collection. */
export interface MetricSources {
  /** Per table, the newest committed data it holds, epoch ms (absent: no data yet, no series). */
  freshness?: () => ReadonlyMap<string, number> | Promise<ReadonlyMap<string, number>>;
  backlog?: () => readonly BacklogReading[];
  /** Distinct unknown field paths seen per event type (ops.schema_drift). */
  drift?: () => Promise<Partial<Record<EventType, number>>>;
  jobRuns?: () => Promise<readonly JobRunStats[]>;
}

export interface MetricsOptions {
  /** prom-client's process metrics (CPU, memory, event loop, `process_start_time_seconds`); default true. */
  processMetrics?: boolean;
  /** Freshness objective per table, seconds (`ecom_table_freshness_slo_seconds`). */
  freshnessSlos?: Readonly<Record<string, number>>;
  /** Clock (tests). */
  now?: () => number;
}

export class PipelineMetrics {
  readonly registry = new Registry();
  readonly events: Counter<"event_type" | "outcome">;
  readonly deadLetters: Counter<"reason">;
  readonly pansRedacted: Counter;
  readonly e2eLatency: Histogram<"domain">;
  readonly ingestLatency: Histogram<"domain">;
  readonly batchCommit: Histogram;
  readonly backlogMessages: Gauge<"subscription">;
  readonly oldestUnackedAge: Gauge<"subscription">;
  readonly schemaDrift: Gauge<"event_type">;
  readonly freshness: Gauge<"table">;
  readonly freshnessSlo: Gauge<"table">;
  readonly jobRuns: Counter<"job" | "outcome">;
  readonly jobLastSuccess: Gauge<"job">;
  private sources: MetricSources = {};
  private jobRunsRead?: Promise<void>;
  private readonly now: () => number;

  constructor(opts: MetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    const self = this;
    this.events = new Counter({
      name: "ecom_events_total",
      help: "Events read, by event type (the contract's, else other) and outcome: valid (new in Silver), duplicate, dead_lettered",
      labelNames: ["event_type", "outcome"],
      registers,
    });
    this.deadLetters = new Counter({ name: "ecom_dead_letters_total", help: "New dead letters, by reason", labelNames: ["reason"], registers });
    this.pansRedacted = new Counter({ name: "ecom_pans_redacted_total", help: "Card numbers redacted before anything was stored", registers });
    this.e2eLatency = new Histogram({
      name: "ecom_e2e_latency_seconds",
      help: "event_time -> committed to Silver, per new row, by domain (includes the producer's own delay)",
      labelNames: ["domain"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ingestLatency = new Histogram({
      name: "ecom_ingest_latency_seconds",
      help: "Pub/Sub publish time -> committed and acknowledged, per message, by the domain of its event_type attribute",
      labelNames: ["domain"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchCommit = new Histogram({
      name: "ecom_batch_commit_seconds",
      help: "Time to commit one batch: claim, keys, project, Silver, Bronze, ops, COMMIT, rename",
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.backlogMessages = new Gauge({
      name: "ecom_pubsub_backlog_messages",
      help: "Messages published and not acknowledged, as the subscriber measures them (see README: in production Cloud Monitoring's num_undelivered_messages)",
      labelNames: ["subscription"],
      registers,
      collect() {
        self.collectBacklog();
      },
    });
    this.oldestUnackedAge = new Gauge({
      name: "ecom_pubsub_oldest_unacked_age_seconds",
      help: "Age of the oldest message not acknowledged, as the subscriber measures it (in production Cloud Monitoring's oldest_unacked_message_age)",
      labelNames: ["subscription"],
      registers,
    });
    this.schemaDrift = new Gauge({
      name: "ecom_schema_drift_fields",
      help: "Distinct unknown field paths producers sent, by event type (the paths are in ops.schema_drift)",
      labelNames: ["event_type"],
      registers,
      async collect() {
        const drift = await self.sources.drift?.();
        if (!drift) return;
        for (const t of EVENT_TYPE_NAMES) this.set({ event_type: t }, drift[t] ?? 0);
      },
    });
    this.freshness = new Gauge({
      name: "ecom_table_freshness_seconds",
      help: "now - the newest committed data of the table (Silver: newest ingested_at; Gold: the Silver it has absorbed)",
      labelNames: ["table"],
      registers,
      async collect() {
        const asOf = await self.sources.freshness?.();
        if (!asOf) return;
        this.reset();
        const now = self.now();
        for (const [table, ms] of asOf) this.set({ table }, Math.max(0, (now - ms) / 1000));
      },
    });
    this.freshnessSlo = new Gauge({
      name: "ecom_table_freshness_slo_seconds",
      help: "Freshness objective of the table, seconds",
      labelNames: ["table"],
      registers,
    });
    // Both job metrics are read from ops.job_runs at once. prom-client collects the metrics of a registry
    // concurrently, in registration order: the counter starts the read, the gauge waits for the same one.
    this.jobRuns = new Counter({
      name: "ecom_job_runs_total",
      help: "Runs of a batch job recorded in ops.job_runs, by outcome",
      labelNames: ["job", "outcome"],
      registers,
      async collect() {
        self.jobRunsRead = self.collectJobRuns();
        await self.jobRunsRead;
      },
    });
    this.jobLastSuccess = new Gauge({
      name: "ecom_job_last_success_timestamp_seconds",
      help: "finished_at of the job's latest successful run (ops.job_runs), Unix seconds",
      labelNames: ["job"],
      registers,
      async collect() {
        await (self.jobRunsRead ?? self.collectJobRuns());
        self.jobRunsRead = undefined;
      },
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    // Every series of a closed label set starts at 0, so rates and ratios hold from the first scrape.
    for (const t of [...EVENT_TYPE_NAMES, "other"]) for (const o of EVENT_OUTCOMES) this.events.inc({ event_type: t, outcome: o }, 0);
    for (const r of DEAD_LETTER_REASONS) this.deadLetters.inc({ reason: r }, 0);
    this.pansRedacted.inc(0);
    for (const [table, seconds] of Object.entries(opts.freshnessSlos ?? {})) this.freshnessSlo.set({ table }, seconds);
  }

  /** Sets where collected values come from (replaces the ones given before). */
  provide(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** One committed batch: outcomes per type, dead letters per reason, card numbers, each new row's latency, the commit time. */
  observeBatch(r: BatchResult): void {
    for (const [type, c] of Object.entries(r.byType) as [EventTypeLabel, { valid: number; duplicates: number; dead_lettered: number }][]) {
      if (c.valid) this.events.inc({ event_type: type, outcome: "valid" }, c.valid);
      if (c.duplicates) this.events.inc({ event_type: type, outcome: "duplicate" }, c.duplicates);
      if (c.dead_lettered) this.events.inc({ event_type: type, outcome: "dead_lettered" }, c.dead_lettered);
    }
    for (const [reason, n] of Object.entries(r.deadLettersByReason)) if (n) this.deadLetters.inc({ reason }, n);
    if (r.pans_redacted) this.pansRedacted.inc(r.pans_redacted);
    // The phases after parsing are the commit, timed from the instant ingested_at was taken.
    const commitMs = Object.entries(r.phases).reduce((s, [k, v]) => (k === "parse" ? s : s + v), 0);
    if (r.alreadyCommitted) return;
    this.batchCommit.observe(commitMs / 1000);
    const committedAt = r.ingestedAtMs + commitMs;
    for (const [domain, times] of Object.entries(r.eventTimesMs)) {
      const h = this.e2eLatency.labels({ domain });
      for (const t of times as Float64Array) h.observe(Math.max(0, committedAt - t) / 1000);
    }
  }

  /** Acknowledged messages: their publish -> ack latency, by the domain of their event_type attribute. */
  observeIngest(eventTypes: readonly (string | undefined)[], latenciesMs: ArrayLike<number>): void {
    const children = new Map<DomainLabel, ReturnType<Histogram<"domain">["labels"]>>();
    for (let i = 0; i < latenciesMs.length; i++) {
      const d = domainLabelOf(eventTypes[i]);
      let h = children.get(d);
      if (!h) children.set(d, (h = this.ingestLatency.labels({ domain: d })));
      h.observe(Math.max(0, latenciesMs[i]!) / 1000);
    }
  }

  /** The text a Prometheus scrape gets. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private collectBacklog(): void {
    const readings = this.sources.backlog?.();
    if (!readings) return;
    for (const b of readings) {
      this.backlogMessages.set({ subscription: b.subscription }, b.messages);
      this.oldestUnackedAge.set({ subscription: b.subscription }, b.oldestUnackedAgeSeconds);
    }
  }

  private async collectJobRuns(): Promise<void> {
    const stats = await this.sources.jobRuns?.();
    if (!stats) return;
    this.jobRuns.reset();
    this.jobLastSuccess.reset();
    // Every job's series exist from the start at 0, so a job's first failure is an increase, not a new series.
    for (const job of JOB_NAMES) for (const outcome of ["succeeded", "failed"]) this.jobRuns.inc({ job, outcome }, 0);
    for (const s of stats) {
      this.jobRuns.inc({ job: s.job, outcome: "succeeded" }, s.succeeded);
      this.jobRuns.inc({ job: s.job, outcome: "failed" }, s.failed);
      if (s.lastSuccessMs !== undefined) this.jobLastSuccess.set({ job: s.job }, s.lastSuccessMs / 1000);
    }
  }
}
