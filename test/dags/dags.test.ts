/**
 * DAG files cannot run here (no Airflow), so they are checked without it: they
 * parse as Python, and every task's command is a real `ecom` command (its
 * `--help` succeeds on the built CLI).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const CLI = path.resolve("dist/cli/main.js");
const DAGS = fs.readdirSync("dags").filter((f) => f.endsWith(".py"));

/** The ECOM_COMMANDS table of a DAG file, read with Python's own parser. */
function commandsOf(file: string): Record<string, string[]> {
  const script = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in tree.body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ECOM_COMMANDS" for t in node.targets):
        print(json.dumps(ast.literal_eval(node.value)))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, path.join("dags", file)], { encoding: "utf8" }));
}

describe.each(DAGS)("%s", (file) => {
  it("parses and names only real ecom commands", () => {
    const commands = commandsOf(file);
    expect(Object.keys(commands).length).toBeGreaterThan(0);
    for (const args of Object.values(commands)) {
      const words = args.filter((a) => !a.startsWith("-") && !a.includes("{{")).slice(0, 2);
      // `ecom <command> [subcommand] --help` exits 0 only for commands that exist.
      const out = execFileSync(process.execPath, [CLI, ...words, "--help"], { encoding: "utf8" });
      expect(out).toContain("Usage: ecom");
      for (const flag of args.filter((a) => a.startsWith("--"))) expect(out, `${words.join(" ")} ${flag}`).toContain(flag);
    }
  });
});
