/**
 * Opening a DuckDB file, the one way every part of the platform does it.
 *
 * Guarantees:
 * - SQL run on the instance has no file or network access
 *   (`enable_external_access=false`: no read_text/read_csv of a path, no
 *   COPY TO, no ATTACH, no INSTALL), loads no extension by itself
 *   (`autoinstall_known_extensions`/`autoload_known_extensions` off; JSON,
 *   Parquet and ICU are built in) and cannot change any of that afterwards
 *   (`lock_configuration=true`). All four are given at create time, so no
 *   connection ever sees them otherwise: the autoload settings could be
 *   turned back on by a later SET, and once `lock_configuration` is on every
 *   SET and RESET is refused (`enable_external_access` cannot be turned
 *   back on while the database runs in any case).
 * - The platform's own writes are untouched by this: the database file, its
 *   WAL and temporary files are DuckDB's own and stay allowed.
 * - A file opened for writing is made private (0600), and so is its WAL
 *   (`protectDuckDbFiles`): DuckDB creates them with the process umask, which
 *   a library caller may not have tightened.
 */
import fs from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

export const LOCKED_SETTINGS: Readonly<Record<string, string>> = {
  enable_external_access: "false",
  autoinstall_known_extensions: "false",
  autoload_known_extensions: "false",
  lock_configuration: "true",
};

/** Opens (creates, unless `readOnly`) the DuckDB file with the locked settings. */
export async function openDuckDb(file: string, opts: { readOnly?: boolean; settings?: Record<string, string> } = {}): Promise<DuckDBInstance> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, {
      ...opts.settings,
      ...(opts.readOnly ? { access_mode: "READ_ONLY" } : {}),
      ...LOCKED_SETTINGS,
    });
  } catch (err) {
    const msg = (err as Error).message;
    if (/lock/i.test(msg)) {
      throw new Error(
        `the DuckDB file ${file} is held by another ecom process.\n` +
          `  Stop it, or run this command against its HTTP endpoint (it is used automatically when found in the data dir).`,
      );
    }
    throw new Error(`cannot open the DuckDB file ${file}: ${msg}`);
  }
  if (!opts.readOnly) protectDuckDbFiles(file);
  return instance;
}

/** Makes the database file and its WAL (when there is one) readable and writable by the owner only. */
export function protectDuckDbFiles(file: string): void {
  for (const f of [file, `${file}.wal`]) {
    try {
      fs.chmodSync(f, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}
