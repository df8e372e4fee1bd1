/**
 * Development sources stay out of production code: nothing the Dataflow
 * pipeline is built from (pipelines/, transforms/, sinks/, schemas/, gold/)
 * loads a module under sources/dev/, directly or through other modules.
 * Type-only imports are ignored: they are erased at build time.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PRODUCTION = ["pipelines", "transforms", "sinks", "schemas", "gold"];

const VALUE_IMPORTS = [
  /^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+"(\.[^"]+)"/gms, // import { a } from "./x.js"; export * from "./x.js"
  /^\s*import\s+"(\.[^"]+)"/gm, // import "./x.js"
  /\bimport\(\s*"(\.[^"]+)"\s*\)/g, // await import("./x.js")
];

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every module loaded at run time from `entries`, mapped to the module that first imported it. */
function reachable(entries: string[]): Map<string, string> {
  const from = new Map<string, string>(entries.map((e) => [e, "(entry)"]));
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    const src = fs.readFileSync(file, "utf8");
    for (const re of VALUE_IMPORTS) {
      for (const m of src.matchAll(re)) {
        const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts"));
        if (!fs.existsSync(target) || from.has(target)) continue;
        from.set(target, file);
        todo.push(target);
      }
    }
  }
  return from;
}

describe("development sources", () => {
  it("are never loaded by the code the Dataflow pipeline is built from", () => {
    const loaded = reachable(PRODUCTION.flatMap((d) => tsFiles(path.join(ROOT, d))));
    const rel = (f: string) => path.relative(ROOT, f);
    const dev = [...loaded].filter(([f]) => rel(f).startsWith("sources/dev/")).map(([f, by]) => `${rel(f)} (imported by ${rel(by)})`);
    expect(dev).toEqual([]);
    // The walk does follow imports into sources/: the production sources are reached.
    expect([...loaded.keys()].map(rel)).toContain("sources/ndjson.ts");
  });

  it("the walk sees through re-exports and multi-line imports (checked on the CLI, which does use them)", () => {
    const loaded = [...reachable([path.join(ROOT, "cli/main.ts")]).keys()].map((f) => path.relative(ROOT, f));
    expect(loaded).toContain("sources/dev/generator/index.ts");
    expect(loaded).toContain("sources/dev/generator/simulation.ts");
    expect(loaded).toContain("sources/dev/pubsub-emulator.ts");
  });
});
