/**
 * The privacy audit log: entries appended by the real operations (requests
 * queued) land in ops.privacy_audit and audit/privacy-audit.ndjson (0600 in a
 * 0700 folder), chained by hash; the built CLI's `ecom privacy audit
 * --verify` accepts the untouched log and rejects, naming the first bad seq,
 * every kind of change to the file (an edited count, a removed line, two
 * lines swapped, a forged entry appended with a correct hash over a wrong
 * prev) and to the table (a row UPDATEd through DuckDB). No identifier
 * appears in clear in the store, the file or any command's output.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { AuditError, appendAudit } from "../../../jobs/privacy/audit.js";
import { entryHash } from "../../../jobs/privacy/audit-chain.js";
import { subjectHash } from "../../../jobs/privacy/identifier.js";
import { addRequest } from "../../../jobs/privacy/requests.js";
import { Engine } from "../../../pipelines/local/engine.js";
import { tempDir } from "../../helpers/data.js";
import { scanForClearValues } from "../../helpers/scan.js";
import { withStoreFile } from "../../helpers/store.js";

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

const EMAIL = "Zoe.Quill@Example.org";
const USER = "cus_audit_778899";
const DUE = new Date("2027-01-31T23:59:59.999Z");

const tmp = tempDir("audit");
const base = path.join(tmp, "base");
const auditFile = (dir: string) => path.join(dir, "audit", "privacy-audit.ndjson");

/** A fresh copy of the base data dir, to tamper with. */
function copy(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(base, dir, { recursive: true });
  return dir;
}

const lines = (dir: string) => fs.readFileSync(auditFile(dir), "utf8").trimEnd().split("\n");
const writeLines = (dir: string, ls: string[]) => fs.writeFileSync(auditFile(dir), ls.join("\n") + "\n");

beforeAll(async () => {
  const engine = await Engine.open(base);
  try {
    await addRequest(engine, { kind: "erase", identifier: { kind: "email", value: EMAIL }, dueAt: DUE, reason: "customer asked by mail", operator: "dpo" });
    await addRequest(engine, { kind: "export", identifier: { kind: "user_id", value: USER }, outPath: path.join(tmp, "x.json"), dueAt: DUE, operator: "dpo" });
    await appendAudit(engine, {
      request_id: "pr_manual",
      kind: "erase",
      subject_hash: subjectHash({ kind: "user_id", value: USER }, engine.keys.tokenKey),
      requested_at: "2026-11-30T10:00:00.000Z",
      done_at: "2026-11-30T10:05:00.000Z",
      counts: { silver_rows: 12, subject_keys: 2 },
      operator: "dpo",
      outcome: "done",
    });
  } finally {
    engine.close();
  }
});

describe("the audit log as written", () => {
  it("holds the same chained entries in the table and the file, private on disk", async () => {
    const file = lines(base).map((l) => JSON.parse(l));
    expect(file.map((r) => [r.seq, r.entry.kind, r.entry.outcome])).toEqual([
      [1, "request_added", "queued"],
      [2, "request_added", "queued"],
      [3, "erase", "done"],
    ]);
    expect(file[0].prev_hash).toBe("0".repeat(64));
    expect(file[1].prev_hash).toBe(file[0].entry_hash);
    expect(file[2].entry.counts).toEqual({ silver_rows: 12, subject_keys: 2 });
    const table = await withStoreFile(base, (rows) => rows(`SELECT seq, entry_hash, prev_hash FROM ops.privacy_audit ORDER BY seq`));
    expect(table.map((r) => [Number(r.seq), r.entry_hash, r.prev_hash])).toEqual(file.map((r) => [r.seq, r.entry_hash, r.prev_hash]));
    expect(fs.statSync(auditFile(base)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(auditFile(base))).mode & 0o777).toBe(0o700);
    // The subject is the keyed hash of the normalized identifier: the same for any spelling of the email.
    const engine = await Engine.open(copy("hash"));
    try {
      expect(file[0].entry.subject_hash).toBe(subjectHash({ kind: "email", value: "  zoe.quill@EXAMPLE.org" }, engine.keys.tokenKey));
    } finally {
      engine.close();
    }
  });

  it("verifies when untouched, and lists the entries without any identifier in clear", async () => {
    const verify = await cli("privacy", "audit", "--verify", "--data-dir", base);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/intact: 3 entries, table and file agree; head hash [0-9a-f]{64}/);
    const table = await cli("privacy", "audit", "--data-dir", base);
    const json = await cli("privacy", "audit", "--json", "--data-dir", base);
    const list = await cli("privacy", "requests", "list", "--json", "--data-dir", base);
    expect(table.code + json.code + list.code).toBe(0);
    expect(
      json.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).entry.kind),
    ).toEqual(["request_added", "request_added", "erase"]);
    expect(table.stdout).toContain("request_added");
    const report = await scanForClearValues(base, [EMAIL, EMAIL.toLowerCase(), USER], {
      logs: [verify.stdout, table.stdout, json.stdout, list.stdout, verify.stderr, table.stderr],
    });
    expect(report.files).toBeGreaterThan(0);
    expect(report.hits).toEqual([]);
  });
});

describe("ecom privacy audit --verify rejects", () => {
  async function rejected(dir: string): Promise<string> {
    const r = await cli("privacy", "audit", "--verify", "--data-dir", dir);
    expect(r.code).toBe(4);
    return r.stderr;
  }

  it("a count edited in the file", async () => {
    const dir = copy("edit-count");
    writeLines(
      dir,
      lines(dir).map((l) => l.replace('"silver_rows":12', '"silver_rows":2')),
    );
    expect(await rejected(dir)).toMatch(/first bad entry seq 3 \(file\): entry_hash does not match the entry/);
  });

  it("a line deleted from the file", async () => {
    const dir = copy("delete-line");
    const ls = lines(dir);
    writeLines(dir, [ls[0]!, ls[2]!]);
    expect(await rejected(dir)).toMatch(/first bad entry seq 2 \(file\): expected seq 2 here, found 3/);
  });

  it("two lines of the file swapped", async () => {
    const dir = copy("reorder");
    const ls = lines(dir);
    writeLines(dir, [ls[1]!, ls[0]!, ls[2]!]);
    expect(await rejected(dir)).toMatch(/first bad entry seq 1 \(file\)/);
  });

  it("a forged entry appended to the file with a correct hash over a wrong prev_hash", async () => {
    const dir = copy("forge");
    const ls = lines(dir);
    const last = JSON.parse(ls[2]!);
    const entry = { ...last.entry, seq: 4, request_id: "pr_forged", counts: { silver_rows: 0 } };
    const prev = "f".repeat(64);
    writeLines(dir, [...ls, JSON.stringify({ seq: 4, entry, prev_hash: prev, entry_hash: entryHash(prev, entry) })]);
    expect(await rejected(dir)).toMatch(/first bad entry seq 4 \(file\): prev_hash is not the previous record's entry_hash/);
  });

  it("a forged entry appended to the file with a correct chain but not in the table", async () => {
    const dir = copy("forge-chained");
    const ls = lines(dir);
    const last = JSON.parse(ls[2]!);
    const entry = { ...last.entry, seq: 4, request_id: "pr_forged" };
    writeLines(dir, [...ls, JSON.stringify({ seq: 4, entry, prev_hash: last.entry_hash, entry_hash: entryHash(last.entry_hash, entry) })]);
    expect(await rejected(dir)).toMatch(/first bad entry seq 4 \(table and file\): the file has this record and the table does not/);
  });

  it("a table row changed with an UPDATE through DuckDB", async () => {
    const dir = copy("update-row");
    await withStoreFile(dir, (rows) => rows(`UPDATE ops.privacy_audit SET entry = json_merge_patch(entry, '{"counts":{"silver_rows":0}}') WHERE seq = 3`), {
      readOnly: false,
    });
    expect(await rejected(dir)).toMatch(/first bad entry seq 3 \(table\): entry_hash does not match the entry/);
  });

  it("a table row deleted through DuckDB", async () => {
    const dir = copy("delete-row");
    await withStoreFile(dir, (rows) => rows(`DELETE FROM ops.privacy_audit WHERE seq = 2`), { readOnly: false });
    expect(await rejected(dir)).toMatch(/first bad entry seq 2 \(table\)/);
  });
});

describe("appendAudit", () => {
  it("serializes concurrent appends into one chain", async () => {
    const dir = copy("concurrent");
    const engine = await Engine.open(dir);
    try {
      const hash = subjectHash({ kind: "user_id", value: USER }, engine.keys.tokenKey);
      const records = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          appendAudit(engine, {
            request_id: `pr_c${i}`,
            kind: "export",
            subject_hash: hash,
            requested_at: "2026-11-30T10:00:00.000Z",
            done_at: "2026-11-30T10:00:01.000Z",
            counts: { lines: i },
            operator: "dpo",
            outcome: "done",
          }),
        ),
      );
      expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 4));
    } finally {
      engine.close();
    }
    const r = await cli("privacy", "audit", "--verify", "--data-dir", dir);
    expect(r.stdout).toContain("intact: 15 entries");
  });

  it("refuses to continue a chain whose file was altered, and records nothing", async () => {
    const dir = copy("refuse");
    const ls = lines(dir);
    writeLines(dir, [
      ...ls.slice(0, 2),
      ls[2]!.replace('"silver_rows":12', '"silver_rows":1').replace(/"entry_hash":"[0-9a-f]+"/, `"entry_hash":"${"a".repeat(64)}"`),
    ]);
    const engine = await Engine.open(dir);
    try {
      const input = {
        request_id: "pr_next",
        kind: "export" as const,
        subject_hash: "x",
        requested_at: "2026-11-30T10:00:00.000Z",
        done_at: null,
        counts: {},
        operator: "dpo",
        outcome: "queued" as const,
      };
      await expect(appendAudit(engine, input)).rejects.toThrow(AuditError);
      await expect(appendAudit(engine, input)).rejects.toThrow(/entry 3 differs between .* and ops.privacy_audit\. Nothing was recorded/);
      expect(Number((await engine.store.query(`SELECT count(*) AS n FROM ops.privacy_audit`))[0]!.n)).toBe(3);
    } finally {
      engine.close();
    }
    expect(lines(dir)).toHaveLength(3);
  });

  it("completes a file left one entry short by an interrupted append, then continues the chain", async () => {
    const dir = copy("crash");
    writeLines(dir, lines(dir).slice(0, 2)); // as if the process died after the table commit, before the file write
    const engine = await Engine.open(dir);
    try {
      await addRequest(engine, { kind: "erase", identifier: { kind: "user_id", value: USER }, dueAt: DUE, operator: "dpo" });
    } finally {
      engine.close();
    }
    expect(lines(dir).map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4]);
    const r = await cli("privacy", "audit", "--verify", "--data-dir", dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("intact: 4 entries");
  });
});
