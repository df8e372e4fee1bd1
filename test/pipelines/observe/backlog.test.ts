/**
 * The backlog as the subscriber measures it: messages this process published
 * count until acked (also when the ack came before the publish call
 * returned), other producers' messages count while the subscriber holds them,
 * nothing is counted twice, and the oldest age follows the clock.
 */
import { describe, expect, it } from "vitest";
import { BacklogTracker } from "../../../pipelines/observe/backlog.js";

describe("BacklogTracker", () => {
  it("counts own published messages until acked and held messages of others, once each", () => {
    let now = 100_000;
    const held = new Map<string, number>();
    const b = new BacklogTracker("events-ingest", { held: () => held }, () => now);
    expect(b.reading()).toEqual({ subscription: "events-ingest", messages: 0, oldestUnackedAgeSeconds: 0 });

    b.publishedMessage("m1", 90_000);
    b.publishedMessage("m2", 95_000);
    held.set("m1", 90_000); // ours, now held by the subscriber too: still one message
    held.set("x1", 80_000); // another producer's, held
    expect(b.reading()).toEqual({ subscription: "events-ingest", messages: 3, oldestUnackedAgeSeconds: 20 });

    held.delete("m1");
    held.delete("x1");
    b.acked(["m1", "x1"]);
    now = 105_000;
    expect(b.reading()).toEqual({ subscription: "events-ingest", messages: 1, oldestUnackedAgeSeconds: 10 });

    // Acked before its publish call returned: never counted.
    b.acked(["m3"]);
    b.publishedMessage("m3", 104_000);
    b.acked(["m2"]);
    expect(b.reading()).toEqual({ subscription: "events-ingest", messages: 0, oldestUnackedAgeSeconds: 0 });
  });
});
