/**
 * Bronze on GCS, in the writer role (sinks/roles.ts), in the layout the
 * local Bronze folder has (schemas/bronze.ts), under a prefix:
 *   gs://<bucket>/<prefix>/event_type=<t>/dt=<YYYY-MM-DD>/hour=<HH>/part-<batch>.ndjson.gz
 *
 * Exactly once per commit batch (a deterministic batch name: window +
 * shard): each partition's lines are first written as a temporary object
 * (`<prefix>/_tmp/<batch>/<partition>/part.ndjson.gz`, overwritten by a
 * retry), and only after the batch's Silver rows are committed in BigQuery
 * is the temporary object finalized: copied to its final name with the
 * precondition `ifGenerationMatch=0` (create only if absent) and deleted. A
 * retried or zombie bundle that finalizes again gets HTTP 412 and treats the
 * object as already in place, so a final object is written once and never
 * replaced. Temporary objects of batches that never committed are removed
 * by an object lifecycle rule on `<prefix>/_tmp/` (infra/dataflow/README.md).
 *
 * The same class holds the NDJSON staging objects BigQuery load jobs read.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Storage } from "@google-cloud/storage";
import { partFile } from "../../schemas/bronze.js";
import type { BatchRef } from "../../schemas/ops.js";
import type { BronzeWriter } from "../roles.js";

const gzip = promisify(zlib.gzip);

export interface GcsBronzeOptions {
  bucket: string;
  /** Object prefix, without slashes at either end (e.g. `bronze`). */
  prefix: string;
}

function httpCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === "number" ? e.code : e.response?.status;
}

/** The partition of a Bronze file name (its folder). */
function partitionOfName(name: string): string {
  return name.slice(0, name.lastIndexOf("/"));
}

export class GcsBronze implements BronzeWriter {
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

  /** The object of a Bronze file name (relative to the Bronze root, as the manifest records it). */
  objectName(name: string): string {
    return `${this.options.prefix}/${name}`;
  }

  uri(name: string): string {
    return `gs://${this.options.bucket}/${name}`;
  }

  async writeTemp(batch: BatchRef, partitions: ReadonlyMap<string, string[]>): Promise<string[]> {
    await Promise.all(
      [...partitions].map(async ([partition, lines]) => {
        const body = await gzip(lines.join("\n") + "\n", { level: 1 });
        await this.bucket.file(this.tempName(batch.name, partition)).save(body, {
          resumable: false,
          contentType: "application/x-ndjson",
          metadata: { contentEncoding: "gzip" },
        });
      }),
    );
    return [...partitions.keys()].map((p) => partFile(p, batch.name));
  }

  /** Moves a committed batch's temporary objects to their final names, each at most once (create-if-absent). */
  async finalize(batch: BatchRef, names: readonly string[]): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const temp = this.bucket.file(this.tempName(batch.name, partitionOfName(name)));
        const final = this.bucket.file(this.objectName(name));
        try {
          await temp.copy(final, { preconditionOpts: { ifGenerationMatch: 0 } });
        } catch (err) {
          const code = httpCode(err);
          // 412: an earlier attempt finalized it. 404: the temp is gone because an earlier attempt finished.
          if (code !== 412 && code !== 404) throw err;
          const [exists] = await final.exists();
          if (!exists) {
            throw new Error(`Bronze object ${this.uri(final.name)} of committed batch ${batch.name} is neither in place nor staged: ${(err as Error).message}`);
          }
        }
        await temp.delete({ ignoreNotFound: true });
      }),
    );
  }

  /** Temporary objects of batches that never committed expire by the bucket's lifecycle rule on `<prefix>/_tmp/`. */
  async removeOrphans(): Promise<number> {
    return 0;
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
