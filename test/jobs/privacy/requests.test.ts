/**
 * The privacy request queue on a data dir with generated traffic: requests
 * queued (identifier sealed, audit entry), run in due order through
 * executors that do real work on the data dir (the erasure deletes the
 * person's Silver rows, the export writes their events to the out file),
 * marked done with the counts and their identifier bytes destroyed, or
 * failed with a redacted error and retried on the next run. A wrong KEK
 * opens nothing and changes nothing. Through the built CLI: past due exits
 * 3, and while an instance holds the data dir the listing goes through it
 * and the writing commands refuse.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ingestFiles } from "../../../jobs/ingest-files.js";
import type { Identifier } from "../../../jobs/privacy/identifier.js";
import { type ExecutorContext, type RequestExecutors, RequestKeyError, addRequest, runRequests } from "../../../jobs/privacy/requests.js";
import { privacyRoutes } from "../../../jobs/privacy/routes.js";
import { Engine } from "../../../pipelines/local/engine.js";
import { serveEngine } from "../../../pipelines/local/instance.js";
import { padFile } from "../../../sinks/keys/request-pads.js";
import { openIdentifier } from "../../../sinks/keys/sealed-identifier.js";
import { localKeyWrapper, unwrapKey } from "../../../sinks/keys/subject-keys.js";
import { tokenize } from "../../../transforms/tokenize.js";
import { generated, tempDir, writeNdjson } from "../../helpers/data.js";
import { scanForClearValues } from "../../helpers/scan.js";

const CLI = path.resolve("dist/cli/main.js");
const exec = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, ...args], { env: { ...process.env, ECOM_LOG_LEVEL: "warn" } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const tmp = tempDir("requests");
const base = path.join(tmp, "base");
const messages = generated(3000, 23);
/** The two user ids with the most events in the generated traffic. */
const [ERASED, EXPORTED] = (() => {
  const n = new Map<string, number>();
  for (const m of messages) {
    const id = /"user_id":"([^"]+)"/.exec(m.data)?.[1];
    if (id) n.set(id, (n.get(id) ?? 0) + 1);
  }
  return [...n.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
})() as [string, string];
const FUTURE = new Date("2027-06-30T23:59:59.999Z");

function copy(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(base, dir, { recursive: true });
  return dir;
}

/** Silver event tables with a user_token column. */
async function userTables(engine: Engine): Promise<string[]> {
  const rows = await engine.store.query(
    `SELECT table_name FROM duckdb_columns() WHERE schema_name = 'silver' AND column_name = 'user_token'
     AND table_name IN (SELECT table_name FROM duckdb_columns() WHERE schema_name = 'silver' AND column_name = 'event_type')`,
  );
  return rows.map((r) => `silver.${String(r.table_name)}`);
}

async function silverRowsOf(engine: Engine, id: Identifier): Promise<number> {
  const token = tokenize(id.value, engine.keys.tokenKey, "id");
  let n = 0;
  for (const t of await userTables(engine)) n += Number((await engine.store.query(`SELECT count(*) AS n FROM ${t} WHERE user_token = $t`, { t: token }))[0]!.n);
  return n;
}

/** Executors that do the work on the data dir: delete the person's Silver rows; write their events, one line each. */
const working: RequestExecutors = {
  async erase(id: Identifier, ctx: ExecutorContext) {
    const token = tokenize(id.value, ctx.engine.keys.tokenKey, "id");
    let deleted = 0;
    for (const t of await userTables(ctx.engine)) {
      deleted += Number((await ctx.engine.store.query(`DELETE FROM ${t} WHERE user_token = $t RETURNING 1 AS x`, { t: token })).length);
    }
    return { silver_rows: deleted };
  },
  async export(id: Identifier, outPath: string, ctx: ExecutorContext) {
    const token = tokenize(id.value, ctx.engine.keys.tokenKey, "id");
    const lines: string[] = [];
    for (const t of await userTables(ctx.engine)) {
      for (const r of await ctx.engine.store.query(`SELECT event_id, event_type FROM ${t} WHERE user_token = $t ORDER BY event_id`, { t: token })) {
        lines.push(JSON.stringify(r));
      }
    }
    fs.writeFileSync(outPath, lines.map((l) => l + "\n").join(""), { mode: 0o600 });
    return { events: lines.length };
  },
};

/** The DuckDB file and its WAL, as bytes. */
function storeBytes(dir: string): Buffer {
  const wal = path.join(dir, "ecom.duckdb.wal");
  return Buffer.concat([fs.readFileSync(path.join(dir, "ecom.duckdb")), fs.existsSync(wal) ? fs.readFileSync(wal) : Buffer.alloc(0)]);
}

const sealedOf = async (engine: Engine) =>
  engine.store.query(
    `SELECT request_id, status, attempts, identifier IS NULL AS ident_null, identifier_key IS NULL AS key_null, to_hex(identifier) AS ident_hex,
       to_hex(identifier_key) AS key_hex, result::VARCHAR AS result, last_error FROM ops.privacy_requests ORDER BY requested_at`,
  );

const auditOf = async (engine: Engine) =>
  (await engine.store.query(`SELECT entry::VARCHAR AS e FROM ops.privacy_audit ORDER BY seq`)).map((r) => JSON.parse(String(r.e)));

beforeAll(async () => {
  const engine = await Engine.open(base);
  try {
    await ingestFiles(engine, [writeNdjson(path.join(tmp, "in.ndjson"), messages)], { batchSize: 1000 });
  } finally {
    engine.close();
  }
});

let engine: Engine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

describe("runRequests", () => {
  it("runs requests in due order through the executors, marks them done with their counts and destroys the identifiers", async () => {
    const dir = copy("run");
    const out = path.join(tmp, "export-run.ndjson");
    engine = await Engine.open(dir);
    const erasedId: Identifier = { kind: "user_id", value: ERASED };
    const exportedId: Identifier = { kind: "user_id", value: EXPORTED };
    const erasedRows = await silverRowsOf(engine, erasedId);
    const exportedRows = await silverRowsOf(engine, exportedId);
    expect(erasedRows).toBeGreaterThan(0);
    expect(exportedRows).toBeGreaterThan(0);
    const later = await addRequest(engine, { kind: "erase", identifier: erasedId, dueAt: FUTURE, operator: "dpo" });
    const sooner = await addRequest(engine, { kind: "export", identifier: exportedId, outPath: out, dueAt: new Date("2027-01-15T23:59:59.999Z") });
    const before = await sealedOf(engine);
    expect(before.map((r) => [r.status, r.attempts, r.ident_null, r.key_null])).toEqual([
      ["pending", 0, false, false],
      ["pending", 0, false, false],
    ]);

    // The sealed bytes are in the database file once checkpointed; each request has its pad.
    await engine.store.query("CHECKPOINT");
    for (const r of before) expect(storeBytes(dir).indexOf(Buffer.from(String(r.ident_hex), "hex"))).toBeGreaterThanOrEqual(0);
    const pads = before.map((r) => fs.readFileSync(padFile(dir, String(r.request_id))));
    const keys = engine.keys;

    const s = await runRequests(engine, working, { now: () => new Date("2026-12-02T09:00:00Z") });
    expect(s.results.map((r) => [r.request_id, r.status, r.counts])).toEqual([
      [sooner.request_id, "done", { events: exportedRows }],
      [later.request_id, "done", { silver_rows: erasedRows }],
    ]);
    expect(s.past_due).toEqual([]);
    expect(await silverRowsOf(engine, erasedId)).toBe(0);
    expect(fs.readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(exportedRows);

    const after = await sealedOf(engine);
    expect(after.map((r) => [r.request_id, r.status, r.attempts, r.ident_null, r.key_null])).toEqual([
      [later.request_id, "done", 1, true, true],
      [sooner.request_id, "done", 1, true, true],
    ]);
    expect(JSON.parse(String(after[0]!.result))).toEqual({ silver_rows: erasedRows });
    const audit = await auditOf(engine);
    expect(audit.map((e) => [e.request_id, e.kind, e.outcome, e.counts])).toEqual([
      [later.request_id, "request_added", "queued", {}],
      [sooner.request_id, "request_added", "queued", {}],
      [sooner.request_id, "export", "done", { events: exportedRows }],
      [later.request_id, "erase", "done", { silver_rows: erasedRows }],
    ]);
    expect(audit[3].done_at).toBe("2026-12-02T09:00:00.000Z");

    // A second run finds nothing to do.
    expect((await runRequests(engine, working)).ran).toBe(0);
    engine.close();
    engine = undefined;

    // DuckDB keeps the NULLed bytes in freed blocks of its file; what shreds them is the pad, gone with the request.
    const db = storeBytes(dir);
    for (const [i, r] of before.entries()) {
      expect(fs.existsSync(padFile(dir, String(r.request_id)))).toBe(false);
      const wrapped = Buffer.from(String(r.key_hex), "hex");
      const ident = Buffer.from(String(r.ident_hex), "hex");
      const lingering = db.indexOf(ident) >= 0;
      if (lingering) {
        // With the pad (copied before the run) the left-over bytes would open; without it they do not.
        const padded = unwrapKey(wrapped, keys.kek!);
        expect(openIdentifier(ident, padded, pads[i]!, String(r.request_id))).toContain(i === 0 ? ERASED : EXPORTED);
        expect(() => openIdentifier(ident, padded, Buffer.alloc(32), String(r.request_id))).toThrow();
      }
    }
    const v = await cli("privacy", "audit", "--verify", "--data-dir", dir);
    expect(v.stdout).toContain("intact: 4 entries");
  });

  it("marks a failing request failed with a redacted error, and retries it on the next run", async () => {
    const dir = copy("retry");
    engine = await Engine.open(dir);
    const email = "Rae.Holt@Example.net";
    const r = await addRequest(engine, { kind: "erase", identifier: { kind: "email", value: email }, dueAt: FUTURE, operator: "dpo" });
    const seen: string[] = [];
    const failing: RequestExecutors = {
      ...working,
      async erase(id) {
        seen.push(id.value);
        throw new Error(`store refused the erasure of ${id.value.toLowerCase()} (also ${id.value})`);
      },
    };
    const first = await runRequests(engine, failing);
    expect(seen).toEqual([email]); // the executor got the identifier as queued
    expect(first.results).toEqual([
      { request_id: r.request_id, kind: "erase", status: "failed", attempts: 1, error: "store refused the erasure of [identifier] (also [identifier])" },
    ]);
    let row = (await sealedOf(engine))[0]!;
    expect([row.status, row.attempts, row.ident_null, row.last_error]).toEqual([
      "failed",
      1,
      false,
      "store refused the erasure of [identifier] (also [identifier])",
    ]);

    const erased: string[] = [];
    const second = await runRequests(engine, {
      ...working,
      async erase(id) {
        erased.push(id.value);
        return { silver_rows: 0 };
      },
    });
    expect(second.results.map((x) => [x.status, x.attempts])).toEqual([["done", 2]]);
    expect(erased).toEqual([email]);
    row = (await sealedOf(engine))[0]!;
    expect([row.status, row.attempts, row.ident_null, row.key_null, row.last_error]).toEqual(["done", 2, true, true, null]);
    expect((await auditOf(engine)).map((e) => [e.kind, e.outcome, e.counts])).toEqual([
      ["request_added", "queued", {}],
      ["erase", "failed", { attempts: 1 }],
      ["erase", "done", { silver_rows: 0 }],
    ]);
    engine.close();
    engine = undefined;
    const report = await scanForClearValues(dir, [email, email.toLowerCase()], { allow: (w) => w.startsWith("ops.dead_letters.raw") });
    expect(report.hits).toEqual([]);
  });

  it("fails closed under a wrong KEK: nothing decrypted or run, the request stays pending", async () => {
    const dir = copy("wrong-kek");
    engine = await Engine.open(dir);
    const out = path.join(tmp, "never.ndjson");
    const r = await addRequest(engine, { kind: "export", identifier: { kind: "user_id", value: EXPORTED }, outPath: out, dueAt: FUTURE });
    const wrongKey = localKeyWrapper({ id: engine.kek.id, key: randomBytes(32) });
    const err = await runRequests(engine, working, { kek: wrongKey }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RequestKeyError);
    expect((err as Error).message).toContain(`cannot open the identifier of privacy request ${r.request_id} (the KEK does not unwrap its key)`);
    expect((err as Error).message).not.toContain(EXPORTED);
    const otherId = localKeyWrapper({ id: "kms-key-2", key: randomBytes(32) });
    await expect(runRequests(engine, working, { kek: otherId })).rejects.toThrow(/sealed under KEK "local-kek-1", the key file holds "kms-key-2"/);
    expect(fs.existsSync(out)).toBe(false);
    const row = (await sealedOf(engine))[0]!;
    expect([row.status, row.attempts, row.ident_null, row.key_null]).toEqual(["pending", 0, false, false]);
    expect((await auditOf(engine)).map((e) => e.kind)).toEqual(["request_added"]);
    engine.close();
    engine = undefined;

    // Through the CLI: a replaced kek.json is refused before the store opens, nothing changes.
    const kek = path.join(dir, "keys", "kek.json");
    const saved = fs.readFileSync(kek, "utf8");
    fs.writeFileSync(kek, JSON.stringify({ id: "local-kek-1", key: randomBytes(32).toString("base64") }), { mode: 0o600 });
    const run = await cli("privacy", "requests", "run", "--data-dir", dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("kek.json is not the one this data dir's store was written with");
    expect(run.stderr + run.stdout).not.toContain(EXPORTED);
    fs.writeFileSync(kek, saved, { mode: 0o600 });
    const list = JSON.parse((await cli("privacy", "requests", "list", "--json", "--data-dir", dir)).stdout);
    expect(list.map((x: { status: string; attempts: number }) => [x.status, x.attempts])).toEqual([["pending", 0]]);
  });
});

describe("ecom privacy requests (built CLI)", () => {
  it("queues, lists without identifiers, and exits 3 when a request is past due", async () => {
    const dir = copy("cli");
    const email = "Ines.Marlow@Example.com";
    const add = await cli("privacy", "requests", "add", "--erase", "--email", email, "--due", "2026-01-10", "--reason", "letter", "--data-dir", dir, "--json");
    expect(add.code).toBe(0);
    const added = JSON.parse(add.stdout);
    expect(added).toMatchObject({ kind: "erase", due: "2026-01-10" });
    const refused = await cli("privacy", "requests", "add", "--erase", "--email", email, "--reason", `asked by ${email}`, "--data-dir", dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--reason must not contain the identifier or an email address");
    expect(refused.stderr).not.toContain(email);
    const bad = await cli("privacy", "requests", "add", "--export", "--user-id", "u1", "--data-dir", dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--out: an export request needs --out FILE");

    // An export that cannot be written (its folder does not exist) fails, and stays past due.
    const late = await cli(
      "privacy",
      "requests",
      "add",
      "--export",
      "--email",
      email,
      "--out",
      path.join(dir, "missing", "x.json"),
      "--due",
      "2026-01-11",
      "--data-dir",
      dir,
      "--json",
    );
    expect(late.code).toBe(0);
    const lateId = (JSON.parse(late.stdout) as { request_id: string }).request_id;

    const run = await cli("privacy", "requests", "run", "--data-dir", dir);
    expect(run.code).toBe(3);
    // The late erasure ran (done: no longer past due); the export failed and is.
    expect(run.stdout).toContain(`${added.request_id} erase: done`);
    expect(run.stdout).toContain(`PAST DUE ${lateId} export: due 2026-01-11, failed, 1 attempts`);
    expect(run.stdout).not.toContain(`PAST DUE ${added.request_id}`);
    const list = await cli("privacy", "requests", "list", "--data-dir", dir);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${lateId}\\s+export\\s+\\S+\\s+\\S+\\s+2026-01-11\\s+failed\\s+1\\s+true`));
    const report = await scanForClearValues(dir, [email, email.toLowerCase()], {
      logs: [add.stdout, add.stderr, late.stdout, late.stderr, run.stdout, run.stderr, list.stdout, refused.stdout],
      allow: (w) => w.startsWith("ops.dead_letters.raw"),
    });
    expect(report.hits).toEqual([]);

    // Only requests not yet due: exit 0.
    const fresh = copy("cli-on-time");
    expect((await cli("privacy", "requests", "add", "--erase", "--user-id", "u_42", "--data-dir", fresh)).code).toBe(0);
    const onTime = await cli("privacy", "requests", "run", "--json", "--data-dir", fresh);
    expect(onTime.code).toBe(0);
    expect(JSON.parse(onTime.stdout)).toMatchObject({ ran: 1, done: 1, past_due: [] });
  });

  it("lists through a running instance, and refuses to write while it holds the data dir", async () => {
    const dir = copy("instance");
    engine = await Engine.open(dir);
    const r = await addRequest(engine, { kind: "erase", identifier: { kind: "user_id", value: ERASED }, dueAt: FUTURE });
    const server = await serveEngine(engine, privacyRoutes(engine));
    try {
      const list = await cli("privacy", "requests", "list", "--json", "--data-dir", dir);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout).map((x: { request_id: string }) => x.request_id)).toEqual([r.request_id]);
      const audit = await cli("privacy", "audit", "--verify", "--data-dir", dir);
      expect(audit.stdout).toContain("intact: 1 entries");
      for (const args of [["add", "--erase", "--user-id", "u_7"], ["run"]]) {
        const w = await cli("privacy", "requests", ...args, "--data-dir", dir);
        expect(w.code).toBe(1);
        expect(w.stderr).toMatch(/ecom start is running on .* stop it \(Ctrl-C\) before/);
      }
      expect(Number((await engine.store.query(`SELECT count(*) AS n FROM ops.privacy_requests`))[0]!.n)).toBe(1);
    } finally {
      await server.close();
    }
  });
});
