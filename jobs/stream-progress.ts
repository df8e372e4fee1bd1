/** Live progress of `ecom start`: events/s, lag, latency percentiles and totals, one line at a time. */
import type { Counts } from "../schemas/ops.js";
import type { BatchReport } from "../pipelines/local/stream-runner.js";

export class Progress {
  private readonly started = Date.now();
  private window: { at: number; read: number }[] = [];
  private latencies: number[] = [];
  private lagMs = 0;
  private readonly perDomain: Record<string, number> = {};

  record(r: BatchReport): void {
    this.window.push({ at: Date.now(), read: r.result.read });
    this.lagMs = r.lagMs;
    for (const [d, n] of Object.entries(r.result.perDomain)) this.perDomain[d] = (this.perDomain[d] ?? 0) + (n ?? 0);
    for (const l of r.latenciesMs) this.latencies.push(l);
    if (this.latencies.length > 200_000) this.latencies = this.latencies.slice(-100_000);
  }

  private rate(): number {
    const now = Date.now();
    this.window = this.window.filter((w) => now - w.at <= 10_000);
    const n = this.window.reduce((s, w) => s + w.read, 0);
    const span = Math.min(10_000, now - this.started) / 1000;
    return span > 0 ? n / span : 0;
  }

  private percentile(p: number): number {
    if (this.latencies.length === 0) return 0;
    const sorted = [...this.latencies.slice(-50_000)].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  }

  snapshot(t: Counts) {
    return {
      events_per_s: Math.round(this.rate()),
      lag_ms: this.lagMs,
      latency_p50_ms: this.percentile(50),
      latency_p99_ms: this.percentile(99),
      totals: t,
      silver_rows: this.perDomain,
    };
  }

  line(t: Counts): string {
    const s = this.snapshot(t);
    const tables = Object.entries(s.silver_rows)
      .map(([d, n]) => `${d} ${n}`)
      .join(", ");
    return (
      `${new Date().toISOString().slice(11, 19)} ${s.events_per_s} ev/s | lag ${(s.lag_ms / 1000).toFixed(1)} s | ` +
      `latency p50 ${(s.latency_p50_ms / 1000).toFixed(2)} s p99 ${(s.latency_p99_ms / 1000).toFixed(2)} s | ` +
      `read ${t.read} valid ${t.valid} dup ${t.duplicates} dead-lettered ${t.dead_lettered} pans ${t.pans_redacted}` +
      (tables ? ` | silver: ${tables}` : "")
    );
  }
}
