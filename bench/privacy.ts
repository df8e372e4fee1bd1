/**
 * Benchmark: erasing one person from a data dir of N events (the generated
 * file, ingested by the CLI) and of 10 x N events (the same dir grown by
 * SQL: nine copies of every Silver row and subject-index row on later days,
 * with other people's tokens and session ids, and nine copies of Bronze).
 * The person is the same in both and has the same rows, so the figures show
 * what grows with the store (the verification scan) and what does not (the
 * erasure itself, pruned to the person's partitions).
 *
 * Standalone: node dist/bench/privacy.js <file.ndjson> <events>
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { eraseSubject } from "../jobs/privacy/erase.js";
import { openRuntime } from "../jobs/runtime.js";
import { EVENT_PERSONAL_COLUMNS } from "../schemas/personal-columns.js";
import { DOMAINS } from "../schemas/registry.js";
import { EVENT_TABLES, STATE_TABLES } from "../schemas/silver.js";
import { fileLines } from "../sources/ndjson.js";
import { benchDir } from "./ingest.js";

const CLI = path.resolve(import.meta.dirname, "../cli/main.js");
const COPIES = 9;

export interface ErasureBench {
  events: number;
  silver_rows: number;
  bronze_files: number;
  seconds: number;
  rows_touched: number;
  keys_destroyed: number;
  phases_ms: Record<string, number>;
}

/** The user with the most events in the file (the heaviest erasure of an ordinary person). */
function heaviestUser(file: string): string {
  const counts = new Map<string, number>();
  for (const [line] of fileLines(file)) {
    const m = /"user_id":"([^"]+)"/.exec(line);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

async function erase(dataDir: string, userId: string, events: number): Promise<ErasureBench> {
  const engine = await openRuntime(dataDir);
  try {
    const silverRows = Number(
      (await engine.store.query(`SELECT ${DOMAINS.map((d) => `(SELECT count(*) FROM silver.${EVENT_TABLES[d].name})`).join(" + ")} AS n`))[0]!.n,
    );
    const r = await eraseSubject(engine, { userId });
    return {
      events,
      silver_rows: silverRows,
      bronze_files: r.verified.bronze_files,
      seconds: r.seconds,
      rows_touched: r.silver_rows_pseudonymised,
      keys_destroyed: r.bronze_keys_destroyed,
      phases_ms: r.phases_ms,
    };
  } finally {
    engine.close();
  }
}

/** Grows a data dir ten-fold (see the header); the copies sit `span` days apart, after the original days. */
async function replicate(dataDir: string, spanDays: number): Promise<void> {
  const engine = await openRuntime(dataDir, { gold: false });
  try {
    const first = String((await engine.store.query(`SELECT CAST(min(event_date) AS VARCHAR) AS d FROM silver.${EVENT_TABLES.clickstream.name}`))[0]!.d);
    const originals = `event_date < DATE '${first}' + INTERVAL ${spanDays} DAY`;
    const token = (c: string, i: number) => `CASE WHEN ${c} IS NULL THEN NULL ELSE 'tok_' || substr(md5(${c} || '/${i}'), 1, 22) END`;
    for (let i = 1; i <= COPIES; i++) {
      const shift = `INTERVAL ${i * spanDays} DAY`;
      for (const d of DOMAINS) {
        const t = EVENT_TABLES[d];
        const p = EVENT_PERSONAL_COLUMNS[d];
        const cols = t.columns.map((c) => {
          if (c.name === "event_id") return "uuid()";
          if (c.name === "event_date") return `CAST(event_date + ${shift} AS DATE)`;
          if (c.name === "event_time") return `event_time + ${shift}`;
          if (c.name.endsWith("_token")) return token(c.name, i);
          if (c.name === p.session) return `md5(session_id || '/${i}')`;
          // Tokens inside texts become someone else's: no copy holds the person.
          if (c.type === "JSON") return `CAST(replace(CAST(${c.name} AS VARCHAR), 'tok_', 'tkn_') AS JSON)`;
          if (p.freeText.includes(c.name)) return `replace(${c.name}, 'tok_', 'tkn_')`;
          return c.name;
        });
        await engine.store.conn.run(`INSERT INTO silver.${t.name} SELECT ${cols.join(", ")} FROM silver.${t.name} WHERE ${originals}`);
      }
      for (const t of STATE_TABLES) {
        const cols = t.columns.map((c) => (c.key ? `${c.name} || '/${i}'` : c.name.endsWith("_token") ? token(c.name, i) : c.name));
        await engine.store.conn.run(
          `INSERT INTO silver.${t.name} SELECT ${cols.join(", ")} FROM silver.${t.name} WHERE NOT contains(${t.columns.find((c) => c.key)!.name}, '/')`,
        );
      }
      await engine.store.conn.run(
        `INSERT INTO ops.subject_index SELECT 'tok_' || substr(md5(token || '/${i}'), 1, 22), table_name, CAST(event_date + ${shift} AS DATE), batch_id
         FROM ops.subject_index WHERE ${originals}`,
      );
    }
    await engine.store.conn.run("CHECKPOINT");
  } finally {
    engine.close();
  }
  const bronze = path.join(dataDir, "bronze");
  for (const type of fs.readdirSync(bronze)) {
    for (const dt of fs.readdirSync(path.join(bronze, type)).filter((n) => n.startsWith("dt="))) {
      const day = Date.parse(`${dt.slice(3)}T00:00:00Z`);
      for (let i = 1; i <= COPIES; i++) {
        const to = path.join(bronze, type, `dt=${new Date(day + i * spanDays * 86_400_000).toISOString().slice(0, 10)}`);
        fs.cpSync(path.join(bronze, type, dt), to, { recursive: true });
      }
    }
  }
}

export async function benchPrivacy(file: string, events: number): Promise<{ person_rows: number; small: ErasureBench; large: ErasureBench }> {
  const base = path.join(benchDir(), `data-privacy-${events}`);
  if (!fs.existsSync(path.join(base, "ecom.duckdb"))) {
    fs.rmSync(base, { recursive: true, force: true });
    execFileSync(process.execPath, [CLI, "ingest", "--data-dir", base, "--json", file], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ECOM_LOG_LEVEL: "warn" },
    });
  }
  const userId = heaviestUser(file);
  const small = path.join(benchDir(), "data-privacy-small");
  const large = path.join(benchDir(), "data-privacy-large");
  for (const d of [small, large]) {
    fs.rmSync(d, { recursive: true, force: true });
    fs.cpSync(base, d, { recursive: true });
  }
  const days = fs.readdirSync(path.join(base, "bronze", fs.readdirSync(path.join(base, "bronze"))[0]!)).length;
  await replicate(large, days + 1);
  const s = await erase(small, userId, events);
  const l = await erase(large, userId, events * (COPIES + 1));
  return { person_rows: s.rows_touched, small: s, large: l };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [file, events] = process.argv.slice(2);
  if (!file || !events) throw new Error("usage: node dist/bench/privacy.js <file.ndjson> <events>");
  process.stdout.write(JSON.stringify(await benchPrivacy(file, Number(events)), null, 2) + "\n");
}
