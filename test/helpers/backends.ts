/**
 * The commit's two backends behind one test face, so one suite runs the
 * same cases on both (kysely's test-setup loop): DuckDB + the local Bronze
 * folder, and BigQuery + GCS through the official clients against the local
 * server that speaks their APIs and runs BigQuery's SQL
 * (test/helpers/bigquery-server.ts). `open` is a process start: a new set
 * of roles over the same storage, with recovery where the backend has it.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { BigQuery } from "@google-cloud/bigquery";
import { Storage } from "@google-cloud/storage";
import { type BatchResult, type CommitRoles, type FaultHook, commitBatch, recover } from "../../pipelines/commit.js";
import { elementSteps } from "../../pipelines/ingest-steps.js";
import { parseBatch } from "../../pipelines/parse-batch.js";
import { createRegistry } from "../../schemas/registry.js";
import { allBigQueryDdl, type BigQueryDatasets } from "../../sinks/bigquery/ddl.js";
import { BigQueryStore } from "../../sinks/bigquery/store.js";
import { DuckDbStore } from "../../sinks/duckdb/store.js";
import { GcsBronze } from "../../sinks/gcs/bronze-objects.js";
import { loadKeys } from "../../sinks/keys/local-keys.js";
import { SubjectKeyring, localKeyWrapper } from "../../sinks/keys/subject-keys.js";
import { LocalBronze } from "../../sinks/local-files/bronze.js";
import type { RawMessage } from "../../transforms/types.js";
import { type FakeBigQuery, startFakeBigQuery } from "./bigquery-server.js";
import { tempDir } from "./data.js";

export type Row = Record<string, unknown>;

/** A backend opened as a process would: roles, a commit, and readers of what is stored. */
export interface OpenBackend {
  /** Commits `messages` as one batch; `attempt` names a batch (BigQuery retries by name: the same name is the same batch). */
  commit(messages: readonly RawMessage[], attempt: { name: string; fault?: FaultHook }): Promise<BatchResult>;
  /** Rows of a Silver or ops table (`silver.orders`, `ops.dead_letters`), in a stable order. */
  rows(table: string, orderBy: string): Promise<Row[]>;
  /** Every Bronze line in place, by file. */
  bronze(): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

export interface Backend {
  name: "duckdb" | "bigquery";
  open(): Promise<OpenBackend>;
  /** The SQL the backend was sent (BigQuery's jobs; empty for DuckDB, whose SQL runs in process). */
  sentSql(): string[];
  dispose(): Promise<void>;
}

const registry = createRegistry();
const steps = elementSteps(registry);

/** One set of keys for every backend this process opens, so tokens can be compared across them. */
let sharedKeys: string | undefined;
function keysInto(dir: string): void {
  if (!sharedKeys) {
    sharedKeys = tempDir("backend-keys");
    loadKeys(sharedKeys, true);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.cpSync(path.join(sharedKeys, "keys"), path.join(dir, "keys"), { recursive: true });
}

/** Values as both backends can be compared: timestamps and dates as ISO text, big integers as numbers. */
export function normalize(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) out[k] = null;
    else if (typeof v === "bigint") out[k] = Number(v);
    else if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(v))
      out[k] = new Date(v.replace(" ", "T").replace(/(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$/, (m) => (/[Z+-]/.test(m) ? m : `${m}Z`))).toISOString();
    else if (typeof v === "string" && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

function commitWith(
  roles: CommitRoles,
  tokenKey: Parameters<typeof parseBatch>[2],
  messages: readonly RawMessage[],
  name: string | undefined,
  fault?: FaultHook,
) {
  return commitBatch(parseBatch(messages, steps, tokenKey), { ...roles, fault }, { origin: "test", name });
}

export function duckdbBackend(): Backend {
  const dir = tempDir("backend-duckdb");
  return {
    name: "duckdb",
    sentSql: () => [],
    dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
    async open() {
      if (!fs.existsSync(path.join(dir, "keys"))) keysInto(dir);
      const keys = loadKeys(dir, false);
      const store = await DuckDbStore.open(path.join(dir, "ecom.duckdb"));
      const bronze = new LocalBronze(dir);
      await recover(store, bronze);
      const roles: CommitRoles = { warehouse: store, bronze, keys: new SubjectKeyring(localKeyWrapper(keys.kek!)) };
      return {
        // DuckDB names its batches itself; a redelivery is a new batch whose events are duplicates.
        commit: (messages, attempt) => commitWith(roles, keys.tokenKey, messages, undefined, attempt.fault),
        rows: async (table, orderBy) => (await store.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`)).map(normalize),
        bronze: async () => {
          const out = new Map<string, string[]>();
          for (const name of bronze.list())
            out.set(
              name,
              zlib
                .gunzipSync(fs.readFileSync(path.join(bronze.root, name)))
                .toString("utf8")
                .split("\n")
                .filter(Boolean),
            );
          return out;
        },
        close: async () => store.close(),
      };
    },
  };
}

export const DATASETS: BigQueryDatasets = { project: "ecom-test", silver: "silver", ops: "ops", staging: "staging" };
const BRONZE = { bucket: "bronze-b", prefix: "bronze" };

export async function bigqueryBackend(): Promise<Backend> {
  const fake: FakeBigQuery = await startFakeBigQuery();
  // The clients authorize against Application Default Credentials: no key file, no gcloud config, the fake's metadata server.
  const dir = tempDir("backend-bigquery");
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.CLOUDSDK_CONFIG = path.join(dir, "no-gcloud");
  process.env.GCE_METADATA_HOST = fake.endpoint.replace("http://", "");
  process.env.GCE_METADATA_IP = fake.endpoint.replace("http://", "");
  const bq = new BigQuery({ projectId: DATASETS.project, apiEndpoint: fake.endpoint });
  const storage = new Storage({ projectId: DATASETS.project, apiEndpoint: fake.endpoint });
  for (const sql of allBigQueryDdl(DATASETS)) await bq.query({ query: sql, location: "EU" });
  keysInto(dir);
  const keys = loadKeys(dir, false);
  return {
    name: "bigquery",
    sentSql: () => [...fake.jobs.values()].map((j) => j.configuration.query?.query as string | undefined).filter((q): q is string => q !== undefined),
    dispose: async () => {
      await fake.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async open() {
      const warehouse = new BigQueryStore(bq, {
        datasets: DATASETS,
        location: "EU",
        staging: new GcsBronze(storage, { bucket: "staging-b", prefix: "staging" }),
      });
      const roles: CommitRoles = { warehouse, bronze: new GcsBronze(storage, BRONZE), keys: new SubjectKeyring(localKeyWrapper(keys.kek!)) };
      return {
        commit: (messages, attempt) => commitWith(roles, keys.tokenKey, messages, attempt.name, attempt.fault),
        rows: async (table, orderBy) => {
          const [dataset, name] = table.split(".");
          // 64-bit integers (a named batch's id) come back as text: a JS number cannot hold them.
          const cols = await fake.query(
            `SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = '${dataset}' AND table_name = '${name}' ORDER BY ordinal_position`,
          );
          const select = cols.map((c) => (c.t === "BIGINT" ? `CAST("${c.c}" AS VARCHAR) AS "${c.c}"` : `"${c.c}"`)).join(", ");
          return (await fake.query(`SELECT ${select} FROM "${dataset}"."${name}" ORDER BY ${orderBy}`)).map(normalize);
        },
        bronze: async () => {
          const out = new Map<string, string[]>();
          for (const [key, body] of fake.objects) {
            if (!key.startsWith(`${BRONZE.bucket}/${BRONZE.prefix}/`) || key.includes("/_tmp/")) continue;
            out.set(key.slice(BRONZE.bucket.length + BRONZE.prefix.length + 2), zlib.gunzipSync(body).toString("utf8").split("\n").filter(Boolean));
          }
          return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
        },
        close: async () => undefined,
      };
    },
  };
}
