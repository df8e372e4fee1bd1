/**
 * The business page: fetches /dashboard/api/business for the days in the
 * range inputs (default: the 7 days ending on the newest day with data),
 * every few seconds, and draws the figures and charts.
 */
import { chart, currencyDigits, fillTable, fmtInt, fmtMoney, fmtRate, poll, setFigure, updateChart } from "./common.js";

const form = document.querySelector("[data-range]");
const params = new URLSearchParams(location.search);
form.from.value = params.get("from") ?? "";
form.to.value = params.get("to") ?? "";
// Until a range is chosen (in the inputs or the address), the server's default follows the newest day.
let chosen = Boolean(form.from.value || form.to.value);

function rangeQuery() {
  const q = new URLSearchParams();
  if (chosen && form.from.value) q.set("from", form.from.value);
  if (chosen && form.to.value) q.set("to", form.to.value);
  return q;
}

const apiUrl = () => `/dashboard/api/business?${rangeQuery()}`;

const revenueChart = chart("revenue", { type: "line", data: { labels: [], datasets: [] }, options: { spanGaps: true, scales: { y: { beginAtZero: true } } } });
const funnelChart = chart("funnel", { type: "bar", data: { labels: [], datasets: [] }, options: { indexAxis: "y", plugins: { legend: { display: false } } } });
const abandonmentChart = chart("abandonment", {
  type: "bar",
  data: { labels: [], datasets: [] },
  options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
});
const paymentsChart = chart("payments", {
  type: "bar",
  data: { labels: [], datasets: [] },
  options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100, title: { display: true, text: "success %" } } } },
});

function daysOf(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const FUNNEL = [
  ["sessions", "Sessions"],
  ["viewed", "Viewed a page"],
  ["searched", "Searched"],
  ["added_to_cart", "Added to cart"],
  ["ordered", "Ordered"],
  ["paid", "Paid"],
];

function render(d) {
  if (document.activeElement !== form.from && document.activeElement !== form.to) {
    form.from.value = d.range.from;
    form.to.value = d.range.to;
  }
  setFigure("range.from", d.range.from, undefined, d.range.from);
  setFigure("range.to", d.range.to, undefined, d.range.to);
  setFigure("range.days", String(d.range.days), undefined, d.range.days);
  setFigure("latest_date", d.latest_date ?? "none yet", undefined, d.latest_date);
  setFigure("search_min_sessions", String(d.search_min_sessions), undefined, d.search_min_sessions);

  const net = document.querySelector('[data-list="net-revenue"]');
  net.replaceChildren(
    ...(d.revenue.totals.length
      ? d.revenue.totals.map((t) => {
          const li = document.createElement("li");
          const v = document.createElement("span");
          v.setAttribute("data-figure", "revenue.net");
          v.setAttribute("data-key", t.currency);
          v.setAttribute("data-value", String(t.net_minor));
          v.textContent = fmtMoney(t.net_minor, t.currency);
          li.append(v);
          return li;
        })
      : [Object.assign(document.createElement("li"), { textContent: "no orders in this range" })]),
  );
  const orders = d.revenue.totals.reduce((s, t) => s + t.orders, 0);
  setFigure("orders.total", fmtInt(orders), undefined, orders);
  fillTable(
    "revenue",
    d.revenue.totals,
    [
      ["currency", (t) => t.currency],
      ["orders", (t) => fmtInt(t.orders), "num", (t) => t.orders],
      ["gross", (t) => fmtMoney(t.gross_minor, t.currency), "num", (t) => t.gross_minor],
      ["refunds", (t) => fmtMoney(t.refunds_minor, t.currency), "num", (t) => t.refunds_minor],
      ["net", (t) => fmtMoney(t.net_minor, t.currency), "num", (t) => t.net_minor],
    ],
    (t) => t.currency,
  );
  const days = daysOf(d.range.from, d.range.to);
  updateChart(
    revenueChart,
    days,
    d.revenue.totals.map((t) => {
      const byDay = new Map(d.revenue.daily.filter((r) => r.currency === t.currency).map((r) => [r.date, r.net_minor / 10 ** currencyDigits(t.currency)]));
      return { label: t.currency, data: days.map((day) => byDay.get(day) ?? null) };
    }),
  );

  const f = d.funnel;
  setFigure("funnel.conversion_rate", fmtRate(f.conversion_rate), undefined, f.conversion_rate);
  fillTable(
    "funnel",
    FUNNEL,
    [
      ["step", ([, label]) => label],
      ["sessions", ([k]) => fmtInt(f[k]), "num", ([k]) => f[k]],
      ["share", ([k]) => fmtRate(f.sessions > 0 ? f[k] / f.sessions : null), "num"],
    ],
    ([k]) => k,
  );
  updateChart(
    funnelChart,
    FUNNEL.map(([, label]) => label),
    [{ label: "sessions", data: FUNNEL.map(([k]) => f[k]) }],
  );

  const a = d.abandonment;
  setFigure("abandonment.rate", fmtRate(a.abandonment_rate), undefined, a.abandonment_rate);
  for (const k of ["carts", "ordered", "abandoned", "open"]) setFigure(`abandonment.${k}`, fmtInt(a[k]), undefined, a[k]);
  const byDay = new Map(a.daily.map((r) => [r.date, r]));
  updateChart(abandonmentChart, days, [
    { label: "ordered", data: days.map((day) => byDay.get(day)?.ordered ?? 0) },
    { label: "abandoned", data: days.map((day) => byDay.get(day)?.abandoned ?? 0) },
    { label: "still open", data: days.map((day) => (byDay.has(day) ? byDay.get(day).carts - byDay.get(day).ordered - byDay.get(day).abandoned : 0)) },
  ]);

  const ok = d.payments.reduce((s, p) => s + p.succeeded, 0);
  const ko = d.payments.reduce((s, p) => s + p.failed, 0);
  const success = ok + ko > 0 ? ok / (ok + ko) : null;
  setFigure("payments.success_rate", fmtRate(success), undefined, success);
  fillTable(
    "payments",
    d.payments,
    [
      ["gateway", (p) => p.gateway],
      ["initiated", (p) => fmtInt(p.initiated), "num", (p) => p.initiated],
      ["succeeded", (p) => fmtInt(p.succeeded), "num", (p) => p.succeeded],
      ["failed", (p) => fmtInt(p.failed), "num", (p) => p.failed],
      ["success_rate", (p) => fmtRate(p.success_rate), "num", (p) => p.success_rate],
    ],
    (p) => p.gateway,
  );
  updateChart(
    paymentsChart,
    d.payments.map((p) => p.gateway),
    [{ label: "success %", data: d.payments.map((p) => (p.success_rate === null ? null : Math.round(p.success_rate * 1000) / 10)) }],
  );

  fillTable(
    "top_products",
    d.top_products,
    [
      ["product_id", (p) => p.product_id],
      ["units", (p) => fmtInt(p.units), "num", (p) => p.units],
      ["orders", (p) => fmtInt(p.orders), "num", (p) => p.orders],
      ["views", (p) => fmtInt(p.views), "num", (p) => p.views],
      ["adds_to_cart", (p) => fmtInt(p.adds_to_cart), "num", (p) => p.adds_to_cart],
    ],
    (p) => p.product_id,
  );
  fillTable(
    "top_searches",
    d.top_searches,
    [
      ["query", (s) => s.query],
      ["searches", (s) => fmtInt(s.searches), "num", (s) => s.searches],
      ["sessions", (s) => fmtInt(s.sessions), "num", (s) => s.sessions],
      ["zero_results", (s) => fmtInt(s.zero_results), "num", (s) => s.zero_results],
    ],
    (s) => s.query,
  );
  fillTable(
    "zero_result_searches",
    d.zero_result_searches,
    [
      ["query", (s) => s.query],
      ["searches", (s) => fmtInt(s.searches), "num", (s) => s.searches],
      ["sessions", (s) => fmtInt(s.sessions), "num", (s) => s.sessions],
    ],
    (s) => s.query,
  );
}

const live = poll(apiUrl, render);

function rangeChanged(byUser) {
  chosen = byUser;
  const q = rangeQuery();
  history.replaceState(null, "", q.size ? `?${q}` : location.pathname);
  live.refresh();
}
form.from.addEventListener("change", () => rangeChanged(true));
form.to.addEventListener("change", () => rangeChanged(true));
form.querySelector("[data-range-reset]").addEventListener("click", () => rangeChanged(false));
