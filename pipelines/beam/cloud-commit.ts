/**
 * The Dataflow executor's commit of one batch (one window x shard): the same
 * order as the local commit (pipelines/local/process-batch.ts), on GCS and
 * BigQuery, using the same step functions of pipelines/ingest-steps.ts.
 *
 *   committed already? -> only finalize its Bronze objects again
 *   dedupe within the batch -> claim (drop event_ids Silver holds) ->
 *   subject keys (insert-if-absent, then read the winners) -> project ->
 *   Bronze temp objects -> staging objects -> load + MERGE + manifest in one
 *   BigQuery transaction -> finalize Bronze (create-if-absent) -> clean up
 *
 * A crash anywhere before the transaction leaves nothing visible (temp and
 * staging objects expire); after it, the retried bundle finds the manifest
 * and only finalizes. See sinks/bigquery/commit.ts and sinks/gcs/bronze-objects.ts.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { Storage } from "@google-cloud/storage";
import type { Domain } from "../../schemas/registry.js";
import { type BigQueryDatasets, silverLoadLine } from "../../sinks/bigquery/ddl.js";
import { BigQueryCommitter, type NewSubjectKeyRow } from "../../sinks/bigquery/commit.js";
import { GcsBronze } from "../../sinks/gcs/bronze-objects.js";
import { type KeyMaterial, loadKeys } from "../../sinks/keys/local-keys.js";
import { unwrapKey, wrapKey } from "../../sinks/keys/subject-keys.js";
import type { SubjectKey } from "../../transforms/protect.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import { utcDate } from "../../transforms/to-silver.js";
import type { DeadLetter, ValidEvent } from "../../transforms/types.js";
import { dedupeWithinBatch, project, subjectKidOf } from "../ingest-steps.js";
import { deadLetterRow } from "../../transforms/dead-letter.js";

export interface CloudSinkInit {
  project: string;
  /** BigQuery location of the datasets (e.g. EU, US, europe-west1). */
  location: string;
  datasets: BigQueryDatasets;
  bronze: { bucket: string; prefix: string };
  /** Bucket and prefix for staging objects of BigQuery loads. */
  staging: { bucket: string; prefix: string };
  /** gs://bucket/prefix holding token-keys.json and kek.json (the format of a local keys dir). */
  keysUri: string;
  origin: string;
  /** Test seam: endpoints of local servers that speak the GCS and BigQuery APIs. */
  endpoints?: { storage?: string; bigquery?: string };
}

export interface CloudBatchResult {
  batch: string;
  alreadyCommitted: boolean;
  read: number;
  valid: number;
  duplicates: number;
  dead_lettered: number;
}

function parseGsUri(uri: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*?)\/?$/.exec(uri);
  if (!m) throw new Error(`${uri} is not a gs://bucket/prefix URI`);
  return { bucket: m[1]!, prefix: m[2]! };
}

/** Reads the key bundle from GCS and validates it exactly as a local keys dir is validated. */
async function loadKeyBundle(gcs: Storage, keysUri: string): Promise<KeyMaterial> {
  const { bucket, prefix } = parseGsUri(keysUri);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecom-keys-"));
  try {
    fs.mkdirSync(path.join(dir, "keys"), { mode: 0o700 });
    for (const f of ["token-keys.json", "kek.json"]) {
      const [body] = await gcs.bucket(bucket).file(prefix ? `${prefix}/${f}` : f).download();
      fs.writeFileSync(path.join(dir, "keys", f), body, { mode: 0o600 });
    }
    return loadKeys(dir, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export class CloudCommit {
  private readonly keyCache = new Map<string, SubjectKey>();

  private constructor(
    private readonly init: CloudSinkInit,
    private readonly bronze: GcsBronze,
    private readonly staging: GcsBronze,
    private readonly bq: BigQueryCommitter,
    private readonly keys: KeyMaterial,
  ) {}

  static async open(init: CloudSinkInit): Promise<CloudCommit> {
    const storage = new Storage({ projectId: init.project, ...(init.endpoints?.storage ? { apiEndpoint: init.endpoints.storage } : {}) });
    const bigquery = new BigQuery({ projectId: init.project, ...(init.endpoints?.bigquery ? { apiEndpoint: init.endpoints.bigquery } : {}) });
    const keys = await loadKeyBundle(storage, init.keysUri);
    return new CloudCommit(
      init,
      new GcsBronze(storage, init.bronze),
      new GcsBronze(storage, init.staging),
      new BigQueryCommitter(bigquery, init.datasets, init.location),
      keys,
    );
  }

  /** Keys for the kids: cached, stored, or new (stored insert-if-absent, then the stored winner is used). */
  private async resolveKeys(kids: readonly string[]): Promise<Map<string, SubjectKey>> {
    const out = new Map<string, SubjectKey>();
    const missing = [...new Set(kids)].filter((k) => {
      const cached = this.keyCache.get(k);
      if (cached) out.set(k, cached);
      return !cached;
    });
    const remember = (stored: Map<string, Buffer>) => {
      for (const [kid, wrapped] of stored) {
        const key: SubjectKey = { kid, key: unwrapKey(wrapped, this.keys.kek) };
        this.keyCache.set(kid, key);
        out.set(kid, key);
      }
    };
    remember(await this.bq.subjectKeys(missing));
    const created: NewSubjectKeyRow[] = missing
      .filter((k) => !out.has(k))
      .map((kid) => ({ kid, wrappedKey: wrapKey(randomBytes(32), this.keys.kek), kekId: this.keys.kek.id }));
    if (created.length) {
      await this.bq.insertSubjectKeysIfAbsent(created);
      remember(await this.bq.subjectKeys(created.map((c) => c.kid)));
      const lost = created.filter((c) => !out.has(c.kid));
      if (lost.length) throw new Error(`subject keys ${lost.map((c) => c.kid).join(", ")} were inserted but cannot be read back`);
    }
    return out;
  }

  async commitEvents(batch: string, events: ValidEvent[]): Promise<CloudBatchResult> {
    const pansRedacted = events.reduce((n, v) => n + v.pansRedacted, 0);
    const done = await this.bq.committedBatch(batch);
    if (done) {
      await this.bronze.finalize(batch, done.bronze_partitions);
      return { batch, alreadyCommitted: true, read: events.length, valid: 0, duplicates: events.length, dead_lettered: 0 };
    }
    const { unique, duplicates: inBatch } = dedupeWithinBatch(events);
    const byDomain = new Map<Domain, { ids: string[]; dates: string[] }>();
    for (const v of unique) {
      let d = byDomain.get(v.domain);
      if (!d) byDomain.set(v.domain, (d = { ids: [], dates: [] }));
      d.ids.push(v.event.event_id);
      const date = utcDate(v.eventTimeMs);
      if (!d.dates.includes(date)) d.dates.push(date);
    }
    const existing = await this.bq.existingEventIds(byDomain);
    const fresh = existing.size ? unique.filter((v) => !existing.has(v.event.event_id)) : unique;

    const kids = fresh.map((v) => subjectKidOf(v, this.keys.tokenKey));
    const keys = await this.resolveKeys(kids.filter((k): k is string => k !== undefined));
    const ingestedAtMs = Date.now();
    const rows = new Map<Domain, SilverRow[]>();
    const dates = new Map<Domain, Set<string>>();
    const partitions = new Map<string, string[]>();
    fresh.forEach((v, i) => {
      const kid = kids[i];
      const p = project(v, kid === undefined ? undefined : keys.get(kid), { tokenKey: this.keys.tokenKey, ingestedAtMs });
      let list = rows.get(p.domain);
      if (!list) rows.set(p.domain, (list = []));
      list.push(p.row);
      let ds = dates.get(p.domain);
      if (!ds) dates.set(p.domain, (ds = new Set()));
      ds.add(p.row.event_date as string);
      let lines = partitions.get(p.partition);
      if (!lines) partitions.set(p.partition, (lines = []));
      lines.push(p.bronzeLine);
    });

    const written = await this.bronze.writeTemp(batch, partitions);
    const stagingNames: string[] = [];
    const silver: Partial<Record<Domain, { uri: string; dates: string[] }>> = {};
    for (const [domain, list] of rows) {
      const name = `${this.init.staging.prefix}/${batch}/${domain}.ndjson`;
      stagingNames.push(name);
      silver[domain] = { uri: await this.staging.putStaging(name, list.map((r) => silverLoadLine(domain, r))), dates: [...dates.get(domain)!] };
    }
    await this.bq.commit({
      manifest: {
        batch_name: batch,
        origin: this.init.origin,
        read: events.length,
        valid: fresh.length,
        duplicates: inBatch + (unique.length - fresh.length),
        dead_lettered: 0,
        pans_redacted: pansRedacted,
        bronze_partitions: written,
      },
      silver,
    });
    await this.bronze.finalize(batch, written);
    await this.staging.deleteObjects(stagingNames);
    await this.bq.dropStaging(batch, [...rows.keys()]);
    return { batch, alreadyCommitted: false, read: events.length, valid: fresh.length, duplicates: events.length - fresh.length, dead_lettered: 0 };
  }

  async commitDeadLetters(batch: string, deadLetters: DeadLetter[]): Promise<CloudBatchResult> {
    if (await this.bq.committedBatch(batch)) {
      return { batch, alreadyCommitted: true, read: deadLetters.length, valid: 0, duplicates: 0, dead_lettered: 0 };
    }
    const lines = deadLetters.map((dl) => {
      const r = deadLetterRow(dl);
      return JSON.stringify({
        ...r,
        paths: JSON.parse(r.paths) as unknown,
        raw: Buffer.from(r.raw).toString("base64"),
        received_at: new Date(r.received_at).toISOString(),
      });
    });
    const name = `${this.init.staging.prefix}/${batch}/dead_letters.ndjson`;
    const uri = await this.staging.putStaging(name, lines);
    await this.bq.commit({
      manifest: {
        batch_name: batch,
        origin: this.init.origin,
        read: deadLetters.length,
        valid: 0,
        duplicates: 0,
        dead_lettered: deadLetters.length,
        pans_redacted: deadLetters.reduce((n, d) => n + d.pansRedacted, 0),
        bronze_partitions: [],
      },
      silver: {},
      deadLetters: uri,
    });
    await this.staging.deleteObjects([name]);
    await this.bq.dropStaging(batch, ["dead_letters"]);
    return { batch, alreadyCommitted: false, read: deadLetters.length, valid: 0, duplicates: 0, dead_lettered: deadLetters.length };
  }
}
