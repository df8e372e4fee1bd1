/**
 * Silver, dead letters, subject keys and batch manifests on BigQuery: the
 * Dataflow executor's commit. Exactly once per event_id, without the Beam
 * state a Storage Write API offset would need (the TypeScript SDK has none):
 *
 *  - Each commit batch has a deterministic name (window start + shard), so a
 *    retried bundle computes the same name. Its rows are loaded from GCS
 *    staging objects into per-batch staging tables (WRITE_TRUNCATE: a retry
 *    overwrites), with deterministic job ids (a retry that inserts the same
 *    job id gets 409 and waits for the first job instead).
 *  - One multi-statement transaction then MERGEs every staging table into its
 *    target ON event_id (dl_id for dead letters) WHEN NOT MATCHED THEN INSERT,
 *    and inserts the batch manifest. MERGE on the key makes the commit
 *    idempotent for all time, not just for a dedupe window: a duplicate
 *    carries the same event_time, so it lands in the same event_date
 *    partition, which the MERGE scans.
 *  - Before committing, the caller asks `committedBatch`: a batch already in
 *    ops.batches only has its Bronze objects finalized again.
 */
import type { BigQuery, Job, Query } from "@google-cloud/bigquery";
import type { Domain } from "../../schemas/registry.js";
import { EVENT_TABLES } from "../../schemas/silver.js";
import { type BigQueryDatasets, DEAD_LETTER_COLUMNS, loadSchema, tableRef } from "./ddl.js";

export interface BatchManifestRow {
  batch_name: string;
  origin: string;
  read: number;
  valid: number;
  duplicates: number;
  dead_lettered: number;
  pans_redacted: number;
  bronze_partitions: string[];
}

export interface CommitRequest {
  manifest: BatchManifestRow;
  /** gs:// URI of each domain's NDJSON staging object, with the event_dates it holds. */
  silver: Partial<Record<Domain, { uri: string; dates: string[] }>>;
  /** gs:// URI of the dead letters' NDJSON staging object. */
  deadLetters?: string;
}

export interface NewSubjectKeyRow {
  kid: string;
  wrappedKey: Buffer;
  kekId: string;
}

function httpCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === "number" ? e.code : e.response?.status;
}

/** BigQuery job ids: letters, digits, _ and -, at most 1024. */
export function jobId(...parts: string[]): string {
  return `ecom_${parts.join("_")}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 1024);
}

export class BigQueryCommitter {
  constructor(
    private readonly bq: BigQuery,
    readonly datasets: BigQueryDatasets,
    private readonly location: string,
  ) {}

  private async select<T>(query: string, params: Record<string, unknown>, types?: Query["types"]): Promise<T[]> {
    const [rows] = await this.bq.query({ query, params, types, location: this.location, useLegacySql: false });
    return rows as T[];
  }

  /**
   * Runs an idempotent job under deterministic ids `<base>_<attempt>`: a
   * retried bundle that inserts an id that exists (409) attaches to that job
   * and waits for it instead of running the work twice; a job that failed
   * (e.g. a transaction aborted by a concurrent update) moves on to the next
   * attempt id, so a failure never blocks the batch forever.
   */
  private async runJob(base: string, create: (id: string) => Promise<Job>, attempts = 8): Promise<void> {
    let last: unknown;
    // Only failures of jobs this call created count: ids that earlier bundles used up are stepped over.
    for (let attempt = 0, failures = 0; failures < attempts; attempt++) {
      const id = `${base}_${attempt}`;
      let job: Job;
      let attached = false;
      try {
        job = await create(id);
      } catch (err) {
        if (httpCode(err) !== 409) throw err;
        job = this.bq.job(id, { location: this.location });
        attached = true;
      }
      try {
        await job.promise();
        return;
      } catch (err) {
        last = err;
        if (!attached) failures++;
      }
    }
    throw new Error(`BigQuery job ${base} failed ${attempts} times; last error: ${(last as Error)?.message}`);
  }

  /** The manifest of a batch that already committed, or undefined. */
  async committedBatch(batchName: string): Promise<{ bronze_partitions: string[] } | undefined> {
    const rows = await this.select<{ p: string }>(
      `SELECT TO_JSON_STRING(bronze_partitions) AS p FROM ${tableRef(this.datasets, "ops", "batches")} WHERE batch_name = @batch LIMIT 1`,
      { batch: batchName },
    );
    return rows[0] ? { bronze_partitions: JSON.parse(rows[0].p) as string[] } : undefined;
  }

  /** The event_ids among `ids` that Silver already holds (the claim: only new events are projected). */
  async existingEventIds(byDomain: ReadonlyMap<Domain, { ids: string[]; dates: string[] }>): Promise<Set<string>> {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    let i = 0;
    for (const [domain, { ids, dates }] of byDomain) {
      if (ids.length === 0) continue;
      parts.push(
        `SELECT event_id FROM ${tableRef(this.datasets, "silver", EVENT_TABLES[domain].name)} WHERE event_date IN UNNEST(@d${i}) AND event_id IN UNNEST(@i${i})`,
      );
      params[`d${i}`] = dates.map((d) => this.bq.date(d));
      params[`i${i}`] = ids;
      i++;
    }
    if (parts.length === 0) return new Set();
    const rows = await this.select<{ event_id: string }>(parts.join("\nUNION ALL\n"), params);
    return new Set(rows.map((r) => r.event_id));
  }

  /** Stored subject keys by kid (wrapped). */
  async subjectKeys(kids: readonly string[]): Promise<Map<string, Buffer>> {
    if (kids.length === 0) return new Map();
    const rows = await this.select<{ kid: string; w: string }>(
      `SELECT kid, TO_BASE64(wrapped_key) AS w FROM ${tableRef(this.datasets, "ops", "subject_keys")} WHERE kid IN UNNEST(@kids)`,
      { kids: [...kids] },
    );
    return new Map(rows.map((r) => [r.kid, Buffer.from(r.w, "base64")]));
  }

  /**
   * Stores new subject keys unless a key for the kid exists (two workers can
   * meet a new subject at once: the first MERGE wins, the caller re-reads).
   */
  async insertSubjectKeysIfAbsent(keys: readonly NewSubjectKeyRow[]): Promise<void> {
    if (keys.length === 0) return;
    await this.select(
      `MERGE ${tableRef(this.datasets, "ops", "subject_keys")} T
USING (SELECT k.kid, FROM_BASE64(k.w) AS wrapped_key, k.kek AS kek_id FROM UNNEST(@keys) AS k) S
ON T.kid = S.kid
WHEN NOT MATCHED THEN INSERT (kid, wrapped_key, kek_id, created_at) VALUES (S.kid, S.wrapped_key, S.kek_id, CURRENT_TIMESTAMP())`,
      { keys: keys.map((k) => ({ kid: k.kid, w: k.wrappedKey.toString("base64"), kek: k.kekId })) },
    );
  }

  private stagingTable(batch: string, part: string): { projectId: string; datasetId: string; tableId: string } {
    return { projectId: this.datasets.project, datasetId: this.datasets.staging, tableId: `${batch}_${part}`.replace(/[^A-Za-z0-9_]/g, "_") };
  }

  private async load(batch: string, part: string, uri: string, schema: ReturnType<typeof loadSchema>): Promise<string> {
    const destination = this.stagingTable(batch, part);
    await this.runJob(jobId(batch, part, "load"), async (id) => {
      const [job] = await this.bq.createJob({
        // createJob builds jobReference itself (from jobId/location) and replaces one passed in with a random id.
        jobId: id,
        location: this.location,
        configuration: {
          load: {
            sourceUris: [uri],
            destinationTable: destination,
            sourceFormat: "NEWLINE_DELIMITED_JSON",
            writeDisposition: "WRITE_TRUNCATE",
            createDisposition: "CREATE_IF_NEEDED",
            schema: { fields: schema },
          },
        },
      });
      return job;
    });
    return `\`${destination.projectId}.${destination.datasetId}.${destination.tableId}\``;
  }

  /** Loads the batch's staging objects, then MERGEs them and records the manifest in one transaction. */
  async commit(req: CommitRequest): Promise<void> {
    const batch = req.manifest.batch_name;
    const statements: string[] = [];
    const params: Record<string, unknown> = {};
    for (const [domain, part] of Object.entries(req.silver) as [Domain, { uri: string; dates: string[] }][]) {
      const table = EVENT_TABLES[domain];
      const staging = await this.load(batch, domain, part.uri, loadSchema(table.columns));
      const cols = table.columns.map((c) => c.name).join(", ");
      params[`dates_${domain}`] = part.dates.map((d) => this.bq.date(d));
      statements.push(
        `MERGE ${tableRef(this.datasets, "silver", table.name)} T USING ${staging} S
  ON T.event_id = S.event_id AND T.event_date IN UNNEST(@dates_${domain})
  WHEN NOT MATCHED THEN INSERT (${cols}) VALUES (${cols});`,
      );
    }
    if (req.deadLetters) {
      const staging = await this.load(batch, "dead_letters", req.deadLetters, loadSchema(DEAD_LETTER_COLUMNS));
      const cols = DEAD_LETTER_COLUMNS.map((c) => c.name).join(", ");
      statements.push(
        `MERGE ${tableRef(this.datasets, "ops", "dead_letters")} T USING (SELECT * FROM ${staging} WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY dl_id) = 1) S
  ON T.dl_id = S.dl_id
  WHEN NOT MATCHED THEN INSERT (${cols}, batch_name) VALUES (${cols}, @batch);`,
      );
    }
    const m = req.manifest;
    Object.assign(params, {
      batch,
      origin: m.origin,
      read: m.read,
      valid: m.valid,
      duplicates: m.duplicates,
      dead_lettered: m.dead_lettered,
      pans: m.pans_redacted,
      partitions: JSON.stringify(m.bronze_partitions),
    });
    statements.push(
      `INSERT INTO ${tableRef(this.datasets, "ops", "batches")} (batch_name, committed_at, origin, read, valid, duplicates, dead_lettered, pans_redacted, bronze_partitions)
  SELECT @batch, CURRENT_TIMESTAMP(), @origin, @read, @valid, @duplicates, @dead_lettered, @pans, PARSE_JSON(@partitions)
  FROM UNNEST([1]) WHERE NOT EXISTS (SELECT 1 FROM ${tableRef(this.datasets, "ops", "batches")} WHERE batch_name = @batch);`,
    );
    const query = `BEGIN TRANSACTION;\n${statements.join("\n")}\nCOMMIT TRANSACTION;`;
    await this.runJob(jobId(batch, "commit"), async (id) => {
      const [job] = await this.bq.createQueryJob({ query, params, jobId: id, location: this.location, useLegacySql: false });
      return job;
    });
  }

  /** Drops a committed batch's staging tables (they also expire with the dataset's default expiration). */
  async dropStaging(batch: string, parts: readonly string[]): Promise<void> {
    await Promise.all(
      parts.map(async (part) => {
        const t = this.stagingTable(batch, part);
        try {
          await this.bq.dataset(t.datasetId, { projectId: t.projectId }).table(t.tableId).delete();
        } catch (err) {
          if (httpCode(err) !== 404) throw err;
        }
      }),
    );
  }
}
