/**
 * `ecom report`: a day's headline numbers from Gold (jobs/gold-report.ts),
 * as a text page for people or as JSON.
 */
import type { Command } from "commander";
import { z } from "zod";
import { type Report, formatMoney, percent, reportJob } from "../../jobs/gold-report.js";
import { checkServiceOptions, configSchema, isoDate, keyFields, keyFlags, parseOptions, servicesOf, todayUtc } from "../config.js";
import { warn } from "../log.js";
import { formatTable } from "../format-table.js";

export const reportOptions = configSchema
  .pick({ dataDir: true })
  .extend({
    date: isoDate.default(todayUtc),
    json: z.boolean().default(false),
    ...keyFields,
  })
  .superRefine(checkServiceOptions);

export function reportCommand(program: Command): void {
  keyFlags(program.command("report"))
    .description("Today's headline numbers from Gold: revenue by currency, conversion rate, abandonment rate, payment success by gateway")
    .option("--date <YYYY-MM-DD>", "UTC date to report (default: today, UTC)")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print the report as JSON")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(reportOptions, flags);
      const report = await reportJob(o.dataDir, o.date, warn, servicesOf(o));
      process.stdout.write(o.json ? JSON.stringify(report) + "\n" : renderReport(report));
    });
}

export function renderReport(r: Report): string {
  const out: string[] = [`Gold report for ${r.date} (UTC)`, ""];
  if (r.revenue.length === 0 && r.conversion.sessions === 0 && r.payments.length === 0) {
    out.push(`No events on ${r.date}.` + (r.latest_date ? ` The newest day with orders is ${r.latest_date}: ecom report --date ${r.latest_date}` : ""));
    return out.join("\n") + "\n";
  }
  out.push("Revenue by currency (major units)");
  out.push(
    formatTable(
      r.revenue.map((x) => ({
        currency: x.currency,
        orders: x.orders,
        gross: formatMoney(x.gross_minor, x.currency),
        refunds: formatMoney(x.refunds_minor, x.currency),
        net: formatMoney(x.net_minor, x.currency),
      })),
      { footer: false },
    ).replace(/^\(no rows\)\n$/, "(no orders)\n"),
  );
  const c = r.conversion;
  out.push(`Conversion rate   ${percent(c.conversion_rate)}  (${c.ordered} of ${c.sessions} sessions ordered; paid: ${percent(c.paid_rate)})`);
  const a = r.abandonment;
  out.push(`Abandonment rate  ${percent(a.abandonment_rate)}  (${a.abandoned} of ${a.carts} carts abandoned, ${a.ordered} ordered)`);
  out.push("");
  out.push("Payment success by gateway");
  out.push(
    formatTable(
      r.payments.map((p) => ({ gateway: p.gateway, initiated: p.initiated, succeeded: p.succeeded, failed: p.failed, success_rate: percent(p.success_rate) })),
      { footer: false },
    ).replace(/^\(no rows\)\n$/, "(no payments)\n"),
  );
  return out.join("\n");
}
