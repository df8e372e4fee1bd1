/**
 * `ecom query "<sql>"`: one read-only statement over Silver, Gold and ops
 * (jobs/query.ts), printed as a table or a JSON array of row objects.
 */
import type { Command } from "commander";
import { z } from "zod";
import { runQuery } from "../../jobs/query.js";
import { configSchema, parseOptions } from "../config.js";
import { formatTable } from "../format-table.js";

export const queryOptions = configSchema.pick({ dataDir: true }).extend({
  sql: z.string().refine((s) => s.trim() !== "", 'give one SQL statement, e.g. "SELECT count(*) FROM silver.order_events"'),
  json: z.boolean().default(false),
});

export function queryCommand(program: Command): void {
  program
    .command("query")
    .description("Run SQL on Silver, Gold and ops tables (through the running `ecom start` when there is one)")
    .argument("<sql>", 'e.g. "SELECT event_type, count(*) FROM silver.clickstream_events GROUP BY 1"')
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON array of row objects")
    .action(async (sql: string, flags: Record<string, unknown>) => {
      const o = parseOptions(queryOptions, { ...flags, sql });
      const rows = await runQuery(o.dataDir, o.sql);
      process.stdout.write(o.json ? JSON.stringify(rows) + "\n" : formatTable(rows));
    });
}
