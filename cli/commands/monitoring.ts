/** `ecom monitoring generate`: the Prometheus rules and Cloud Monitoring policies from the objectives (jobs/monitoring.ts). */
import type { Command } from "commander";
import { z } from "zod";
import { generateMonitoringFiles } from "../../jobs/monitoring.js";
import { parseOptions } from "../config.js";

export const monitoringGenerateOptions = z.object({ out: z.string().min(1, "must be a folder path").default("infra/monitoring") });

export function monitoringCommand(program: Command): void {
  const monitoring = program.command("monitoring").description("Alert rules and policies generated from the service level objectives");
  monitoring
    .command("generate")
    .description(
      "Write infra/monitoring/alerts.yml (Prometheus rules) and the Cloud Monitoring policies (*.tf) from pipelines/observe/slo.ts; commit what changed",
    )
    .option("--out <dir>", "output folder (default infra/monitoring)")
    .action((flags: Record<string, unknown>) => {
      const o = parseOptions(monitoringGenerateOptions, flags);
      for (const f of generateMonitoringFiles(o.out)) process.stdout.write(`${f.changed ? "wrote    " : "unchanged"} ${f.path}\n`);
    });
}
