/**
 * `ecom dashboard`: prints the links to the running instance's operations
 * and business pages (jobs/dashboard/links.ts), or says that none runs and
 * how to start one (exit 1).
 */
import type { Command } from "commander";
import { z } from "zod";
import { dashboardStatus } from "../../jobs/dashboard/links.js";
import { configSchema, parseOptions } from "../config.js";

export const dashboardOptions = configSchema.pick({ dataDir: true }).extend({ json: z.boolean().default(false) });

export function dashboardCommand(program: Command): void {
  program
    .command("dashboard")
    .description("Print the links (with the access token) to the operations and business dashboards of the running `ecom start`")
    .option("--data-dir <dir>", "data directory of the running instance")
    .option("--json", 'print {"running":true,"links":{"ops":...,"business":...},...} or {"running":false,...}')
    .action((flags: Record<string, unknown>) => {
      const o = parseOptions(dashboardOptions, flags);
      const status = dashboardStatus(o.dataDir);
      if (o.json) process.stdout.write(JSON.stringify(status) + "\n");
      if (!status.running) {
        process.stderr.write(
          `ecom: no running instance for ${o.dataDir} (no live ${status.instance_file}).\n` +
            `  The dashboards are served by \`ecom start\`: run \`ecom start --data-dir ${o.dataDir}\`, then \`ecom dashboard\` again.\n`,
        );
        process.exitCode = 1;
        return;
      }
      if (o.json) return;
      process.stdout.write(
        `ecom start is running for ${o.dataDir} (pid ${status.pid}, since ${status.started_at}):\n` +
          renderLinks(status.links) +
          "Open a link once: it signs this browser in (an HttpOnly cookie) and the token leaves the address bar.\n" +
          "The token is the instance's password until it stops; a new one is made at every start.\n",
      );
    });
}

export function renderLinks(links: { ops: string; business: string }): string {
  return `  operations  ${links.ops}\n  business    ${links.business}\n`;
}
