/**
 * Infrastructure failures fail the batch whole and lose nothing: a Bronze
 * write that fails rolls the Silver transaction back (so the messages can be
 * redelivered and committed later), and a key file that cannot be read stops
 * the runner before anything is written in clear.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../pipelines/local/engine.js";
import { KeyError } from "../../sinks/keys/local-keys.js";
import type { RawMessage } from "../../transforms/types.js";
import { bronzeRecords, expected, generated, tempDir, tempFiles } from "../helpers/data.js";

function asMessages(data: string[]): RawMessage[] {
  return data.map((d, i) => ({ data: d, origin: `test:${i}`, receivedAtMs: Date.now() }));
}

describe("failures", () => {
  it("rolls the whole batch back when Bronze cannot be written, and commits it on retry", async () => {
    const dir = tempDir("fail");
    const messages = generated(500, 5);
    const data = path.join(dir, "data");
    const engine = await Engine.open(data);
    try {
      // A file where a partition folder must go: mkdir fails (ENOTDIR) even for root.
      const type = JSON.parse(messages.find((m) => m.kind === "valid")!.data).event_type as string;
      fs.mkdirSync(path.join(data, "bronze"), { recursive: true });
      fs.writeFileSync(path.join(data, "bronze", `event_type=${type}`), "in the way");
      await expect(engine.processBatch(asMessages(messages.map((m) => m.data)), "test")).rejects.toThrow();
      const n = async (sql: string) => Number((await engine.store.query(sql))[0]!.n);
      expect(await n(`SELECT count(*) AS n FROM ops.seen_events`)).toBe(0);
      expect(await n(`SELECT count(*) AS n FROM silver.clickstream_events`)).toBe(0);
      expect(await n(`SELECT count(*) AS n FROM ops.dead_letters`)).toBe(0);

      fs.rmSync(path.join(data, "bronze", `event_type=${type}`));
      const r = await engine.processBatch(asMessages(messages.map((m) => m.data)), "test");
      const exp = expected(messages);
      expect([r.valid, r.dead_lettered]).toEqual([exp.validIds.size, exp.invalidBodies.size]);
      await engine.bronze.removeOrphans();
      expect(bronzeRecords(data).length).toBe(exp.validIds.size);
      expect(tempFiles(data)).toEqual([]);
    } finally {
      engine.close();
    }
  });

  it("refuses to start when a key file is unreadable, and writes nothing", async () => {
    const dir = tempDir("keys");
    const data = path.join(dir, "data");
    (await Engine.open(data)).close();
    fs.writeFileSync(path.join(data, "keys", "kek.json"), "{ damaged");
    const before = fs.statSync(path.join(data, "ecom.duckdb")).mtimeMs;
    await expect(Engine.open(data)).rejects.toThrow(KeyError);
    await expect(Engine.open(data)).rejects.toThrow(/kek\.json is damaged.*Nothing was written/s);
    expect(fs.statSync(path.join(data, "ecom.duckdb")).mtimeMs).toBe(before);

    fs.rmSync(path.join(data, "keys"), { recursive: true });
    await expect(Engine.open(data)).rejects.toThrow(/cannot read the key file .*Restore the file from your key backup/s);
    expect(fs.existsSync(path.join(data, "keys", "kek.json"))).toBe(false);
  });
});
