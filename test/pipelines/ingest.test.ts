/**
 * The ingest core end to end, in process: a generated file with duplicates,
 * invalid events and card numbers through every step into real Bronze files
 * and a real DuckDB file. Counts are checked against what the generator says
 * it sent, never against the code under test.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestFiles } from "../../jobs/ingest-files.js";
import { Engine } from "../../pipelines/local/engine.js";
import type { GeneratedMessage } from "../../sources/dev/generator/index.js";
import { bronzeRecords, expected, generated, tempDir, tempFiles, writeNdjson } from "../helpers/data.js";

const TABLES = ["clickstream_events", "order_events", "payment_events", "inventory_events", "customer_events"];
const DOMAIN_OF: Record<string, string> = {
  page_view: "clickstream_events",
  search: "clickstream_events",
  add_to_cart: "clickstream_events",
  order_created: "order_events",
  order_confirmed: "order_events",
  order_shipped: "order_events",
  order_delivered: "order_events",
  order_cancelled: "order_events",
  payment_initiated: "payment_events",
  payment_success: "payment_events",
  payment_failure: "payment_events",
  payment_refund: "payment_events",
  stock_update: "inventory_events",
  price_change: "inventory_events",
  login: "customer_events",
  profile_update: "customer_events",
};

describe("ingest a generated file", () => {
  let dir: string;
  let file: string;
  let messages: GeneratedMessage[];
  let engine: Engine;
  let first: Awaited<ReturnType<typeof ingestFiles>>;

  beforeAll(async () => {
    dir = tempDir("ingest");
    messages = generated(6000);
    file = writeNdjson(path.join(dir, "events.ndjson.gz"), messages);
    engine = await Engine.open(path.join(dir, "data"));
    first = await ingestFiles(engine, [file], { batchSize: 1000 });
  });
  afterAll(() => engine?.close());

  const count = async (sql: string) => Number((await engine.store.query(sql))[0]!.n);

  it("reconciles: read = valid + duplicates + dead-lettered, and each matches what was sent", () => {
    const exp = expected(messages);
    expect(first.read).toBe(messages.length);
    expect(first.valid).toBe(exp.validIds.size);
    expect(first.dead_lettered).toBe(exp.invalidBodies.size);
    expect(first.read).toBe(first.valid + first.duplicates + first.dead_lettered);
  });

  it("puts each valid event in its Silver table exactly once", async () => {
    const exp = expected(messages);
    let total = 0;
    for (const t of TABLES) {
      const want = [...exp.byType].filter(([type]) => DOMAIN_OF[type] === t).reduce((s, [, n]) => s + n, 0);
      expect(await count(`SELECT count(*) n FROM silver.${t}`), t).toBe(want);
      expect(await count(`SELECT count(DISTINCT event_id) n FROM silver.${t}`)).toBe(want);
      total += want;
    }
    expect(total).toBe(exp.validIds.size);
    const ids = await engine.store.query(TABLES.map((t) => `SELECT event_id FROM silver.${t}`).join(" UNION ALL "));
    expect(new Set(ids.map((r) => r.event_id as string))).toEqual(exp.validIds);
  });

  it("keeps every invalid message in the dead-letter store with a reason, and none of them in Silver", async () => {
    const rows = await engine.store.query(`SELECT reason FROM ops.dead_letters`);
    expect(rows.length).toBe(expected(messages).invalidBodies.size);
    const reasons = ["malformed_json", "not_an_object", "unknown_type", "unknown_version", "schema_violation", "too_large"];
    for (const r of rows) expect(reasons).toContain(r.reason);
    expect(new Set(rows.map((r) => r.reason)).size).toBeGreaterThanOrEqual(4);
  });

  it("writes Bronze: one record per Silver row, partitioned by type/date/hour, no temp files left", () => {
    const data = path.join(dir, "data");
    const records = bronzeRecords(data);
    expect(records.length).toBe(first.valid);
    expect(new Set(records.map((r) => r.event_id)).size).toBe(first.valid);
    expect(tempFiles(data)).toEqual([]);
    const top = fs.readdirSync(path.join(data, "bronze"));
    expect(top.length).toBeGreaterThan(10);
    expect(top.every((d) => d.startsWith("event_type="))).toBe(true);
  });

  it("lets no personal data or card number into Silver or Bronze in clear", async () => {
    const personal = new Set<string>();
    for (const m of messages) {
      if (m.kind !== "valid") continue;
      const e = JSON.parse(m.data);
      const c = e.payload?.customer;
      for (const v of [c?.email, c?.phone, c?.name, c?.shipping_address?.line1, e.payload?.email, e.context?.ip]) {
        if (typeof v === "string" && v.length > 6) personal.add(v);
      }
    }
    expect(personal.size).toBeGreaterThan(50);
    const silver = await engine.store.query(
      TABLES.map((t) => `SELECT * EXCLUDE (event_time, ingested_at, event_date) FROM silver.${t}`).join(" UNION ALL BY NAME "),
    );
    const bronze = bronzeRecords(path.join(dir, "data"));
    for (const written of [silver, bronze]) {
      const values = stringsIn(written);
      for (const v of personal) expect(values.has(v), `a personal value (${v.slice(0, 2)}…) was written`).toBe(false);
      const text = JSON.stringify(written);
      expect(text).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}/); // no email anywhere
      expect(text).not.toMatch(/4111[ -]?1111[ -]?1111[ -]?1111/);
    }
  });

  it("keeps order state by latest event_time", async () => {
    // Independent expectation from the input: per order, the type of the event with the latest event_time.
    const latest = new Map<string, { t: number; type: string }>();
    const seen = new Set<string>();
    for (const m of messages) {
      if (m.kind !== "valid") continue;
      const e = JSON.parse(m.data);
      if (!e.event_type.startsWith("order_") || seen.has(e.event_id)) continue;
      seen.add(e.event_id);
      const t = Date.parse(e.event_time);
      const cur = latest.get(e.payload.order_id);
      if (!cur || t > cur.t) latest.set(e.payload.order_id, { t, type: e.event_type });
    }
    const rows = await engine.store.query(`SELECT order_id, status FROM silver.orders`);
    expect(rows.length).toBe(latest.size);
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) expect(r.status).toBe(latest.get(r.order_id as string)!.type.replace("order_", ""));
  });

  it("commits nothing when the same file is ingested again", async () => {
    const before = await count(`SELECT count(*) n FROM ops.seen_events`);
    const again = await ingestFiles(engine, [file], { batchSize: 1000 });
    expect(again).toMatchObject({ read: messages.length, valid: 0, dead_lettered: 0, duplicates: messages.length });
    expect(await count(`SELECT count(*) n FROM ops.seen_events`)).toBe(before);
    expect(bronzeRecords(path.join(dir, "data")).length).toBe(first.valid);
  });
});

/** Every string anywhere in a JSON value (JSON columns parsed too). */
function stringsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    out.add(value);
    if (value.startsWith("{") || value.startsWith("[")) {
      try {
        stringsIn(JSON.parse(value), out);
      } catch {
        // not JSON: the string itself was added
      }
    }
  } else if (value && typeof value === "object") for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}
