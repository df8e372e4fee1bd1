/**
 * `ecom keys rewrap`: parse the flags (one schema), call the job
 * (jobs/rewrap-keys.ts), print what was rewrapped.
 */
import type { Command } from "commander";
import { z } from "zod";
import { rewrapKeysJob } from "../../jobs/rewrap-keys.js";
import { checkServiceOptions, configSchema, keyFields, keyFlags, parseOptions, servicesOf } from "../config.js";

export const rewrapOptions = configSchema
  .pick({ dataDir: true })
  .extend({ json: z.boolean().default(false), ...keyFields })
  .superRefine(checkServiceOptions);

export function keysCommand(program: Command): void {
  const keys = program.command("keys").description("The key-encryption key of the subject keys");
  keyFlags(keys.command("rewrap"))
    .description(
      "After a rotation of the Cloud KMS key: wrap every stored subject key again by its current primary version, in one transaction " +
        "(Bronze is not rewritten; older versions can then be disabled). Stop `ecom start` first.",
    )
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON summary")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(rewrapOptions, flags);
      const s = await rewrapKeysJob(o.dataDir, servicesOf(o));
      const versions = (v: Record<string, number>) =>
        Object.entries(v)
          .map(([name, n]) => `${name.replace(/^.*\/cryptoKeyVersions\//, "v")}: ${n}`)
          .join(", ") || "-";
      process.stdout.write(
        o.json ? JSON.stringify(s) + "\n" : `rewrapped ${s.keys} subject keys under ${s.kek} (before ${versions(s.before)}; after ${versions(s.after)})\n`,
      );
    });
}
