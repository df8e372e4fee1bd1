/**
 * The leak scan the trust-boundary tests use: looks for clear values in
 * every column of every table of a data dir's DuckDB file, every line of
 * every Bronze file (and, for card numbers, inside the decrypted personal
 * envelopes too: encrypted is still stored), every other file of the data
 * dir but the keys, and the captured logs.
 *
 * It shares no code with the scrubbers it checks. Text is matched case
 * insensitively, also URL-encoded; a value of 13 or more digits is matched
 * on the digits of each stored value, whatever script they are written in
 * and whatever stands between them.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createDecipheriv } from "node:crypto";
import { DuckDBBlobValue, DuckDBInstance } from "@duckdb/node-api";

export interface Hit {
  value: string;
  where: string;
}

export interface ScanOptions {
  /** Captured stdout/stderr of the processes that wrote the data dir. */
  logs?: string[];
  /** Places where the value may legitimately be (e.g. `ops.dead_letters.raw` for personal data kept for replay). */
  allow?: (where: string) => boolean;
  /** Also look inside Bronze's encrypted envelopes (needs the data dir's keys). */
  decryptBronze?: boolean;
}

// Zeros of the digit blocks the hostile generator writes in (test/helpers/hostile.ts), beside NFKC's folds.
const ZEROS = [0x0660, 0x06f0, 0x0966, 0x09e6];

/** Every digit of a text, as ASCII, nothing else. */
export function digitsOf(text: string): string {
  let out = "";
  for (const ch of text.normalize("NFKC")) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 48 && cp <= 57) out += ch;
    else for (const z of ZEROS) if (cp >= z && cp <= z + 9) out += String(cp - z);
  }
  return out;
}

class Matcher {
  private readonly texts: { value: string; forms: string[] }[] = [];
  private readonly numbers: string[] = [];

  constructor(values: readonly string[]) {
    for (const v of values) {
      if (/^\d{13,}$/.test(v)) this.numbers.push(v);
      else this.texts.push({ value: v, forms: [...new Set([v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)].map((f) => f.toLowerCase()))] });
    }
  }

  find(haystack: string, where: string, hits: Hit[], allow?: (where: string) => boolean): void {
    if (allow?.(where)) return;
    const lower = haystack.toLowerCase();
    for (const t of this.texts) if (t.forms.some((f) => lower.includes(f))) hits.push({ value: t.value, where });
    if (this.numbers.length) {
      const digits = digitsOf(haystack);
      for (const n of this.numbers) if (digits.includes(n)) hits.push({ value: n, where });
    }
  }
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString("utf8");
  if (typeof v === "string") return v;
  return String(v);
}

async function scanTables(file: string, m: Matcher, hits: Hit[], allow?: (where: string) => boolean): Promise<number> {
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  let cells = 0;
  try {
    const tables = (
      await conn.runAndReadAll(`SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('silver', 'gold', 'ops')`)
    ).getRows();
    for (const [schema, table] of tables) {
      const r = await conn.runAndReadAll(`SELECT * FROM "${String(schema)}"."${String(table)}"`);
      const names = r.columnNames();
      for (const row of r.getRows()) {
        row.forEach((v, i) => {
          cells++;
          const text = cellText(v);
          if (text) m.find(text, `${String(schema)}.${String(table)}.${names[i]}`, hits, allow);
        });
      }
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return cells;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else out.push(p);
  }
  return out;
}

/** The data dir's subject keys, unwrapped with its KEK, read without the platform's code. */
export async function subjectKeys(dataDir: string): Promise<Map<string, Buffer>> {
  const kek = JSON.parse(fs.readFileSync(path.join(dataDir, "keys", "kek.json"), "utf8")) as { key: string };
  const kekKey = Buffer.from(kek.key, "base64");
  const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  const keys = new Map<string, Buffer>();
  try {
    for (const [kid, wrapped] of (await conn.runAndReadAll(`SELECT kid, wrapped_key FROM ops.subject_keys`)).getRows()) {
      const w = Buffer.from((wrapped as DuckDBBlobValue).bytes);
      const d = createDecipheriv("aes-256-gcm", kekKey, w.subarray(0, 12));
      d.setAuthTag(w.subarray(w.length - 16));
      keys.set(String(kid), Buffer.concat([d.update(w.subarray(12, w.length - 16)), d.final()]));
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return keys;
}

export function decryptEnvelope(envelope: { iv: string; ct: string }, key: Buffer): string {
  const ct = Buffer.from(envelope.ct, "base64");
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "base64"));
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString("utf8");
}

export interface ScanReport {
  hits: Hit[];
  /** How much was looked at, so a test can tell a scan that saw nothing from one that found nothing. */
  cells: number;
  bronzeLines: number;
  envelopes: number;
  files: number;
}

/** Every place `values` are stored in clear in the data dir (its processes closed) or the logs. */
export async function scanForClearValues(dataDir: string, values: readonly string[], opts: ScanOptions = {}): Promise<ScanReport> {
  const m = new Matcher(values);
  const hits: Hit[] = [];
  const report: ScanReport = { hits, cells: 0, bronzeLines: 0, envelopes: 0, files: 0 };
  report.cells = await scanTables(path.join(dataDir, "ecom.duckdb"), m, hits, opts.allow);
  const keys = opts.decryptBronze ? await subjectKeys(dataDir) : undefined;
  const panOnly = new Matcher(values.filter((v) => /^\d{13,}$/.test(v)));
  for (const file of filesUnder(dataDir)) {
    const rel = path.relative(dataDir, file);
    if (rel.startsWith(`keys${path.sep}`) || /\.duckdb(\.wal)?$/.test(rel) || rel.startsWith("pubsub-emulator")) continue;
    report.files++;
    const body = fs.readFileSync(file);
    const text = file.endsWith(".gz") ? zlib.gunzipSync(body).toString("utf8") : body.toString("utf8");
    if (!rel.startsWith(`bronze${path.sep}`)) {
      m.find(text, rel, hits, opts.allow);
      continue;
    }
    text.split("\n").forEach((line, i) => {
      if (!line) return;
      report.bronzeLines++;
      m.find(line, `${rel}:${i + 1}`, hits, opts.allow);
      const envelope = (JSON.parse(line) as { _pii?: { kid: string; iv: string; ct: string } })._pii;
      const key = envelope && keys?.get(envelope.kid);
      if (envelope && key) {
        report.envelopes++;
        panOnly.find(decryptEnvelope(envelope, key), `${rel}:${i + 1} (decrypted)`, hits, opts.allow);
      }
    });
  }
  for (const [i, log] of (opts.logs ?? []).entries()) m.find(log, `log ${i + 1}`, hits, opts.allow);
  return report;
}
