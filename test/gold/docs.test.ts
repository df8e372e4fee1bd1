/** docs/gold.md documents every table and column, and every example query in it runs on DuckDB. */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOLD_MODELS } from "../../gold/models/index.js";
import { openRuntime } from "../../jobs/runtime.js";
import type { Engine } from "../../pipelines/local/engine.js";
import { generate } from "./expected.js";
import { ingest, tempDir } from "./helpers.js";

const doc = fs.readFileSync(path.resolve("docs/gold.md"), "utf8");
const examples = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

describe("docs/gold.md", () => {
  let dir: string;
  let engine: Engine;

  beforeAll(async () => {
    dir = tempDir("docs");
    engine = await openRuntime(dir);
    await ingest(engine, generate(6_000, 5).messages);
  });
  afterAll(() => {
    engine?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const m of GOLD_MODELS) {
    it(`documents gold.${m.name}, its columns and three example questions`, () => {
      const section = doc.split(/\n### /).find((s) => s.startsWith(`gold.${m.name}\n`));
      expect(section, `a "### gold.${m.name}" section`).toBeDefined();
      for (const c of m.columns) expect(section, `column ${c.name}`).toContain(`\`${c.name}\``);
      expect([...section!.matchAll(/```sql/g)].length).toBeGreaterThanOrEqual(3);
    });
  }

  it("every example query runs on DuckDB", async () => {
    expect(examples.length).toBeGreaterThanOrEqual(3 * GOLD_MODELS.length);
    for (const sql of examples) await expect(engine.store.query(sql), sql).resolves.toBeInstanceOf(Array);
  });
});
