/**
 * The privacy audit log's file copy: `<data-dir>/audit/privacy-audit.ndjson`,
 * one JSON line per entry, in chain order. Only appended to, never rewritten:
 * each append opens the file for appending, writes whole lines and fsyncs
 * before returning, so an entry the caller was told about is on disk. The
 * folder is 0700 and the file 0600, set explicitly (private-files.ts).
 *
 * What a line means and how the chain is checked is the job's business
 * (jobs/privacy/audit-chain.ts); this module only moves lines.
 */
import fs from "node:fs";
import path from "node:path";
import { PRIVATE_FILE, ensurePrivateDir } from "./private-files.js";

/** Appends `lines` (without their newlines) and fsyncs; creates the folder 0700 and the file 0600 when missing. */
export function appendAuditLines(file: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  ensurePrivateDir(path.dirname(file));
  const fd = fs.openSync(file, "a", PRIVATE_FILE);
  try {
    fs.fchmodSync(fd, PRIVATE_FILE);
    fs.writeSync(fd, lines.map((l) => l + "\n").join(""));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's lines (empty ones dropped; a missing file has none). */
export function readAuditLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return text.split("\n").filter((l) => l.trim() !== "");
}
