/**
 * `ecom status`: lag, rates, freshness against the objectives, alerts firing
 * and the latest job runs (jobs/status.ts), from the running instance or the
 * store; a text page for people or JSON.
 */
import type { Command } from "commander";
import { z } from "zod";
import { type StatusReport, statusJob } from "../../jobs/status.js";
import { configSchema, parseOptions } from "../config.js";
import { formatTable } from "../format-table.js";

export const statusOptions = configSchema.pick({ dataDir: true }).extend({ json: z.boolean().default(false) });

export function statusCommand(program: Command): void {
  program
    .command("status")
    .description("How the pipeline is doing: lag, rates, table freshness against its objectives, alerts firing, the latest job runs")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print the report as JSON")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(statusOptions, flags);
      const report = await statusJob(o.dataDir);
      process.stdout.write(o.json ? JSON.stringify(report) + "\n" : renderStatus(report));
    });
}

const secs = (s: number | null) =>
  s === null ? "no data" : s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;

export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  out.push(
    r.instance
      ? `ecom start is running (pid ${r.instance.pid}, port ${r.instance.port}, since ${r.instance.started_at})`
      : "No ecom start runs on this data dir: figures from the store (rates, latency and backlog need the running process)",
  );
  const s = r.stream as { events_per_s?: number; lag_ms?: number; latency_p50_ms?: number; latency_p99_ms?: number } | null;
  if (s) {
    out.push(
      `stream: ${s.events_per_s} ev/s, lag ${((s.lag_ms ?? 0) / 1000).toFixed(1)} s, latency p50 ${((s.latency_p50_ms ?? 0) / 1000).toFixed(2)} s p99 ${((s.latency_p99_ms ?? 0) / 1000).toFixed(2)} s`,
    );
  }
  const dl = r.rates.dead_letter_ratio === null ? "n/a" : `${(r.rates.dead_letter_ratio * 100).toFixed(2)} %`;
  out.push(
    `last ${r.rates.window_seconds / 60} min: ${r.rates.events_per_s} ev/s committed in ${r.rates.batches} batches, dead-lettered ${dl}; last batch ${r.rates.last_batch_at ?? "never"}`,
  );
  for (const b of r.backlog ?? []) out.push(`backlog ${b.subscription}: ${b.messages} messages, oldest unacked ${secs(b.oldestUnackedAgeSeconds)}`);
  out.push("");
  const firing = r.alerts.filter((a) => a.state === "firing");
  out.push(`Alerts firing: ${firing.length}${r.source === "store" ? " (from the store: freshness and job staleness only)" : ""}`);
  for (const a of firing) out.push(`  [${a.severity}] ${a.name}: ${a.summary} (since ${a.since})`);
  for (const a of r.alerts.filter((x) => x.state === "pending")) out.push(`  pending ${a.name}: ${a.summary}`);
  out.push("");
  out.push("Freshness (newest data vs objective)");
  out.push(
    formatTable(
      r.freshness.map((f) => ({ table: f.table, age: secs(f.seconds), objective: secs(f.slo_seconds), ok: f.seconds === null ? "-" : f.ok ? "ok" : "STALE" })),
      { footer: false },
    ),
  );
  out.push("Latest job runs");
  out.push(
    formatTable(
      r.jobs.map((j) => ({ job: j.job, outcome: j.outcome, finished_at: j.finished_at, seconds: j.seconds, last_success_at: j.last_success_at ?? "never" })),
      { footer: false },
    ).replace(/^\(no rows\)\n$/, "(no job has run yet)\n"),
  );
  return out.join("\n") + "\n";
}
