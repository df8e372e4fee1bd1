import type { Command } from "commander";
import { writeJsonSchemas } from "../../jobs/schemas-export.js";

export function schemasCommand(program: Command): void {
  program
    .command("schemas")
    .description("Export the event schemas as JSON Schema files for producers")
    .option("--out <dir>", "output folder", "schemas/json")
    .action((flags: { out: string }) => {
      const files = writeJsonSchemas(flags.out);
      process.stdout.write(`wrote ${files.length} JSON Schema files to ${flags.out}\n`);
    });
}
