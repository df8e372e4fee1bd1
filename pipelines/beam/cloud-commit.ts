/**
 * The Dataflow executor's commit of one batch (one window x shard): the one
 * commit procedure (pipelines/commit.ts) with BigQuery in the warehouse and
 * key-store roles and GCS as the Bronze writer. The batch's name is
 * deterministic, so a retried bundle finds a batch that committed and only
 * finalizes its Bronze objects again. Decode and Validate already ran in
 * Beam: the commit replays their outcomes (pipelines/beam/replayed-batch.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { Storage } from "@google-cloud/storage";
import type { BigQueryDatasets } from "../../sinks/bigquery/ddl.js";
import { BigQueryStore } from "../../sinks/bigquery/store.js";
import { GcsBronze } from "../../sinks/gcs/bronze-objects.js";
import { type KekSource, LOCAL_KEK, openKek } from "../../sinks/keys/kek.js";
import { type KeyMaterial, loadKeys } from "../../sinks/keys/local-keys.js";
import { SubjectKeyring } from "../../sinks/keys/subject-keys.js";
import { type TextInspectorSource, openTextInspector } from "../../sinks/text-inspector.js";
import { tokenRedaction } from "../../transforms/text-findings.js";
import { type BatchResult, type CommitRoles, commitBatch } from "../commit.js";
import { parseBatch } from "../parse-batch.js";
import { REPLAY_STEPS, type ReplayedMessage } from "./replayed-batch.js";

export interface CloudSinkInit {
  project: string;
  /** BigQuery location of the datasets (e.g. EU, US, europe-west1). */
  location: string;
  datasets: BigQueryDatasets;
  bronze: { bucket: string; prefix: string };
  /** Bucket and prefix for staging objects of BigQuery loads. */
  staging: { bucket: string; prefix: string };
  /** gs://bucket/prefix holding token-keys.json, and kek.json unless the KEK is a Cloud KMS key (the format of a local keys dir). */
  keysUri: string;
  /** The key-encryption key: the bundle's kek.json (default) or a Cloud KMS key. */
  kek?: KekSource;
  /** Free text inspected once per batch by Cloud DLP; the built-in rules alone by default. */
  textInspector?: TextInspectorSource;
  origin: string;
  /** Test seam: endpoints of local servers that speak the GCS and BigQuery APIs. */
  endpoints?: { storage?: string; bigquery?: string };
}

/** How long a Dataflow worker trusts a cached data key: an erasure (on BigQuery, another process) reaches new events within it. */
export const CLOUD_KEY_CACHE_TTL_MS = 5 * 60_000;

function parseGsUri(uri: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*?)\/?$/.exec(uri);
  if (!m) throw new Error(`${uri} is not a gs://bucket/prefix URI`);
  return { bucket: m[1]!, prefix: m[2]! };
}

/** Reads the key bundle from GCS and validates it exactly as a local keys dir is validated. */
async function loadKeyBundle(gcs: Storage, keysUri: string, localKek: boolean): Promise<KeyMaterial> {
  const { bucket, prefix } = parseGsUri(keysUri);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecom-keys-"));
  try {
    fs.mkdirSync(path.join(dir, "keys"), { mode: 0o700 });
    for (const f of localKek ? ["token-keys.json", "kek.json"] : ["token-keys.json"]) {
      const [body] = await gcs
        .bucket(bucket)
        .file(prefix ? `${prefix}/${f}` : f)
        .download();
      fs.writeFileSync(path.join(dir, "keys", f), body, { mode: 0o600 });
    }
    return loadKeys(dir, false, { localKek });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export class CloudCommit {
  private constructor(
    private readonly init: CloudSinkInit,
    readonly roles: CommitRoles,
    private readonly keys: KeyMaterial,
  ) {}

  static async open(init: CloudSinkInit): Promise<CloudCommit> {
    const storage = new Storage({ projectId: init.project, ...(init.endpoints?.storage ? { apiEndpoint: init.endpoints.storage } : {}) });
    const bigquery = new BigQuery({ projectId: init.project, ...(init.endpoints?.bigquery ? { apiEndpoint: init.endpoints.bigquery } : {}) });
    const source = init.kek ?? LOCAL_KEK;
    const keys = await loadKeyBundle(storage, init.keysUri, source.kind === "local");
    const kek = await openKek(source, keys);
    const inspector = await openTextInspector(init.textInspector);
    const warehouse = new BigQueryStore(bigquery, { datasets: init.datasets, location: init.location, staging: new GcsBronze(storage, init.staging) });
    const roles: CommitRoles = {
      warehouse,
      bronze: new GcsBronze(storage, init.bronze),
      keys: new SubjectKeyring(kek, { cacheTtlMs: CLOUD_KEY_CACHE_TTL_MS }),
      ...(inspector ? { text: { inspector, redact: tokenRedaction(keys.tokenKey) } } : {}),
    };
    return new CloudCommit(init, roles, keys);
  }

  /** Commits one grouped batch (valid events and dead letters alike) under its deterministic name. */
  commit(batch: string, messages: readonly ReplayedMessage[]): Promise<BatchResult> {
    return commitBatch(parseBatch(messages, REPLAY_STEPS, this.keys.tokenKey), this.roles, { origin: this.init.origin, name: batch });
  }
}
