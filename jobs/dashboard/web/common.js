/**
 * What both dashboards share: polling their JSON route, number formats,
 * table rows and figures with stable data-* attributes (the browser tests
 * read them), and Chart.js defaults. An ES module; Chart.js is the global
 * that the classic script loaded before it defines.
 *
 * Every text from the server goes into the page as textContent, never as
 * markup: a search query is producer text.
 */

/** How often the figures are fetched again. */
export const POLL_MS = 5000;

const Chart = globalThis.Chart;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = "system-ui, sans-serif";
Chart.defaults.color = "#3b4756";

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function fmtInt(n) {
  return n === null || n === undefined ? "n/a" : Math.round(n).toLocaleString("en-US");
}

export function fmtRate(r) {
  return r === null || r === undefined ? "n/a" : `${(r * 100).toFixed(1)}%`;
}

/** Seconds as "850 ms", "4.20 s" or "3.5 min". */
export function fmtSeconds(s) {
  if (s === null || s === undefined) return "n/a";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

/** Decimal places of a currency's minor unit (2 for USD, 0 for JPY). */
export function currencyDigits(currency) {
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Minor units as the currency's major units, e.g. 414574 EUR as "€4,145.74". */
export function fmtMoney(minor, currency) {
  const digits = currencyDigits(currency);
  const major = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${currency}`;
  }
}

export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The raw value of a figure as `data-value` reads it: a number unrounded, a string as is, "" for none. */
function rawValue(value) {
  return value === null || value === undefined ? "" : String(value);
}

/**
 * Sets the text of the one element `[data-figure=name]` (and `[data-key=key]` when given) and, when `value` is
 * given, its `data-value` (the unformatted figure: what the browser tests compare).
 */
export function setFigure(name, text, key, ...value) {
  const sel = key === undefined ? `[data-figure="${name}"]:not([data-key])` : `[data-figure="${name}"][data-key="${CSS.escape(key)}"]`;
  for (const node of document.querySelectorAll(sel)) {
    node.textContent = text;
    if (value.length) node.setAttribute("data-value", rawValue(value[0]));
  }
}

/**
 * Replaces the rows of `<tbody data-table=name>`: one `<tr data-key>` per row, one `<td data-field>` per
 * column; `columns` are `[field, text(row), className?, value(row)?]`, `value` giving the cell's `data-value`.
 */
export function fillTable(name, rows, columns, keyOf, emptyText = "nothing in this range") {
  const body = document.querySelector(`tbody[data-table="${name}"]`);
  const trs = rows.map((row) => {
    const tr = el("tr", { "data-key": String(keyOf(row)) });
    for (const [field, text, className, value] of columns) {
      const attrs = { "data-field": field };
      if (className) attrs.class = typeof className === "function" ? className(row) : className;
      if (value) attrs["data-value"] = rawValue(value(row));
      const td = el("td", attrs, text(row));
      tr.append(td);
    }
    return tr;
  });
  if (trs.length === 0) {
    const td = el("td", { colspan: String(columns.length), class: "empty" }, emptyText);
    trs.push(el("tr", { "data-empty": "" }));
    trs[0].append(td);
  }
  body.replaceChildren(...trs);
}

/** A Chart.js chart on `<canvas data-chart=name>`. */
export function chart(name, config) {
  const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
  return new Chart(canvas, config);
}

/** Replaces a chart's labels and datasets (kept by label so colours stay) and redraws it. */
export function updateChart(c, labels, datasets) {
  c.data.labels = labels;
  c.data.datasets = datasets.map((d, i) => ({
    backgroundColor: PALETTE[i % PALETTE.length],
    borderColor: PALETTE[i % PALETTE.length],
    ...d,
  }));
  c.update();
}

/**
 * Fetches `url()` now and every POLL_MS, hands the JSON to `render`, and says in `[data-status]` when it
 * last succeeded or why it failed. Returns `refresh()` to fetch at once (after the range changed).
 */
export function poll(url, render) {
  const status = document.querySelector("[data-status]");
  let timer;
  let seq = 0;
  async function tick() {
    clearTimeout(timer);
    const mine = ++seq;
    try {
      const res = await fetch(url(), { headers: { accept: "application/json" }, cache: "no-store" });
      if (res.status === 401) throw new Error("not signed in to this instance: open the link that `ecom dashboard` prints");
      if (!res.ok) throw new Error((await res.text()).trim() || `HTTP ${res.status}`);
      const data = await res.json();
      if (mine !== seq) return;
      render(data);
      status.textContent = `updated ${new Date().toLocaleTimeString("en-GB")}`;
      status.className = "status ok";
      status.setAttribute("data-updated", data.generated_at);
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = err instanceof TypeError ? "cannot reach the instance (is `ecom start` still running?)" : err.message;
      status.className = "status error";
    } finally {
      if (mine === seq) timer = setTimeout(tick, POLL_MS);
    }
  }
  tick();
  return { refresh: tick };
}
