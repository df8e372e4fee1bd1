/**
 * The production key and text services wired into the ingest job, against
 * local servers that speak the Cloud KMS and Cloud DLP APIs through the
 * official clients (test/helpers/kms-server.ts, test/helpers/dlp-server.ts):
 *
 *  - with a KMS key, every subject key is wrapped by KMS (kek_id names the
 *    key, the blob its version), no kek.json is made, and KMS is called a
 *    bounded number of times per batch, never per event;
 *  - a Bronze replay from that data dir into a fresh one decrypts through KMS
 *    and rebuilds the same Silver;
 *  - a wrong, a disabled or a missing KMS key fails closed: the job throws a
 *    clear error and nothing is committed;
 *  - after a rotation, `rewrapKeysJob` wraps every subject key by the new
 *    version without touching Bronze, and the old version can be disabled;
 *  - with DLP as the text inspector, a search query holding a name DLP finds
 *    (and the built-in rules do not) lands as a token in Silver, with one
 *    DLP request per batch; a DLP failure commits nothing and sets nothing
 *    aside.
 */
import fs from "node:fs";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IngestOptions, ingestFilesJob, replayBronzeJob } from "../../jobs/ingest.js";
import { rewrapKeysJob } from "../../jobs/rewrap-keys.js";
import type { EngineServices } from "../../pipelines/local/engine.js";
import { kmsVersionOf } from "../../sinks/keys/kms.js";
import { type GeneratedMessage, takeMessages } from "../../sources/dev/generator/index.js";
import { START, tempDir, writeNdjson } from "../helpers/data.js";
import { type LocalDlp, PERSON_NAMES, startLocalDlp } from "../helpers/dlp-server.js";
import { KmsServer } from "../helpers/kms-server.js";

type Row = Record<string, unknown>;

let tmp: string;
let kms: KmsServer;
let dlp: LocalDlp;
let keyName: string;
let messages: GeneratedMessage[];
let file: string;

const BATCH = 100;

beforeAll(async () => {
  tmp = tempDir("kms-dlp");
  kms = await KmsServer.start();
  dlp = await startLocalDlp();
  keyName = kms.createKey("shop-prod", "europe-west1", "ecom", "subject-keks");
  messages = takeMessages({ seed: 7, ratePerSecond: 200, startTime: START, duplicateFraction: 0.02, invalidFraction: 0.01 }, 600);
  file = writeNdjson(path.join(tmp, "events.ndjson"), messages);
});

afterAll(async () => {
  await kms.close();
  await dlp.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const kmsKek = (name = keyName): EngineServices => ({ kek: { kind: "kms", keyName: name, endpoint: `127.0.0.1:${kms.port}` } });

function options(dataDir: string, services: EngineServices = {}): IngestOptions {
  return { dataDir, runner: "local", batchSize: BATCH, services };
}

async function rows(dataDir: string, sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Row[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const count = async (dataDir: string, sql: string) => Number((await rows(dataDir, sql))[0]!.n);

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the job should have failed").toBeInstanceOf(Error);
  return err as Error;
}

describe("the ingest job with the KEK in Cloud KMS", () => {
  let dir: string;

  it("wraps every subject key by KMS, with a bounded number of KMS calls per batch", async () => {
    dir = path.join(tmp, "kms");
    const before = kms.calls.length;
    const summary = await ingestFilesJob([file], options(dir, kmsKek()));
    const calls = kms.calls.slice(before);
    const batches = Math.ceil(messages.length / BATCH);

    expect(summary.counts.read).toBe(messages.length);
    expect(summary.counts.valid).toBeGreaterThan(400);
    expect(fs.existsSync(path.join(dir, "keys", "kek.json"))).toBe(false);
    const keys = await rows(dir, "SELECT kek_id, to_base64(wrapped_key) AS w FROM ops.subject_keys");
    expect(keys.length).toBeGreaterThan(batches * 2);
    for (const k of keys) {
      expect(k.kek_id).toBe(keyName);
      expect(kmsVersionOf(Buffer.from(String(k.w), "base64"))).toBe(`${keyName}/cryptoKeyVersions/1`);
    }
    expect(await rows(dir, "SELECT key_file, key_id FROM ops.key_fingerprints WHERE key_file <> 'token-keys.json'")).toEqual([
      { key_file: "cloud-kms", key_id: keyName },
    ]);
    // The probe at open (1 Encrypt, 1 Decrypt) and at most one Encrypt per batch: never one per key.
    const encrypts = calls.filter((c) => c.method === "Encrypt").length;
    expect(encrypts).toBeGreaterThanOrEqual(2);
    expect(encrypts).toBeLessThanOrEqual(batches + 1);
    expect(calls.filter((c) => c.method === "Decrypt").length).toBeLessThanOrEqual(1);
    expect(calls.every((c) => c.code === 0)).toBe(true);
  });

  it("replays Bronze into a fresh data dir, decrypting through KMS, to the same Silver", async () => {
    const fresh = path.join(tmp, "kms-replay");
    fs.mkdirSync(path.join(fresh, "keys"), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(dir, "keys", "token-keys.json"), path.join(fresh, "keys", "token-keys.json"));
    fs.chmodSync(path.join(fresh, "keys", "token-keys.json"), 0o600);
    const day = START.toISOString().slice(0, 10);
    const before = kms.calls.length;
    const summary = await replayBronzeJob({ from: day, to: "2099-12-31", sourceDataDir: dir }, options(fresh, kmsKek()));
    expect(summary.warnings.filter((w) => w.includes("keys differ"))).toEqual([]);
    const decrypts = kms.calls.slice(before).filter((c) => c.method === "Decrypt").length;

    const sql = "SELECT event_id, user_token, query FROM silver.clickstream_events ORDER BY event_id";
    expect(summary.counts.valid).toBe(await count(dir, "SELECT count(*) AS n FROM ops.seen_events"));
    expect(await rows(fresh, sql)).toEqual(await rows(dir, sql));
    // The source's keys: one Decrypt per intermediate key (one per batch that made keys), plus the two probes.
    const batches = await count(dir, "SELECT count(*) AS n FROM ops.batches");
    expect(decrypts).toBeGreaterThan(0);
    expect(decrypts).toBeLessThanOrEqual(batches + 2);
  });

  it("refuses another KMS key, the local kek.json, and a disabled key: nothing committed", async () => {
    const batches = await count(dir, "SELECT count(*) AS n FROM ops.batches");
    const other = kms.createKey("shop-prod", "europe-west1", "ecom", "another-kek");

    const wrong = await failure(ingestFilesJob([file], options(dir, kmsKek(other))));
    expect(wrong.message).toContain(`wrapped by the Cloud KMS key ${keyName}, not by the Cloud KMS key ${other}`);
    expect(wrong.message).toContain("Nothing was written");

    const local = await failure(ingestFilesJob([file], options(dir)));
    expect(local.message).toContain("no kek.json");
    expect(local.message).toContain("--kms-key");

    kms.setState(`${keyName}/cryptoKeyVersions/1`, "DISABLED");
    try {
      const disabled = await failure(ingestFilesJob([file], options(dir, kmsKek())));
      expect(disabled.message).toContain(keyName);
    } finally {
      kms.setState(`${keyName}/cryptoKeyVersions/1`, "ENABLED");
    }

    const missing = await failure(ingestFilesJob([file], options(path.join(tmp, "kms-missing"), kmsKek(`${keyName}-gone`))));
    expect(missing.message).toContain(`${keyName}-gone`);
    expect(fs.existsSync(path.join(tmp, "kms-missing", "ecom.duckdb"))).toBe(false);

    expect(await count(dir, "SELECT count(*) AS n FROM ops.batches")).toBe(batches);
  });

  it("rewraps every subject key by the new version after a rotation, Bronze untouched, the old version then disabled", async () => {
    const bronze = () =>
      (fs.readdirSync(path.join(dir, "bronze"), { recursive: true }) as string[])
        .filter((f) => f.endsWith(".gz"))
        .sort()
        .map((f) => fs.readFileSync(path.join(dir, "bronze", f)).toString("base64"));
    const bronzeBefore = bronze();
    const n = await count(dir, "SELECT count(*) AS n FROM ops.subject_keys");
    const v2 = kms.rotate(keyName);
    const before = kms.calls.length;

    const s = await rewrapKeysJob(dir, kmsKek());
    expect(s).toEqual({ keys: n, kek: keyName, before: { [`${keyName}/cryptoKeyVersions/1`]: n }, after: { [v2]: n } });
    const encrypts = kms.calls.slice(before).filter((c) => c.method === "Encrypt").length;
    expect(encrypts).toBe(2); // the probe and the one chunk
    expect(bronze()).toEqual(bronzeBefore);

    kms.setState(`${keyName}/cryptoKeyVersions/1`, "DISABLED");
    const fresh = path.join(tmp, "kms-after-rotation");
    fs.mkdirSync(path.join(fresh, "keys"), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(dir, "keys", "token-keys.json"), path.join(fresh, "keys", "token-keys.json"));
    fs.chmodSync(path.join(fresh, "keys", "token-keys.json"), 0o600);
    const replay = await replayBronzeJob({ from: "2000-01-01", to: "2099-12-31", sourceDataDir: dir }, options(fresh, kmsKek()));
    expect(replay.counts.valid).toBe(await count(dir, "SELECT count(*) AS n FROM ops.seen_events"));
    const sql = "SELECT event_id, user_token FROM silver.clickstream_events ORDER BY event_id";
    expect(await rows(fresh, sql)).toEqual(await rows(dir, sql));
  });
});

describe("the ingest job with Cloud DLP inspecting free text", () => {
  const name = PERSON_NAMES[0]!;
  const dlpInspector = (): EngineServices => ({ textInspector: { kind: "dlp", project: "shop-prod", endpoint: dlp.address } });

  /** The generated traffic with every search query naming a person. */
  function searchesNaming(text: string): string {
    const out = messages.map((m) => {
      if (m.kind === "invalid") return m.data;
      const e = JSON.parse(m.data) as { event_type?: string; payload?: { query?: unknown } };
      if (e.event_type === "search" && e.payload && typeof e.payload.query === "string") e.payload.query = `gift for ${text} ${e.payload.query}`;
      return JSON.stringify(e);
    });
    const f = path.join(tmp, `searches-${fs.readdirSync(tmp).length}.ndjson`);
    fs.writeFileSync(f, out.join("\n") + "\n");
    return f;
  }

  it("stores a name DLP finds in a search query as a token, one DLP request per batch", async () => {
    const input = searchesNaming(name);
    const builtIn = path.join(tmp, "dlp-builtin");
    await ingestFilesJob([input], options(builtIn));
    const clear = await count(builtIn, `SELECT count(*) AS n FROM silver.clickstream_events WHERE contains(query, '${name}')`);
    expect(clear, "the built-in rules alone keep the name (the case DLP is for)").toBeGreaterThan(0);

    const dir = path.join(tmp, "dlp");
    const before = dlp.requests.length;
    const summary = await ingestFilesJob([input], options(dir, dlpInspector()));
    const requests = dlp.requests.length - before;

    const searches = await rows(dir, "SELECT query FROM silver.clickstream_events WHERE event_type = 'search'");
    expect(searches.length).toBe(clear);
    for (const r of searches) {
      expect(String(r.query)).not.toContain(name);
      expect(String(r.query)).toMatch(/^gift for tok_[A-Za-z0-9_-]{22} /);
    }
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThanOrEqual(Math.ceil(summary.counts.read / BATCH));
    expect(await count(dir, "SELECT count(*) AS n FROM ops.dead_letters WHERE reason = 'commit_failed'")).toBe(0);
  });

  it("commits nothing and sets nothing aside when DLP fails", async () => {
    const input = searchesNaming("Zoë Ångström");
    const dir = path.join(tmp, "dlp-down");
    dlp.failNext(status.PERMISSION_DENIED, "the caller may not inspect", 1000);
    try {
      const err = await failure(ingestFilesJob([input], options(dir, dlpInspector())));
      expect(err.name).toBe("DlpInspectionError");
      expect(err.message).not.toContain("Zoë");
    } finally {
      dlp.clearFailures();
    }
    expect(await count(dir, "SELECT count(*) AS n FROM ops.batches")).toBe(0);
    expect(await count(dir, "SELECT count(*) AS n FROM ops.seen_events")).toBe(0);
    expect(await count(dir, "SELECT count(*) AS n FROM ops.dead_letters")).toBe(0);
  });
});
