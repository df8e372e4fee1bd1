import type { Command } from "commander";
import { replayDeadLetters } from "../../jobs/replay-dead-letters.js";
import { runQuery } from "../../jobs/query.js";
import { openRuntime } from "../../jobs/runtime.js";
import { findInstance } from "../../pipelines/local/instance.js";
import { loadConfig } from "../config.js";
import { formatTable } from "../format-table.js";

export function deadLettersCommand(program: Command): void {
  const dl = program.command("dead-letters").description("Inspect and replay events that failed validation");

  dl.command("list")
    .description("List dead letters (newest first) with their reason and failing fields")
    .option("--data-dir <dir>", "data directory")
    .option("--reason <reason>", "only this reason: too_large, malformed_json, not_an_object, unknown_type, unknown_version, schema_violation")
    .option("--limit <n>", "at most n rows", "50")
    .option("--show-raw", "include the raw bytes (card numbers are redacted, other personal data is not)")
    .option("--json", "print a JSON array")
    .action(async (flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error("--limit must be a positive integer");
      const reason = typeof flags.reason === "string" ? flags.reason.replace(/[^a-z_]/g, "") : undefined;
      const rows = await runQuery(
        config.dataDir,
        `SELECT dl_id, reason, event_type, schema_version, detail, paths, origin, received_at, replay_attempts${flags.showRaw ? ", decode(raw) AS raw" : ""}
         FROM ops.dead_letters ${reason ? `WHERE reason = '${reason}'` : ""} ORDER BY dead_lettered_at DESC, dl_id LIMIT ${limit}`,
      );
      process.stdout.write(flags.json ? JSON.stringify(rows) + "\n" : formatTable(rows));
    });

  dl.command("replay")
    .description("Re-validate dead letters; those that now pass move to Silver with their original event_id and event_time")
    .option("--data-dir <dir>", "data directory")
    .option("--reason <reason>", "only dead letters with this reason")
    .option("--type <event_type>", "only this event type")
    .option("--limit <n>", "at most n dead letters")
    .option("--json", "print a JSON summary as the last stdout line")
    .action(async (flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      if (findInstance(config.dataDir)) {
        throw new Error(`ecom start is running on ${config.dataDir}; stop it (Ctrl-C) before replaying, replay writes to the store it owns.`);
      }
      const engine = await openRuntime(config.dataDir);
      try {
        const s = await replayDeadLetters(engine, {
          reason: flags.reason as string | undefined,
          eventType: flags.type as string | undefined,
          limit: flags.limit === undefined ? undefined : Number(flags.limit),
        });
        process.stdout.write(
          flags.json
            ? JSON.stringify(s) + "\n"
            : `selected ${s.selected}: replayed ${s.replayed}, already in Silver ${s.already_in_silver}, still failing ${s.still_failing}\n`,
        );
      } finally {
        engine.close();
      }
    });
}
