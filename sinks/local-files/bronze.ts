/**
 * Bronze on local disk, in the object layout GCS gets in production:
 *   <data-dir>/bronze/event_type=<t>/dt=<YYYY-MM-DD>/hour=<HH>/part-<batch>-<n>.ndjson.gz
 * partitioned by event time. A batch's files are written under a temporary
 * name (`.part-….tmp`, flushed to disk) before its Silver transaction commits,
 * and renamed into place after. Recovery on start finishes the renames of
 * committed batches (the manifest in ops.batches lists their files) and
 * deletes temporary files of batches that never committed: a file is in
 * place exactly when its batch committed. Files are created 0600 and
 * folders 0700 (private-files.ts), whatever the umask.
 */
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { PRIVATE_DIR, PRIVATE_FILE } from "./private-files.js";

const gzip = promisify(zlib.gzip);

export interface BronzeFile {
  /** Final path relative to the Bronze root: what the manifest records and GCS would name. */
  name: string;
  tmp: string;
  final: string;
}

const HOUR_MS = 3_600_000;
const hourNames = new Map<number, string>();

/** `event_type=<t>/dt=<YYYY-MM-DD>/hour=<HH>` of an event (UTC event time). */
export function partitionOf(eventType: string, eventTimeMs: number): string {
  const hour = Math.floor(eventTimeMs / HOUR_MS);
  let suffix = hourNames.get(hour);
  if (suffix === undefined) {
    const iso = new Date(hour * HOUR_MS).toISOString();
    suffix = `/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
    if (hourNames.size > 100_000) hourNames.clear();
    hourNames.set(hour, suffix);
  }
  return `event_type=${eventType}${suffix}`;
}

export class LocalBronze {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "bronze");
  }

  private paths(name: string): BronzeFile {
    const final = path.join(this.root, name);
    return { name, final, tmp: path.join(path.dirname(final), `.${path.basename(final)}.tmp`) };
  }

  /** Gzips and writes each partition's lines to a temporary file. */
  async writeTemp(batchId: bigint, partitions: ReadonlyMap<string, string[]>): Promise<BronzeFile[]> {
    const files: BronzeFile[] = [];
    const batch = batchId.toString().padStart(10, "0");
    const writes: Promise<void>[] = [];
    for (const [partition, lines] of partitions) {
      const file = this.paths(`${partition}/part-${batch}.ndjson.gz`);
      files.push(file);
      writes.push(
        (async () => {
          const body = await gzip(lines.join("\n") + "\n", { level: 1 });
          await fs.promises.mkdir(path.dirname(file.final), { recursive: true, mode: PRIVATE_DIR });
          await fs.promises.writeFile(file.tmp, body, { flush: true, mode: PRIVATE_FILE });
        })(),
      );
    }
    await Promise.all(writes);
    return files;
  }

  /** Renames a committed batch's files into place; idempotent. */
  async finalize(names: readonly string[]): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const f = this.paths(name);
        try {
          await fs.promises.rename(f.tmp, f.final);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !fs.existsSync(f.final)) {
            throw new Error(`Bronze file ${f.tmp} of a committed batch is missing and not in place: ${(err as Error).message}`);
          }
        }
      }),
    );
  }

  /** Deletes temporary files that no committed batch owns (run after finalizing pending batches). */
  async removeOrphans(): Promise<number> {
    const orphans = await this.walk((name) => name.endsWith(".tmp"));
    await Promise.all(orphans.map((p) => fs.promises.rm(p, { force: true })));
    return orphans.length;
  }

  /** Every Bronze file in place, relative to the root. */
  async list(): Promise<string[]> {
    const files = await this.walk((name) => name.endsWith(".ndjson.gz") && !name.startsWith("."));
    return files.map((p) => path.relative(this.root, p)).sort();
  }

  private async walk(pick: (name: string) => boolean, dir = this.root, out: string[] = []): Promise<string[]> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      return out; // no Bronze yet
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await this.walk(pick, p, out);
      else if (pick(e.name)) out.push(p);
    }
    return out;
  }
}
