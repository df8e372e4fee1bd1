/** Rows as an aligned text table for people (numbers right-aligned), as `ecom query` prints them. */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return "(no rows)\n";
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown): string => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const numeric = cols.map((c) => rows.every((r) => r[c] === null || typeof r[c] === "number"));
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const fit = (s: string, i: number) => {
    const w = widths[i]!;
    const t = s.length > w ? s.slice(0, w - 1) + "…" : s;
    return numeric[i] ? t.padStart(w) : t.padEnd(w);
  };
  const lines = [
    cols.map((c, i) => fit(c, i)).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => r.map((s, i) => fit(s, i)).join("  ")),
  ];
  return lines.map((l) => l.trimEnd()).join("\n") + `\n(${rows.length} row${rows.length === 1 ? "" : "s"})\n`;
}
