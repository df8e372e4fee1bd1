import type { Command } from "commander";
import { generateToFile, generateToPubSub } from "../../jobs/generate.js";
import { EventPublisher, ensureTopicAndSubscription } from "../../sources/pubsub.js";
import { loadConfig } from "../config.js";

export function generateCommand(program: Command): void {
  program
    .command("generate")
    .description("Generate realistic, seeded e-commerce traffic to an NDJSON file or to Pub/Sub")
    .option("--out <file>", "write NDJSON here (.ndjson or .ndjson.gz) as fast as possible")
    .option("--publish", "publish to the Pub/Sub topic (PUBSUB_EMULATOR_HOST must point at an emulator) at --rate")
    .option("--count <n>", "number of messages", "10000")
    .option("--rate <events_per_s>", "events per second: publish pace, and event-time spacing")
    .option("--seed <n>", "seed (same seed, same output)")
    .option("--start-time <iso>", "event_time of the first event (default: now)")
    .option("--duplicates <fraction>", "fraction re-sent as exact duplicates")
    .option("--invalid <fraction>", "fraction that are invalid (garbage, unknown type/version, schema violations)")
    .option("--project-id <id>", "GCP project id")
    .option("--topic <name>", "topic")
    .action(async (flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      const count = Number(flags.count);
      if (!Number.isInteger(count) || count < 1) throw new Error("--count must be a positive integer");
      const startTime = flags.startTime ? new Date(String(flags.startTime)) : new Date();
      if (Number.isNaN(startTime.getTime())) throw new Error("--start-time must be an ISO 8601 time like 2026-11-25T00:00:00Z");
      const opts = { seed: config.seed, ratePerSecond: config.rate, startTime, duplicateFraction: config.duplicates, invalidFraction: config.invalid };
      if (Boolean(flags.out) === Boolean(flags.publish)) throw new Error("give exactly one of --out <file> or --publish");
      const t0 = performance.now();
      let counts;
      if (flags.out) counts = await generateToFile(String(flags.out), opts, count);
      else {
        if (!config.emulatorHost) {
          throw new Error("--publish needs PUBSUB_EMULATOR_HOST=host:port of a running emulator (or run `ecom start`, which publishes generated traffic itself)");
        }
        const target = { projectId: config.projectId, topic: config.topic, subscription: config.subscription, emulatorHost: config.emulatorHost };
        await ensureTopicAndSubscription(target);
        const publisher = new EventPublisher(target);
        try {
          counts = await generateToPubSub(publisher, opts, { count });
        } finally {
          await publisher.close();
        }
      }
      const secs = (performance.now() - t0) / 1000;
      process.stderr.write(`${counts.messages} messages in ${secs.toFixed(1)} s (${Math.round(counts.messages / secs)}/s)\n`);
      process.stdout.write(JSON.stringify(counts) + "\n");
    });
}
