/**
 * The local streaming runner: micro-batches pulled from a Pub/Sub
 * subscription, each committed through the batch steps, then acked. A batch
 * that fails (DuckDB error, full disk, unreadable key) is nacked whole and
 * retried after a back-off: unacked messages are redelivered, nothing is lost,
 * and a bad *event* never fails a batch (it becomes a dead letter).
 */
import type { PulledMessage } from "../../sources/pubsub.js";
import type { RawMessage } from "../../transforms/types.js";
import { type Engine, type Totals, addToTotals, emptyTotals } from "./engine.js";
import type { BatchResult } from "./process-batch.js";

export interface MessageSource {
  nextBatch(maxMessages: number, maxWaitMs: number): Promise<PulledMessage[]>;
}

export interface BatchReport {
  result: BatchResult;
  /** Wall time of the commit, ms. */
  ms: number;
  /** Publish -> committed latency of each message of the batch, ms. */
  latenciesMs: Float64Array;
  /** Age of the oldest message in the batch when its commit finished, ms. */
  lagMs: number;
}

export interface StreamOptions {
  origin: string;
  batchSize: number;
  batchWaitMs: number;
  onBatch?: (r: BatchReport) => void;
  onError?: (err: Error, attempt: number, backoffMs: number) => void;
  /** Test hook: called after a batch's acks were sent. */
  afterAck?: () => void;
}

export class StreamRunner {
  readonly totals: Totals = emptyTotals();
  private stopping = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly engine: Engine,
    private readonly source: MessageSource,
    private readonly opts: StreamOptions,
  ) {}

  /** Runs until stop(); resolves once the batch in flight is committed and acked. */
  async run(): Promise<Totals> {
    let failures = 0;
    while (!this.stopping) {
      const batch = await this.source.nextBatch(this.opts.batchSize, this.opts.batchWaitMs);
      if (batch.length === 0) continue;
      const messages: RawMessage[] = batch.map((m) => ({
        data: m.data,
        attributes: m.attributes,
        origin: `pubsub:${m.id}`,
        receivedAtMs: Date.now(),
      }));
      const t0 = performance.now();
      let result: BatchResult;
      try {
        result = await this.engine.processBatch(messages, this.opts.origin);
      } catch (err) {
        for (const m of batch) m.nack();
        failures++;
        const backoff = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        this.opts.onError?.(err as Error, failures, backoff);
        await new Promise((r) => setTimeout(r, backoff));
        continue;
      }
      failures = 0;
      const done = Date.now();
      for (const m of batch) m.ack();
      this.opts.afterAck?.();
      addToTotals(this.totals, result);
      const latencies = new Float64Array(batch.length);
      let oldest = done;
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!.publishTime.getTime();
        latencies[i] = done - p;
        if (p < oldest) oldest = p;
      }
      this.opts.onBatch?.({ result, ms: performance.now() - t0, latenciesMs: latencies, lagMs: done - oldest });
    }
    return this.totals;
  }

  stop(): void {
    this.stopping = true;
  }
}
