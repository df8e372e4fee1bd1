/**
 * Pub/Sub access for the local streaming runner and the producers.
 *
 * Configuration is explicit: a PubSubTarget says which project, topic,
 * subscription and (optionally) emulator to use. PUBSUB_EMULATOR_HOST and
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB in process.env are NOT consulted here
 * (the CLI reads the environment once and passes the result down): without
 * emulatorHost the client always talks to pubsub.googleapis.com with
 * Application Default Credentials.
 *
 * Delivery contract of PubSubBatchSource: at-least-once. It never acks by
 * itself; the caller acks each message after its batch is committed. Leases are
 * extended by the client library while messages wait in the buffer or are
 * being processed (up to 60 min), so slow batches are not redelivered.
 */
import { Duration, PubSub, type ClientConfig, type Message, type Subscription, type Topic } from "@google-cloud/pubsub";
import { isEmulatorReachable } from "./dev/pubsub-emulator.js";

export interface PubSubTarget {
  projectId: string;
  topic: string;
  subscription: string;
  /** "127.0.0.1:8085". When set, the client uses it with no credentials (plain-text gRPC). */
  emulatorHost?: string;
}

export interface PulledMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: Date;
  /** Acknowledge after the message's effects are committed. No effect after the source is closed. */
  ack(): void;
  /** Ask for redelivery now. No effect after the source is closed. */
  nack(): void;
}

/** An Error whose message is already actionable (see describePubSubError); `cause` holds the original. */
export class PubSubError extends Error {
  readonly code: unknown;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "PubSubError";
    this.code = (cause as { code?: unknown } | undefined)?.code;
  }
}

const PRODUCTION_ENDPOINT = "pubsub.googleapis.com";

function clientConfig(t: PubSubTarget): ClientConfig {
  if (t.emulatorHost) {
    // apiEndpoint wins over process.env; emulatorMode forces plain-text gRPC with no credentials.
    // universeDomain is set explicitly because otherwise google-gax asks google-auth-library for
    // it while creating every stub, which runs Application Default Credentials discovery and
    // probes the GCE metadata server (169.254.169.254 / metadata.google.internal), i.e. network
    // traffic off this machine and a MetadataLookupWarning, even in emulator mode.
    return { projectId: t.projectId, apiEndpoint: t.emulatorHost, emulatorMode: true, universeDomain: "googleapis.com" };
  }
  // Explicit endpoint so a stray PUBSUB_EMULATOR_HOST cannot redirect production traffic.
  return { projectId: t.projectId, apiEndpoint: PRODUCTION_ENDPOINT, emulatorMode: false };
}

// Resource ids: start with a letter, 3-255 chars of [A-Za-z0-9-_.~+%], not starting with "goog".
const ID_RE = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

function checkTarget(t: PubSubTarget, what: ("topic" | "subscription")[]): void {
  if (!t.projectId) throw new Error("Pub/Sub target has no projectId (set the project id in the config)");
  for (const key of what) {
    const id = t[key];
    if (!ID_RE.test(id) || id.toLowerCase().startsWith("goog")) {
      throw new Error(
        `invalid Pub/Sub ${key} id ${JSON.stringify(id)}: ids must start with a letter, be 3-255 characters of ` +
          'letters, digits and - _ . ~ + %, and must not start with "goog"',
      );
    }
  }
}

function errCode(err: unknown): unknown {
  return (err as { code?: unknown } | null | undefined)?.code;
}

const ALREADY_EXISTS = 6;

async function assertEmulatorUp(t: PubSubTarget): Promise<void> {
  if (t.emulatorHost && !(await isEmulatorReachable(t.emulatorHost, 2000))) {
    const e = new Error(`no answer from the Pub/Sub emulator at http://${t.emulatorHost}/`) as Error & { code: string };
    e.code = "EMULATOR_UNREACHABLE";
    throw e;
  }
}

/** Creates the topic and the subscription when missing. Idempotent. */
export async function ensureTopicAndSubscription(t: PubSubTarget, opts?: { ackDeadlineSeconds?: number }): Promise<void> {
  checkTarget(t, ["topic", "subscription"]);
  const client = new PubSub(clientConfig(t));
  try {
    // Fail in 2 s with a clear message instead of after a minute of gRPC retries.
    await assertEmulatorUp(t);
    const topic = client.topic(t.topic);
    try {
      await topic.create();
    } catch (e) {
      if (errCode(e) !== ALREADY_EXISTS) throw e;
    }
    const sub = topic.subscription(t.subscription);
    try {
      await sub.create({ ackDeadlineSeconds: opts?.ackDeadlineSeconds ?? 60 });
    } catch (e) {
      if (errCode(e) !== ALREADY_EXISTS) throw e;
      const [meta] = await sub.getMetadata();
      if (meta.topic && meta.topic !== topic.name) {
        throw new Error(
          `subscription ${sub.name} already exists but is attached to ${meta.topic}, not ${topic.name}: ` +
            "use another subscription name or delete the old one",
        );
      }
    }
  } catch (e) {
    throw e instanceof PubSubError ? e : new PubSubError(describePubSubError(e, t), e);
  } finally {
    await client.close().catch(() => {});
  }
}

class Pulled implements PulledMessage {
  readonly id: string;
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
  readonly publishTime: Date;
  #msg: Message | undefined;
  #source: SourceState;

  constructor(msg: Message, source: SourceState) {
    this.id = msg.id;
    this.data = msg.data;
    this.attributes = msg.attributes;
    this.publishTime = msg.publishTime;
    this.#msg = msg;
    this.#source = source;
  }

  ack(): void {
    const m = this.#msg;
    if (!m || this.#source.closing) return;
    this.#msg = undefined;
    this.#source.held.delete(this.id);
    this.#source.stats.acked++;
    m.ack();
  }

  nack(): void {
    const m = this.#msg;
    if (!m || this.#source.closing) return;
    this.#msg = undefined;
    this.#source.held.delete(this.id);
    this.#source.stats.nacked++;
    m.nack();
  }
}

interface SourceState {
  stats: { received: number; acked: number; nacked: number };
  /** Publish time (epoch ms) of each message received and neither acked nor nacked yet, by message id. */
  held: Map<string, number>;
  closing: boolean;
}

interface Waiter {
  max: number;
  resolve: (batch: PulledMessage[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Streaming-pull subscriber that hands out micro-batches.
 *
 * Messages are buffered as they arrive (flow control caps unacked messages at
 * maxOutstanding, counting both the buffer and batches handed out but not yet
 * acked). Never acks by itself.
 */
export class PubSubBatchSource {
  readonly stats = { received: 0, acked: 0, nacked: 0 };
  readonly #state: SourceState = { stats: this.stats, held: new Map(), closing: false };
  readonly #target: PubSubTarget;
  readonly #client: PubSub;
  readonly #sub: Subscription;
  #buffer: PulledMessage[] = [];
  #waiter: Waiter | undefined;
  #error: Error | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  readonly #onMessage = (m: Message) => this.#receive(m);
  readonly #onError = (err: unknown) => this.#fail(err);

  constructor(t: PubSubTarget, opts?: { maxStreams?: number; maxOutstanding?: number; maxAckDeadlineSeconds?: number }) {
    checkTarget(t, ["subscription"]);
    this.#target = t;
    this.#client = new PubSub(clientConfig(t));
    const maxOutstanding = opts?.maxOutstanding ?? 20_000;
    this.#sub = this.#client.subscription(t.subscription, {
      streamingOptions: { maxStreams: opts?.maxStreams ?? 8 },
      // maxBytes stays at the library default (100 MiB) as a memory cap for large messages.
      flowControl: { maxMessages: maxOutstanding, allowExcessMessages: false },
      // Leases are extended (up to maxExtensionTime, 60 min) in steps of at most
      // maxAckDeadline. The library's default step grows to 10 min with slow acks,
      // so after a crash the unacked messages would wait that long to come back;
      // 20 s keeps redelivery after a crash prompt while a slow batch keeps its lease.
      minAckDeadline: Duration.from({ seconds: 10 }),
      maxAckDeadline: Duration.from({ seconds: opts?.maxAckDeadlineSeconds ?? 20 }),
      // On close, messages not acked yet are nacked so they are redelivered at once.
      closeOptions: { behavior: "NACK" },
    });
  }

  /** Opens the streaming pulls. */
  start(): void {
    if (this.#started) return;
    if (this.#closing) throw new Error("PubSubBatchSource: start() after close()");
    this.#started = true;
    this.#sub.on("error", this.#onError);
    this.#sub.on("message", this.#onMessage);
  }

  #receive(m: Message): void {
    if (this.#closing) return; // the library nacks what is left in its inventory on close
    this.stats.received++;
    this.#state.held.set(m.id, m.publishTime.getTime());
    this.#buffer.push(new Pulled(m, this.#state));
    const w = this.#waiter;
    if (w && this.#buffer.length >= w.max) {
      this.#waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(this.#take(w.max));
    }
  }

  #fail(err: unknown): void {
    if (this.#closing) return;
    this.#error = new PubSubError(describePubSubError(err, this.#target), err);
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      clearTimeout(w.timer);
      w.reject(this.#error);
    }
  }

  #take(max: number): PulledMessage[] {
    return this.#buffer.length <= max ? this.#buffer.splice(0) : this.#buffer.splice(0, max);
  }

  /** Messages received and not acked or nacked yet (buffered or in a batch being committed): publish time (epoch ms) by message id. */
  held(): ReadonlyMap<string, number> {
    return this.#state.held;
  }

  /**
   * Resolves with up to maxMessages messages: as soon as maxMessages are
   * buffered, or after maxWaitMs with whatever arrived (possibly none).
   * One call at a time. After close() it resolves with [].
   */
  nextBatch(maxMessages: number, maxWaitMs: number): Promise<PulledMessage[]> {
    if (!this.#started && !this.#closing) return Promise.reject(new Error("PubSubBatchSource: call start() before nextBatch()"));
    if (this.#waiter) return Promise.reject(new Error("PubSubBatchSource: nextBatch() called while another nextBatch() is pending"));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closing || maxMessages <= 0) return Promise.resolve([]);
    if (this.#buffer.length >= maxMessages || maxWaitMs <= 0) return Promise.resolve(this.#take(maxMessages));
    return new Promise<PulledMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(this.#take(maxMessages));
      }, maxWaitMs);
      this.#waiter = { max: maxMessages, resolve, reject, timer };
    });
  }

  /**
   * Stops pulling. Acks already given are flushed to the server; every message
   * not acked yet (buffered or handed out) is nacked so it is redelivered.
   * A pending nextBatch() resolves with [].
   */
  close(): Promise<void> {
    this.#state.closing = true;
    return (this.#closing ??= (async () => {
      const w = this.#waiter;
      if (w) {
        this.#waiter = undefined;
        clearTimeout(w.timer);
        w.resolve([]);
      }
      this.#buffer = [];
      this.#state.held.clear();
      try {
        // Destroys the streams, nacks what is left in the lease inventory, then
        // flushes the ack and modAck queues.
        await this.#sub.close();
      } finally {
        this.#sub.removeListener("message", this.#onMessage);
        this.#sub.removeListener("error", this.#onError);
        await this.#client.close().catch(() => {});
      }
    })());
  }
}

/** Batching publisher: many publish() calls share one Publish RPC. */
export class EventPublisher {
  readonly #target: PubSubTarget;
  readonly #client: PubSub;
  readonly #topic: Topic;
  #closed = false;

  constructor(t: PubSubTarget, opts?: { maxMessages?: number; maxMilliseconds?: number }) {
    checkTarget(t, ["topic"]);
    this.#target = t;
    this.#client = new PubSub(clientConfig(t));
    this.#topic = this.#client.topic(t.topic, {
      batching: {
        maxMessages: opts?.maxMessages ?? 1000, // the API's per-request limit
        maxMilliseconds: opts?.maxMilliseconds ?? 10,
        maxBytes: 9 * 1024 * 1024, // request limit is 10 MB
      },
    });
  }

  /** Resolves with the server-assigned message id once its batch is published. */
  publish(data: string | Buffer, attributes: Record<string, string>): Promise<string> {
    if (this.#closed) return Promise.reject(new Error("EventPublisher: publish() after close()"));
    return this.#topic.publishMessage({ data: typeof data === "string" ? Buffer.from(data, "utf8") : data, attributes }).catch((e: unknown) => {
      throw new PubSubError(describePubSubError(e, this.#target), e);
    });
  }

  /** Sends whatever is batched and waits for it. */
  async flush(): Promise<void> {
    try {
      await this.#topic.flush();
    } catch (e) {
      throw new PubSubError(describePubSubError(e, this.#target), e);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      await this.#client.close().catch(() => {});
    }
  }
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EMULATOR_UNREACHABLE"]);
const GRPC = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  INVALID_ARGUMENT: 3,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

function collectText(err: unknown): { text: string; codes: unknown[] } {
  const parts: string[] = [];
  const codes: unknown[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur != null && depth < 5; depth++) {
    if (typeof cur === "object") {
      const o = cur as { message?: unknown; details?: unknown; code?: unknown; cause?: unknown };
      if (typeof o.message === "string") parts.push(o.message);
      if (typeof o.details === "string") parts.push(o.details);
      if (o.code !== undefined) codes.push(o.code);
      cur = o.cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return { text: parts.join(" | "), codes };
}

/**
 * Turns a client error into a message that says what is wrong and what to do.
 * Includes the original error text at the end.
 */
export function describePubSubError(err: unknown, t: PubSubTarget): string {
  if (err instanceof PubSubError) return err.message;
  const { text, codes } = collectText(err);
  const has = (c: unknown) => codes.includes(c);
  // gax retry errors repeat every attempt ("Previous errors: [...]"): keep the head only.
  const detail = text ? ` (${text.length > 300 ? `${text.slice(0, 300)}...` : text})` : "";
  const topicName = `projects/${t.projectId}/topics/${t.topic}`;
  const subName = `projects/${t.projectId}/subscriptions/${t.subscription}`;

  const unreachable =
    has(GRPC.UNAVAILABLE) ||
    has("UNAVAILABLE") ||
    codes.some((c) => typeof c === "string" && CONNECTION_CODES.has(c)) ||
    /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|UNAVAILABLE|No connection established|Failed to connect|failed to connect before the deadline|no answer from the Pub\/Sub emulator/i.test(
      text,
    ) ||
    (t.emulatorHost !== undefined && (has(GRPC.DEADLINE_EXCEEDED) || /DEADLINE_EXCEEDED/.test(text)));
  if (unreachable) {
    if (t.emulatorHost) {
      const port = t.emulatorHost.split(":").pop();
      return (
        `cannot reach the Pub/Sub emulator at ${t.emulatorHost}. ` +
        `Start it with: gcloud beta emulators pubsub start --host-port=127.0.0.1:${port} --project=${t.projectId} ` +
        "or let `ecom start` start it (unset PUBSUB_EMULATOR_HOST)." +
        detail
      );
    }
    return (
      `cannot reach Pub/Sub at ${PRODUCTION_ENDPOINT}:443. Check network access, proxy settings (HTTPS_PROXY) and ` +
      "firewall rules, or set PUBSUB_EMULATOR_HOST to use a local emulator." +
      detail
    );
  }
  if (has(GRPC.UNAUTHENTICATED) || /default credentials|Could not load the default credentials|invalid_grant|UNAUTHENTICATED/i.test(text)) {
    return (
      `Pub/Sub rejected or could not find credentials for project ${t.projectId}. Run \`gcloud auth application-default login\` ` +
      "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file; for local runs set PUBSUB_EMULATOR_HOST instead." +
      detail
    );
  }
  if (has(GRPC.PERMISSION_DENIED) || /PERMISSION_DENIED/.test(text)) {
    return (
      `permission denied on Pub/Sub in project ${t.projectId}: the caller needs roles/pubsub.publisher on ${topicName} ` +
      `and roles/pubsub.subscriber on ${subName} (roles/pubsub.editor to create them).` +
      detail
    );
  }
  if (has(GRPC.NOT_FOUND) || /NOT_FOUND/.test(text)) {
    return (
      `Pub/Sub topic or subscription not found (${topicName}, ${subName}). Create them with \`ecom start\` ` +
      "(it runs ensureTopicAndSubscription) or `gcloud pubsub topics create` / `gcloud pubsub subscriptions create`; " +
      "an emulator loses everything when it stops." +
      detail
    );
  }
  if (has(GRPC.INVALID_ARGUMENT) || /INVALID_ARGUMENT/.test(text)) {
    return (
      `Pub/Sub rejected a request as invalid for ${topicName} / ${subName}: ids must start with a letter and be at ` +
      "least 3 characters; messages must be under 10 MB with at most 100 attributes." +
      detail
    );
  }
  if (has(GRPC.DEADLINE_EXCEEDED) || /DEADLINE_EXCEEDED/.test(text)) {
    return `Pub/Sub request timed out for ${topicName} / ${subName}; check network latency and retry.` + detail;
  }
  return `Pub/Sub error for ${topicName} / ${subName}` + (detail || ": unknown error");
}
