#!/usr/bin/env node
/**
 * `ecom`: the command line of the platform. Each command parses its flags
 * into its one validated options object, calls a job and prints. A bad
 * flag (UsageError) or input a job refused (InputError) exits 2; any other
 * failure exits 1.
 */
import { Command } from "commander";
import { InputError } from "../jobs/errors.js";
import { publicErrorMessage } from "../sinks/duckdb/read-only.js";
import { UsageError } from "./config.js";
import { dashboardCommand } from "./commands/dashboard.js";
import { deadLettersCommand } from "./commands/dead-letters.js";
import { deployCommand } from "./commands/deploy.js";
import { generateCommand } from "./commands/generate.js";
import { goldCommand } from "./commands/gold.js";
import { ingestCommand } from "./commands/ingest.js";
import { keysCommand } from "./commands/keys.js";
import { privacyCommand } from "./commands/privacy.js";
import { monitoringCommand } from "./commands/monitoring.js";
import { queryCommand } from "./commands/query.js";
import { reportCommand } from "./commands/report.js";
import { retentionCommand } from "./commands/retention.js";
import { schemasCommand } from "./commands/schemas.js";
import { startCommand } from "./commands/start.js";
import { statusCommand } from "./commands/status.js";

// Whatever this process or its children create (DuckDB's WAL, the Pub/Sub emulator's files) is private to
// the user, beside the explicit 0600/0700 modes the platform's own files get.
process.umask(0o077);

const program = new Command();
program.name("ecom").description("ecom-stream: e-commerce events from Pub/Sub to Bronze, Silver and Gold, exactly once").showHelpAfterError();

startCommand(program);
ingestCommand(program);
generateCommand(program);
queryCommand(program);
schemasCommand(program);
deadLettersCommand(program);
deployCommand(program);
goldCommand(program);
reportCommand(program);
keysCommand(program);
privacyCommand(program);
retentionCommand(program);
dashboardCommand(program);
monitoringCommand(program);
statusCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // A store's error can echo row values: the terminal gets the redacted form, never the raw text.
  const message = err instanceof Error ? publicErrorMessage(err) : String(err);
  const usage = err instanceof UsageError || err instanceof InputError;
  process.stderr.write(`ecom: ${message}\n`);
  if (!usage && process.env.ECOM_DEBUG) process.stderr.write(`${((err as Error).stack ?? "").split("\n").slice(1).join("\n")}\n`);
  process.exit(usage ? 2 : 1);
});
