/**
 * The trust boundary end to end, as a user runs it: `ecom ingest` (the built
 * CLI, local and Beam runners) of a file of generated hostile events mixed
 * with ordinary traffic, then the leak scan (test/helpers/scan.ts) over
 * every table, every Bronze file (inside the encrypted envelopes too, for
 * card numbers) and the captured logs. Then a Bronze replay into a fresh
 * data dir gives back the same Silver: what was encrypted was kept, not lost.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TABLES, qualified } from "../../schemas/silver.js";
import { generated, tempDir } from "../helpers/data.js";
import { type PlantedEvent, panEvents, personalDataEvents, sensitiveAuthEvents } from "../helpers/hostile.js";
import { scanForClearValues } from "../helpers/scan.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist/cli/main.js");

type Summary = { read: number; valid: number; duplicates: number; dead_lettered: number; pans_redacted: number };

function ecom(args: string[]): { summary: Summary; logs: string[] } {
  const r = spawnSync(process.execPath, [CLI, ...args, "--json"], { cwd: ROOT, env: { ...process.env, ECOM_LOG_LEVEL: "debug" }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ecom ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { summary: JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Summary, logs: [r.stdout, r.stderr] };
}

async function silverRows(dataDir: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    const out: Record<string, unknown>[] = [];
    for (const t of Object.values(EVENT_TABLES)) {
      out.push(
        ...((await conn.runAndReadAll(`SELECT * EXCLUDE (ingested_at) FROM ${qualified(t)} ORDER BY event_id`)).getRowObjectsJson() as Record<
          string,
          unknown
        >[]),
      );
    }
    return out;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

let tmp: string;
let file: string;
let pans: (PlantedEvent & { pan: string })[];
let secrets: PlantedEvent[];
let personal: PlantedEvent[];
let lines: string[];

beforeAll(() => {
  tmp = tempDir("trust");
  pans = panEvents(4242, 400);
  secrets = sensitiveAuthEvents(4343, 150);
  personal = personalDataEvents(4444, 400);
  const ordinary = generated(1500, 45).map((m) => m.data);
  // A message nested far deeper than any schema: it used to overflow the stack of a step.
  const deep = `{"event_type":"search","payload":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
  lines = [...ordinary.slice(0, 700), ...pans.map((p) => p.line), deep, ...secrets.map((s) => s.line), ...personal.map((p) => p.line), ...ordinary.slice(700)];
  file = path.join(tmp, "hostile.ndjson");
  fs.writeFileSync(file, lines.join("\n") + "\n");
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(["local", "beam"] as const)("hostile producers through ecom ingest --runner=%s", (runner) => {
  let dataDir: string;
  let run: { summary: Summary; logs: string[] };

  beforeAll(() => {
    dataDir = path.join(tmp, `data-${runner}`);
    run = ecom(["ingest", file, "--data-dir", dataDir, "--runner", runner, "--batch-size", "500"]);
  }, 180_000);

  it("loses nothing and reconciles: every line is committed, dead-lettered or a duplicate", () => {
    const s = run.summary;
    expect(s.read).toBe(lines.length);
    expect(s.read).toBe(s.valid + s.duplicates + s.dead_lettered);
    expect(s.pans_redacted).toBeGreaterThanOrEqual(pans.length);
  });

  it("stores no card number anywhere: tables, Bronze, inside Bronze's envelopes, logs", async () => {
    const report = await scanForClearValues(
      dataDir,
      pans.map((p) => p.pan),
      { logs: run.logs, decryptBronze: true },
    );
    expect(report.hits).toEqual([]);
    expect(report.cells).toBeGreaterThan(10_000);
    expect(report.envelopes).toBeGreaterThan(1000);
  });

  it("stores no sensitive authentication data anywhere, dead letters included", async () => {
    const report = await scanForClearValues(
      dataDir,
      secrets.flatMap((s) => s.planted),
      { logs: run.logs, decryptBronze: true },
    );
    expect(report.hits).toEqual([]);
  });

  it("keeps personal data out of Silver, Gold, Bronze and the logs in clear, and the person's ids out of Bronze", async () => {
    const report = await scanForClearValues(
      dataDir,
      personal.flatMap((p) => p.planted),
      { logs: run.logs },
    );
    expect(report.hits).toEqual([]);
    // session_id stays in Silver (it is no person's id there); in Bronze it is encrypted with the rest.
    const ids = await scanForClearValues(
      dataDir,
      personal.flatMap((p) => p.identifiers ?? []),
      { logs: run.logs, allow: (w) => /^(silver|gold)\.[a-z_]+\.session_id$/.test(w) },
    );
    expect(ids.hits).toEqual([]);
  });

  it("dead-letters the message nested too deep, and goes on", async () => {
    const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), { access_mode: "READ_ONLY" });
    const conn = await instance.connect();
    try {
      const rows = (await conn.runAndReadAll(`SELECT reason, detail FROM ops.dead_letters WHERE reason = 'too_deep'`)).getRowObjectsJson();
      expect(rows).toEqual([{ reason: "too_deep", detail: "the event is nested deeper than 32 levels" }]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});

describe("a Bronze replay of the hostile file", () => {
  it("into a fresh data dir (keys copied) gives the same Silver: personal data was encrypted, not dropped", async () => {
    const source = path.join(tmp, "data-local");
    const fresh = path.join(tmp, "replayed");
    fs.mkdirSync(fresh, { recursive: true });
    fs.cpSync(path.join(source, "keys"), path.join(fresh, "keys"), { recursive: true });
    const run = ecom(["ingest", "--bronze", "--from", "2026-01-01", "--to", "2026-12-31", "--source-data-dir", source, "--data-dir", fresh]);
    expect(run.summary.dead_lettered).toBe(0);
    expect(run.summary.duplicates).toBe(0);
    const [a, b] = [await silverRows(source), await silverRows(fresh)];
    expect(b.length).toBe(a.length);
    expect(b).toEqual(a);
  }, 180_000);
});
