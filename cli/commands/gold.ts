import type { Command } from "commander";
import { writeGoldBigQuery } from "../../jobs/gold-bigquery.js";
import { goldRebuild } from "../../jobs/gold-rebuild.js";
import { withGoldQuery } from "../../jobs/gold-report.js";
import { GOLD_MODELS } from "../../gold/models/index.js";
import { UsageError, loadConfig } from "../config.js";
import { formatTable } from "../format-table.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function goldCommand(program: Command): void {
  const gold = program.command("gold").description("The Gold layer: business tables over Silver (see docs/gold.md)");

  gold
    .command("rebuild")
    .description("Recompute Gold tables from Silver (all of it, or the UTC days --from..--to); idempotent")
    .option("--from <YYYY-MM-DD>", "first UTC day to rebuild")
    .option("--to <YYYY-MM-DD>", "last UTC day to rebuild (inclusive)")
    .option("--model <names...>", `only these tables: ${GOLD_MODELS.map((m) => m.name).join(", ")}`)
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON summary")
    .action(async (flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      for (const f of ["from", "to"] as const) {
        const v = flags[f];
        if (v !== undefined && !DATE.test(String(v))) throw new UsageError(`--${f} must be a UTC date like 2026-03-01, got ${String(v)}`);
      }
      const names = flags.model as string[] | undefined;
      for (const n of names ?? []) {
        if (!GOLD_MODELS.some((m) => m.name === n || `gold.${m.name}` === n)) {
          throw new UsageError(`no Gold table ${n}; the tables are: ${GOLD_MODELS.map((m) => m.name).join(", ")}`);
        }
      }
      const r = await goldRebuild(config.dataDir, { from: flags.from as string | undefined, to: flags.to as string | undefined, models: names });
      if (flags.json) process.stdout.write(JSON.stringify(r) + "\n");
      else {
        const range = flags.from || flags.to ? ` for ${String(flags.from ?? "the beginning")} .. ${String(flags.to ?? "the end")}` : "";
        process.stdout.write(formatTable(Object.entries(r.models).map(([table, ms]) => ({ table: `gold.${table}`, ms })), { footer: false }));
        process.stdout.write(`rebuilt ${Object.keys(r.models).length} Gold tables${range} in ${(r.ms / 1000).toFixed(2)} s (${r.via === "instance" ? "through the running instance" : "on the data file"})\n`);
      }
    });

  gold
    .command("status")
    .description("Gold tables: rows, when each was last built, windows waiting for a refresh")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print JSON rows")
    .action(async (flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      const rows = await withGoldQuery(config.dataDir, async (q) => {
        const out: Record<string, unknown>[] = [];
        const built = new Map((await q(`SELECT model, CAST(built_at AS VARCHAR) AS built_at FROM ops.gold_models`)).map((r) => [r.model, r.built_at]));
        const dirty = new Map((await q(`SELECT model, count(*) AS n FROM ops.gold_dirty GROUP BY model`)).map((r) => [r.model, r.n]));
        for (const m of GOLD_MODELS) {
          const n = (await q(`SELECT count(*) AS n FROM gold.${m.name}`))[0]?.n;
          out.push({ table: `gold.${m.name}`, rows: n, window: m.window.grain, pending_windows: dirty.get(m.name) ?? 0, last_full_build: built.get(m.name) ?? null });
        }
        return out;
      });
      process.stdout.write(flags.json ? JSON.stringify(rows) + "\n" : formatTable(rows, { footer: false }));
    });

  gold
    .command("bigquery")
    .description("Write the Gold models compiled for BigQuery (DDL, scheduled refresh, rebuild, one SELECT per table)")
    .option("--out <dir>", "output folder", "infra/bigquery/gold")
    .action((flags: { out: string }) => {
      const files = writeGoldBigQuery(flags.out);
      process.stdout.write(`wrote ${files.length} BigQuery SQL files to ${flags.out}\n`);
    });
}
