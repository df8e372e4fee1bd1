/**
 * The operations page: fetches /dashboard/api/ops every few seconds (the
 * instance's metrics registry, sampled over the last minutes, and its alert
 * state) and draws the figures and charts.
 */
import { chart, fillTable, fmtInt, fmtSeconds, poll, setFigure, updateChart } from "./common.js";

const time = (iso) => new Date(iso).toLocaleTimeString("en-GB");
const ago = (iso) => (iso ? `${fmtSeconds((Date.now() - Date.parse(iso)) / 1000)} ago` : "never");

const throughputChart = chart("throughput", {
  type: "line",
  data: { labels: [], datasets: [] },
  options: { pointRadius: 0, scales: { y: { beginAtZero: true, title: { display: true, text: "events/s" } } } },
});
const backlogChart = chart("backlog", {
  type: "line",
  data: { labels: [], datasets: [] },
  options: {
    pointRadius: 0,
    scales: {
      y: { beginAtZero: true, title: { display: true, text: "messages" } },
      age: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "oldest unacked, s" } },
    },
  },
});
const latencyChart = chart("latency", {
  type: "bar",
  data: { labels: [], datasets: [] },
  options: { scales: { y: { beginAtZero: true, title: { display: true, text: "seconds" } } } },
});

function render(d) {
  document.querySelector("[data-unwired]").hidden = d.metrics_wired;
  setFigure("window_seconds", String(d.window_seconds), undefined, d.window_seconds);
  setFigure("throughput.events_per_s", fmtInt(d.throughput.events_per_s), undefined, d.throughput.events_per_s);
  const backlog = d.backlog.reduce((s, b) => s + b.messages, 0);
  setFigure("backlog.messages", fmtInt(backlog), undefined, backlog);
  const ages = d.backlog.map((b) => b.oldest_unacked_age_seconds).filter((a) => a !== null);
  const oldest = ages.length ? Math.max(...ages) : null;
  setFigure("backlog.oldest_unacked_age", fmtSeconds(oldest), undefined, oldest);
  const dead = d.dead_letters.reduce((s, r) => s + r.total, 0);
  setFigure("dead_letters.total", fmtInt(dead), undefined, dead);
  setFigure("pans_redacted", fmtInt(d.pans_redacted), undefined, d.pans_redacted);
  const firing = d.alerts.filter((a) => a.state === "firing");
  setFigure("alerts.firing", d.alerts_wired ? String(firing.length) : "n/a", undefined, d.alerts_wired ? firing.length : null);
  document.querySelector(".kpi.alerts").classList.toggle("firing", firing.length > 0);

  const outcomes = [...new Set(d.throughput.series.flatMap((s) => Object.keys(s.by_outcome)))].sort();
  updateChart(
    throughputChart,
    d.throughput.series.map((s) => time(s.t)),
    outcomes.map((o) => ({ label: o, data: d.throughput.series.map((s) => s.by_outcome[o] ?? 0) })),
  );

  const subs = d.backlog.map((b) => b.subscription);
  updateChart(
    backlogChart,
    d.backlog_series.map((s) => time(s.t)),
    subs.flatMap((sub) => [
      { label: `${sub} messages`, data: d.backlog_series.map((s) => s.messages[sub] ?? null) },
      { label: `${sub} oldest unacked (s)`, yAxisID: "age", borderDash: [4, 3], data: d.backlog_series.map((s) => s.oldest_unacked_age_seconds[sub] ?? null) },
    ]),
  );
  fillTable(
    "backlog",
    d.backlog,
    [
      ["subscription", (b) => b.subscription],
      ["messages", (b) => fmtInt(b.messages), "num", (b) => b.messages],
      ["oldest_unacked_age", (b) => fmtSeconds(b.oldest_unacked_age_seconds), "num", (b) => b.oldest_unacked_age_seconds],
    ],
    (b) => b.subscription,
    "no subscription measured yet",
  );

  fillTable(
    "latency",
    d.latency,
    [
      ["domain", (l) => l.domain],
      ["e2e_p50", (l) => fmtSeconds(l.e2e_p50), "num", (l) => l.e2e_p50],
      ["e2e_p99", (l) => fmtSeconds(l.e2e_p99), "num", (l) => l.e2e_p99],
      ["ingest_p50", (l) => fmtSeconds(l.ingest_p50), "num", (l) => l.ingest_p50],
      ["ingest_p99", (l) => fmtSeconds(l.ingest_p99), "num", (l) => l.ingest_p99],
      ["events", (l) => fmtInt(l.events), "num", (l) => l.events],
    ],
    (l) => l.domain,
    "no events in the window",
  );
  updateChart(
    latencyChart,
    d.latency.map((l) => l.domain),
    [
      { label: "e2e p50", data: d.latency.map((l) => l.e2e_p50) },
      { label: "e2e p99", data: d.latency.map((l) => l.e2e_p99) },
    ],
  );
  setFigure("batch_commit.p50", fmtSeconds(d.batch_commit.p50), undefined, d.batch_commit.p50);
  setFigure("batch_commit.p99", fmtSeconds(d.batch_commit.p99), undefined, d.batch_commit.p99);
  setFigure("batch_commit.batches", fmtInt(d.batch_commit.batches), undefined, d.batch_commit.batches);

  fillTable(
    "alerts",
    d.alerts,
    [
      ["name", (a) => a.name],
      ["severity", (a) => a.severity],
      ["state", (a) => a.state, (a) => `badge ${a.state}`, (a) => a.state],
      ["since", (a) => (a.since ? ago(a.since) : ""), undefined, (a) => a.since],
      ["summary", (a) => a.summary],
    ],
    (a) => a.name,
    d.alerts_wired ? "none firing" : "no alert evaluator wired into this instance",
  );
  fillTable(
    "freshness",
    d.freshness,
    [
      ["table", (f) => f.table],
      ["seconds", (f) => fmtSeconds(f.seconds), "num", (f) => f.seconds],
      ["slo_seconds", (f) => fmtSeconds(f.slo_seconds), "num", (f) => f.slo_seconds],
      [
        "status",
        (f) => (f.within_slo === null ? "n/a" : f.within_slo ? "within SLO" : "breach"),
        (f) => `badge ${f.within_slo === false ? "firing" : "ok"}`,
        (f) => (f.within_slo === null ? "" : f.within_slo ? "ok" : "breach"),
      ],
    ],
    (f) => f.table,
    "no table measured yet",
  );
  fillTable(
    "dead_letters",
    d.dead_letters,
    [
      ["reason", (r) => r.reason],
      ["total", (r) => fmtInt(r.total), "num", (r) => r.total],
      ["in_window", (r) => fmtInt(r.in_window), "num", (r) => r.in_window],
    ],
    (r) => r.reason,
    "none",
  );
  fillTable(
    "schema_drift",
    d.schema_drift,
    [
      ["event_type", (s) => s.event_type],
      ["fields", (s) => fmtInt(s.fields), "num", (s) => s.fields],
    ],
    (s) => s.event_type,
    "none",
  );
  fillTable(
    "jobs",
    d.jobs,
    [
      ["job", (j) => j.job],
      [
        "runs",
        (j) =>
          Object.entries(j.runs)
            .map(([o, n]) => `${o} ${fmtInt(n)}`)
            .join(" · ") || "none",
        undefined,
        (j) => JSON.stringify(j.runs),
      ],
      ["last_success", (j) => ago(j.last_success), undefined, (j) => j.last_success],
    ],
    (j) => j.job,
    "no job has run",
  );
  fillTable(
    "events",
    d.events,
    [
      ["outcome", (e) => e.outcome],
      ["total", (e) => fmtInt(e.total), "num", (e) => e.total],
    ],
    (e) => e.outcome,
    "none yet",
  );
}

poll(() => "/dashboard/api/ops", render);
