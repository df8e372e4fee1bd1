/**
 * Bronze on GCS, in the layout the local Bronze folder has:
 *   gs://<bucket>/<prefix>/event_type=<t>/dt=<YYYY-MM-DD>/hour=<HH>/part-<batch>.ndjson.gz
 *
 * Exactly once per commit batch (a deterministic batch name: window + shard):
 * each partition's lines are first written as a temporary object
 * (`<prefix>/_tmp/<batch>/...`, overwritten by a retry), and only after the
 * batch's Silver rows are committed in BigQuery is the temporary object
 * finalized: copied to its final name with the precondition
 * `ifGenerationMatch=0` (create only if absent) and deleted. A retried or
 * zombie bundle that finalizes again gets HTTP 412 and treats the object as
 * already in place, so a final object is written once and never replaced.
 * Temporary objects of batches that never committed are removed by an
 * object lifecycle rule on `<prefix>/_tmp/` (infra/dataflow/README.md).
 *
 * Also holds the NDJSON staging objects BigQuery load jobs read.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Storage } from "@google-cloud/storage";

const gzip = promisify(zlib.gzip);

export interface GcsBronzeOptions {
  bucket: string;
  /** Object prefix of Bronze, without slashes at either end (e.g. `bronze`). */
  prefix: string;
}

function httpCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === "number" ? e.code : e.response?.status;
}

export class GcsBronze {
  constructor(
    private readonly storage: Storage,
    readonly options: GcsBronzeOptions,
  ) {}

  private get bucket() {
    return this.storage.bucket(this.options.bucket);
  }

  tempName(batch: string, partition: string): string {
    return `${this.options.prefix}/_tmp/${batch}/${partition}/part.ndjson.gz`;
  }

  finalName(batch: string, partition: string): string {
    return `${this.options.prefix}/${partition}/part-${batch}.ndjson.gz`;
  }

  uri(name: string): string {
    return `gs://${this.options.bucket}/${name}`;
  }

  /** Gzips and uploads each partition's lines as the batch's temporary objects; returns the partitions. */
  async writeTemp(batch: string, partitions: ReadonlyMap<string, string[]>): Promise<string[]> {
    await Promise.all(
      [...partitions].map(async ([partition, lines]) => {
        const body = await gzip(lines.join("\n") + "\n", { level: 1 });
        await this.bucket.file(this.tempName(batch, partition)).save(body, {
          resumable: false,
          contentType: "application/x-ndjson",
          metadata: { contentEncoding: "gzip" },
        });
      }),
    );
    return [...partitions.keys()];
  }

  /**
   * Moves a committed batch's temporary objects to their final names, each at
   * most once (create-if-absent). Idempotent: run it again after any crash.
   */
  async finalize(batch: string, partitions: readonly string[]): Promise<void> {
    await Promise.all(
      partitions.map(async (partition) => {
        const temp = this.bucket.file(this.tempName(batch, partition));
        const final = this.bucket.file(this.finalName(batch, partition));
        try {
          await temp.copy(final, { preconditionOpts: { ifGenerationMatch: 0 } });
        } catch (err) {
          const code = httpCode(err);
          // 412: an earlier attempt finalized it. 404: the temp is gone because an earlier attempt finished.
          if (code !== 412 && code !== 404) throw err;
          const [exists] = await final.exists();
          if (!exists) {
            throw new Error(`Bronze object ${this.uri(final.name)} of committed batch ${batch} is neither in place nor staged: ${(err as Error).message}`);
          }
        }
        await temp.delete({ ignoreNotFound: true });
      }),
    );
  }

  /** Writes a staging object (NDJSON for a BigQuery load job); returns its gs:// URI. */
  async putStaging(name: string, lines: readonly string[]): Promise<string> {
    await this.bucket.file(name).save(lines.join("\n") + "\n", { resumable: false, contentType: "application/x-ndjson" });
    return this.uri(name);
  }

  async deleteObjects(names: readonly string[]): Promise<void> {
    await Promise.all(names.map((n) => this.bucket.file(n).delete({ ignoreNotFound: true })));
  }

  /** Reads a small object whole (the key bundle). */
  async read(name: string): Promise<Buffer> {
    const [body] = await this.bucket.file(name).download();
    return body;
  }
}
