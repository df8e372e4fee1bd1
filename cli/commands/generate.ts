/**
 * `ecom generate`: seeded, realistic traffic (jobs/generate.ts) to an NDJSON
 * file or to the Pub/Sub emulator. Prints the counts as JSON on stdout and
 * the pace on stderr.
 */
import type { Command } from "commander";
import { z } from "zod";
import { generateJob } from "../../jobs/generate.js";
import { configSchema, isoTime, parseOptions, wholeNumber } from "../config.js";

export const generateOptions = configSchema
  .pick({ projectId: true, topic: true, subscription: true, emulatorHost: true, rate: true, seed: true, duplicates: true, invalid: true })
  .extend({
    out: z.string().min(1, "must be a file path (.ndjson or .ndjson.gz)").optional(),
    publish: z.boolean().default(false),
    count: wholeNumber(1, 1_000_000_000).default(10_000),
    startTime: isoTime.default(() => new Date()),
  })
  .superRefine((o, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (o.out === undefined && !o.publish) issue("out", "give --out <file> to write NDJSON, or --publish to send to Pub/Sub");
    if (o.out !== undefined && o.publish) issue("publish", "not with --out: give one of --out <file> or --publish");
    if (o.publish && o.out === undefined && !o.emulatorHost) {
      issue("publish", "needs PUBSUB_EMULATOR_HOST=host:port of a running emulator (or run `ecom start`, which publishes generated traffic itself)");
    }
  });

export function generateCommand(program: Command): void {
  program
    .command("generate")
    .description("Generate realistic, seeded e-commerce traffic to an NDJSON file or to Pub/Sub")
    .option("--out <file>", "write NDJSON here (.ndjson or .ndjson.gz) as fast as possible")
    .option("--publish", "publish to the Pub/Sub topic (PUBSUB_EMULATOR_HOST must point at an emulator) at --rate")
    .option("--count <n>", "number of messages (default 10000)")
    .option("--rate <events_per_s>", "events per second: publish pace, and event-time spacing")
    .option("--seed <n>", "seed (same seed, same output)")
    .option("--start-time <iso>", "event_time of the first event (default: now)")
    .option("--duplicates <fraction>", "fraction re-sent as exact duplicates")
    .option("--invalid <fraction>", "fraction that are invalid (garbage, unknown type/version, schema violations)")
    .option("--project-id <id>", "GCP project id")
    .option("--topic <name>", "topic")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(generateOptions, flags);
      const opts = { seed: o.seed, ratePerSecond: o.rate, startTime: o.startTime, duplicateFraction: o.duplicates, invalidFraction: o.invalid };
      const target =
        o.out !== undefined
          ? { file: o.out }
          : { pubsub: { projectId: o.projectId, topic: o.topic, subscription: o.subscription, emulatorHost: o.emulatorHost } };
      const t0 = performance.now();
      const counts = await generateJob(target, opts, o.count);
      const secs = (performance.now() - t0) / 1000;
      process.stderr.write(`${counts.messages} messages in ${secs.toFixed(1)} s (${Math.round(counts.messages / secs)}/s)\n`);
      process.stdout.write(JSON.stringify(counts) + "\n");
    });
}
