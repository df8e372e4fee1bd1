import type { Command } from "commander";
import { generateToPubSub } from "../../jobs/generate.js";
import { describeBatchError } from "../../pipelines/local/batch-errors.js";
import { goldOf } from "../../gold/register.js";
import { openRuntime } from "../../jobs/runtime.js";
import { goldRoutes } from "../../gold/routes.js";
import { serveEngine } from "../../pipelines/local/instance.js";
import { StreamRunner } from "../../pipelines/local/stream-runner.js";
import { type EmulatorHandle, isEmulatorReachable, startEmulator } from "../../sources/dev/pubsub-emulator.js";
import { EventPublisher, PubSubBatchSource, type PubSubTarget, describePubSubError, ensureTopicAndSubscription } from "../../sources/pubsub.js";
import { publicErrorMessage } from "../../sinks/duckdb/read-only.js";
import { loadConfig } from "../config.js";
import { faultHook } from "../fault.js";
import { createLogger } from "../log.js";
import { Progress } from "../progress.js";

export function startCommand(program: Command): void {
  program
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
    .action(async (flags: Record<string, unknown>) => {
      const config = loadConfig(flags);
      const log = createLogger(config.logLevel);
      const count = flags.count === undefined ? undefined : Number(flags.count);
      const durationS = flags.duration === undefined ? undefined : Number(flags.duration);
      if ((count !== undefined && !(count > 0)) || (durationS !== undefined && !(durationS > 0))) {
        throw new Error("--count and --duration must be positive numbers");
      }

      let emulator: EmulatorHandle | undefined;
      let host = config.emulatorHost;
      if (host) {
        if (!(await isEmulatorReachable(host, 2000))) {
          throw new Error(describePubSubError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { ...target(config, host) }));
        }
      } else {
        process.stderr.write("starting the Pub/Sub emulator...\n");
        emulator = await startEmulator({ projectId: config.projectId, dataDir: `${config.dataDir}/pubsub-emulator` });
        host = emulator.host;
        process.stderr.write(`Pub/Sub emulator on ${host} (started in ${(emulator.startMs / 1000).toFixed(1)} s); publish with PUBSUB_EMULATOR_HOST=${host}\n`);
      }
      const t = target(config, host);
      const cleanup: (() => Promise<void> | void)[] = [];
      try {
        await ensureTopicAndSubscription(t);
        const fault = faultHook(config);
        // Minute- and key-grained Gold after every batch; day/hour tables every 5 s (a day window is a scan of the day).
        const engine = await openRuntime(config.dataDir, {
          fault,
          parseThreads: config.parseThreads,
          gold: {
            coarseRefreshEveryMs: 5000,
            onError: (err) => log.error(`Gold refresh failed; its windows stay marked and are retried after the next batch: ${publicErrorMessage(err)}`),
          },
        });
        cleanup.unshift(async () => {
          await goldOf(engine)?.flush(); // the day/hour windows still marked since the last timed refresh
          engine.close();
        });
        const progress = new Progress();
        // Readers get one read-only statement each, on a connection of its own, to holders of the instance token only.
        const server = await serveEngine(engine, {
          ...goldRoutes(engine),
          "GET /status": async () => ({ type: "application/json", body: JSON.stringify(progress.snapshot(runner.totals)) }),
        });
        cleanup.unshift(() => server.close());

        const source = new PubSubBatchSource(t, { maxStreams: config.maxStreams, maxOutstanding: Math.max(config.batchSize * 2, 10_000) });
        source.start();
        cleanup.unshift(() => source.close());
        const runner = new StreamRunner(engine, source, {
          origin: `pubsub:${config.subscription}`,
          batchSize: config.batchSize,
          batchWaitMs: config.batchWaitMs,
          onBatch: (r) => {
            progress.record(r);
            log.debug({ batch: Number(r.result.batch.id), read: r.result.read, valid: r.result.valid, ms: Math.round(r.ms), lag_ms: r.lagMs }, "batch committed");
          },
          afterAck: () => fault?.("after_ack"),
          onError: (err, attempt, backoffMs) =>
            log.error({ attempt, backoff_ms: backoffMs }, `batch failed: ${describeBatchError(err, config.dataDir)}`),
        });
        const ticker = setInterval(() => process.stderr.write(progress.line(runner.totals) + "\n"), 2000);
        cleanup.unshift(() => clearInterval(ticker));

        const abort = new AbortController();
        let publisher: EventPublisher | undefined;
        let generated: Promise<{ messages: number }> = Promise.resolve({ messages: 0 });
        if (flags.generator !== false) {
          publisher = new EventPublisher(t);
          cleanup.unshift(() => publisher!.close());
          generated = generateToPubSub(
            publisher,
            { seed: config.seed, ratePerSecond: config.rate, startTime: new Date(), duplicateFraction: config.duplicates, invalidFraction: config.invalid },
            { count, signal: abort.signal },
          );
          if (durationS !== undefined) setTimeout(() => abort.abort(), durationS * 1000).unref();
        }

        let interrupted = 0;
        const onSignal = () => {
          interrupted++;
          if (interrupted > 1) process.exit(130);
          process.stderr.write("\nstopping: finishing the batch in flight (Ctrl-C again to quit at once; unacked messages are redelivered next time)\n");
          abort.abort();
          runner.stop();
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);

        const running = runner.run();
        const idleExitS = flags.idleExit === undefined ? undefined : Number(flags.idleExit);
        if (idleExitS !== undefined) {
          let last = -1;
          let since = Date.now();
          while (!interrupted) {
            await new Promise((r) => setTimeout(r, 250));
            if (runner.totals.read !== last) [last, since] = [runner.totals.read, Date.now()];
            else if (Date.now() - since >= idleExitS * 1000) break;
          }
          runner.stop();
        } else if (count !== undefined || durationS !== undefined) {
          const { messages } = await generated;
          // Drain: everything published was read (duplicates included), or nothing new for 5 s.
          let last = -1;
          let still = 0;
          while (!interrupted && runner.totals.read < messages && still < 10) {
            await new Promise((r) => setTimeout(r, 500));
            still = runner.totals.read === last ? still + 1 : 0;
            last = runner.totals.read;
          }
          runner.stop();
        }
        const totals = await running;
        abort.abort();
        await generated;
        process.stderr.write(progress.line(totals) + "\n");
        process.stdout.write(JSON.stringify(totals) + "\n");
      } finally {
        for (const step of cleanup) await step();
        await emulator?.stop();
      }
    });
}

function target(config: ReturnType<typeof loadConfig>, host: string): PubSubTarget {
  return { projectId: config.projectId, topic: config.topic, subscription: config.subscription, emulatorHost: host };
}
