/**
 * Private files on local disk: the data dir and everything the platform
 * writes in it are for the user who runs it only. Directories are 0700 and
 * files 0600, set explicitly (not left to the umask: a library caller, a
 * test or a worker thread may run with a permissive one).
 */
import fs from "node:fs";
import path from "node:path";

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * Creates `dir` (and missing parents) 0700, or tightens an existing one
 * that group or others can use to 0700. Tightening rather than refusing: a
 * data dir made by an earlier version, by `mkdir` or `cp -r` is 0755, its
 * owner loses nothing by the change, and the exposure ends at once instead
 * of after a manual step. When the mode cannot be changed (the dir belongs
 * to another user) it is refused with the command to run.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    fs.chmodSync(dir, mode & PRIVATE_DIR);
  } catch (err) {
    throw new Error(
      `the data dir ${dir} can be read by other users (mode ${mode.toString(8)}) and cannot be made private (${(err as NodeJS.ErrnoException).code}).\n` +
        `  Run: chmod 700 ${dir}   (as its owner), then start again. Nothing was written.`,
    );
  }
}

/** Writes `file` 0600 in one step for readers: a temporary file in the same folder, then a rename over the old one. */
export function writePrivateFileAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, text, { mode: PRIVATE_FILE, flag: "wx" });
  fs.renameSync(tmp, file);
}
