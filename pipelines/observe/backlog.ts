/**
 * The subscription's backlog as the subscriber can measure it, for the
 * metrics `ecom_pubsub_backlog_messages` and
 * `ecom_pubsub_oldest_unacked_age_seconds`. The emulator has no Cloud
 * Monitoring, so this counts what the process knows:
 *
 *  - messages this process published (`ecom start`'s own generator) and has
 *    not acknowledged yet, whether still on the server or held here, by id
 *    and publish time (exact for that traffic);
 *  - messages other producers published that the subscriber holds (received,
 *    neither acked nor nacked), with their publish times.
 *
 * What is neither (another producer's messages still on the server) is not
 * seen: with `--no-generator` the reading is a lower bound. In production the
 * backlog alerts use Cloud Monitoring's own
 * `pubsub.googleapis.com/subscription/num_undelivered_messages` and
 * `oldest_unacked_message_age` (infra/monitoring).
 */
import type { BacklogReading } from "./metrics.js";

/** What the subscriber holds: publish time (epoch ms) by message id. */
export interface HeldMessages {
  held(): ReadonlyMap<string, number>;
}

/** How long an ack that came before its own publish confirmation is remembered, ms. */
const EARLY_ACK_MS = 60_000;

export class BacklogTracker {
  private readonly published = new Map<string, number>();
  /** Acks of ids not (yet) known as published: another producer's, or ours before the publish call returned. */
  private readonly earlyAcks = new Map<string, number>();
  private publishing = false;

  constructor(
    readonly subscription: string,
    private readonly source?: HeldMessages,
    private readonly now: () => number = Date.now,
  ) {}

  /** A message this process published (its server id), at `atMs`. */
  publishedMessage(id: string, atMs: number): void {
    this.publishing = true;
    if (this.earlyAcks.delete(id)) return;
    this.published.set(id, atMs);
  }

  /** Messages acknowledged. */
  acked(ids: Iterable<string>): void {
    const now = this.now();
    for (const id of ids) if (!this.published.delete(id) && this.publishing) this.earlyAcks.set(id, now);
    if (this.earlyAcks.size > 10_000) for (const [id, at] of this.earlyAcks) if (now - at > EARLY_ACK_MS) this.earlyAcks.delete(id);
  }

  reading(): BacklogReading {
    const now = this.now();
    let messages = this.published.size;
    let oldest = Infinity;
    for (const at of this.published.values()) if (at < oldest) oldest = at;
    for (const [id, at] of this.source?.held() ?? []) {
      if (this.published.has(id)) continue;
      messages++;
      if (at < oldest) oldest = at;
    }
    return { subscription: this.subscription, messages, oldestUnackedAgeSeconds: oldest === Infinity ? 0 : Math.max(0, (now - oldest) / 1000) };
  }
}
