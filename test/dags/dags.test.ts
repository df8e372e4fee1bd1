/**
 * DAG files cannot run here (no Airflow), so they are checked without it: they
 * parse as Python, and every task's command is a real `ecom` command (its
 * `--help` succeeds on the built CLI). The privacy DAG is also loaded by
 * Python against stand-ins for the few Airflow classes it uses, and its runs
 * are played through Airflow's trigger rules to check when a run fails.
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
  it("names only real ecom commands, with their flags (all of them)", () => {
    checkCommands(Object.values(commandsOf(file)));
  });
});

function checkCommands(all: readonly string[][]): void {
  for (const args of all) {
    const words = args.filter((a) => !a.startsWith("-") && !a.includes("{{")).slice(0, 2);
    // `ecom <command> [subcommand] --help` exits 0 only for commands that exist.
    const out = execFileSync(process.execPath, [CLI, ...words, "--help"], { encoding: "utf8" });
    expect(out).toContain("Usage: ecom");
    for (const flag of args.filter((a) => a.startsWith("--"))) expect(out, `${words.join(" ")} ${flag}`).toContain(flag);
  }
}

interface LoadedTask {
  task_id: string;
  arguments: string[] | null;
  trigger_rule: string;
  retries: number;
  upstream: string[];
  raises: string | null;
}

/** Loads a DAG file with stand-ins for the Airflow classes it imports; returns its DAG and tasks as JSON. */
function loadDag(file: string): { dag_id: string; schedule: string; tasks: LoadedTask[] } {
  const script = `
import json, runpy, sys, types

tasks = {}
dags = []

class Task:
    def __init__(self, task_id, trigger_rule="all_success", retries=0, arguments=None, python_callable=None, **kw):
        self.task_id, self.trigger_rule, self.retries, self.arguments, self.callable = task_id, trigger_rule, retries, arguments, python_callable
        self.upstream = []
        tasks[task_id] = self
    def __rshift__(self, other):
        for o in other if isinstance(other, list) else [other]:
            o.upstream.append(self.task_id)
        return other
    def __rrshift__(self, other):
        for o in other if isinstance(other, list) else [other]:
            self.upstream.append(o.task_id)
        return self

class DAG:
    def __init__(self, dag_id, schedule=None, **kw):
        self.dag_id, self.schedule = dag_id, schedule
        dags.append(self)
    def __enter__(self):
        return self
    def __exit__(self, *a):
        return False

class Variable:
    @staticmethod
    def get(name, default_var=None):
        return default_var if default_var is not None else "value-of-" + name

class AirflowException(Exception):
    pass

class TriggerRule:
    ALL_SUCCESS, ALL_DONE, ONE_FAILED = "all_success", "all_done", "one_failed"

def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m

module("airflow", DAG=DAG)
module("airflow.models", Variable=Variable)
module("airflow.exceptions", AirflowException=AirflowException)
module("airflow.operators"); module("airflow.operators.python", PythonOperator=Task)
module("airflow.providers"); module("airflow.providers.cncf"); module("airflow.providers.cncf.kubernetes")
module("airflow.providers.cncf.kubernetes.operators")
module("airflow.providers.cncf.kubernetes.operators.pod", KubernetesPodOperator=Task)
module("airflow.utils"); module("airflow.utils.trigger_rule", TriggerRule=TriggerRule)

runpy.run_path(sys.argv[1])

def raises(t):
    if t.callable is None:
        return None
    try:
        t.callable()
    except AirflowException as e:
        return str(e)
    return None

print(json.dumps({"dag_id": dags[0].dag_id, "schedule": dags[0].schedule, "tasks": [
    {"task_id": t.task_id, "arguments": t.arguments, "trigger_rule": t.trigger_rule, "retries": t.retries, "upstream": t.upstream, "raises": raises(t)}
    for t in tasks.values()]}))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, path.join("dags", file)], { encoding: "utf8" }));
}

type State = "success" | "failed" | "skipped" | "upstream_failed";

/**
 * One run played through Airflow 2's trigger rules: a task runs when its rule
 * holds (its outcome: the given exit for a CLI task, a failure when its callable
 * raises), else it is upstream_failed (all_success) or skipped (one_failed).
 * The run fails when a task with no downstream ended failed or upstream_failed.
 */
function playRun(tasks: readonly LoadedTask[], exitCodes: Record<string, number>): { states: Record<string, State>; run: "success" | "failed" } {
  const states: Record<string, State> = {};
  const pending = [...tasks];
  while (pending.length) {
    const i = pending.findIndex((t) => t.upstream.every((u) => states[u] !== undefined));
    const t = pending.splice(i, 1)[0]!;
    const up = t.upstream.map((u) => states[u]!);
    const failed = up.some((s) => s === "failed" || s === "upstream_failed");
    const runs = t.trigger_rule === "all_done" ? true : t.trigger_rule === "one_failed" ? failed : up.every((s) => s === "success");
    if (!runs) states[t.task_id] = t.trigger_rule === "one_failed" ? "skipped" : "upstream_failed";
    else if (t.arguments) states[t.task_id] = (exitCodes[t.task_id] ?? 0) === 0 ? "success" : "failed";
    else states[t.task_id] = t.raises ? "failed" : "success";
  }
  const leaves = tasks.filter((t) => !tasks.some((o) => o.upstream.includes(t.task_id)));
  return { states, run: leaves.some((t) => states[t.task_id] === "failed" || states[t.task_id] === "upstream_failed") ? "failed" : "success" };
}

describe("ecom_privacy.py", () => {
  const dag = loadDag("ecom_privacy.py");
  const task = (id: string) => dag.tasks.find((t) => t.task_id === id)!;

  it("runs daily: privacy requests, then retention with --json, then the watcher after both", () => {
    expect(dag.dag_id).toBe("ecom_privacy");
    expect(dag.schedule).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(task("privacy_requests").arguments).toEqual(["privacy", "requests", "run"]);
    expect(task("retention").arguments).toEqual(["retention", "run", "--json"]);
    expect(task("retention").upstream).toEqual(["privacy_requests"]);
    expect(new Set(task("watcher").upstream)).toEqual(new Set(["privacy_requests", "retention"]));
    expect(task("privacy_requests").retries).toBe(0);
  });

  it("a past-due request (non-zero exit) fails the run, and retention still runs", () => {
    const r = playRun(dag.tasks, { privacy_requests: 1 });
    expect(r.states).toEqual({ privacy_requests: "failed", retention: "success", watcher: "failed" });
    expect(r.run).toBe("failed");
    expect(task("watcher").raises).toContain("past due");
  });

  it("a failed retention fails the run; when both succeed the run succeeds and the watcher is skipped", () => {
    expect(playRun(dag.tasks, { retention: 1 }).run).toBe("failed");
    const ok = playRun(dag.tasks, {});
    expect(ok.states).toEqual({ privacy_requests: "success", retention: "success", watcher: "skipped" });
    expect(ok.run).toBe("success");
  });

  it("without the watcher a past-due request would leave the run green (why the watcher is there)", () => {
    const bare = dag.tasks.filter((t) => t.task_id !== "watcher");
    expect(playRun(bare, { privacy_requests: 1 }).run).toBe("success");
  });
});
