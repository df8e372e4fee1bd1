import type { Command } from "commander";
import { runQuery } from "../../jobs/query.js";
import { loadConfig } from "../config.js";
import { formatTable } from "../format-table.js";

export function queryCommand(program: Command): void {
  program
    .command("query")
    .description("Run SQL on Silver, Gold and ops tables (through the running `ecom start` when there is one)")
    .argument("<sql>", 'e.g. "SELECT event_type, count(*) FROM silver.clickstream_events GROUP BY 1"')
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON array of row objects")
    .action(async (sql: string, flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      const rows = await runQuery(config.dataDir, sql);
      process.stdout.write(flags.json ? JSON.stringify(rows) + "\n" : formatTable(rows));
    });
}
