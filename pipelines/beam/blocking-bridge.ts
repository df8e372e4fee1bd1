/**
 * A synchronous handle on async IO, for Beam DoFns.
 *
 * The TypeScript SDK calls `process`/`finishBundle` synchronously and does
 * not await a returned promise (apache-beam 2.49 worker/operators.js; its
 * pardo.ts has "TODO: (API) Do we need an AsyncDoFn"). A sink that returned
 * before its write was durable would let the runner commit a bundle whose
 * output may be lost. So every sink here runs its async client (DuckDB, GCS,
 * BigQuery) in a worker thread, and the DoFn blocks on `Atomics.wait` until
 * the worker says the write is durable (the synckit pattern).
 *
 * One call may be in flight while the caller goes on (`post` then `wait`):
 * the DoFn parses batch n+1 while the worker commits batch n, so the two
 * cores of a worker are both busy. A worker error is rethrown by the next
 * `wait`, which fails the bundle: nothing after it is acknowledged.
 */
import { MessageChannel, type MessagePort, Worker, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { KeyError } from "../../sinks/keys/local-keys.js";

/** What a worker module exports: async handlers by name. */
export type Handlers = Record<string, (arg: never) => Promise<unknown>>;

interface Request {
  method: string;
  arg: unknown;
}

/** `key`: the error was a key that could not be read or was the wrong one (KeyError), so the caller fails closed the same way. */
type Reply = { ok: true; value: unknown } | { ok: false; message: string; stack?: string; key?: boolean };

interface Channel {
  signal: Int32Array;
  port: MessagePort;
}

export class BlockingBridge {
  private readonly worker: Worker;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private inFlight: string | undefined;
  private closed = false;

  /** Starts the worker thread that runs `moduleUrl`'s handlers (see `serveHandlers`). */
  constructor(
    moduleUrl: URL,
    init: unknown,
    private readonly timeoutMs = 30 * 60_000,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(moduleUrl, {
      workerData: { channel: { signal: this.signal, port: port2 } satisfies Channel, init },
      transferList: [port2],
    });
    // An unhandled worker error is reported by the next wait as a reply; keep
    // the process from crashing on the 'error' event itself.
    this.worker.on("error", () => undefined);
    this.worker.unref();
  }

  /** Runs `method` in the worker and blocks until it resolves; returns its value or throws its error. */
  call<T>(method: string, arg?: unknown): T {
    this.post(method, arg);
    return this.wait<T>();
  }

  /** Starts `method` without waiting; at most one call is in flight. */
  post(method: string, arg?: unknown): void {
    if (this.closed) throw new Error(`the sink worker is closed; cannot call ${method}`);
    if (this.inFlight) throw new Error(`BlockingBridge: ${this.inFlight} is still in flight; wait() before posting ${method}`);
    Atomics.store(this.signal, 0, 0);
    this.inFlight = method;
    this.worker.postMessage({ method, arg } satisfies Request);
  }

  /** Blocks until the in-flight call finishes. */
  wait<T>(): T {
    const method = this.inFlight;
    if (!method) throw new Error("BlockingBridge: nothing in flight");
    const r = Atomics.wait(this.signal, 0, 0, this.timeoutMs);
    this.inFlight = undefined;
    if (r === "timed-out") throw new Error(`the sink worker did not finish ${method} within ${this.timeoutMs} ms`);
    const msg = receiveMessageOnPort(this.port);
    if (!msg) throw new Error(`the sink worker ended without answering ${method} (did it crash?)`);
    const reply = msg.message as Reply;
    if (!reply.ok) {
      const err = reply.key ? new KeyError(reply.message) : new Error(reply.message);
      if (reply.stack) err.stack = reply.stack;
      throw err;
    }
    return reply.value as T;
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Stops the worker thread (after the caller's last wait). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    await this.worker.terminate();
  }
}

/**
 * Worker side: answers each request with the handler's result. `open` runs
 * once with the bridge's `init` before any request is served.
 */
export function serveHandlers<I>(open: (init: I) => Promise<Handlers>): void {
  if (!parentPort) throw new Error("serveHandlers must run in a worker thread");
  const { channel, init } = workerData as { channel: Channel; init: I };
  const ready = open(init);
  // Requests are answered in order, one at a time.
  let queue: Promise<void> = Promise.resolve();
  parentPort.on("message", (req: Request) => {
    queue = queue.then(async () => {
      let reply: Reply;
      try {
        const handlers = await ready;
        const fn = handlers[req.method];
        if (!fn) throw new Error(`the sink worker has no method ${req.method}`);
        reply = { ok: true, value: await fn(req.arg as never) };
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        reply = { ok: false, message: e.message, stack: e.stack, key: e instanceof KeyError };
      }
      channel.port.postMessage(reply);
      Atomics.store(channel.signal, 0, 1);
      Atomics.notify(channel.signal, 0);
    });
  });
}
