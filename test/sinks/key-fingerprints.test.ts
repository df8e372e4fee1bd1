/**
 * A store refuses keys it was not written with: a valid-looking but
 * different kek.json or token-keys.json stops Engine.open, the CLI (local
 * and Beam runners) and a Bronze replay from that data dir before anything
 * is written, naming the file; with the right file back everything works
 * again. A store from before fingerprints is checked by unwrapping its
 * stored subject keys, then gets its fingerprints recorded.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { openRuntime } from "../../jobs/runtime.js";
import { KeyError } from "../../sinks/keys/local-keys.js";
import { subjectKeysFromDataDir } from "../../sources/bronze.js";
import { generated, tempDir } from "../helpers/data.js";
import { type Row, rowCounts, withStoreFile } from "../helpers/store.js";

const CLI = path.resolve("dist/cli/main.js");
const exec = promisify(execFile);

const tmp = tempDir("fingerprints");
const data = path.join(tmp, "data");
const kekPath = path.join(data, "keys", "kek.json");
const tokenPath = path.join(data, "keys", "token-keys.json");
const input = path.join(tmp, "more.ndjson");
let rightKek: string;
let rightTokens: string;
let kids: string[];

const messages = (n: number, seed: number) => generated(n, seed).map((m, i) => ({ data: m.data, origin: `test:${i}`, receivedAtMs: Date.now() }));
const key32 = () => randomBytes(32).toString("base64");
const writeKeyFile = (file: string, body: unknown) => fs.writeFileSync(file, JSON.stringify(body, null, 2) + "\n", { mode: 0o600 });

function bronzeFiles(dir = path.join(data, "bronze")): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

/** Everything that shows whether a refused open wrote something. */
async function snapshot() {
  return {
    counts: await withStoreFile(data, rowCounts),
    bronze: bronzeFiles(),
    db: createHash("sha256")
      .update(fs.readFileSync(path.join(data, "ecom.duckdb")))
      .digest("hex"),
    wal: fs.existsSync(path.join(data, "ecom.duckdb.wal")),
  };
}

async function ingestCli(runner: "local" | "beam") {
  return exec(process.execPath, [CLI, "ingest", input, "--data-dir", data, "--runner", runner, "--json"], {
    env: { ...process.env, ECOM_LOG_LEVEL: "warn" },
  }).catch((err: { code: number; stdout: string; stderr: string }) => err);
}

/** Opening with the right keys works and commits a new batch. */
async function worksAgain(seed: number) {
  const engine = await openRuntime(data);
  try {
    const r = await engine.processBatch(messages(150, seed), "test");
    expect(r.valid).toBeGreaterThan(0);
  } finally {
    engine.close();
  }
  expect(Object.keys(await subjectKeysFromDataDir(data, kids))).toEqual(expect.arrayContaining(kids));
}

beforeAll(async () => {
  const engine = await openRuntime(data);
  await engine.processBatch(messages(500, 13), "test");
  engine.close();
  rightKek = fs.readFileSync(kekPath, "utf8");
  rightTokens = fs.readFileSync(tokenPath, "utf8");
  kids = (await withStoreFile(data, (q) => q("SELECT kid FROM ops.subject_keys ORDER BY kid LIMIT 5"))).map((r) => String(r.kid));
  fs.writeFileSync(
    input,
    generated(200, 17)
      .map((m) => m.data)
      .join("\n") + "\n",
  );
});

describe("fingerprints", () => {
  it("are recorded for the KEK and each token key, 128-bit hex, not the keys", async () => {
    const rows = (await withStoreFile(data, (q) => q("SELECT key_file, key_id, fingerprint FROM ops.key_fingerprints ORDER BY key_file"))) as Row[];
    expect(rows.map((r) => [r.key_file, r.key_id])).toEqual([
      ["kek.json", "local-kek-1"],
      ["token-keys.json", "t1"],
    ]);
    const secrets = [JSON.parse(rightKek).key as string, JSON.parse(rightTokens).keys.t1 as string];
    for (const r of rows) {
      expect(r.fingerprint).toMatch(/^[0-9a-f]{32}$/);
      for (const s of secrets) {
        expect(String(r.fingerprint)).not.toContain(Buffer.from(s, "base64").toString("hex").slice(0, 16));
        expect(String(r.fingerprint)).not.toContain(s.slice(0, 16));
      }
    }
  });
});

describe("a different kek.json", () => {
  it("stops Engine.open, the CLI on both runners and a Bronze replay, naming kek.json; nothing is written", async () => {
    const before = await snapshot();
    writeKeyFile(kekPath, { id: "local-kek-1", key: key32() });
    try {
      const named = new RegExp(
        `key file ${kekPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not the one this data dir's store was written with .*Restore kek\\.json from your key backup`,
        "s",
      );
      await expect(openRuntime(data)).rejects.toThrow(KeyError);
      await expect(openRuntime(data)).rejects.toThrow(named);
      await expect(subjectKeysFromDataDir(data, kids)).rejects.toThrow(named);
      for (const runner of ["local", "beam"] as const) {
        const run = await ingestCli(runner);
        expect(run, runner).toMatchObject({ code: 1 });
        expect((run as { stderr: string }).stderr, runner).toMatch(named);
      }
      expect(await snapshot()).toEqual(before);
    } finally {
      fs.writeFileSync(kekPath, rightKek);
    }
    await worksAgain(21);
  });

  it("with another key id is refused the same way", async () => {
    writeKeyFile(kekPath, { ...JSON.parse(rightKek), id: "local-kek-2" });
    try {
      await expect(openRuntime(data)).rejects.toThrow(/kek\.json is not the one .*its key id is "local-kek-2", the store's is "local-kek-1"/s);
    } finally {
      fs.writeFileSync(kekPath, rightKek);
    }
  });
});

describe("a different token-keys.json", () => {
  it("stops Engine.open and the CLI, naming token-keys.json; nothing is written", async () => {
    const before = await snapshot();
    writeKeyFile(tokenPath, { active: "t1", keys: { t1: key32() } });
    try {
      await expect(openRuntime(data)).rejects.toThrow(
        /token-keys\.json is not the one .*token key "t1" differs.*Restore token-keys\.json from your key backup/s,
      );
      const run = await ingestCli("local");
      expect(run).toMatchObject({ code: 1, stderr: expect.stringContaining(`key file ${tokenPath} is not the one`) });
      expect(await snapshot()).toEqual(before);
    } finally {
      fs.writeFileSync(tokenPath, rightTokens);
    }
    await worksAgain(22);
  });

  it("a rotation (a new active key beside the old one) is accepted and recorded; dropping the old key is refused", async () => {
    const tokens = JSON.parse(rightTokens) as { active: string; keys: Record<string, string> };
    const t2 = key32();
    writeKeyFile(tokenPath, { active: "t2", keys: { ...tokens.keys, t2 } });
    await worksAgain(23);
    const ids = await withStoreFile(data, (q) => q("SELECT key_id FROM ops.key_fingerprints WHERE key_file = 'token-keys.json' ORDER BY 1"));
    expect(ids.map((r) => r.key_id)).toEqual(["t1", "t2"]);
    rightTokens = fs.readFileSync(tokenPath, "utf8"); // the rotated file is the right one from now on
    writeKeyFile(tokenPath, { active: "t2", keys: { t2 } });
    try {
      await expect(openRuntime(data)).rejects.toThrow(/token-keys\.json is not the one .*it has no token key "t1"/s);
    } finally {
      fs.writeFileSync(tokenPath, rightTokens);
    }
    await worksAgain(24);
  });
});

describe("a store from before fingerprints", () => {
  it("with a wrong KEK is refused because the KEK cannot unwrap its subject keys; nothing is written, not even the table", async () => {
    await withStoreFile(data, (q) => q("DROP TABLE ops.key_fingerprints"), { readOnly: false });
    writeKeyFile(kekPath, { id: "local-kek-1", key: key32() });
    try {
      const hash = createHash("sha256")
        .update(fs.readFileSync(path.join(data, "ecom.duckdb")))
        .digest("hex");
      await expect(openRuntime(data)).rejects.toThrow(/kek\.json is not the one .*it cannot unwrap the subject keys stored in ops\.subject_keys/s);
      await expect(subjectKeysFromDataDir(data, kids)).rejects.toThrow(/cannot unwrap the subject keys/);
      expect(
        createHash("sha256")
          .update(fs.readFileSync(path.join(data, "ecom.duckdb")))
          .digest("hex"),
      ).toBe(hash);
      const tables = await withStoreFile(data, (q) =>
        q("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'key_fingerprints'"),
      );
      expect(tables).toEqual([]);
    } finally {
      fs.writeFileSync(kekPath, rightKek);
    }
  });

  it("with the right KEK is opened and gets its fingerprints recorded", async () => {
    await worksAgain(25);
    const rows = await withStoreFile(data, (q) => q("SELECT key_file, key_id FROM ops.key_fingerprints ORDER BY 1, 2"));
    expect(rows.map((r) => `${r.key_file}/${r.key_id}`)).toEqual(["kek.json/local-kek-1", "token-keys.json/t1", "token-keys.json/t2"]);
    // And from now on the fingerprint, not the unwrap, is what refuses a wrong KEK.
    writeKeyFile(kekPath, { id: "local-kek-1", key: key32() });
    try {
      await expect(openRuntime(data)).rejects.toThrow(/kek\.json is not the one .*its fingerprint differs/s);
    } finally {
      fs.writeFileSync(kekPath, rightKek);
    }
  });
});
