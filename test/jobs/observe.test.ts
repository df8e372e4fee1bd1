/**
 * The metrics extension on a runtime that ingests generated files (5 %
 * duplicates, 3 % invalid, twice the same file): the collected values equal
 * the tables — events by outcome = Silver rows, ops.batches' duplicates,
 * ops.dead_letters rows; dead letters by reason and drift by type as SQL
 * counts them; one commit observation per batch — and freshness covers every
 * Silver and Gold table, Gold capped by a refresh still marked.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { FRESHNESS_TABLES, observeEngine } from "../../jobs/observe.js";
import { openRuntime } from "../../jobs/runtime.js";
import { goldOf } from "../../gold/register.js";
import { generated, tempDir, writeNdjson } from "../helpers/data.js";
import { byLabel, parsePromText, sumOf } from "../helpers/prom-text.js";

describe("observeEngine", () => {
  it("collects values equal to the table counts after an ingest", async () => {
    const tmp = tempDir("observe");
    const file = writeNdjson(path.join(tmp, "events.ndjson"), generated(3000, 8));
    const engine = await openRuntime(path.join(tmp, "data"));
    try {
      const observed = await observeEngine(engine, { processMetrics: false });
      const before = Date.now();
      await ingestFiles(engine, [file], { batchSize: 700 });
      await ingestFiles(engine, [file], { batchSize: 700 }); // all duplicates the second time
      const m = parsePromText(await observed.metrics.text());
      const one = async (sql: string) => Number(Object.values((await engine.store.query(sql))[0]!)[0]);

      const silver = await one(
        `SELECT (SELECT count(*) FROM silver.clickstream_events) + (SELECT count(*) FROM silver.order_events) + (SELECT count(*) FROM silver.payment_events)
              + (SELECT count(*) FROM silver.inventory_events) + (SELECT count(*) FROM silver.customer_events)`,
      );
      expect(sumOf(m, "ecom_events_total", { outcome: "valid" })).toBe(silver);
      expect(sumOf(m, "ecom_events_total", { outcome: "duplicate" })).toBe(await one(`SELECT sum(duplicates) FROM ops.batches`));
      expect(sumOf(m, "ecom_events_total", { outcome: "dead_lettered" })).toBe(await one(`SELECT count(*) FROM ops.dead_letters`));
      expect(sumOf(m, "ecom_events_total")).toBe(6000);
      expect(sumOf(m, "ecom_batch_commit_seconds_count")).toBe(await one(`SELECT count(*) FROM ops.batches`));
      expect(sumOf(m, "ecom_e2e_latency_seconds_count")).toBe(silver);
      for (const t of ["page_view", "order_created", "payment_succeeded"]) {
        expect(sumOf(m, "ecom_events_total", { event_type: t, outcome: "valid" }), t).toBe(
          await one(`SELECT count(*) FROM silver.${t.startsWith("page") ? "clickstream" : t.split("_")[0]}_events WHERE event_type = '${t}'`),
        );
      }
      const reasons = await engine.store.query(`SELECT reason, count(*) AS n FROM ops.dead_letters GROUP BY reason`);
      expect(reasons.length).toBeGreaterThan(0);
      for (const r of reasons) expect(sumOf(m, "ecom_dead_letters_total", { reason: r.reason as string })).toBe(Number(r.n));
      const drift = await engine.store.query(`SELECT event_type, count(DISTINCT field_path) AS n FROM ops.schema_drift GROUP BY event_type`);
      for (const d of drift) expect(sumOf(m, "ecom_schema_drift_fields", { event_type: d.event_type as string })).toBe(Number(d.n));

      // Every table has a freshness, measured from the ingest.
      const fresh = byLabel(m, "ecom_table_freshness_seconds", "table");
      const tables = [...Object.values(FRESHNESS_TABLES.events), ...Object.keys(FRESHNESS_TABLES.state), ...Object.keys(FRESHNESS_TABLES.gold)];
      expect([...fresh.keys()].sort()).toEqual(tables.sort());
      for (const [t, s] of fresh) expect(s, t).toBeLessThanOrEqual((Date.now() - before) / 1000 + 1);
      expect(byLabel(m, "ecom_table_freshness_slo_seconds", "table").get("silver.orders")).toBe(600);

      // A Gold table whose windows wait for refresh is as old as its oldest marked batch, while Silver moves on.
      goldOf(engine)!.refreshAfterCommit = false;
      const [{ id }] = (await engine.store.query(`SELECT max(batch_id) AS id FROM ops.batches`)) as { id: number }[];
      await engine.store.query(`INSERT INTO ops.gold_dirty VALUES ('daily_revenue', 'k', ${id}, now()::TIMESTAMP) ON CONFLICT DO NOTHING`);
      const committed = await one(`SELECT epoch_ms(committed_at) FROM ops.batches WHERE batch_id = ${id}`);
      await ingestFiles(engine, [writeNdjson(path.join(tmp, "more.ndjson"), generated(500, 9))], { batchSize: 700 });
      const asOf = observed.freshness.asOf();
      expect(asOf.get("gold.daily_revenue")).toBe(committed);
      expect(asOf.get("silver.order_events")!).toBeGreaterThan(committed);
    } finally {
      engine.close();
    }
  });
});
