/** `ecom schemas`: the event schemas as JSON Schema files for producers (jobs/schemas-export.ts). */
import type { Command } from "commander";
import { z } from "zod";
import { writeJsonSchemas } from "../../jobs/schemas-export.js";
import { parseOptions } from "../config.js";

export const schemasOptions = z.object({ out: z.string().min(1, "must be a folder path").default("schemas/json") });

export function schemasCommand(program: Command): void {
  program
    .command("schemas")
    .description("Export the event schemas as JSON Schema files for producers")
    .option("--out <dir>", "output folder (default schemas/json)")
    .action((flags: Record<string, unknown>) => {
      const o = parseOptions(schemasOptions, flags);
      const files = writeJsonSchemas(o.out);
      process.stdout.write(`wrote ${files.length} JSON Schema files to ${o.out}\n`);
    });
}
