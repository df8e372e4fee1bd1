/**
 * Bronze replay (`ecom ingest --bronze --from --to`): a data dir's Bronze
 * partitions read back, personal fields decrypted with the subject keys,
 * through the same steps again, on both runners.
 *
 *  - into the same data dir: every event is a duplicate, nothing changes;
 *  - into a fresh data dir with a copy of the keys: the same Silver rows
 *    (every column but ingested_at), and a summary that reconciles;
 *  - a date range selects only the events of those days;
 *  - an erased subject (key deleted) still replays, without personal fields.
 *
 * Runs the built CLI (`dist/`), as a user would: it builds first.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TABLES, STATE_TABLES, qualified } from "../../schemas/silver.js";
import { takeMessages } from "../../sources/dev/generator/index.js";
import { START, bronzeRecords, expected, tempDir, writeNdjson } from "../helpers/data.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist/cli/main.js");
const RUNNERS = ["local", "beam"] as const;

type Summary = { read: number; valid: number; duplicates: number; dead_lettered: number; pans_redacted: number };
type Row = Record<string, unknown>;

let tmp: string;
let dirA: string;
let first: Summary;
let days: string[];
let bronzeCount: number;

function run(args: string[]): string {
  return execFileSync(process.execPath, [CLI, "ingest", ...args, "--batch-size", "500", "--json"], {
    cwd: ROOT,
    env: { ...process.env, ECOM_LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
}

function summary(args: string[]): Summary {
  return JSON.parse(run(args).trim().split("\n").at(-1)!) as Summary;
}

/** A fresh data dir holding a copy of `from`'s keys (so tokens match). */
function freshWithKeys(name: string, from = dirA): string {
  const dir = path.join(tmp, name);
  fs.cpSync(path.join(from, "keys"), path.join(dir, "keys"), { recursive: true });
  return dir;
}

async function withDb<T>(dataDir: string, fn: (rows: (sql: string) => Promise<Row[]>) => Promise<T>, readOnly = true): Promise<T> {
  const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), readOnly ? { access_mode: "READ_ONLY" } : {});
  const conn = await instance.connect();
  try {
    return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson() as Row[]);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Silver: event tables (all but ingested_at) and state tables (all but updated_at). */
function silver(dataDir: string): Promise<Record<string, Row[]>> {
  return withDb(dataDir, async (rows) => {
    const out: Record<string, Row[]> = {};
    for (const t of Object.values(EVENT_TABLES)) out[t.name] = await rows(`SELECT * EXCLUDE (ingested_at) FROM ${qualified(t)} ORDER BY event_id`);
    for (const t of STATE_TABLES) {
      const key = t.columns.filter((c) => c.key).map((c) => c.name);
      out[t.name] = await rows(`SELECT * EXCLUDE (updated_at) FROM ${qualified(t)} ORDER BY ${key.join(", ")}`);
    }
    return out;
  });
}

function eventRows(s: Record<string, Row[]>): Row[] {
  return Object.values(EVENT_TABLES).flatMap((t) => s[t.name]!);
}

beforeAll(() => {
  try {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: ROOT, stdio: "pipe" });
  } catch (err) {
    if (!fs.existsSync(CLI)) throw err;
  }
  tmp = tempDir("bronze-replay");
  // One event every 60 s of event time: 3000 messages span three UTC days (2026-11-20 08:00 .. 11-22 ~10:00).
  const messages = takeMessages({ seed: 33, ratePerSecond: 1 / 60, startTime: START, duplicateFraction: 0.05, invalidFraction: 0.03 }, 3000);
  const input = writeNdjson(path.join(tmp, "events.ndjson.gz"), messages);
  dirA = path.join(tmp, "A");
  first = summary([input, "--data-dir", dirA]);
  const want = expected(messages);
  expect(first.read).toBe(want.read);
  expect(first.valid).toBe(want.validIds.size);
  const records = bronzeRecords(dirA);
  bronzeCount = records.length;
  expect(bronzeCount).toBe(first.valid);
  days = [...new Set(records.map((r) => String(r.event_time).slice(0, 10)))].sort();
  expect(days.length).toBeGreaterThanOrEqual(3);
}, 120_000);

afterAll(() => {
  if (tmp && !process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each(RUNNERS)("ecom ingest --bronze --runner=%s", (runner) => {
  it("replayed into the same data dir: every event a duplicate, Silver unchanged", async () => {
    const before = await silver(dirA);
    const s = summary(["--bronze", "--from", days[0]!, "--to", days.at(-1)!, "--data-dir", dirA, "--runner", runner]);
    expect(s).toEqual({ read: bronzeCount, valid: 0, duplicates: bronzeCount, dead_lettered: 0, pans_redacted: 0 });
    expect(await silver(dirA)).toEqual(before);
  }, 120_000);

  it("replayed into a fresh data dir with the same keys: the same Silver rows, a reconciling summary", async () => {
    const dirB = freshWithKeys(`B-${runner}`);
    const s = summary(["--bronze", "--from", days[0]!, "--to", days.at(-1)!, "--source-data-dir", dirA, "--data-dir", dirB, "--runner", runner]);
    expect(s.read).toBe(bronzeCount);
    expect(s.valid).toBe(first.valid);
    expect(s.duplicates).toBe(0);
    expect(s.dead_lettered).toBe(0);
    expect(s.read).toBe(s.valid + s.duplicates + s.dead_lettered);
    const [a, b] = [await silver(dirA), await silver(dirB)];
    expect(eventRows(b).length).toBe(first.valid);
    expect(b).toEqual(a);
    // Bronze of B holds the same events (re-encrypted under the same subjects).
    const ids = (dir: string) =>
      bronzeRecords(dir)
        .map((r) => r.event_id)
        .sort();
    expect(ids(dirB)).toEqual(ids(dirA));
  }, 120_000);

  it("a date range gives only the events of those days", async () => {
    const day = days[1]!;
    const dirC = freshWithKeys(`C-${runner}`);
    const s = summary(["--bronze", "--from", day, "--to", day, "--source-data-dir", dirA, "--data-dir", dirC, "--runner", runner]);
    const a = eventRows(await silver(dirA));
    const inDay = a.filter((r) => String(r.event_date) === day);
    expect(inDay.length).toBeGreaterThan(0);
    expect(inDay.length).toBeLessThan(a.length);
    expect(s).toMatchObject({ read: inDay.length, valid: inDay.length, duplicates: 0, dead_lettered: 0 });
    const c = eventRows(await silver(dirC));
    expect(c.map((r) => r.event_id).sort()).toEqual(inDay.map((r) => r.event_id).sort());
    expect(c.every((r) => String(r.event_date) === day)).toBe(true);
  }, 120_000);
});

describe.each(RUNNERS)("an erased subject (key deleted), --runner=%s", (runner) => {
  let dirF: string;
  let replayed: Summary;
  let erasedIds: string[];
  let erasedTypes: Map<string, string>;

  beforeAll(async () => {
    // A copy of A in which one subject is erased: their data key is deleted from ops.subject_keys.
    // The subject chosen has an order_created event (whose schema requires customer fields) and others.
    const dirE = path.join(tmp, `E-${runner}`);
    fs.cpSync(dirA, dirE, { recursive: true });
    const records = bronzeRecords(dirE) as { event_id: string; event_type: string; _pii?: { kid: string } }[];
    const byKid = new Map<string, { event_id: string; event_type: string }[]>();
    for (const r of records) if (r._pii) byKid.set(r._pii.kid, [...(byKid.get(r._pii.kid) ?? []), r]);
    const [kid, events] = [...byKid]
      .filter(([, evs]) => evs.some((e) => e.event_type === "order_created") && evs.some((e) => e.event_type !== "order_created"))
      .sort((x, y) => y[1].length - x[1].length)[0]!;
    erasedIds = events.map((e) => e.event_id);
    erasedTypes = new Map(events.map((e) => [e.event_id, e.event_type]));
    await withDb(dirE, async (rows) => rows(`DELETE FROM ops.subject_keys WHERE kid = '${kid}'`), false);

    dirF = freshWithKeys(`F-${runner}`, dirE);
    replayed = summary(["--bronze", "--from", days[0]!, "--to", days.at(-1)!, "--source-data-dir", dirE, "--data-dir", dirF, "--runner", runner]);
  }, 120_000);

  it("their events replay with every personal token null; everyone else's rows are unchanged", async () => {
    expect(replayed.read).toBe(bronzeCount);
    expect(replayed.duplicates).toBe(0);
    const erased = new Set(erasedIds);
    const a = new Map(eventRows(await silver(dirA)).map((r) => [r.event_id as string, r]));
    const f = new Map(eventRows(await silver(dirF)).map((r) => [r.event_id as string, r]));
    for (const [id, orig] of a) if (!erased.has(id)) expect(f.get(id), id).toEqual(orig);
    // Event types whose schema does not require personal fields: every one of the subject's events is in Silver.
    const replayable = erasedIds;
    expect(replayable.length).toBeGreaterThan(0);
    let nulled = 0;
    for (const id of replayable) {
      const row = f.get(id);
      const orig = a.get(id)!;
      expect(row, `${id} (${erasedTypes.get(id)}) replayed`).toBeDefined();
      for (const [col, v] of Object.entries(row!)) {
        // The person's identifiers were encrypted in Bronze with the rest of their data: gone with the key.
        if ((col.endsWith("_token") && col !== "card_token") || col === "session_id") {
          expect(v, `${id}.${col}`).toBeNull();
          if (orig[col] !== null) nulled++;
        } else if (col !== "extras") expect(v, `${id}.${col}`).toEqual(orig[col]);
      }
    }
    expect(nulled).toBeGreaterThan(0);
    // Their Bronze copies in F carry no personal data any more (nothing left to encrypt).
    const fErased = bronzeRecords(dirF).filter((r) => replayable.includes(r.event_id as string));
    expect(fErased.length).toBe(replayable.length);
    expect(fErased.every((r) => r._pii === undefined)).toBe(true);
  });

  // order_created requires customer.email and the address fields: erased, they hold the
  // ERASED marker, so the order still validates and lands with null tokens.
  it("every one of their events reaches Silver, order_created included, with null personal tokens", async () => {
    expect(replayed).toMatchObject({ read: bronzeCount, valid: first.valid, duplicates: 0, dead_lettered: 0 });
    const orders = eventRows(await silver(dirF)).filter((r) => erasedTypes.get(r.event_id as string) === "order_created");
    expect(orders.length).toBeGreaterThan(0);
    for (const o of orders) {
      expect([o.customer_email_token, o.customer_phone_token, o.customer_name_token, o.shipping_address_token]).toEqual([null, null, null, null]);
      expect(Number(o.total_minor)).toBeGreaterThan(0);
    }
  });
});

describe("flag validation", () => {
  const fails = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, "ingest", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ECOM_LOG_LEVEL: "warn" } });
    return { status: r.status, stderr: r.stderr };
  };
  it.each([
    [["--bronze"], /--bronze needs --from/],
    [["--bronze", "--from", "2026-11-31"], /--from: must be a date YYYY-MM-DD/],
    [["--bronze", "--from", "2026-11-21", "--to", "2026-11-20"], /--to: 2026-11-20 is before --from 2026-11-21/],
    [["--bronze", "--from", "2026-11-21", "some.ndjson"], /takes no paths/],
    [["--from", "2026-11-21", "some.ndjson"], /--from: only applies to a Bronze replay: add --bronze/],
    [[], /give NDJSON files or folders/],
    [["--bronze", "--from", "2026-11-21", "--source-data-dir", "/nonexistent/ecom"], /has no Bronze folder/],
  ])("ecom ingest %j fails with a usage error", (args, message) => {
    const r = fails([...args, "--data-dir", path.join(tmp, "unused")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
