/**
 * The Beam batch pipeline on the DirectRunner against the local runner, on
 * the same generated input (duplicates and invalid events included), each
 * into its own data dir: the same summary, Silver rows (every column but
 * ingested_at; the keys dir is copied so tokens must match too), state
 * tables, dead letters, batch manifests and Bronze files.
 *
 * Runs the built CLI (`dist/`), as a user would: it builds first.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOLD_MODELS } from "../../gold/models/index.js";
import { EVENT_TABLES, STATE_TABLES, qualified } from "../../schemas/silver.js";
import { takeMessages } from "../../sources/dev/generator/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist/cli/main.js");
let tmp: string;
let input: string;

type Summary = { read: number; valid: number; duplicates: number; dead_lettered: number; pans_redacted: number };

function ingest(dataDir: string, runner: "local" | "beam", batchSize: number): Summary {
  const out = execFileSync(process.execPath, [CLI, "ingest", input, "--data-dir", dataDir, "--runner", runner, "--batch-size", String(batchSize), "--json"], {
    cwd: ROOT,
    env: { ...process.env, ECOM_LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Summary;
}

async function snapshot(dataDir: string): Promise<Record<string, unknown[]>> {
  const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
  const out: Record<string, unknown[]> = {};
  try {
    for (const t of Object.values(EVENT_TABLES)) {
      out[t.name] = await rows(`SELECT * EXCLUDE (ingested_at) FROM ${qualified(t)} ORDER BY event_id`);
    }
    for (const t of STATE_TABLES) {
      const key = t.columns.filter((c) => c.key).map((c) => c.name);
      out[t.name] = await rows(`SELECT * EXCLUDE (updated_at) FROM ${qualified(t)} ORDER BY ${key.join(", ")}`);
    }
    out.dead_letters = await rows(
      `SELECT dl_id, reason, detail, paths, stage, event_id, event_type, schema_version, origin, raw FROM ops.dead_letters ORDER BY dl_id`,
    );
    out.batches = await rows(
      `SELECT batch_id, origin, read, valid, duplicates, dead_lettered, pans_redacted, bronze_files, bronze_state FROM ops.batches ORDER BY batch_id`,
    );
    out.seen_events = await rows(`SELECT event_id::VARCHAR AS id, batch_id FROM ops.seen_events ORDER BY id`);
    out.schema_drift = await rows(`SELECT event_type, schema_version, field_path, events FROM ops.schema_drift ORDER BY ALL`);
    // Key ids are random; whose keys there are is not.
    out.subject_keys = await rows(`SELECT subject_ref, count(*) AS n FROM ops.subject_keys GROUP BY ALL ORDER BY ALL`);
    // Gold: the Beam sink's batches mark their windows as the local runner's do, and the job refreshes them.
    for (const m of GOLD_MODELS) out[`gold.${m.name}`] = await rows(`SELECT * FROM gold.${m.name} ORDER BY ALL`);
    out.gold_pending = await rows(`SELECT count(*) AS n FROM ops.gold_dirty`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  out.bronze = bronzeSummary(path.join(dataDir, "bronze"));
  return out;
}

/** Bronze files in place, each with its event_ids (the ciphertext differs: random IVs and subject keys). */
function bronzeSummary(root: string): unknown[] {
  const out: unknown[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const lines = zlib.gunzipSync(fs.readFileSync(p)).toString("utf8").trim().split("\n");
        const records = lines.map((l) => JSON.parse(l) as { event_id: string; _pii?: unknown; _pii_dropped?: unknown });
        out.push({
          file: path.relative(root, p),
          ids: records.map((r) => r.event_id),
          encrypted: records.filter((r) => r._pii).length,
          dropped: records.filter((r) => r._pii_dropped).length,
        });
      }
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

beforeAll(() => {
  // The CLI under test is the built one; tsc emits even when another file has a type error.
  try {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: ROOT, stdio: "pipe" });
  } catch (err) {
    if (!fs.existsSync(CLI)) throw err;
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ecom-beam-"));
  input = path.join(tmp, "events.ndjson");
  const messages = takeMessages(
    { seed: 20261125, ratePerSecond: 500, startTime: new Date("2026-11-25T09:30:00Z"), duplicateFraction: 0.06, invalidFraction: 0.04 },
    4000,
  );
  expect(messages.some((m) => m.kind === "duplicate")).toBe(true);
  expect(messages.some((m) => m.kind === "invalid")).toBe(true);
  fs.writeFileSync(input, messages.map((m) => m.data).join("\n") + "\n");
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each([
  { batchSize: 20_000, label: "one batch" },
  { batchSize: 700, label: "many batches, one in flight while the next is parsed" },
])("ecom ingest --runner=beam vs --runner=local ($label)", ({ batchSize }) => {
  it("gives the same summary, Silver rows, dead letters, manifests and Bronze files", async () => {
    const localDir = path.join(tmp, `local-${batchSize}`);
    const beamDir = path.join(tmp, `beam-${batchSize}`);
    const local = ingest(localDir, "local", batchSize);
    // Same keys, so tokens and subject key ids must match too.
    fs.cpSync(path.join(localDir, "keys"), path.join(beamDir, "keys"), { recursive: true });
    const beam = ingest(beamDir, "beam", batchSize);

    expect(beam).toEqual(local);
    expect(local.read).toBe(4000);
    expect(local.duplicates).toBeGreaterThan(0);
    expect(local.dead_lettered).toBeGreaterThan(0);
    expect(local.read).toBe(local.valid + local.duplicates + local.dead_lettered);

    const [a, b] = [await snapshot(localDir), await snapshot(beamDir)];
    expect(Object.values(EVENT_TABLES).reduce((n, t) => n + a[t.name]!.length, 0)).toBe(local.valid);
    expect(a.dead_letters!.length).toBe(local.dead_lettered);
    for (const name of Object.keys(a)) expect({ [name]: b[name] }).toEqual({ [name]: a[name] });
  });

  it("commits nothing new when the same input comes again (the dedupe store is shared with the local runner)", () => {
    const beamDir = path.join(tmp, `beam-${batchSize}`);
    const again = ingest(beamDir, "beam", batchSize);
    expect(again).toMatchObject({ read: 4000, valid: 0, dead_lettered: 0, duplicates: 4000 });
  });
});
