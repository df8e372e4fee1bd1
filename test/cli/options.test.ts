/**
 * Every command's options, as a user meets them on the built CLI: a bad
 * value of each validated flag (or environment variable) is refused before
 * anything runs, with exit code 2 and one line `  --flag: what is allowed`
 * under `ecom: invalid options:`; good values reach the job (checked on a
 * small generated data dir, on what the job answers).
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/data.js";

const CLI = path.resolve("dist/cli/main.js");

/** The environment without anything that configures `ecom`, so only the flags given count. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ECOM_") && k !== "PUBSUB_EMULATOR_HOST"));
  return { ...env, ECOM_LOG_LEVEL: "warn", ...extra };
}

function ecom(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: cleanEnv(env), encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking, for the refusals that run side by side. */
function ecomAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The problem lines of a refusal: `--flag` -> message. */
function problems(stderr: string): Map<string, string> {
  expect(stderr).toMatch(/^ecom: invalid options:\n/);
  const out = new Map<string, string>();
  for (const line of stderr.split("\n").slice(1)) {
    const m = /^ {2}(\S+): (.+)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * A command given bad values: refused with exit 2, each named flag on its own
 * line with a message matching the pattern, and nothing else refused.
 */
type Refusal = { args: string[]; env?: Record<string, string>; named: Record<string, RegExp> };

async function expectRefused({ args, env, named }: Refusal): Promise<void> {
  const r = await ecomAsync(args, env);
  expect(r.code, r.stderr).toBe(2);
  const got = problems(r.stderr);
  for (const [flag, message] of Object.entries(named)) expect(got.get(flag), `${flag} in\n${r.stderr}`).toMatch(message);
  expect([...got.keys()].sort()).toEqual(Object.keys(named).sort());
}

const WHOLE = /must be a whole number/;
const POSITIVE = /must be .*greater than 0/;
const FRACTION = /must be a fraction from 0 to 0\.9/;
const DATE = /must be a date YYYY-MM-DD \(UTC\)/;

/** Flags of the deployment that are all valid (the pipeline's own examples). */
const DEPLOY = [
  "--project-id",
  "ecom-prod",
  "--region",
  "europe-west1",
  "--bronze-bucket",
  "ecom-prod-bronze",
  "--keys-uri",
  "gs://ecom-prod-keys/ingest",
  "--temp-location",
  "gs://ecom-prod-dataflow/temp",
  "--staging-location",
  "gs://ecom-prod-dataflow/staging",
  "--sdk-container-image",
  "europe-west1-docker.pkg.dev/ecom-prod/ecom/worker:1.0.0",
  "--service-account",
  "ingest@ecom-prod.iam.gserviceaccount.com",
];

const REFUSALS: Record<string, Refusal[]> = {
  start: [
    {
      args: [
        "start",
        "--count",
        "0",
        "--duration",
        "-5",
        "--idle-exit",
        "soon",
        "--rate",
        "0",
        "--seed",
        "1.5",
        "--duplicates",
        "1",
        "--invalid",
        "-0.1",
        "--batch-size",
        "0",
        "--batch-wait-ms",
        "5",
        "--max-streams",
        "100",
        "--parse-threads",
        "-1",
        "--project-id",
        "X",
        "--topic",
        "ab",
        "--subscription",
        "1abc",
      ],
      named: {
        "--count": WHOLE,
        "--duration": POSITIVE,
        "--idle-exit": POSITIVE,
        "--rate": POSITIVE,
        "--seed": WHOLE,
        "--duplicates": FRACTION,
        "--invalid": FRACTION,
        "--batch-size": /from 1 to 200000/,
        "--batch-wait-ms": /from 10 to 60000/,
        "--max-streams": /from 1 to 64/,
        "--parse-threads": /from 0 to 16/,
        "--project-id": /GCP project id/,
        "--topic": /at least 3 characters/,
        "--subscription": /start with a letter/,
      },
    },
    { args: ["start", "--no-generator", "--duration", "10"], named: { "--duration": /--no-generator.*--idle-exit/ } },
    {
      args: ["start", "--port", "70000", "--alert-webhook", "ftp://hooks", "--alert-interval", "0", "--freshness-slo", "silver.nothing=5"],
      named: {
        "--port": /from 0 to 65535/,
        "--alert-webhook": /http:\/\/ or https:\/\/ URL/,
        "--alert-interval": POSITIVE,
        "--freshness-slo": /names a table with an objective: silver\.order_events/,
      },
    },
    { args: ["start", "--freshness-slo", "silver.orders"], named: { "--freshness-slo": /<table>=<seconds>/ } },
    {
      args: ["start"],
      env: { ECOM_BATCH_SIZE: "lots", ECOM_FAULT_AT: "somewhere", PUBSUB_EMULATOR_HOST: "localhost", ECOM_LOG_LEVEL: "loud" },
      named: {
        ECOM_BATCH_SIZE: WHOLE,
        ECOM_FAULT_AT: /must be one of: after_bronze_temp, .*after_ack/,
        PUBSUB_EMULATOR_HOST: /host:port/,
        ECOM_LOG_LEVEL: /must be one of: fatal, error/,
      },
    },
  ],
  generate: [
    {
      args: [
        "generate",
        "--out",
        "x.ndjson",
        "--count",
        "2.5",
        "--rate",
        "fast",
        "--seed",
        "s",
        "--start-time",
        "yesterday",
        "--duplicates",
        "2",
        "--invalid",
        "x",
        "--project-id",
        "BAD",
        "--topic",
        "t",
      ],
      named: {
        "--count": WHOLE,
        "--rate": POSITIVE,
        "--seed": WHOLE,
        "--start-time": /ISO 8601 time like 2026-11-25T00:00:00Z/,
        "--duplicates": FRACTION,
        "--invalid": FRACTION,
        "--project-id": /GCP project id/,
        "--topic": /at least 3 characters/,
      },
    },
    { args: ["generate"], named: { "--out": /give --out <file> .* or --publish/ } },
    { args: ["generate", "--out", "x.ndjson", "--publish"], named: { "--publish": /not with --out/ } },
    { args: ["generate", "--publish"], named: { "--publish": /needs PUBSUB_EMULATOR_HOST=host:port/ } },
  ],
  query: [{ args: ["query", " ", "--data-dir", ""], named: { "<sql>": /give one SQL statement/, "--data-dir": /folder path/ } }],
  "dead-letters list": [
    {
      args: ["dead-letters", "list", "--reason", "ugly", "--limit", "0"],
      named: { "--reason": /must be one of: too_large, .*schema_violation, internal_error, commit_failed/, "--limit": WHOLE },
    },
    { args: ["dead-letters", "list", "--limit", "ten"], named: { "--limit": WHOLE } },
  ],
  "dead-letters replay": [
    {
      args: ["dead-letters", "replay", "--reason", "schema-violation", "--type", "order_placed", "--limit", "-1"],
      named: { "--reason": /must be one of: too_large/, "--type": /must be one of: page_view, .*order_created/, "--limit": WHOLE },
    },
  ],
  "gold rebuild": [
    {
      args: ["gold", "rebuild", "--from", "2026-02-30", "--to", "2026/03/01", "--model", "daily_revenue", "gold.revenue"],
      named: { "--from": /in the calendar/, "--to": DATE, "--model": /no Gold table gold\.revenue; the tables are: daily_revenue, / },
    },
    { args: ["gold", "rebuild", "--from", "2026-03-02", "--to", "2026-03-01"], named: { "--to": /2026-03-01 is before --from 2026-03-02/ } },
  ],
  "gold status": [{ args: ["gold", "status", "--data-dir", ""], named: { "--data-dir": /folder path/ } }],
  "gold bigquery": [{ args: ["gold", "bigquery", "--out", ""], named: { "--out": /folder path/ } }],
  report: [
    { args: ["report", "--date", "2026-13-01"], named: { "--date": /in the calendar/ } },
    { args: ["report", "--date", "today"], named: { "--date": DATE } },
  ],
  schemas: [{ args: ["schemas", "--out", ""], named: { "--out": /folder path/ } }],
  status: [{ args: ["status", "--data-dir", ""], named: { "--data-dir": /folder path/ } }],
  "monitoring generate": [{ args: ["monitoring", "generate", "--out", ""], named: { "--out": /folder path/ } }],
  ingest: [
    {
      args: ["ingest", "--runner", "spark", "--batch-size", "0", "--parse-threads", "99", "x.ndjson"],
      named: { "--runner": /must be one of: local, beam/, "--batch-size": WHOLE, "--parse-threads": WHOLE },
    },
    { args: ["ingest", "--bronze", "--from", "2026-1-1"], named: { "--from": DATE } },
    {
      args: ["ingest", "x.ndjson", "--kms-key", "keks/k1", "--text-inspector", "dlp"],
      named: { "--kms-key": /must be a Cloud KMS key name projects\/P\/locations\/L/, "--dlp-project": /--text-inspector dlp needs the GCP project/ },
    },
    {
      args: ["ingest", "x.ndjson", "--kms-endpoint", "127.0.0.1:1", "--dlp-project", "ecom-prod"],
      named: { "--kms-endpoint": /only applies with --kms-key/, "--dlp-project": /only applies with --text-inspector dlp/ },
    },
  ],
  keys: [{ args: ["keys", "rewrap", "--kms-key", "k"], named: { "--kms-key": /must be a Cloud KMS key name/ } }],
  deploy: [
    {
      args: [
        "deploy",
        "--dry-run",
        "--region",
        "eu",
        "--job-name",
        "Ecom_Ingest",
        "--subscription",
        "1x",
        "--project-id",
        "X",
        "--bronze-bucket",
        "gs://b",
        "--staging-bucket",
        "A",
        "--keys-uri",
        "http://keys",
        "--temp-location",
        "/tmp",
        "--staging-location",
        "staging",
        "--sdk-container-image",
        "worker",
        "--service-account",
        "nobody",
        "--machine-type",
        "big",
        "--num-workers",
        "0",
        "--max-num-workers",
        "many",
        "--subnetwork",
        "default",
        "--bigquery-location",
        "E",
        "--window-seconds",
        "5",
        "--commit-shards",
        "0",
        "--expansion-service",
        "",
      ],
      named: {
        "--region": /Dataflow region such as europe-west1/,
        "--job-name": /lower-case letters/,
        "--subscription": /subscription name .* or projects\/<project>\/subscriptions\/<name>/,
        "--project-id": /GCP project id/,
        "--bronze-bucket": /bucket name without gs:\/\//,
        "--staging-bucket": /bucket name/,
        "--keys-uri": /gs:\/\/bucket\/path/,
        "--temp-location": /gs:\/\/bucket\/path/,
        "--staging-location": /gs:\/\/bucket\/path/,
        "--sdk-container-image": /image reference/,
        "--service-account": /service account's e-mail/,
        "--machine-type": /machine type such as n2-standard-4/,
        "--num-workers": /./,
        "--max-num-workers": /./,
        "--subnetwork": /regions\/<region>\/subnetworks\/<name>/,
        "--bigquery-location": /./,
        "--window-seconds": /at least 10 s/,
        "--commit-shards": /./,
        "--expansion-service": /jar path or host:port/,
      },
    },
    {
      args: ["deploy", "--dry-run", ...DEPLOY, "--num-workers", "8", "--max-num-workers", "4"],
      named: { "--max-num-workers": /maxNumWorkers must be >= numWorkers/ },
    },
    {
      args: ["deploy", "--dry-run", "--project-id", "ecom-prod"],
      env: { ECOM_DATAFLOW_REGION: "eu" },
      named: {
        ECOM_DATAFLOW_REGION: /Dataflow region/,
        "--bronze-bucket": /^required \(or set ECOM_DATAFLOW_BRONZE_BUCKET\)$/,
        "--keys-uri": /^required/,
        "--temp-location": /^required/,
        "--staging-location": /^required/,
        "--sdk-container-image": /^required \(or set ECOM_DATAFLOW_WORKER_IMAGE\)$/,
        "--service-account": /^required/,
      },
    },
  ],
};

describe("bad option values are refused, exit 2, naming the flag", () => {
  for (const [command, cases] of Object.entries(REFUSALS)) {
    it.concurrent(`ecom ${command}`, async () => {
      await Promise.all(cases.map(expectRefused));
    }, 60_000);
  }
});

describe("good option values reach the job", () => {
  const dir = tempDir("options");
  const data = path.join(dir, "data");
  const input = path.join(dir, "events.ndjson.gz");

  beforeAll(() => {
    const gen = ecom([
      "generate",
      "--out",
      input,
      "--count",
      "3000",
      "--seed",
      "5",
      "--start-time",
      "2026-11-21T08:00:00Z",
      "--invalid",
      "0.05",
      "--duplicates",
      "0",
    ]);
    expect(gen.code, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout)).toMatchObject({ messages: 3000, duplicate: 0 });
    const ing = ecom(["ingest", input, "--data-dir", data, "--batch-size", "1000", "--json"]);
    expect(ing.code, ing.stderr).toBe(0);
  }, 120_000);

  it("generate: --count, --seed and --start-time shape the file", () => {
    const lines = zlib.gunzipSync(fs.readFileSync(input)).toString("utf8").trim().split("\n");
    expect(lines).toHaveLength(3000);
    const first = lines
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return undefined;
        }
      })
      .find((e) => e?.event_time);
    expect(String(first.event_time)).toMatch(/^2026-11-21T08:00/);
  });

  it("report: --date is the reported day", () => {
    const r = ecom(["report", "--date", "2026-11-21", "--data-dir", data, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.date).toBe("2026-11-21");
    expect(report.revenue.length).toBeGreaterThan(0);
    expect(report.latest_date).toBe("2026-11-21");
  });

  it("query: the statement and --json", () => {
    const r = ecom(["query", "SELECT count(*) AS n FROM silver.order_events WHERE event_date = DATE '2026-11-21'", "--data-dir", data, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0].n).toBeGreaterThan(0);
  });

  it("dead-letters list: --reason and --limit select the rows", () => {
    const r = ecom(["dead-letters", "list", "--reason", "schema_violation", "--limit", "3", "--data-dir", data, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { reason: string; raw?: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(3);
    expect(new Set(rows.map((x) => x.reason))).toEqual(new Set(["schema_violation"]));
    expect(rows[0]).not.toHaveProperty("raw");
    const raw = ecom(["dead-letters", "list", "--limit", "1", "--show-raw", "--data-dir", data, "--json"]);
    expect(JSON.parse(raw.stdout)[0]).toHaveProperty("raw");
  });

  it("gold status and gold rebuild: --from, --to and --model", () => {
    const status = ecom(["gold", "status", "--data-dir", data, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).map((s: { table: string }) => s.table)).toContain("gold.daily_revenue");
    const r = ecom([
      "gold",
      "rebuild",
      "--from",
      "2026-11-21",
      "--to",
      "2026-11-21",
      "--model",
      "gold.daily_revenue",
      "payment_health",
      "--data-dir",
      data,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout).models).sort()).toEqual(["daily_revenue", "payment_health"]);
  });

  it("dead-letters replay: --reason, --type and --limit select what is replayed", () => {
    const r = ecom(["dead-letters", "replay", "--reason", "schema_violation", "--type", "order_created", "--limit", "2", "--data-dir", data, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.selected).toBeLessThanOrEqual(2);
    expect(s.selected).toBe(s.replayed + s.already_in_silver + s.still_failing);
  });

  it("schemas and gold bigquery: --out is where the files go", () => {
    const schemas = path.join(dir, "json");
    expect(ecom(["schemas", "--out", schemas]).code).toBe(0);
    expect(fs.readdirSync(schemas).some((f) => f.startsWith("order_created.v1"))).toBe(true);
    const sql = path.join(dir, "bq");
    expect(ecom(["gold", "bigquery", "--out", sql]).code).toBe(0);
    expect(fs.readdirSync(sql).length).toBeGreaterThan(0);
  });

  it("start: the Pub/Sub options reach the job, which says the given emulator does not answer", () => {
    const r = ecom(
      ["start", "--no-generator", "--idle-exit", "1", "--data-dir", path.join(dir, "unused"), "--project-id", "ecom-test", "--subscription", "sub-x"],
      {
        PUBSUB_EMULATOR_HOST: "127.0.0.1:9",
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("127.0.0.1:9");
    expect(fs.existsSync(path.join(dir, "unused", "ecom.duckdb"))).toBe(false);
  });

  it("deploy: flags and ECOM_DATAFLOW_* become the pipeline's options", () => {
    const r = ecom(
      [
        "deploy",
        "--dry-run",
        ...DEPLOY.filter((a, i, all) => a !== "--region" && all[i - 1] !== "--region"),
        "--num-workers",
        "3",
        "--window-seconds",
        "30",
        "--subscription",
        "ingest-sub",
      ],
      { ECOM_DATAFLOW_REGION: "europe-west4", ECOM_DATAFLOW_JOB_NAME: "ecom-ingest-b" },
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.streamingOptions).toMatchObject({
      project: "ecom-prod",
      region: "europe-west4",
      jobName: "ecom-ingest-b",
      subscription: "projects/ecom-prod/subscriptions/ingest-sub",
      stagingBucket: "ecom-prod-bronze",
      windowSeconds: 30,
    });
    expect(plan.pipelineOptions).toMatchObject({ numWorkers: 3, maxNumWorkers: 16, serviceAccountEmail: "ingest@ecom-prod.iam.gserviceaccount.com" });
    const full = ecom(["deploy", "--print-ddl", ...DEPLOY, "--subscription", "projects/ecom-shared/subscriptions/events-ingest"]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toContain("`ecom-prod.silver.order_events`");
  });
});
