/**
 * The streaming job behind `ecom start`: Pub/Sub (the emulator, started
 * here unless one is given) -> the local streaming runner -> Bronze, Silver
 * and Gold in the data dir, with generated traffic published meanwhile and
 * the instance port serving readers. Runs until its signal aborts, or, for
 * scripted runs, until the generator's count or duration was published and
 * read (drain) or nothing arrived for the idle time. Stopping always
 * finishes the batch in flight (committed and acked); what was not read
 * stays on the subscription for next time.
 *
 * Steps:
 *   1. Start the emulator (or check the one given); ensure topic and subscription.
 *   2. Open the runtime with Gold (minute/key tables after every batch, day/hour every 5 s).
 *   3. Join the metrics (after Gold); serve the instance port: queries, Gold routes, the privacy queue listing, the dashboards, `/status`,
 *      `/metrics`, `/alerts`, `/status/slo`, the job runs other processes record; say the dashboards' links; evaluate the
 *      alerts on an interval (and post them to the webhook, when one is given).
 *   4. Start the Pub/Sub batch source and the StreamRunner; tick progress.
 *   5. Publish generated traffic (unless disabled).
 *   6. Wait for the stop condition; stop the runner; wait for the generator.
 *   7. Clean up in reverse order: ticker, publisher, source, port, Gold flush + runtime, emulator.
 */
import { goldOf } from "../gold/register.js";
import { goldRoutes } from "../gold/routes.js";
import { describeBatchError } from "../pipelines/local/batch-errors.js";
import { faultHook } from "../pipelines/local/fault.js";
import { serveEngine } from "../pipelines/local/instance.js";
import { type BatchReport, StreamRunner } from "../pipelines/local/stream-runner.js";
import { alertRules } from "../pipelines/observe/alerts.js";
import { BacklogTracker } from "../pipelines/observe/backlog.js";
import { freshnessObjectives } from "../pipelines/observe/slo.js";
import { type Counts, noCounts } from "../schemas/ops.js";
import { publicErrorMessage } from "../sinks/duckdb/read-only.js";
import type { GeneratorOptions } from "../sources/dev/generator/index.js";
import { type EmulatorHandle, isEmulatorReachable, startEmulator } from "../sources/dev/pubsub-emulator.js";
import { EventPublisher, PubSubBatchSource, type PubSubTarget, describePubSubError, ensureTopicAndSubscription } from "../sources/pubsub.js";
import { Alerting } from "./alerting.js";
import { dashboardLinks } from "./dashboard/links.js";
import { OpsSampler, alertStatesOf } from "./dashboard/ops.js";
import { dashboardRoutes } from "./dashboard/routes.js";
import { generateToPubSub } from "./generate.js";
import type { EngineServices } from "../pipelines/local/engine.js";
import { jobRunRoutes, lastJobRuns } from "./job-runs.js";
import { observeEngine } from "./observe.js";
import { privacyRoutes } from "./privacy/routes.js";
import { openRuntime } from "./runtime.js";
import { type SloStatus, freshnessReport, recentRates } from "./status.js";
import { Progress } from "./stream-progress.js";

export interface StreamJobOptions {
  dataDir: string;
  /** Where to read (and publish); without `emulatorHost` the job starts its own emulator. */
  pubsub: PubSubTarget;
  batchSize: number;
  batchWaitMs: number;
  maxStreams: number;
  parseThreads: number;
  /** Traffic to publish while streaming (its start time is the job's start); false: only consume. */
  generator: Omit<GeneratorOptions, "startTime"> | false;
  /** Stop generating after this many messages, drain, and return. */
  count?: number;
  /** Stop generating after this many seconds, drain, and return. */
  durationSeconds?: number;
  /** Return once no message arrived for this long (takes precedence over the drain). */
  idleExitSeconds?: number;
  /** Aborting it stops the job cleanly: the batch in flight is committed and acked. */
  signal?: AbortSignal;
  /** Crash tests: SIGKILL at this commit point of the n-th batch. */
  faultAt?: string;
  faultBatch?: number;
  /** How often `onProgressLine` is called (default 2000 ms). */
  progressEveryMs?: number;
  /** The instance port (0 or absent: any free one); a fixed one is what a Prometheus scrape config names. */
  port?: number;
  /** Freshness objectives replaced, seconds by table (`--freshness-slo`); the others are pipelines/observe/slo.ts's. */
  freshnessSlo?: Readonly<Record<string, number>>;
  /** How often the alert rules are evaluated on the process's own metrics (default 15 000 ms). */
  alertIntervalMs?: number;
  /** POST firing and resolved alerts here (Alertmanager's webhook body). */
  alertWebhook?: string;
  hooks?: StreamHooks;
  /** The key-encryption key (local or Cloud KMS) and the text inspector. */
  services?: EngineServices;
}

export interface StreamHooks {
  /** A line for the person running the job (the emulator's address, ...). */
  onNotice?: (line: string) => void;
  /** The instance port is serving: the dashboards' sign-in links. */
  onServing?: (links: { ops: string; business: string }) => void;
  /** The progress line, every `progressEveryMs` and once with the final totals. */
  onProgressLine?: (line: string) => void;
  /** Every committed batch. */
  onBatch?: (r: BatchReport) => void;
  /** A failure the job recovers from (a batch retried, a Gold refresh retried), said so that an operator can act. */
  onError?: (message: string, fields: Record<string, unknown>) => void;
}

/** Runs the streaming job; resolves with the final totals once everything is stopped and closed. */
export async function runStreamJob(opts: StreamJobOptions): Promise<Counts> {
  const hooks = opts.hooks ?? {};
  const { target, emulator } = await pubsubTarget(opts, hooks);
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    await ensureTopicAndSubscription(target);
    const fault = faultHook(opts.faultAt, opts.faultBatch ?? 1);
    const engine = await openRuntime(opts.dataDir, {
      fault,
      parseThreads: opts.parseThreads,
      ...opts.services,
      gold: {
        // A day window is a scan of the day: day/hour tables every 5 s, minute- and key-grained ones after every batch.
        coarseRefreshEveryMs: 5000,
        onError: (err) => hooks.onError?.(`Gold refresh failed; its windows stay marked and are retried after the next batch: ${publicErrorMessage(err)}`, {}),
      },
    });
    cleanup.unshift(async () => {
      await goldOf(engine)?.flush(); // the day/hour windows still marked since the last timed refresh
      engine.close();
    });

    const source = new PubSubBatchSource(target, { maxStreams: opts.maxStreams, maxOutstanding: Math.max(opts.batchSize * 2, 10_000) });
    const backlog = new BacklogTracker(target.subscription, source);
    const objectives = freshnessObjectives(opts.freshnessSlo);
    const observed = await observeEngine(engine, { backlog, freshness: objectives, onError: (message) => hooks.onError?.(message, {}) });
    const { metrics } = observed;
    const alerting = new Alerting(metrics, alertRules(objectives), {
      intervalMs: opts.alertIntervalMs ?? 15_000,
      webhook: opts.alertWebhook,
      onError: (message) => hooks.onError?.(message, {}),
    });

    const progress = new Progress();
    let runner: StreamRunner | undefined;
    const totals = (): Counts => runner?.totals ?? noCounts();
    // The operations page samples the registry and shows the alerts this process evaluates.
    const ops = new OpsSampler({ metrics: () => metrics.registry.getMetricsAsJSON(), alerts: async () => alertStatesOf(alerting.evaluator.alerts()) });
    await ops.start();
    cleanup.unshift(() => ops.stop());
    // Readers get one read-only statement each, on a connection of its own, to holders of the instance token only.
    const server = await serveEngine(
      engine,
      {
        ...goldRoutes(engine),
        ...jobRunRoutes(engine, observed.jobRunsChanged),
        ...privacyRoutes(engine),
        ...dashboardRoutes({ query: (sql) => engine.store.queryReadOnly(sql), ops }),
        "GET /status": async () => ({ type: "application/json", body: JSON.stringify(progress.snapshot(totals())) }),
        "GET /metrics": async () => ({ type: metrics.contentType, body: await metrics.text() }),
        "GET /alerts": async () => ({ type: "application/json", body: JSON.stringify(alerting.states()) }),
        "GET /status/slo": async () => {
          const conn = await engine.store.reader();
          try {
            const slo: SloStatus = {
              rates: await recentRates(conn),
              freshness: freshnessReport(observed.freshness.asOf(), objectives),
              backlog: [backlog.reading()],
              alerts: alerting.states(),
              jobs: await lastJobRuns(conn),
            };
            return { type: "application/json", body: JSON.stringify(slo) };
          } finally {
            conn.close();
          }
        },
      },
      { port: opts.port },
    );
    cleanup.unshift(() => server.close());
    hooks.onServing?.(dashboardLinks(server.port, server.token));
    alerting.start();
    cleanup.unshift(() => alerting.stop());

    source.start();
    cleanup.unshift(() => source.close());
    runner = new StreamRunner(engine, source, {
      origin: `pubsub:${target.subscription}`,
      batchSize: opts.batchSize,
      batchWaitMs: opts.batchWaitMs,
      onBatch: (r) => {
        observed.onAcked(r);
        progress.record(r);
        hooks.onBatch?.(r);
      },
      afterAck: () => fault?.("after_ack"),
      onError: (err, attempt, backoffMs) => hooks.onError?.(`batch failed: ${describeBatchError(err, opts.dataDir)}`, { attempt, backoff_ms: backoffMs }),
    });
    const ticker = setInterval(() => hooks.onProgressLine?.(progress.line(totals())), opts.progressEveryMs ?? 2000);
    cleanup.unshift(() => clearInterval(ticker));

    const stopGenerating = new AbortController();
    let generated: Promise<{ messages: number }> = Promise.resolve({ messages: 0 });
    if (opts.generator) {
      const publisher = new EventPublisher(target);
      cleanup.unshift(() => publisher.close());
      generated = generateToPubSub(
        publisher,
        { ...opts.generator, startTime: new Date() },
        { count: opts.count, signal: stopGenerating.signal, onAccepted: (id, at) => backlog.publishedMessage(id, at) },
      );
      if (opts.durationSeconds !== undefined) setTimeout(() => stopGenerating.abort(), opts.durationSeconds * 1000).unref();
    }

    const stopped = (): boolean => opts.signal?.aborted ?? false;
    const stop = (): void => {
      stopGenerating.abort();
      runner!.stop();
    };
    if (stopped()) stop();
    opts.signal?.addEventListener("abort", stop, { once: true });
    cleanup.unshift(() => opts.signal?.removeEventListener("abort", stop));

    const running = runner.run();
    if (opts.idleExitSeconds !== undefined) {
      await untilIdle(runner, opts.idleExitSeconds * 1000, stopped);
      runner.stop();
    } else if (opts.count !== undefined || opts.durationSeconds !== undefined) {
      const { messages } = await generated;
      await drained(runner, messages, stopped);
      runner.stop();
    }
    const final = await running;
    stopGenerating.abort();
    await generated;
    hooks.onProgressLine?.(progress.line(final));
    return final;
  } finally {
    for (const step of cleanup) await step();
    await emulator?.stop();
  }
}

/** The emulator given (checked to answer) or one started under the data dir. */
async function pubsubTarget(opts: StreamJobOptions, hooks: StreamHooks): Promise<{ target: PubSubTarget; emulator?: EmulatorHandle }> {
  const given = opts.pubsub.emulatorHost;
  if (given) {
    const target = { ...opts.pubsub, emulatorHost: given };
    if (!(await isEmulatorReachable(given, 2000))) {
      throw new Error(describePubSubError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), target));
    }
    return { target };
  }
  hooks.onNotice?.("starting the Pub/Sub emulator...");
  const emulator = await startEmulator({ projectId: opts.pubsub.projectId, dataDir: `${opts.dataDir}/pubsub-emulator` });
  hooks.onNotice?.(
    `Pub/Sub emulator on ${emulator.host} (started in ${(emulator.startMs / 1000).toFixed(1)} s); publish with PUBSUB_EMULATOR_HOST=${emulator.host}`,
  );
  return { target: { ...opts.pubsub, emulatorHost: emulator.host }, emulator };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once nothing was read for `idleMs`, or when stopped. */
async function untilIdle(runner: StreamRunner, idleMs: number, stopped: () => boolean): Promise<void> {
  let last = -1;
  let since = Date.now();
  while (!stopped()) {
    await sleep(250);
    if (runner.totals.read !== last) [last, since] = [runner.totals.read, Date.now()];
    else if (Date.now() - since >= idleMs) return;
  }
}

/** Drain: everything published was read (duplicates included), or nothing new for 5 s, or stopped. */
async function drained(runner: StreamRunner, published: number, stopped: () => boolean): Promise<void> {
  let last = -1;
  let still = 0;
  while (!stopped() && runner.totals.read < published && still < 10) {
    await sleep(500);
    still = runner.totals.read === last ? still + 1 : 0;
    last = runner.totals.read;
  }
}
