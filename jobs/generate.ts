/**
 * The traffic generator as a job: seeded events written to an NDJSON file
 * (as fast as the disk takes them) or published to Pub/Sub paced at a rate.
 */
import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { type GeneratedMessage, type GeneratorOptions, generateMessages } from "../sources/dev/generator/index.js";
import { EventPublisher, type PubSubTarget, ensureTopicAndSubscription } from "../sources/pubsub.js";

export interface GenerateCounts {
  messages: number;
  valid: number;
  duplicate: number;
  invalid: number;
}

function newCounts(): GenerateCounts {
  return { messages: 0, valid: 0, duplicate: 0, invalid: 0 };
}

/** Where `ecom generate` sends its messages: an NDJSON file, or a Pub/Sub topic (created with its subscription if missing). */
export type GenerateTarget = { file: string; pubsub?: never } | { pubsub: PubSubTarget; file?: never };

/** `ecom generate`: `count` seeded messages to a file (as fast as the disk takes them) or to Pub/Sub (paced at the rate). */
export async function generateJob(to: GenerateTarget, opts: GeneratorOptions, count: number): Promise<GenerateCounts> {
  if (to.file !== undefined) return generateToFile(to.file, opts, count);
  await ensureTopicAndSubscription(to.pubsub);
  const publisher = new EventPublisher(to.pubsub);
  try {
    return await generateToPubSub(publisher, opts, { count });
  } finally {
    await publisher.close();
  }
}

/** Writes `count` messages as NDJSON (`.gz` suffix: gzip). */
export async function generateToFile(file: string, opts: GeneratorOptions, count: number): Promise<GenerateCounts> {
  const counts = newCounts();
  const gen = generateMessages(opts);
  async function* lines(): AsyncGenerator<string> {
    let chunk: string[] = [];
    for (let i = 0; i < count; i++) {
      const m = gen.next().value as GeneratedMessage;
      counts.messages++;
      counts[m.kind]++;
      chunk.push(m.data);
      if (chunk.length === 2000) {
        yield chunk.join("\n") + "\n";
        chunk = [];
      }
    }
    if (chunk.length) yield chunk.join("\n") + "\n";
  }
  const out = fs.createWriteStream(file);
  if (file.endsWith(".gz")) await pipeline(Readable.from(lines()), zlib.createGzip({ level: 1 }), out);
  else await pipeline(Readable.from(lines()), out);
  return counts;
}

/**
 * Publishes at `opts.ratePerSecond` until `count` messages (undefined: until
 * the signal aborts). Pacing is by 20 ms ticks against the wall clock, so a
 * slow tick is caught up on the next.
 */
export async function generateToPubSub(
  publisher: EventPublisher,
  opts: GeneratorOptions,
  limits: {
    count?: number;
    signal?: AbortSignal;
    onPublished?: (m: { eventId?: string; publishedAtMs: number; data: string }) => void;
    /** The server accepted a message: its id, and when it was handed to the publisher (the backlog counts it until acked). */
    onAccepted?: (messageId: string, publishedAtMs: number) => void;
  },
): Promise<GenerateCounts> {
  const counts = newCounts();
  const gen = generateMessages(opts);
  const start = Date.now();
  const pending: Promise<string>[] = [];
  while (!limits.signal?.aborted && (limits.count === undefined || counts.messages < limits.count)) {
    const due = Math.floor(((Date.now() - start) / 1000) * opts.ratePerSecond) + 1;
    const until = limits.count === undefined ? due : Math.min(due, limits.count);
    while (counts.messages < until) {
      const m = gen.next().value as GeneratedMessage;
      counts.messages++;
      counts[m.kind]++;
      const attributes: Record<string, string> = {};
      if (m.attributes.event_id) attributes.event_id = m.attributes.event_id;
      if (m.attributes.event_type) attributes.event_type = m.attributes.event_type;
      const at = Date.now();
      const accepted = limits.onAccepted;
      const published = publisher.publish(m.data, attributes);
      pending.push(
        accepted
          ? published.then((id) => {
              accepted(id, at);
              return id;
            })
          : published,
      );
      limits.onPublished?.({ eventId: m.eventId, publishedAtMs: at, data: m.data });
    }
    if (pending.length > 5000) await Promise.all(pending.splice(0));
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(pending);
  await publisher.flush();
  return counts;
}
