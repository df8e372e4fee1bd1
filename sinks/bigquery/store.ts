/**
 * BigQuery in the warehouse role (sinks/roles.ts): the Dataflow executor's
 * Silver, state tables, dead letters, drift and manifest. Exactly once per
 * event_id without the Beam state a Storage Write API offset would need
 * (the TypeScript SDK has none):
 *
 *  - Every commit batch has a deterministic name (window start + shard), so
 *    a retried bundle computes the same name; `committedBatch` finds a batch
 *    that committed already, and the commit then only finalizes its Bronze.
 *  - The claim reads which event_ids Silver holds in the batch's partitions
 *    (BigQuery dedupes on Silver itself: no dedupe table).
 *  - A batch's rows are staged as NDJSON objects and loaded into per-batch
 *    staging tables (WRITE_TRUNCATE, deterministic job ids: a retry
 *    overwrites, and a retry that inserts an existing job id waits for it).
 *  - One multi-statement transaction then folds the rows Silver does not
 *    hold yet into the state tables, MERGEs them into Silver ON event_id,
 *    MERGEs the dead letters ON dl_id and the drift counts, and inserts the
 *    manifest: all of it commits, or none. Two transactions touching the same
 *    rows at once conflict and one is retried, so nothing is counted twice.
 */
import { createHash } from "node:crypto";
import type { BigQuery, Job } from "@google-cloud/bigquery";
import {
  BATCHES,
  type BatchManifest,
  type BatchRef,
  DEAD_LETTERS,
  type DeadLetterRow,
  type DriftCount,
  ERASED_SUBJECTS,
  type NewSubjectKey,
  SCHEMA_DRIFT,
  SUBJECT_INDEX,
  SUBJECT_KEYS,
  type StoredSubjectKey,
} from "../../schemas/ops.js";
import type { Domain } from "../../schemas/registry.js";
import { EVENT_TABLES } from "../../schemas/silver.js";
import { STATE_RULES } from "../../schemas/state.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import type { GcsBronze } from "../gcs/bronze-objects.js";
import type { Claim, CommittedBatch, WarehouseStore, WarehouseTransaction } from "../roles.js";
import { flagStateSql, mergeStateSql } from "../state-merge.js";
import { subjectIndexSql } from "../subject-index.js";
import { type BigQueryDatasets, loadLine, loadSchema, refOf, silverLoadLine } from "./ddl.js";

function httpCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === "number" ? e.code : e.response?.status;
}

/** BigQuery job ids: letters, digits, _ and -, at most 1024. */
export function jobId(...parts: string[]): string {
  return `ecom_${parts.join("_")}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 1024);
}

/** A named batch's id: 63 bits of a hash of its name, so a retry computes the same one. */
export function batchIdOf(name: string): bigint {
  return createHash("sha256").update(name).digest().readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
}

/** The dead-letter columns a batch provides (the rest the transaction fills). */
const DEAD_LETTER_INPUT = DEAD_LETTERS.columns.filter((c) => !["dead_lettered_at", "batch_id", "replay_attempts", "last_replay_error"].includes(c.name));

export interface BigQueryStoreOptions {
  datasets: BigQueryDatasets;
  /** BigQuery location of the datasets (e.g. EU, US, europe-west1). */
  location: string;
  /** Where a batch's rows are staged for their load jobs. */
  staging: GcsBronze;
}

export class BigQueryStore implements WarehouseStore {
  constructor(
    readonly bq: BigQuery,
    readonly opts: BigQueryStoreOptions,
  ) {}

  get datasets(): BigQueryDatasets {
    return this.opts.datasets;
  }

  async select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const [rows] = await this.bq.query({ query, params, location: this.opts.location, useLegacySql: false });
    return rows as T[];
  }

  /**
   * Runs an idempotent job under deterministic ids `<base>_<attempt>`: a
   * retried bundle that inserts an id that exists (409) attaches to that job
   * and waits for it instead of running the work twice; a job that failed
   * (e.g. a transaction aborted by a concurrent update) moves on to the next
   * attempt id, so a failure never blocks the batch forever.
   */
  async runJob(base: string, create: (id: string) => Promise<Job>, attempts = 8): Promise<void> {
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
        job = this.bq.job(id, { location: this.opts.location });
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

  async committedBatch(name: string): Promise<CommittedBatch | undefined> {
    const rows = await this.select<{ f: string }>(
      `SELECT TO_JSON_STRING(bronze_files) AS f FROM ${refOf(this.datasets, BATCHES)} WHERE batch_name = @batch LIMIT 1`,
      {
        batch: name,
      },
    );
    return rows[0] ? { ref: { id: batchIdOf(name), name }, bronzeFiles: JSON.parse(rows[0].f) as string[] } : undefined;
  }

  /** A committed batch's Bronze is finalized by the commit that retries it (a named batch): nothing waits here. */
  async pendingBronze(): Promise<CommittedBatch[]> {
    return [];
  }

  /** Not recorded on BigQuery: one more DML per batch on a shared table for a state that a retry re-derives anyway. */
  async markBronzeDone(): Promise<void> {}

  async storedSubjectKeys(kids: readonly string[]): Promise<Map<string, Buffer>> {
    if (kids.length === 0) return new Map();
    const rows = await this.select<{ kid: string; w: string }>(
      `SELECT kid, TO_BASE64(wrapped_key) AS w FROM ${refOf(this.datasets, SUBJECT_KEYS)} WHERE kid IN UNNEST(@kids)`,
      { kids: [...kids] },
    );
    return new Map(rows.map((r) => [r.kid, Buffer.from(r.w, "base64")]));
  }

  async subjectKeysOf(refs: readonly string[]): Promise<StoredSubjectKey[]> {
    if (refs.length === 0) return [];
    const rows = await this.select<{ kid: string; ref: string; w: string; ms: number }>(
      `SELECT kid, subject_ref AS ref, TO_BASE64(wrapped_key) AS w, UNIX_MILLIS(created_at) AS ms FROM ${refOf(this.datasets, SUBJECT_KEYS)} WHERE subject_ref IN UNNEST(@refs)`,
      { refs: [...refs] },
    );
    return rows.map((r) => ({ kid: r.kid, subjectRef: r.ref, wrappedKey: Buffer.from(r.w, "base64"), createdAtMs: Number(r.ms) }));
  }

  async erasedSubjects(refs: readonly string[]): Promise<Set<string>> {
    if (refs.length === 0) return new Set();
    const rows = await this.select<{ ref: string }>(
      `SELECT subject_ref AS ref FROM ${refOf(this.datasets, ERASED_SUBJECTS)} WHERE subject_ref IN UNNEST(@refs)`,
      {
        refs: [...refs],
      },
    );
    return new Set(rows.map((r) => r.ref));
  }

  async begin(name?: string): Promise<BigQueryTransaction> {
    if (!name) throw new Error("a BigQuery batch needs a deterministic name (window and shard), so a retry finds it");
    return new BigQueryTransaction(this, { id: batchIdOf(name), name });
  }

  stagingTable(batch: string, part: string): { projectId: string; datasetId: string; tableId: string } {
    return { projectId: this.datasets.project, datasetId: this.datasets.staging, tableId: `${batch}_${part}`.replace(/[^A-Za-z0-9_]/g, "_") };
  }
}

interface Staged {
  part: string;
  object: string;
  columns: typeof DEAD_LETTER_INPUT;
  lines: string[];
}

/** A batch on BigQuery: the role's calls stage rows and collect statements; `commit` loads them and runs one transaction. */
export class BigQueryTransaction implements WarehouseTransaction {
  private readonly staged: Staged[] = [];
  private readonly statements: string[] = [];
  private readonly params: Record<string, unknown> = {};

  constructor(
    private readonly store: BigQueryStore,
    readonly batch: BatchRef,
  ) {}

  private get d(): BigQueryDatasets {
    return this.store.datasets;
  }

  private stagingRef(part: string): string {
    const t = this.store.stagingTable(this.batch.name, part);
    return `\`${t.projectId}.${t.datasetId}.${t.tableId}\``;
  }

  private stage(part: string, columns: Staged["columns"], lines: string[]): string {
    this.staged.push({ part, object: `${this.store.opts.staging.options.prefix}/${this.batch.name}/${part}.ndjson`, columns, lines });
    return this.stagingRef(part);
  }

  async claimEventIds(claims: readonly Claim[]): Promise<Set<string>> {
    const byDomain = new Map<Domain, { ids: string[]; dates: Set<string> }>();
    for (const c of claims) {
      let d = byDomain.get(c.domain);
      if (!d) byDomain.set(c.domain, (d = { ids: [], dates: new Set() }));
      d.ids.push(c.id);
      d.dates.add(c.date);
    }
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    let i = 0;
    for (const [domain, { ids, dates }] of byDomain) {
      parts.push(`SELECT event_id FROM ${refOf(this.d, EVENT_TABLES[domain])} WHERE event_date IN UNNEST(@d${i}) AND event_id IN UNNEST(@i${i})`);
      params[`d${i}`] = [...dates].map((x) => this.store.bq.date(x));
      params[`i${i}`] = ids;
      i++;
    }
    const existing = parts.length
      ? new Set((await this.store.select<{ event_id: string }>(parts.join("\nUNION ALL\n"), params)).map((r) => r.event_id))
      : new Set();
    return new Set(claims.map((c) => c.id).filter((id) => !existing.has(id)));
  }

  /** Claims on BigQuery are reads: nothing was written to give back. */
  async unclaimEventIds(): Promise<void> {}

  async writeSilver(rows: ReadonlyMap<Domain, SilverRow[]>): Promise<void> {
    for (const [domain, list] of rows) {
      if (list.length === 0) continue;
      const table = EVENT_TABLES[domain];
      const staging = this.stage(
        domain,
        table.columns,
        list.map((r) => silverLoadLine(domain, r)),
      );
      const dates = `dates_${domain}`;
      this.params[dates] = [...new Set(list.map((r) => r.event_date as string))].map((x) => this.store.bq.date(x));
      // The batch's rows Silver does not hold yet (a concurrent batch may have committed some meanwhile).
      const fresh = `(SELECT S.* FROM ${staging} S WHERE NOT EXISTS (SELECT 1 FROM ${refOf(this.d, table)} T WHERE T.event_date IN UNNEST(@${dates}) AND T.event_id = S.event_id))`;
      for (const rules of STATE_RULES) {
        if (rules.from !== domain) continue;
        this.statements.push(mergeStateSql("bigquery", rules, fresh, refOf(this.d, rules.table)) + ";");
        const flag = flagStateSql("bigquery", rules, fresh, refOf(this.d, rules.table));
        if (flag) this.statements.push(flag + ";");
      }
      this.statements.push(subjectIndexSql("bigquery", domain, fresh, refOf(this.d, SUBJECT_INDEX), "CAST(@batch_id AS INT64)") + ";");
      const cols = table.columns.map((c) => c.name).join(", ");
      this.statements.push(
        `MERGE ${refOf(this.d, table)} T USING ${staging} S\n  ON T.event_id = S.event_id AND T.event_date IN UNNEST(@${dates})\n  WHEN NOT MATCHED THEN INSERT (${cols}) VALUES (${cols});`,
      );
    }
  }

  async writeDeadLetters(rows: readonly DeadLetterRow[]): Promise<ReadonlySet<string>> {
    const unique = [...new Map(rows.map((r) => [r.dl_id, r])).values()];
    if (unique.length === 0) return new Set();
    const existing = new Set(
      (
        await this.store.select<{ dl_id: string }>(`SELECT dl_id FROM ${refOf(this.d, DEAD_LETTERS)} WHERE dl_id IN UNNEST(@ids)`, {
          ids: unique.map((r) => r.dl_id),
        })
      ).map((r) => r.dl_id),
    );
    const fresh = unique.filter((r) => !existing.has(r.dl_id));
    if (fresh.length === 0) return new Set();
    const staging = this.stage(
      "dead_letters",
      DEAD_LETTER_INPUT,
      fresh.map((r) => loadLine(DEAD_LETTER_INPUT, r as unknown as Record<string, unknown>)),
    );
    const cols = DEAD_LETTER_INPUT.map((c) => c.name).join(", ");
    this.statements.push(
      `MERGE ${refOf(this.d, DEAD_LETTERS)} T USING ${staging} S\n  ON T.dl_id = S.dl_id\n  WHEN NOT MATCHED THEN INSERT (${cols}, dead_lettered_at, batch_id, replay_attempts) VALUES (${cols}, CURRENT_TIMESTAMP(), @batch_id, 0);`,
    );
    return new Set(fresh.map((r) => r.dl_id));
  }

  async putSubjectKeys(keys: readonly NewSubjectKey[]): Promise<void> {
    if (keys.length === 0) return;
    this.params.new_keys = keys.map((k) => ({ kid: k.kid, ref: k.subjectRef, w: k.wrappedKey.toString("base64"), kek: k.kekId }));
    // Keys are random per kid: two workers meeting a new person at once each store their own, both filed under the person.
    this.statements.push(
      `MERGE ${refOf(this.d, SUBJECT_KEYS)} T USING (SELECT k.kid, k.ref AS subject_ref, FROM_BASE64(k.w) AS wrapped_key, k.kek AS kek_id FROM UNNEST(@new_keys) AS k) S\n  ON T.kid = S.kid\n  WHEN NOT MATCHED THEN INSERT (kid, subject_ref, wrapped_key, kek_id, created_at) VALUES (S.kid, S.subject_ref, S.wrapped_key, S.kek_id, CURRENT_TIMESTAMP());`,
    );
  }

  async recordDrift(drift: readonly DriftCount[]): Promise<void> {
    if (drift.length === 0) return;
    this.params.drift = drift.map((x) => ({ t: x.eventType, v: x.schemaVersion, p: x.path, n: x.events }));
    this.statements.push(
      `MERGE ${refOf(this.d, SCHEMA_DRIFT)} T USING (SELECT x.t AS event_type, x.v AS schema_version, x.p AS field_path, x.n AS events FROM UNNEST(@drift) AS x) S
  ON T.event_type = S.event_type AND T.schema_version = S.schema_version AND T.field_path = S.field_path
  WHEN MATCHED THEN UPDATE SET last_seen = CURRENT_TIMESTAMP(), events = T.events + S.events
  WHEN NOT MATCHED THEN INSERT (event_type, schema_version, field_path, first_seen, last_seen, events) VALUES (S.event_type, S.schema_version, S.field_path, CURRENT_TIMESTAMP(), CURRENT_TIMESTAMP(), S.events);`,
    );
  }

  async recordBatch(m: BatchManifest): Promise<void> {
    Object.assign(this.params, {
      batch_id: this.batch.id.toString(),
      batch_name: this.batch.name,
      origin: m.origin,
      read: m.read,
      valid: m.valid,
      duplicates: m.duplicates,
      dead_lettered: m.dead_lettered,
      pans: m.pans_redacted,
      files: JSON.stringify(m.bronzeFiles),
    });
    const batches = refOf(this.d, BATCHES);
    this.statements.push(
      `INSERT INTO ${batches} (batch_id, batch_name, committed_at, origin, read, valid, duplicates, dead_lettered, pans_redacted, bronze_files, bronze_state)
  SELECT CAST(@batch_id AS INT64), @batch_name, CURRENT_TIMESTAMP(), @origin, @read, @valid, @duplicates, @dead_lettered, @pans, PARSE_JSON(@files), 'pending'
  FROM UNNEST([1]) WHERE NOT EXISTS (SELECT 1 FROM ${batches} WHERE batch_name = @batch_name);`,
    );
  }

  /** The transaction's script, as it is sent (the tests parse it). */
  script(): string {
    return `BEGIN TRANSACTION;\n${this.statements.join("\n")}\nCOMMIT TRANSACTION;`;
  }

  async commit(): Promise<void> {
    const bq = this.store.bq;
    const location = this.store.opts.location;
    for (const s of this.staged) {
      const uri = await this.store.opts.staging.putStaging(s.object, s.lines);
      const destination = this.store.stagingTable(this.batch.name, s.part);
      await this.store.runJob(jobId(this.batch.name, s.part, "load"), async (id) => {
        const [job] = await bq.createJob({
          // createJob builds jobReference itself (from jobId/location) and replaces one passed in with a random id.
          jobId: id,
          location,
          configuration: {
            load: {
              sourceUris: [uri],
              destinationTable: destination,
              sourceFormat: "NEWLINE_DELIMITED_JSON",
              writeDisposition: "WRITE_TRUNCATE",
              createDisposition: "CREATE_IF_NEEDED",
              schema: { fields: loadSchema(s.columns) },
            },
          },
        });
        return job;
      });
    }
    const query = this.script();
    await this.store.runJob(jobId(this.batch.name, "commit"), async (id) => {
      const [job] = await bq.createQueryJob({ query, params: this.params, jobId: id, location, useLegacySql: false });
      return job;
    });
    await this.cleanUp();
  }

  async rollback(): Promise<void> {
    await this.cleanUp().catch(() => undefined);
  }

  /** Staging objects and tables of the batch (they also expire: the bucket's lifecycle, the dataset's default expiration). */
  private async cleanUp(): Promise<void> {
    await this.store.opts.staging.deleteObjects(this.staged.map((s) => s.object));
    await Promise.all(
      this.staged.map(async (s) => {
        const t = this.store.stagingTable(this.batch.name, s.part);
        try {
          await this.store.bq.dataset(t.datasetId, { projectId: t.projectId }).table(t.tableId).delete();
        } catch (err) {
          if (httpCode(err) !== 404) throw err;
        }
      }),
    );
  }
}
