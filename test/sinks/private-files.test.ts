/**
 * Everything in a data dir is for its owner only: after a generated file is
 * ingested with the CLI and an instance runs (started in this process under
 * a permissive umask, as a library caller would), the data dir is 0700 and
 * no file or folder under it can be used by group or others. A key file or
 * keys folder that others could use is refused with the chmod to run, and
 * nothing is written.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRuntime } from "../../jobs/runtime.js";
import type { Engine } from "../../pipelines/local/engine.js";
import { instanceFile, serveEngine } from "../../pipelines/local/instance.js";
import { KeyError } from "../../sinks/keys/local-keys.js";
import { generated, tempDir } from "../helpers/data.js";
import { rowCounts, withStoreFile } from "../helpers/store.js";

const CLI = path.resolve("dist/cli/main.js");
const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, [CLI, ...args], { env: { ...process.env, ECOM_LOG_LEVEL: "warn" } });

/** Every path under `dir` (itself excluded) with its permission bits. */
function modes(dir: string, out = new Map<string, number>()): Map<string, number> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.set(p, fs.lstatSync(p).mode & 0o777);
    if (e.isDirectory()) modes(p, out);
  }
  return out;
}

const messages = (n: number, seed: number) => generated(n, seed).map((m, i) => ({ data: m.data, origin: `test:${i}`, receivedAtMs: Date.now() }));

let umask: number;
beforeAll(() => {
  umask = process.umask(0o022); // the usual default: whatever is private below is private by explicit mode
});
afterAll(() => {
  process.umask(umask);
});

describe("after an ingest and with an instance running", () => {
  const tmp = tempDir("modes");
  const data = path.join(tmp, "data");
  let engine: Engine | undefined;
  let server: Awaited<ReturnType<typeof serveEngine>> | undefined;

  beforeAll(async () => {
    const input = path.join(tmp, "events.ndjson.gz");
    await cli("generate", "--out", input, "--count", "600", "--seed", "5", "--start-time", "2026-11-20T08:00:00Z");
    await cli("ingest", input, "--data-dir", data, "--json");
    engine = await openRuntime(data);
    await engine.processBatch(messages(400, 77), "test"); // new Bronze partitions, written by this process
    server = await serveEngine(engine);
  });
  afterAll(async () => {
    await server?.close();
    engine?.close();
  });

  it("the data dir is 0700 and nothing under it is open to group or others", () => {
    expect(fs.statSync(data).mode & 0o777).toBe(0o700);
    const all = modes(data);
    const open = [...all].filter(([, mode]) => mode & 0o077).map(([p, mode]) => `${path.relative(data, p)} ${mode.toString(8)}`);
    expect(open).toEqual([]);
    const names = [...all.keys()].map((p) => path.relative(data, p));
    expect(names).toEqual(expect.arrayContaining(["ecom.duckdb", "keys", "keys/kek.json", "keys/token-keys.json", "ecom.instance.json", "bronze"]));
    const bronze = names.filter((n) => n.endsWith(".ndjson.gz"));
    expect(bronze.length).toBeGreaterThan(10);
    expect(fs.statSync(instanceFile(data)).mode & 0o777).toBe(0o600);
  });
});

describe("an existing data dir", () => {
  it("that group or others can use is tightened to 0700 when opened", async () => {
    const data = path.join(tempDir("modes-old"), "data");
    fs.mkdirSync(data);
    fs.chmodSync(data, 0o755);
    (await openRuntime(data)).close();
    expect(fs.statSync(data).mode & 0o777).toBe(0o700);
  });
});

describe("key files others can use", () => {
  const tmp = tempDir("modes-keys");
  const data = path.join(tmp, "data");
  const input = path.join(tmp, "more.ndjson");
  const bronzeFiles = () => [...modes(path.join(data, "bronze")).keys()].sort();
  const dbHash = () =>
    createHash("sha256")
      .update(fs.readFileSync(path.join(data, "ecom.duckdb")))
      .digest("hex");

  beforeAll(async () => {
    const e = await openRuntime(data);
    await e.processBatch(messages(300, 3), "test");
    e.close();
    fs.writeFileSync(
      input,
      generated(200, 4)
        .map((m) => m.data)
        .join("\n") + "\n",
    );
  });

  for (const [what, rel, mode, fix] of [
    ["a 0644 kek.json", "keys/kek.json", 0o644, "600"],
    ["a 0640 token-keys.json", "keys/token-keys.json", 0o640, "600"],
    ["a 0755 keys folder", "keys", 0o755, "700"],
  ] as const) {
    it(`${what}: refused with the chmod to run, nothing written or acked`, async () => {
      const target = path.join(data, rel);
      const counts = await withStoreFile(data, rowCounts);
      const files = bronzeFiles();
      const hash = dbHash();
      fs.chmodSync(target, mode);
      try {
        const hint = `chmod ${fix} ${target}`;
        await expect(openRuntime(data)).rejects.toThrow(KeyError);
        await expect(openRuntime(data)).rejects.toThrow(hint);
        const run = await cli("ingest", input, "--data-dir", data, "--json").catch((err: { code: number; stderr: string; stdout: string }) => err);
        expect(run).toMatchObject({ code: 1, stdout: "" });
        expect((run as { stderr: string }).stderr).toContain(`Make it private with: ${hint}`);
        expect(await withStoreFile(data, rowCounts)).toEqual(counts);
        expect(bronzeFiles()).toEqual(files);
        expect(dbHash()).toBe(hash);
        expect(fs.existsSync(path.join(data, "ecom.duckdb.wal"))).toBe(false);
      } finally {
        fs.chmodSync(target, fix === "700" ? 0o700 : 0o600);
      }
      // Made private again: the same ingest goes through.
      const ok = await cli("ingest", input, "--data-dir", data, "--json");
      expect(JSON.parse(ok.stdout.trim().split("\n").at(-1)!)).toMatchObject({ read: 200 });
    });
  }
});
