/**
 * `ecom dead-letters list|replay`: parse the flags (one schema each), call
 * the job (jobs/list-dead-letters.ts, jobs/replay-dead-letters.ts), print
 * a table or JSON.
 */
import type { Command } from "commander";
import { z } from "zod";
import { listDeadLetters } from "../../jobs/list-dead-letters.js";
import { replayDeadLettersJob } from "../../jobs/replay-dead-letters.js";
import { EVENT_TYPE_NAMES, type EventType } from "../../schemas/registry.js";
import { DEAD_LETTER_REASONS } from "../../transforms/types.js";
import {
  checkServiceOptions,
  configSchema,
  keyFields,
  keyFlags,
  oneOf,
  parseOptions,
  servicesOf,
  textInspectorFields,
  textInspectorFlags,
  wholeNumber,
} from "../config.js";
import { warn } from "../log.js";
import { formatTable } from "../format-table.js";

const reason = oneOf(DEAD_LETTER_REASONS);

export const listOptions = configSchema.pick({ dataDir: true }).extend({
  reason: reason.optional(),
  limit: wholeNumber(1, 1_000_000).default(50),
  showRaw: z.boolean().default(false),
  json: z.boolean().default(false),
});

export const replayOptions = configSchema
  .pick({ dataDir: true })
  .extend({
    reason: reason.optional(),
    type: oneOf(EVENT_TYPE_NAMES as [EventType, ...EventType[]]).optional(),
    limit: wholeNumber(1).optional(),
    json: z.boolean().default(false),
    ...keyFields,
    ...textInspectorFields,
  })
  .superRefine(checkServiceOptions);

export function deadLettersCommand(program: Command): void {
  const dl = program.command("dead-letters").description("Inspect and replay events that failed validation");

  dl.command("list")
    .description("List dead letters (newest first) with their reason and failing fields")
    .option("--data-dir <dir>", "data directory")
    .option("--reason <reason>", `only this reason: ${DEAD_LETTER_REASONS.join(", ")}`)
    .option("--limit <n>", "at most n rows (default 50)")
    .option("--show-raw", "include the raw bytes (card numbers are redacted, other personal data is not)")
    .option("--json", "print a JSON array")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(listOptions, flags);
      const rows = await listDeadLetters(o.dataDir, { reason: o.reason, limit: o.limit, showRaw: o.showRaw });
      process.stdout.write(o.json ? JSON.stringify(rows) + "\n" : formatTable(rows));
    });

  const replay = dl.command("replay");
  textInspectorFlags(keyFlags(replay))
    .description("Re-validate dead letters; those that now pass move to Silver with their original event_id and event_time")
    .option("--data-dir <dir>", "data directory")
    .option("--reason <reason>", `only dead letters with this reason: ${DEAD_LETTER_REASONS.join(", ")}`)
    .option("--type <event_type>", "only this event type (e.g. order_created)")
    .option("--limit <n>", "at most n dead letters (oldest first)")
    .option("--json", "print a JSON summary as the last stdout line")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(replayOptions, flags);
      const s = await replayDeadLettersJob(o.dataDir, { reason: o.reason, eventType: o.type, limit: o.limit }, warn, servicesOf(o));
      process.stdout.write(
        o.json
          ? JSON.stringify(s) + "\n"
          : `selected ${s.selected}: replayed ${s.replayed}, already in Silver ${s.already_in_silver}, still failing ${s.still_failing}\n`,
      );
    });
}
