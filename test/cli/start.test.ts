/**
 * `ecom start` as a user runs it: it starts its own Pub/Sub emulator, publishes
 * generated traffic, runs the streaming pipeline, answers `ecom query` while it
 * runs (through its loopback port, to holders of its token only), and exits
 * after draining with totals that reconcile with the Silver tables.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { findEmulator } from "../../sources/dev/pubsub-emulator.js";
import { tempDir } from "../helpers/data.js";

const CLI = path.resolve("dist/cli/main.js");
const run = promisify(execFile);
const noEmulator = !findEmulator();
if (noEmulator && process.env.CI === "true") throw new Error("CI=true but no Pub/Sub emulator is installed");

async function query<T>(dataDir: string, sql: string): Promise<T[]> {
  const { stdout } = await run(process.execPath, [CLI, "query", "--json", "--data-dir", dataDir, sql]);
  return JSON.parse(stdout.trim().split("\n").pop()!) as T[];
}

describe.skipIf(noEmulator)("ecom start", () => {
  it("streams generated traffic into Silver, serves queries while running, and reconciles on exit", async () => {
    const dataDir = path.join(tempDir("start"), "data");
    const env: NodeJS.ProcessEnv = { ...process.env, ECOM_LOG_LEVEL: "warn" };
    delete env.PUBSUB_EMULATOR_HOST;
    const child = spawn(process.execPath, [CLI, "start", "--data-dir", dataDir, "--count", "6000", "--rate", "1500", "--seed", "3"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));

    // While it runs, the CLI reaches it through the port it recorded.
    let liveRows = 0;
    for (let i = 0; i < 120 && liveRows === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      if (!fs.existsSync(path.join(dataDir, "ecom.instance.json"))) continue;
      const rows = await query<{ n: number }>(dataDir, "SELECT count(*) AS n FROM silver.clickstream_events");
      liveRows = rows[0]!.n;
    }
    expect(liveRows, stderr).toBeGreaterThan(0);

    // The port answers only with the token of the 0600 instance file; the data dir is the owner's alone.
    const file = path.join(dataDir, "ecom.instance.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const { port, token } = JSON.parse(fs.readFileSync(file, "utf8")) as { port: number; token: string };
    const sql = "SELECT count(*) AS n FROM silver.clickstream_events";
    expect((await fetch(`http://127.0.0.1:${port}/query`, { method: "POST", body: sql })).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${port}/query`, { method: "POST", body: sql, headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const refused = await fetch(`http://127.0.0.1:${port}/query`, {
      method: "POST",
      body: "DELETE FROM silver.clickstream_events",
      headers: { authorization: `Bearer ${token}` },
    });
    expect([refused.status, await refused.text()]).toEqual([400, expect.stringMatching(/only one read-only statement .*got DELETE/)]);

    expect(await exited, stderr).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "ecom.instance.json"))).toBe(false);
    expect(stderr).toMatch(/Pub\/Sub emulator on 127\.0\.0\.1:\d+/);
    const totals = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, number>;
    expect(totals.read).toBeGreaterThanOrEqual(6000); // at-least-once: a redelivery is read again (and counted a duplicate)
    expect(totals.read).toBe(totals.valid! + totals.duplicates! + totals.dead_lettered!);

    const counts = await query<{ n: number }>(
      dataDir,
      ["clickstream", "order", "payment", "inventory", "customer"].map((d) => `SELECT count(*) AS n FROM silver.${d}_events`).join(" UNION ALL "),
    );
    expect(counts.reduce((s, r) => s + r.n, 0)).toBe(totals.valid);
    const dead = await query<{ n: number }>(dataDir, "SELECT count(*) AS n FROM ops.dead_letters");
    expect(dead[0]!.n).toBe(totals.dead_lettered);
  });
});
