/**
 * `ecom retention run|infra`: parse the flags (one schema each), call the
 * retention job (jobs/retention.ts) or write its production form
 * (jobs/retention-infra.ts), print a table or JSON.
 */
import type { Command } from "commander";
import { z } from "zod";
import { type RetentionReport, runRetention } from "../../jobs/retention.js";
import { writeRetentionInfra } from "../../jobs/retention-infra.js";
import { DEFAULT_RETENTION, SILVER_YEARS } from "../../schemas/retention.js";
import { configSchema, keyFields, keyFlags, parseOptions, servicesOf, wholeNumber } from "../config.js";
import { formatTable } from "../format-table.js";

export const runOptions = configSchema.pick({ dataDir: true }).extend({
  ...keyFields,
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
  silverYears: wholeNumber(SILVER_YEARS.min, SILVER_YEARS.max).default(DEFAULT_RETENTION.silverYears),
});

export const infraOptions = z.object({ out: z.string().min(1, "must be a folder path").default("infra") });

function printReport(r: RetentionReport): void {
  const verb = r.dry_run ? "would delete" : "deleted";
  process.stdout.write(
    `cutoffs: Bronze before ${r.cutoffs.bronze}, Silver and Gold before ${r.cutoffs.silver_gold}, dead letters received before ${r.cutoffs.dead_letters}\n`,
  );
  const rows = r.tables.filter((t) => t.rows > 0).map((t) => ({ target: t.target, rows: t.rows, by: t.column, oldest: t.oldest, newest: t.newest }));
  if (rows.length) process.stdout.write(formatTable(rows, { footer: false }));
  for (const p of r.bronze.list) process.stdout.write(`bronze/${p.partition}: ${p.files} files, ${p.bytes} bytes\n`);
  process.stdout.write(
    `${verb} ${r.totals.rows} rows in ${rows.length} tables and ${r.totals.files} Bronze files in ${r.bronze.partitions} partitions (${r.seconds.toFixed(2)} s); never touched: ${r.kept.join(", ")}, <data-dir>/audit/\n`,
  );
}

export function retentionCommand(program: Command): void {
  const retention = program
    .command("retention")
    .description(
      `Delete what is older than the retention policy: Bronze ${DEFAULT_RETENTION.bronzeYears} years, Silver and Gold ${SILVER_YEARS.min}-${SILVER_YEARS.max} years, dead letters ${DEFAULT_RETENTION.deadLetterDays} days`,
    );

  keyFlags(retention.command("run"))
    .description("Delete Bronze partitions, Silver/Gold/ops rows and dedupe bookkeeping older than the cutoffs (the privacy audit log is never touched)")
    .option("--data-dir <dir>", "data directory")
    .option("--silver-years <n>", `years Silver and Gold keep, ${SILVER_YEARS.min} to ${SILVER_YEARS.max} (default ${DEFAULT_RETENTION.silverYears})`)
    .option("--dry-run", "list what would be deleted (per table and Bronze partition) and delete nothing")
    .option("--json", "print the report as one JSON object, the last stdout line")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(runOptions, flags);
      const r = await runRetention(o.dataDir, { policy: { ...DEFAULT_RETENTION, silverYears: o.silverYears }, dryRun: o.dryRun, services: servicesOf(o) });
      if (o.json) process.stdout.write(JSON.stringify(r) + "\n");
      else printReport(r);
    });

  retention
    .command("infra")
    .description("Write the policy's production form: the Bronze bucket lifecycle rule and BigQuery partition expiration / daily DELETE")
    .option("--out <dir>", "infra folder (default infra)")
    .action((flags: Record<string, unknown>) => {
      const o = parseOptions(infraOptions, flags);
      const files = writeRetentionInfra(o.out);
      process.stdout.write(`wrote ${files.join(", ")}\n`);
    });
}
