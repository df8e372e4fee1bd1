/**
 * The alerts of a running instance: every interval the process samples its
 * own registry, evaluates the alert rules on it (pipelines/observe/alert-eval.ts)
 * and, with a webhook, POSTs what started firing and what resolved, in the
 * body Alertmanager sends its webhook receivers (version 4: status, alerts
 * with labels, annotations, startsAt, endsAt, fingerprint), so whatever reads
 * Alertmanager's webhooks reads these.
 *
 * Delivery: one POST per evaluation that changed something; a POST that
 * fails (no answer, or not 2xx) is retried at the next evaluations, up to
 * 100 pending notifications (the oldest dropped first, said through
 * onError). Labels and annotations hold closed sets only (see metrics.ts),
 * never a personal value. On stop nothing more is sent: like Prometheus,
 * the receiver resolves what it does not hear about again.
 */
import { createHash } from "node:crypto";
import { type Alert, AlertEvaluator } from "../pipelines/observe/alert-eval.js";
import type { AlertRule } from "../pipelines/observe/alerts.js";
import type { PipelineMetrics } from "../pipelines/observe/metrics.js";

export interface AlertingOptions {
  /** Evaluation interval, ms. */
  intervalMs: number;
  /** Where to POST firing and resolved alerts (none: evaluate only, for /alerts and `ecom status`). */
  webhook?: string;
  /** A failed evaluation or delivery, said so that an operator can act. */
  onError?: (message: string) => void;
  /** Every delivery that was accepted. */
  onSent?: (body: WebhookBody) => void;
}

export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookBody {
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** What `GET /alerts` and `ecom status` show (the dashboards read the same shape). */
export interface AlertState {
  name: string;
  severity: string;
  state: "pending" | "firing";
  since: string;
  summary: string;
  labels: Record<string, string>;
}

/** Alertmanager's "zero" time: an alert that has not ended. */
const NOT_ENDED = "0001-01-01T00:00:00Z";
const MAX_PENDING = 100;

const fingerprint = (labels: Record<string, string>): string =>
  createHash("sha256")
    .update(JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))))
    .digest("hex")
    .slice(0, 16);

function common<T extends Record<string, string>>(list: readonly T[]): Record<string, string> {
  if (list.length === 0) return {};
  return Object.fromEntries(Object.entries(list[0]!).filter(([k, v]) => list.every((x) => x[k] === v)));
}

export function webhookBody(firing: readonly Alert[], resolved: readonly Alert[]): WebhookBody {
  const alerts: WebhookAlert[] = [
    ...firing.map((a) => ({ a, status: "firing" as const, endsAt: NOT_ENDED })),
    ...resolved.map((a) => ({ a, status: "resolved" as const, endsAt: new Date(a.resolvedAt!).toISOString() })),
  ].map(({ a, status, endsAt }) => ({
    status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: new Date(a.activeSince).toISOString(),
    endsAt,
    generatorURL: "",
    fingerprint: fingerprint(a.labels),
  }));
  return {
    version: "4",
    groupKey: "{}:{}",
    truncatedAlerts: 0,
    status: firing.length ? "firing" : "resolved",
    receiver: "ecom-start",
    groupLabels: {},
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: "",
    alerts,
  };
}

export class Alerting {
  readonly evaluator: AlertEvaluator;
  private timer?: NodeJS.Timeout;
  private queue: WebhookBody[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly metrics: PipelineMetrics,
    rules: readonly AlertRule[],
    private readonly opts: AlertingOptions,
  ) {
    this.evaluator = new AlertEvaluator(rules);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.opts.intervalMs);
  }

  /** Stops evaluating; waits for an evaluation under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One evaluation: sample, evaluate, deliver. */
  async tick(): Promise<void> {
    const now = Date.now();
    try {
      this.evaluator.observe(now, await this.metrics.registry.getMetricsAsJSON());
    } catch (err) {
      this.opts.onError?.(`alert evaluation could not read the metrics: ${(err as Error).message}`);
      return;
    }
    const { firing, resolved } = this.evaluator.evaluate(now);
    if (!this.opts.webhook) return;
    if (firing.length || resolved.length) this.queue.push(webhookBody(firing, resolved));
    if (this.queue.length > MAX_PENDING) {
      const dropped = this.queue.splice(0, this.queue.length - MAX_PENDING);
      this.opts.onError?.(`alert webhook: dropped ${dropped.length} undelivered notifications (the receiver has not accepted any for a while)`);
    }
    while (this.queue.length) {
      const body = this.queue[0]!;
      try {
        const res = await fetch(this.opts.webhook, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`answered ${res.status}`);
      } catch (err) {
        this.opts.onError?.(`alert webhook delivery failed (${(err as Error).message}); retried at the next evaluation`);
        return;
      }
      this.queue.shift();
      this.opts.onSent?.(body);
    }
  }

  states(): AlertState[] {
    return alertStates(this.evaluator.alerts());
  }
}

export function alertStates(alerts: readonly Alert[]): AlertState[] {
  return alerts.map((a) => ({
    name: a.labels.alertname!,
    severity: a.labels.severity!,
    state: a.state,
    since: new Date(a.activeSince).toISOString(),
    summary: a.annotations.summary,
    labels: a.labels,
  }));
}
