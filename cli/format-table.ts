/**
 * Rows as an aligned text table for people, as `ecom query` and `ecom report`
 * print them: numbers right-aligned (integers as given, fractions with the
 * same number of decimals down a column, at most 4), NULL spelled out, long
 * or multi-line text cut to one line. `--json` is the exact form.
 */

export interface TableOptions {
  /** Widest a column may get before its text is cut (default 60). */
  maxWidth?: number;
  /** Print the "(N rows)" footer (default true). */
  footer?: boolean;
}

const MAX_DECIMALS = 4;
const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;
/** Numbers already formatted for people: 1,234.56, 12.5%, n/a. */
const FORMATTED_NUMBER = /^(-?[\d,]+(\.\d+)?%?|n\/a)$/;

/** int/decimal: numbers (decimals evened out); figure: formatted numbers kept as they are; both right-aligned. */
type Kind = "int" | "decimal" | "figure" | "text";

function kindOf(values: readonly unknown[]): Kind {
  let decimal = false;
  let formatted = false;
  let any = false;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    any = true;
    if (typeof v === "number" || typeof v === "bigint") {
      if (typeof v === "number" && !Number.isInteger(v)) decimal = true;
    } else if (typeof v === "string" && NUMERIC_TEXT.test(v)) {
      if (v.includes(".")) decimal = true;
    } else if (typeof v === "string" && FORMATTED_NUMBER.test(v)) formatted = true;
    else return "text";
  }
  return !any ? "text" : formatted ? "figure" : decimal ? "decimal" : "int";
}

function decimalsOf(v: unknown): number {
  const s = typeof v === "number" ? String(v) : typeof v === "string" ? v : "";
  if (/e/i.test(s)) return MAX_DECIMALS;
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : Math.min(MAX_DECIMALS, s.length - dot - 1);
}

function text(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v).replace(/\r?\n/g, "\\n").replace(/\t/g, " ");
}

export function formatTable(rows: readonly Record<string, unknown>[], opts: TableOptions = {}): string {
  if (rows.length === 0) return "(no rows)\n";
  const maxWidth = opts.maxWidth ?? 60;
  const cols = Object.keys(rows[0]!);
  const kinds = cols.map((c) => kindOf(rows.map((r) => r[c])));
  const decimals = cols.map((c, i) => (kinds[i] === "decimal" ? rows.reduce((m, r) => Math.max(m, decimalsOf(r[c])), 0) : 0));
  const cells = rows.map((r) =>
    cols.map((c, i) => {
      const v = r[c];
      if (v === null || v === undefined) return "NULL";
      if (kinds[i] === "decimal") return Number(v).toFixed(decimals[i]);
      return text(v);
    }),
  );
  const widths = cols.map((c, i) =>
    Math.min(
      maxWidth,
      cells.reduce((m, r) => Math.max(m, r[i]!.length), c.length),
    ),
  );
  const pad = (s: string, i: number) => {
    const w = widths[i]!;
    const t = s.length > w ? s.slice(0, w - 1) + "…" : s;
    return kinds[i] === "text" ? t.padEnd(w) : t.padStart(w);
  };
  const lines = [
    cols.map((c, i) => pad(c, i)).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => r.map((s, i) => pad(s, i)).join("  ")),
  ];
  const footer = opts.footer === false ? "" : `(${rows.length} row${rows.length === 1 ? "" : "s"})\n`;
  return lines.map((l) => l.trimEnd()).join("\n") + "\n" + footer;
}
