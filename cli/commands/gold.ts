/**
 * `ecom gold rebuild|status|bigquery`: parse the flags (one schema each),
 * call the Gold job (jobs/gold-rebuild.ts, jobs/gold-status.ts,
 * jobs/gold-bigquery.ts), print a table or JSON.
 */
import type { Command } from "commander";
import { z } from "zod";
import { writeGoldBigQuery } from "../../jobs/gold-bigquery.js";
import { goldRebuild } from "../../jobs/gold-rebuild.js";
import { goldStatus } from "../../jobs/gold-status.js";
import { GOLD_MODEL_NAMES } from "../../gold/models/index.js";
import { checkServiceOptions, configSchema, isoDate, keyFields, keyFlags, parseOptions, servicesOf } from "../config.js";
import { warn } from "../log.js";
import { formatTable } from "../format-table.js";

/** A Gold table, with or without its `gold.` schema. */
const unqualified = (s: string) => s.replace(/^gold\./, "");
const goldTable = z
  .string()
  .refine((s) => GOLD_MODEL_NAMES.includes(unqualified(s)), {
    error: (i) => `no Gold table ${String(i.input)}; the tables are: ${GOLD_MODEL_NAMES.join(", ")}`,
    abort: true,
  })
  .transform(unqualified);

export const rebuildOptions = configSchema
  .pick({ dataDir: true })
  .extend({
    from: isoDate.optional(),
    to: isoDate.optional(),
    model: z.array(goldTable).optional(),
    json: z.boolean().default(false),
    ...keyFields,
  })
  .superRefine((o, ctx) => {
    checkServiceOptions(o, ctx);
    if (o.from && o.to && o.to < o.from) ctx.addIssue({ code: "custom", path: ["to"], message: `${o.to} is before --from ${o.from}` });
  });

export const statusOptions = configSchema
  .pick({ dataDir: true })
  .extend({ json: z.boolean().default(false), ...keyFields })
  .superRefine(checkServiceOptions);

export const bigqueryOptions = z.object({ out: z.string().min(1, "must be a folder path").default("infra/bigquery/gold") });

export function goldCommand(program: Command): void {
  const gold = program.command("gold").description("The Gold layer: business tables over Silver (see docs/gold.md)");

  keyFlags(gold.command("rebuild"))
    .description("Recompute Gold tables from Silver (all of it, or the UTC days --from..--to); idempotent")
    .option("--from <YYYY-MM-DD>", "first UTC day to rebuild")
    .option("--to <YYYY-MM-DD>", "last UTC day to rebuild (inclusive)")
    .option("--model <names...>", `only these tables: ${GOLD_MODEL_NAMES.join(", ")}`)
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON summary")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(rebuildOptions, flags);
      const r = await goldRebuild(o.dataDir, { from: o.from, to: o.to, models: o.model }, warn, servicesOf(o));
      if (o.json) process.stdout.write(JSON.stringify(r) + "\n");
      else {
        const range = o.from || o.to ? ` for ${o.from ?? "the beginning"} .. ${o.to ?? "the end"}` : "";
        process.stdout.write(
          formatTable(
            Object.entries(r.models).map(([table, ms]) => ({ table: `gold.${table}`, ms })),
            { footer: false },
          ),
        );
        process.stdout.write(
          `rebuilt ${Object.keys(r.models).length} Gold tables${range} in ${(r.ms / 1000).toFixed(2)} s (${r.via === "instance" ? "through the running instance" : "on the data file"})\n`,
        );
      }
    });

  keyFlags(gold.command("status"))
    .description("Gold tables: rows, when each was last built, windows waiting for a refresh")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print JSON rows")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(statusOptions, flags);
      const rows = await goldStatus(o.dataDir, servicesOf(o));
      process.stdout.write(o.json ? JSON.stringify(rows) + "\n" : formatTable(rows, { footer: false }));
    });

  gold
    .command("bigquery")
    .description("Write the Gold models compiled for BigQuery (DDL, scheduled refresh, rebuild, one SELECT per table)")
    .option("--out <dir>", "output folder (default infra/bigquery/gold)")
    .action((flags: Record<string, unknown>) => {
      const o = parseOptions(bigqueryOptions, flags);
      const files = writeGoldBigQuery(o.out);
      process.stdout.write(`wrote ${files.length} BigQuery SQL files to ${o.out}\n`);
    });
}
