/**
 * Erasure and export on a real data dir: generated traffic ingested with the
 * built CLI, one person erased, then checked without the platform's code:
 * the leak scan (test/helpers/scan.ts) finds none of their identifiers,
 * tokens or session ids in any table, Bronze line or file; their Bronze
 * envelopes no longer decrypt while everyone else's do; Silver keeps every
 * row and business fact; Gold is unchanged; replays and redeliveries write
 * nothing of theirs; a second erasure reports zeros; an export holds their
 * data before and nothing personal after.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ErasureResult, eraseSubject } from "../../jobs/privacy/erase.js";
import { buildSubjectExport } from "../../jobs/privacy/export.js";
import { openRuntime } from "../../jobs/runtime.js";
import { loadKeys } from "../../sinks/keys/local-keys.js";
import { tokenize } from "../../transforms/tokenize.js";
import { bronzeRecords, generated, tempDir, writeNdjson } from "../helpers/data.js";
import { decryptEnvelope, scanForClearValues, subjectKeys } from "../helpers/scan.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist/cli/main.js");
type Row = Record<string, unknown>;
type Envelope = { kid: string; iv: string; ct: string };

let tmp: string;
let dir: string;
let messages: ReturnType<typeof generated>;

function cli(args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ECOM_LOG_LEVEL: "warn" }, encoding: "utf8" });
}

async function query(sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(path.join(dir, "ecom.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Row[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function withEngine<T>(work: (e: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>): Promise<T> {
  const engine = await openRuntime(dir);
  try {
    return await work(engine);
  } finally {
    engine.close();
  }
}

/** A person as the input file knows them: every identifier of theirs, in clear. */
interface Person {
  userId: string;
  emails: Set<string>;
  anonIds: Set<string>;
  sessions: Set<string>;
  ips: Set<string>;
  events: Row[];
}

function personOf(userId: string): Person {
  const p: Person = { userId, emails: new Set(), anonIds: new Set(), sessions: new Set(), ips: new Set(), events: [] };
  const mine = (e: Row) => e.user_id === userId;
  const all = messages.filter((m) => m.kind === "valid").map((m) => JSON.parse(m.data) as Row);
  for (const e of all.filter(mine)) {
    p.events.push(e);
    if (typeof e.anonymous_id === "string") p.anonIds.add(e.anonymous_id);
    if (typeof e.session_id === "string") p.sessions.add(e.session_id);
    const ip = (e.context as Row | undefined)?.ip;
    if (typeof ip === "string") p.ips.add(ip);
    const payload = e.payload as Row;
    const email = (payload.customer as Row | undefined)?.email ?? payload.email;
    if (typeof email === "string") p.emails.add(email);
  }
  // Their anonymous browsing before they signed in: the same anonymous id with no user id.
  for (const e of all) if (e.user_id === undefined && p.anonIds.has(e.anonymous_id as string)) p.events.push(e);
  return p;
}

/** Their identifiers in clear and as the tokens Silver keeps of them, computed here from the data dir's token key. */
function needles(p: Person): string[] {
  const { tokenKey } = loadKeys(dir, false);
  const clear = [p.userId, ...p.emails, ...p.anonIds, ...p.sessions, ...p.ips];
  const tokens = [
    tokenize(p.userId, tokenKey, "id"),
    ...[...p.anonIds].map((a) => tokenize(a, tokenKey, "id")),
    ...[...p.emails].map((e) => tokenize(e, tokenKey, "email")),
    ...[...p.ips].map((ip) => tokenize(ip, tokenKey, "id")),
  ];
  return [...clear, ...tokens];
}

async function goldSnapshot(): Promise<Record<string, Row[]>> {
  const tables = await query(`SELECT table_name AS t FROM duckdb_tables() WHERE schema_name = 'gold' ORDER BY 1`);
  const out: Record<string, Row[]> = {};
  for (const { t } of tables)
    out[t as string] = await query(`SELECT * EXCLUDE (refreshed_at) FROM gold."${t}" ORDER BY ALL`).catch(() =>
      query(`SELECT * FROM gold."${t}" ORDER BY ALL`),
    );
  return out;
}

async function businessFacts(): Promise<Row> {
  return (
    await query(`SELECT (SELECT count(*) FROM silver.order_events) AS orders, (SELECT sum(total_minor) FROM silver.order_events) AS order_total,
      (SELECT count(*) FROM silver.payment_events) AS payments, (SELECT sum(amount_minor) FROM silver.payment_events) AS paid,
      (SELECT count(*) FROM silver.clickstream_events) AS clicks, (SELECT count(DISTINCT session_id) FROM silver.clickstream_events) AS sessions,
      (SELECT count(DISTINCT user_token) FROM silver.clickstream_events) AS users, (SELECT count(*) FROM silver.orders) AS order_states`)
  )[0]!;
}

/** Bronze envelopes: which decrypt with the keys left (read without the platform's code). */
async function envelopes(): Promise<{ kid: string; clear: string | undefined }[]> {
  const keys = await subjectKeys(dir);
  return bronzeRecords(dir)
    .map((r) => r._pii as Envelope | undefined)
    .filter((e): e is Envelope => e !== undefined)
    .map((e) => ({ kid: e.kid, clear: keys.has(e.kid) ? decryptEnvelope(e, keys.get(e.kid)!) : undefined }));
}

/** Bronze files in place (what a full verification reads). */
function bronzeRecordsFiles(): number {
  return fs
    .readdirSync(path.join(dir, "bronze"), { recursive: true })
    .filter((n) => String(n).endsWith(".ndjson.gz") && !path.basename(String(n)).startsWith(".")).length;
}

let person: Person;
let second: Person;
/** Everyone the tests erased. */
const erasedUsers = new Set<string>();

beforeAll(() => {
  tmp = tempDir("erase");
  dir = path.join(tmp, "data");
  messages = generated(6000, 23);
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (m.kind !== "valid") continue;
    const u = (JSON.parse(m.data) as Row).user_id;
    if (typeof u === "string") counts.set(u, (counts.get(u) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  person = personOf(ranked[0]![0]);
  second = personOf(ranked.find(([u]) => personOf(u).emails.size > 0 && u !== ranked[0]![0])![0]);
  // Their dead letters: an order naming them that breaks the schema, and a line that is not JSON with their email in it.
  const bad = [
    JSON.stringify({ ...person.events[0], event_id: "5b0a3c4e-1111-4222-8333-944455556666", event_type: "order_created", payload: { nope: true } }),
    `not json ${[...person.emails][0] ?? person.userId} {`,
  ];
  const file = writeNdjson(path.join(tmp, "in.ndjson"), messages);
  fs.appendFileSync(file, bad.join("\n") + "\n");
  cli(["ingest", file, "--data-dir", dir, "--batch-size", "700", "--json"]);
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("ecom privacy erase", () => {
  let result: ErasureResult;
  let goldBefore: Record<string, Row[]>;
  let factsBefore: Row;
  let before: { kid: string; clear: string | undefined }[];
  let theirKids: Set<string>;
  let theirRows: number;
  let theirDeadLetters: number;

  beforeAll(async () => {
    const hits = await scanForClearValues(dir, needles(person));
    expect(hits.hits.length).toBeGreaterThan(0); // their tokens are there before: the scan can see them
    goldBefore = await goldSnapshot();
    factsBefore = await businessFacts();
    before = await envelopes();
    theirKids = new Set(before.filter((e) => e.clear?.includes(person.userId)).map((e) => e.kid));
    const { tokenKey } = loadKeys(dir, false);
    const u = tokenize(person.userId, tokenKey, "id");
    theirRows = Number(
      (
        await query(
          `SELECT (SELECT count(*) FROM silver.clickstream_events WHERE user_token = '${u}') + (SELECT count(*) FROM silver.order_events WHERE user_token = '${u}')
           + (SELECT count(*) FROM silver.payment_events WHERE user_token = '${u}') + (SELECT count(*) FROM silver.customer_events WHERE user_token = '${u}')
           + (SELECT count(*) FROM silver.inventory_events WHERE user_token = '${u}') AS n`,
        )
      )[0]!.n,
    );
    expect(theirRows).toBeGreaterThan(5);
    const values = [person.userId, ...person.emails, ...person.anonIds, ...person.sessions].map((v) => `'${v.toLowerCase()}'`);
    theirDeadLetters = Number(
      (await query(`SELECT count(*) AS n FROM ops.dead_letters WHERE list_bool_or([contains(lower(decode(raw)), v) for v in [${values.join(", ")}]])`))[0]!.n,
    );
    expect(theirDeadLetters).toBeGreaterThanOrEqual(2);
    result = await withEngine((e) => eraseSubject(e, { userId: person.userId, reason: "test" }));
  }, 120_000);

  it("reports what it did, counts that match what was there", () => {
    expect(result.subject_found).toBe(true);
    expect(result.silver_rows_pseudonymised).toBeGreaterThanOrEqual(theirRows);
    expect(result.bronze_keys_destroyed).toBe(theirKids.size);
    expect(result.bronze_lines_shredded).toBe(before.filter((e) => theirKids.has(e.kid)).length);
    expect(result.dead_letters_deleted).toBe(theirDeadLetters);
    expect(result.gold_windows_refreshed).toBeGreaterThan(0);
  });

  it("leaves no identifier, token or session id of theirs in any table, Bronze line or file", async () => {
    const report = await scanForClearValues(dir, needles(person));
    expect(report.cells).toBeGreaterThan(100_000);
    expect(report.bronzeLines).toBeGreaterThan(5000);
    expect(report.hits).toEqual([]);
  });

  it("shreds their Bronze lines (no key decrypts them) and leaves everyone else's readable", async () => {
    const after = await envelopes();
    expect(after.length).toBe(before.length);
    for (const e of after.filter((x) => theirKids.has(x.kid))) expect(e.clear).toBeUndefined();
    const othersBefore = before.filter((e) => !theirKids.has(e.kid) && e.clear !== undefined).length;
    expect(after.filter((e) => e.clear !== undefined).length).toBe(othersBefore);
    expect(after.some((e) => e.clear?.includes(person.userId))).toBe(false);
  });

  it("keeps every Silver row and business fact, and Gold's figures", async () => {
    expect(await businessFacts()).toEqual(factsBefore);
    expect(await goldSnapshot()).toEqual(goldBefore);
  });

  it("an erased or unknown person: succeeds with zeros", async () => {
    for (const id of [{ userId: person.userId }, { userId: "cus_nobody_here" }, { email: "nobody@example.org" }]) {
      const again = await withEngine((e) => eraseSubject(e, id));
      expect(again).toMatchObject({ subject_found: false, bronze_keys_destroyed: 0, silver_rows_pseudonymised: 0, dead_letters_deleted: 0 });
    }
  });

  it("a redelivery, a new event and a Bronze replay of theirs write none of their personal data", async () => {
    const fresh = { ...person.events.find((e) => e.user_id === person.userId)!, event_id: "7c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5" };
    const file = path.join(tmp, "again.ndjson");
    fs.writeFileSync(file, [...person.events.map((e) => JSON.stringify(e)), JSON.stringify(fresh)].join("\n") + "\n");
    const summary = JSON.parse(cli(["ingest", file, "--data-dir", dir, "--json"]).trim().split("\n").at(-1)!) as Row;
    expect(summary).toMatchObject({ read: person.events.length + 1, valid: 1, duplicates: person.events.length });
    const days = [...new Set(person.events.map((e) => (e.event_time as string).slice(0, 10)))].sort();
    cli(["ingest", "--bronze", "--from", days[0]!, "--to", days.at(-1)!, "--data-dir", dir, "--json"]);
    expect(
      (
        await query(`SELECT user_token FROM silver.clickstream_events WHERE event_id = '${fresh.event_id}'
      UNION ALL SELECT user_token FROM silver.order_events WHERE event_id = '${fresh.event_id}'
      UNION ALL SELECT user_token FROM silver.payment_events WHERE event_id = '${fresh.event_id}'`)
      ).map((r) => r.user_token),
    ).toEqual([null]);
    expect((await scanForClearValues(dir, needles(person))).hits).toEqual([]);
  }, 120_000);

  it("ecom privacy erase --email: finds the user behind it (their orders name them), erases both, and the audit log records it by hash only", async () => {
    const email = [...second.emails][0]!;
    const out = cli(["privacy", "erase", "--email", email.toUpperCase(), "--reason", "customer request", "--full-scan", "--data-dir", dir, "--json"]);
    const r = JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>;
    for (const k of [
      "request_id",
      "subject_found",
      "bronze_keys_destroyed",
      "silver_rows_pseudonymised",
      "dead_letters_deleted",
      "gold_windows_refreshed",
      "seconds",
    ]) {
      expect(r, k).toHaveProperty(k);
    }
    expect(r.subject_found).toBe(true);
    expect(r.silver_rows_pseudonymised).toBeGreaterThan(0);
    expect(r.verified).toMatchObject({ full: true });
    expect((r.verified as { bronze_files: number }).bronze_files).toBe(bronzeRecordsFiles());
    expect((await scanForClearValues(dir, needles(second))).hits).toEqual([]);
    const audit = cli(["privacy", "audit", "--json", "--data-dir", dir]);
    const entries = audit
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { entry: Record<string, unknown> });
    const mine = entries.find((e) => e.entry.request_id === r.request_id)!;
    expect(mine.entry).toMatchObject({ kind: "erase", outcome: "done", counts: { silver_rows_pseudonymised: r.silver_rows_pseudonymised } });
    expect(audit.toLowerCase()).not.toContain(email.toLowerCase());
    expect(audit).not.toContain(second.userId);
    expect(cli(["privacy", "audit", "--verify", "--data-dir", dir])).toContain("intact");
  }, 120_000);

  it("a queued erasure request runs through the same job: done, with its counts, identifier destroyed", async () => {
    const third = personOf(
      messages
        .map((m) => (m.kind === "valid" ? ((JSON.parse(m.data) as Row).user_id as string | undefined) : undefined))
        .find((u) => u !== undefined && u !== person.userId && u !== second.userId)!,
    );
    erasedUsers.add(third.userId);
    const added = JSON.parse(cli(["privacy", "requests", "add", "--erase", "--user-id", third.userId, "--data-dir", dir, "--json"]).trim()) as {
      request_id: string;
    };
    const run = JSON.parse(cli(["privacy", "requests", "run", "--json", "--data-dir", dir]).trim().split("\n").at(-1)!) as { results: Row[] };
    const done = run.results.find((x) => x.request_id === added.request_id)!;
    expect(done.status).toBe("done");
    expect((done.counts as Row).silver_rows_pseudonymised).toBeGreaterThan(0);
    expect((await scanForClearValues(dir, needles(third))).hits).toEqual([]);
    expect(await query(`SELECT identifier FROM ops.privacy_requests WHERE request_id = '${added.request_id}'`)).toEqual([{ identifier: null }]);
  }, 120_000);
});

describe("ecom privacy export", () => {
  it("holds a person's events decrypted and their rows, and an erased person's history only", async () => {
    const other = messages
      .map((m) => (m.kind === "valid" ? (JSON.parse(m.data) as Row) : {}))
      .find((e) => typeof e.user_id === "string" && e.user_id !== person.userId && e.user_id !== second.userId && !erasedUsers.has(e.user_id))!;
    const live = await withEngine((e) => buildSubjectExport(e, { userId: other.user_id as string }));
    expect(live.subject_found).toBe(true);
    const theirs = personOf(other.user_id as string);
    const ids = new Set(live.bronze_events.map((e) => e.event_id));
    for (const e of theirs.events.filter((x) => x.user_id === theirs.userId)) expect(ids.has(e.event_id)).toBe(true);
    expect(live.bronze_events.every((e) => e.user_id === theirs.userId || (e.user_id === undefined && theirs.anonIds.has(e.anonymous_id as string)))).toBe(
      true,
    );
    const silverIds = new Set(
      Object.values(live.silver)
        .flatMap((rows) => rows.map((r) => r.event_id))
        .filter(Boolean),
    );
    for (const id of ids) expect(silverIds.has(id)).toBe(true);
    expect(live.erasure_history).toEqual([]);

    const erased = await withEngine((e) => buildSubjectExport(e, { userId: person.userId }));
    expect(erased).toMatchObject({ subject_found: false, bronze_events: [], silver: {} });
    expect(erased.erasure_history.length).toBe(1);

    const file = path.join(tmp, "export.json");
    const r = JSON.parse(cli(["privacy", "export", "--user-id", other.user_id as string, "--out", file, "--data-dir", dir, "--json"]).trim()) as Row;
    expect(r).toMatchObject({ subject_found: true, bronze_events: live.bronze_events.length });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const written = JSON.parse(fs.readFileSync(file, "utf8")) as Row;
    expect(written.crm).toBeNull();
    expect((written.bronze_events as Row[]).map((e) => e.event_id).sort()).toEqual(live.bronze_events.map((e) => e.event_id).sort());
  }, 60_000);
});
