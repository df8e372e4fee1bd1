/**
 * Parsing on worker threads commits exactly what parsing in the commit thread
 * does: the same Silver rows (tokens included: the keys dir is shared), dead
 * letters, Bronze records and counts, on a generated file with duplicates
 * across chunk boundaries and invalid events.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { Engine } from "../../pipelines/local/engine.js";
import { bronzeRecords, expected, generated, tempDir, writeNdjson } from "../helpers/data.js";

const TABLES = ["clickstream_events", "order_events", "payment_events", "inventory_events", "customer_events", "orders", "payments", "inventory"];

async function snapshot(engine: Engine) {
  const out: Record<string, unknown> = {};
  for (const t of TABLES) {
    const rows = await engine.store.query(`SELECT * EXCLUDE (${t.endsWith("_events") ? "ingested_at" : "updated_at"}) FROM silver.${t} ORDER BY ALL`);
    out[t] = rows;
  }
  out.dead = await engine.store.query(`SELECT dl_id, reason, detail, paths, event_id FROM ops.dead_letters ORDER BY dl_id`);
  out.drift = await engine.store.query(`SELECT event_type, field_path, events FROM ops.schema_drift ORDER BY ALL`);
  // Key ids are random; whose keys there are is not.
  out.keys = await engine.store.query(`SELECT subject_ref, count(*) AS n FROM ops.subject_keys GROUP BY ALL ORDER BY ALL`);
  return out;
}

describe("parallel parse", () => {
  it("commits the same rows, dead letters and Bronze records as parsing in one thread", async () => {
    const dir = tempDir("parallel");
    const messages = generated(5000, 77, { duplicateFraction: 0.08, invalidFraction: 0.04 });
    const file = writeNdjson(path.join(dir, "in.ndjson"), messages);
    const one = path.join(dir, "one");
    const many = path.join(dir, "many");
    (await Engine.open(one)).close();
    fs.mkdirSync(many);
    fs.cpSync(path.join(one, "keys"), path.join(many, "keys"), { recursive: true });
    fs.copyFileSync(path.join(one, "ecom.duckdb"), path.join(many, "ecom.duckdb"));

    const results = [];
    for (const [data, threads] of [
      [one, 0],
      [many, 3],
    ] as const) {
      const engine = await Engine.open(data, { parseThreads: threads });
      try {
        const totals = await ingestFiles(engine, [file], { batchSize: 700 });
        results.push({
          totals,
          tables: await snapshot(engine),
          bronze: bronzeRecords(data)
            .map((r) => JSON.stringify({ ...r, _pii: undefined }))
            .sort(),
        });
      } finally {
        engine.close();
      }
    }
    const exp = expected(messages);
    expect(results[0]!.totals).toMatchObject({ read: messages.length, valid: exp.validIds.size, dead_lettered: exp.invalidBodies.size });
    expect(results[1]!.totals).toEqual(results[0]!.totals);
    expect(results[1]!.tables).toEqual(results[0]!.tables);
    expect(results[1]!.bronze).toEqual(results[0]!.bronze);
    expect((results[0]!.tables.clickstream_events as unknown[]).length).toBeGreaterThan(1000);
  });
});
