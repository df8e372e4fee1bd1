/**
 * `ecom start`: the streaming job (jobs/stream.ts) from the command line.
 * Parses the flags (one schema), turns Ctrl-C into a clean stop (twice:
 * quit at once), prints progress to stderr and, when the job returns, its
 * totals as JSON on stdout.
 */
import type { Command } from "commander";
import { z } from "zod";
import { runStreamJob } from "../../jobs/stream.js";
import {
  checkServiceOptions,
  configSchema,
  keyFields,
  keyFlags,
  parseOptions,
  positiveNumber,
  servicesOf,
  textInspectorFields,
  textInspectorFlags,
  wholeNumber,
} from "../config.js";
import { FRESHNESS } from "../../pipelines/observe/slo.js";
import { createLogger } from "../log.js";
import { renderLinks } from "./dashboard.js";

const seconds = () => positiveNumber(1_000_000, "a number of seconds");

const FRESHNESS_TABLES = FRESHNESS.map((f) => f.table);
/** `--freshness-slo table=seconds`, repeatable: those objectives replaced for this run (the alerts and `ecom status` use them). */
const freshnessSlo = z
  .array(
    z
      .string()
      .regex(/^[a-z_]+\.[a-z_]+=\d+(\.\d+)?$/, { message: "must be <table>=<seconds>, e.g. silver.orders=300", abort: true })
      .refine((s) => FRESHNESS_TABLES.includes(s.split("=")[0]!), {
        message: `names a table with an objective: ${FRESHNESS_TABLES.join(", ")}`,
        abort: true,
      })
      .refine((s) => Number(s.split("=")[1]) > 0, "must give more than 0 seconds"),
  )
  .default([])
  .transform((list) => Object.fromEntries(list.map((s) => [s.split("=")[0]!, Number(s.split("=")[1])])));

export const startOptions = configSchema
  .extend({
    count: wholeNumber(1).optional(),
    duration: seconds().optional(),
    idleExit: seconds().optional(),
    generator: z.boolean().default(true),
    port: wholeNumber(0, 65535).default(0),
    freshnessSlo,
    alertWebhook: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
    alertInterval: positiveNumber(3600, "a number of seconds").default(15),
    ...keyFields,
    ...textInspectorFields,
  })
  .superRefine((o, ctx) => {
    checkServiceOptions(o, ctx);
    if (o.generator) return;
    for (const k of ["count", "duration"] as const) {
      if (o[k] !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [k],
          message: "stops the generator, which --no-generator turns off; use --idle-exit <seconds> to exit once the subscription is drained",
        });
    }
  });

export function startCommand(program: Command): void {
  const cmd = program
    .command("start")
    .description(
      "The main job: start the Pub/Sub emulator (unless PUBSUB_EMULATOR_HOST points at one), create the topic and subscription, " +
        "publish generated traffic and run the streaming pipeline into Bronze and Silver, printing live progress. Ctrl-C stops cleanly.",
    )
    .option("--data-dir <dir>", "data directory (Bronze folder, DuckDB file, keys)")
    .option("--rate <events_per_s>", "generated events per second")
    .option("--seed <n>", "generator seed")
    .option("--duplicates <fraction>", "fraction of generated messages re-sent as duplicates")
    .option("--invalid <fraction>", "fraction of generated messages that are invalid")
    .option("--count <n>", "stop generating after n messages, drain, and exit")
    .option("--duration <seconds>", "stop generating after this many seconds, drain, and exit")
    .option("--no-generator", "only consume the subscription (producers publish elsewhere)")
    .option("--idle-exit <seconds>", "exit once no message arrived for this long (for scripted runs)")
    .option("--batch-size <n>", "most events per committed batch")
    .option("--parse-threads <n>", "worker threads for parse/validate/tokenize/encrypt (0: main thread only)")
    .option("--batch-wait-ms <ms>", "longest wait to fill a batch")
    .option("--max-streams <n>", "streaming-pull streams")
    .option("--project-id <id>", "GCP project id (the emulator accepts any)")
    .option("--topic <name>", "topic")
    .option("--subscription <name>", "subscription")
    .option("--port <n>", "instance port on 127.0.0.1 (queries, /metrics, /status); 0: any free one, recorded in the instance file")
    .option("--alert-webhook <url>", "POST firing and resolved alerts here (Alertmanager's webhook JSON)")
    .option("--alert-interval <seconds>", "how often the alert rules are evaluated (default 15)")
    .option("--freshness-slo <table=seconds>", "replace a table's freshness objective for this run (repeatable)", (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ]);
  textInspectorFlags(keyFlags(cmd)).action(async (flags: Record<string, unknown>) => {
    const o = parseOptions(startOptions, flags);
    const log = createLogger(o.logLevel);
    const stderr = (line: string) => process.stderr.write(line + "\n");

    const stop = new AbortController();
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(130);
      stderr("\nstopping: finishing the batch in flight (Ctrl-C again to quit at once; unacked messages are redelivered next time)");
      stop.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      const totals = await runStreamJob({
        dataDir: o.dataDir,
        pubsub: { projectId: o.projectId, topic: o.topic, subscription: o.subscription, emulatorHost: o.emulatorHost },
        batchSize: o.batchSize,
        batchWaitMs: o.batchWaitMs,
        maxStreams: o.maxStreams,
        parseThreads: o.parseThreads,
        generator: o.generator && { seed: o.seed, ratePerSecond: o.rate, duplicateFraction: o.duplicates, invalidFraction: o.invalid },
        count: o.count,
        durationSeconds: o.duration,
        idleExitSeconds: o.idleExit,
        signal: stop.signal,
        faultAt: o.faultAt,
        faultBatch: o.faultBatch,
        port: o.port,
        freshnessSlo: o.freshnessSlo,
        alertWebhook: o.alertWebhook,
        alertIntervalMs: o.alertInterval * 1000,
        services: servicesOf(o),
        hooks: {
          onNotice: stderr,
          onServing: (links) =>
            stderr(`dashboards (the links carry this run's access token; \`ecom dashboard\` prints them again):\n${renderLinks(links).trimEnd()}`),
          onProgressLine: stderr,
          onBatch: (r) =>
            log.info(
              {
                batch: Number(r.result.batch.id),
                read: r.result.read,
                valid: r.result.valid,
                duplicates: r.result.duplicates,
                dead_lettered: r.result.dead_lettered,
                pans_redacted: r.result.pans_redacted,
                ms: Math.round(r.ms),
                lag_ms: r.lagMs,
              },
              "batch committed",
            ),
          onError: (message, fields) => log.error(fields, message),
        },
      });
      process.stdout.write(JSON.stringify(totals) + "\n");
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  });
}
