/**
 * Dead-letter replay: events rejected for a schema version the platform did
 * not know yet move to Silver once that version is registered, keeping their
 * original event_id and event_time; the rest stay, with the attempt counted.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { replayDeadLetters } from "../../jobs/replay-dead-letters.js";
import { Engine } from "../../pipelines/local/engine.js";
import { type Registry, createRegistry } from "../../schemas/registry.js";
import { orderCreated } from "../helpers/events.js";
import { tempDir } from "../helpers/data.js";

/** Today's registry plus order_created v2 (same fields: a producer bumped the version early). */
function registryWithV2(): Registry {
  const base = createRegistry();
  return {
    lookup(type, version) {
      if (type === "order_created" && version === 2) {
        const v1 = base.lookup(type, 1);
        if (typeof v1 === "string") throw new Error("v1 missing");
        return { ...v1, version: 2 };
      }
      return base.lookup(type, version);
    },
    entries: () => base.entries(),
  };
}

describe("dead-letters replay", () => {
  let engine: Engine | undefined;
  afterEach(() => engine?.close());

  it("moves events that now pass to Silver with their original id and time, and keeps the rest", async () => {
    const dir = tempDir("replay");
    const v2 = orderCreated({ schema_version: 2, event_id: "7b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b", event_time: "2026-11-01T09:30:00Z" });
    const broken = orderCreated({ event_id: "8b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b" }, { total_minor: "12.50" });
    const file = path.join(dir, "in.ndjson");
    fs.writeFileSync(file, [JSON.stringify(v2), JSON.stringify(broken), "{oops"].join("\n") + "\n");

    engine = await Engine.open(path.join(dir, "data"));
    const first = await ingestFiles(engine, [file], { batchSize: 100 });
    expect(first).toMatchObject({ read: 3, valid: 0, dead_lettered: 3 });
    engine.close();

    engine = await Engine.open(path.join(dir, "data"), { registry: registryWithV2() });
    const summary = await replayDeadLetters(engine, {});
    expect(summary).toEqual({ selected: 3, replayed: 1, already_in_silver: 0, still_failing: 2 });

    const silver = await engine.store.query(
      `SELECT event_id, schema_version, strftime(event_time, '%Y-%m-%dT%H:%M:%SZ') AS t, total_minor FROM silver.order_events`,
    );
    expect(silver).toEqual([{ event_id: "7b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b", schema_version: 2, t: "2026-11-01T09:30:00Z", total_minor: 1100 }]);
    const left = await engine.store.query(`SELECT reason, replay_attempts, last_replay_error IS NOT NULL AS has_error FROM ops.dead_letters ORDER BY reason`);
    expect(left).toEqual([
      { reason: "malformed_json", replay_attempts: 1, has_error: true },
      { reason: "schema_violation", replay_attempts: 1, has_error: true },
    ]);

    // Replaying again moves nothing twice.
    expect(await replayDeadLetters(engine, {})).toEqual({ selected: 2, replayed: 0, already_in_silver: 0, still_failing: 2 });
    expect((await engine.store.query(`SELECT count(*) AS n FROM silver.order_events`))[0]!.n).toBe(1);
  });
});
