/**
 * The alert rules (alerts.ts) evaluated in this process, over samples of its
 * own registry taken on an interval: what `ecom start` reports at
 * `GET /alerts`, `ecom status` shows and `--alert-webhook` posts.
 *
 * Semantics follow Prometheus's, on the samples this process took:
 *  - windowed expressions (increase, delta, ratio, quantile) compare the
 *    newest sample with the oldest one inside the window and need two
 *    samples, as rate() does (no extrapolation; counter resets are handled);
 *  - a condition that holds becomes pending, and firing once it has held for
 *    the rule's `for`; one that stops holding resolves;
 *  - rules marked not local (pipeline down) are Prometheus's alone.
 * No IO: samples are given, transitions are returned.
 */
import { type AlertRule, type Expr, type Selector, runbookUrl } from "./alerts.js";

/** A metric family as prom-client's getMetricsAsJSON returns it (histogram values name their series). */
export interface MetricFamilyJson {
  name: string;
  values: readonly { labels: Record<string, string | number | undefined>; value: number; metricName?: string }[];
}

interface Point {
  labels: Record<string, string>;
  value: number;
}

interface Snapshot {
  /** Epoch ms. */
  t: number;
  /** Points by series name. */
  series: Map<string, Point[]>;
}

export interface Alert {
  /** alertname, severity, the rule's labels and the series' grouping labels. */
  labels: Record<string, string>;
  annotations: { summary: string; runbook_url: string };
  /** Since when the condition holds, epoch ms. */
  activeSince: number;
  state: "pending" | "firing";
  /** When it resolved, epoch ms. */
  resolvedAt?: number;
  value: number;
}

export interface Transitions {
  firing: Alert[];
  resolved: Alert[];
}

const keyOf = (labels: Record<string, string>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",");

function matches(p: Point, sel: Selector): boolean {
  for (const [k, v] of Object.entries(sel.match ?? {})) {
    const have = p.labels[k];
    if (have === undefined || (typeof v === "string" ? have !== v : !v.includes(have))) return false;
  }
  return true;
}

const pick = (labels: Record<string, string>, by: readonly string[]): Record<string, string> =>
  Object.fromEntries(by.filter((k) => labels[k] !== undefined).map((k) => [k, labels[k]!]));

/** Increase of a counter between two snapshots' points, over every sample between them (resets counted from 0). */
function increaseOf(samples: readonly Snapshot[], name: string, key: string): number | undefined {
  let total = 0;
  let prev: number | undefined;
  let seen = 0;
  for (const s of samples) {
    const p = s.series.get(name)?.find((x) => keyOf(x.labels) === key);
    if (!p) continue;
    seen++;
    if (prev !== undefined) total += p.value >= prev ? p.value - prev : p.value;
    prev = p.value;
  }
  return seen >= 2 ? total : undefined;
}

export class AlertEvaluator {
  private samples: Snapshot[] = [];
  private readonly active = new Map<string, Alert>();
  private readonly rules: readonly AlertRule[];
  private readonly keepMs: number;
  private readonly names: Set<string>;

  constructor(rules: readonly AlertRule[]) {
    this.rules = rules.filter((r) => r.local);
    const windows = this.rules.map((r) => ("windowSeconds" in r.expr ? r.expr.windowSeconds : 0));
    this.keepMs = (Math.max(0, ...windows) + 60) * 1000;
    this.names = new Set(this.rules.flatMap((r) => seriesNames(r.expr)));
  }

  /** Keeps a sample of the registry (only the series the rules read). */
  observe(t: number, families: readonly MetricFamilyJson[]): void {
    const series = new Map<string, Point[]>();
    for (const f of families) {
      for (const v of f.values) {
        const name = v.metricName ?? f.name;
        if (!this.names.has(name)) continue;
        const labels: Record<string, string> = {};
        for (const [k, l] of Object.entries(v.labels)) if (l !== undefined) labels[k] = String(l);
        let list = series.get(name);
        if (!list) series.set(name, (list = []));
        list.push({ labels, value: Number(v.value) });
      }
    }
    this.samples.push({ t, series });
    while (this.samples.length > 2 && this.samples[0]!.t < t - this.keepMs) this.samples.shift();
  }

  /** Evaluates every rule at `t` (epoch ms, normally the newest sample's time); returns what started firing and what resolved. */
  evaluate(t: number): Transitions {
    const out: Transitions = { firing: [], resolved: [] };
    const seen = new Set<string>();
    for (const rule of this.rules) {
      for (const r of this.vector(rule.expr, t)) {
        if (!(rule.op === ">" ? r.value > rule.threshold : r.value === rule.threshold)) continue;
        const labels = { alertname: rule.alert, severity: rule.severity, ...rule.labels, ...r.labels };
        const key = keyOf(labels);
        seen.add(key);
        let a = this.active.get(key);
        if (!a) {
          a = { labels, annotations: annotations(rule, labels), activeSince: t, state: "pending", value: r.value };
          this.active.set(key, a);
        }
        a.value = r.value;
        if (a.state === "pending" && t - a.activeSince >= rule.forSeconds * 1000) {
          a.state = "firing";
          out.firing.push(a);
        }
      }
    }
    for (const [key, a] of this.active) {
      if (seen.has(key)) continue;
      this.active.delete(key);
      if (a.state === "firing") out.resolved.push({ ...a, resolvedAt: t });
    }
    return out;
  }

  /** Alerts pending or firing now. */
  alerts(): Alert[] {
    return [...this.active.values()];
  }

  /** The rules' expression over the samples: one value per group of labels. */
  private vector(e: Expr, t: number): { labels: Record<string, string>; value: number }[] {
    const last = this.samples.at(-1);
    if (!last) return [];
    const inWindow = (seconds: number) => this.samples.filter((s) => s.t >= t - seconds * 1000 && s.t <= t);
    const grouped = (points: { labels: Record<string, string>; value: number }[], by: readonly string[], fold: (a: number, b: number) => number) => {
      const groups = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const p of points) {
        const labels = pick(p.labels, by);
        const k = keyOf(labels);
        const g = groups.get(k);
        groups.set(k, g ? { labels, value: fold(g.value, p.value) } : { labels, value: p.value });
      }
      return [...groups.values()];
    };
    const increases = (sel: Selector, seconds: number) => {
      const window = inWindow(seconds);
      return (last.series.get(sel.metric) ?? [])
        .filter((p) => matches(p, sel))
        .map((p) => ({ labels: p.labels, value: increaseOf(window, sel.metric, keyOf(p.labels)) }))
        .filter((p): p is Point => p.value !== undefined);
    };
    switch (e.kind) {
      case "max":
        return grouped(
          (last.series.get(e.sel.metric) ?? []).filter((p) => matches(p, e.sel)),
          e.by,
          Math.max,
        );
      case "age":
        return (last.series.get(e.sel.metric) ?? []).filter((p) => matches(p, e.sel)).map((p) => ({ labels: p.labels, value: t / 1000 - p.value }));
      case "increase":
        return grouped(increases(e.sel, e.windowSeconds), e.by, (a, b) => a + b);
      case "delta": {
        const window = inWindow(e.windowSeconds);
        if (window.length < 2) return [];
        const first = window[0]!.series.get(e.sel.metric) ?? [];
        const deltas = (last.series.get(e.sel.metric) ?? [])
          .filter((p) => matches(p, e.sel))
          .flatMap((p) => {
            const before = first.find((x) => keyOf(x.labels) === keyOf(p.labels));
            return before ? [{ labels: p.labels, value: p.value - before.value }] : [];
          });
        return grouped(deltas, e.by, Math.max);
      }
      case "ratio": {
        const sum = (ps: Point[]) => (ps.length ? ps.reduce((n, p) => n + p.value, 0) : undefined);
        const num = sum(increases(e.num, e.windowSeconds));
        const den = sum(increases(e.den, e.windowSeconds));
        return num === undefined || !den ? [] : [{ labels: {}, value: num / den }];
      }
      case "quantile": {
        const buckets = increases({ metric: `${e.histogram}_bucket` }, e.windowSeconds);
        const byGroup = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
        for (const b of buckets) {
          const labels = pick(b.labels, e.by);
          const k = keyOf(labels);
          let g = byGroup.get(k);
          if (!g) byGroup.set(k, (g = { labels, buckets: [] }));
          const le = b.labels.le === "+Inf" ? Infinity : Number(b.labels.le);
          const same = g.buckets.find((x) => x.le === le);
          if (same) same.count += b.value;
          else g.buckets.push({ le, count: b.value });
        }
        return [...byGroup.values()].flatMap((g) => {
          const v = histogramQuantile(e.q, g.buckets);
          return v === undefined ? [] : [{ labels: g.labels, value: v }];
        });
      }
      case "down":
        return [];
    }
  }
}

/** Prometheus's histogram_quantile over cumulative buckets: linear within the bucket; undefined when empty. */
export function histogramQuantile(q: number, buckets: readonly { le: number; count: number }[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (!(total > 0) || sorted.at(-1)!.le !== Infinity) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      if (b.count === prevCount) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

function seriesNames(e: Expr): string[] {
  switch (e.kind) {
    case "ratio":
      return [e.num.metric, e.den.metric];
    case "quantile":
      return [`${e.histogram}_bucket`];
    case "down":
      return [];
    default:
      return [e.sel.metric];
  }
}

function annotations(rule: AlertRule, labels: Record<string, string>): Alert["annotations"] {
  return {
    summary: rule.summary.replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, k: string) => labels[k] ?? ""),
    runbook_url: runbookUrl(rule.alert),
  };
}
