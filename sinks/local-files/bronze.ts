/**
 * Bronze on local disk, in the writer role (sinks/roles.ts), in the object
 * layout GCS gets in production (schemas/bronze.ts), under
 * `<data-dir>/bronze/`. A batch's files are written under a temporary name
 * (`.part-….tmp`, flushed to disk) before its Silver transaction commits,
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
import { inDateRange, isPartFile, partFile } from "../../schemas/bronze.js";
import type { BatchRef } from "../../schemas/ops.js";
import type { BronzeWriter } from "../roles.js";
import { dataDirPaths } from "./data-dir.js";
import { PRIVATE_DIR, PRIVATE_FILE } from "./private-files.js";

const gzip = promisify(zlib.gzip);

export class LocalBronze implements BronzeWriter {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = dataDirPaths(dataDir).bronze;
  }

  private paths(name: string): { final: string; tmp: string } {
    const final = path.join(this.root, name);
    return { final, tmp: path.join(path.dirname(final), `.${path.basename(final)}.tmp`) };
  }

  async writeTemp(batch: BatchRef, partitions: ReadonlyMap<string, string[]>): Promise<string[]> {
    const names: string[] = [];
    const writes: Promise<void>[] = [];
    for (const [partition, lines] of partitions) {
      const name = partFile(partition, batch.name);
      const file = this.paths(name);
      names.push(name);
      writes.push(
        (async () => {
          const body = await gzip(lines.join("\n") + "\n", { level: 1 });
          await fs.promises.mkdir(path.dirname(file.final), { recursive: true, mode: PRIVATE_DIR });
          await fs.promises.writeFile(file.tmp, body, { flush: true, mode: PRIVATE_FILE });
        })(),
      );
    }
    await Promise.all(writes);
    return names;
  }

  async finalize(_batch: BatchRef, names: readonly string[]): Promise<void> {
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

  async removeOrphans(): Promise<number> {
    const orphans = walk(this.root, (name) => name.endsWith(".tmp"));
    await Promise.all(orphans.map((p) => fs.promises.rm(p, { force: true })));
    return orphans.length;
  }

  /** Every Bronze file in place (names relative to the Bronze root, sorted); only those of [from, to] when given. */
  list(range?: { from: string; to: string }): string[] {
    return walk(this.root, (name) => isPartFile(name))
      .map((p) => path.relative(this.root, p).split(path.sep).join("/"))
      .filter((name) => !range || inDateRange(name, range.from, range.to))
      .sort();
  }
}

function walk(dir: string, pick: (name: string) => boolean, out: string[] = []): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out; // no Bronze yet
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, pick, out);
    else if (pick(e.name)) out.push(p);
  }
  return out;
}
