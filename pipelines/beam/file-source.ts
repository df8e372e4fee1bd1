/**
 * Bounded sources for the Beam batch pipeline: NDJSON files, and Bronze
 * partitions in a date range. The pipeline creates a small seed (the list of
 * files: `beam.create` of a large array is quadratic) and reads each file
 * inside a `flatMap`, lazily, so memory stays flat whatever the file size.
 *
 * A file yields the same messages as `sources/files.ts` (the local runner's
 * reader): one per non-blank line, origin `file:<path>:<line>` counting every
 * line, so dead letters carry the same origin on both executors. The read is
 * synchronous because a Beam DoFn cannot await (see blocking-bridge.ts).
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { requireForSerialization } from "./sdk.js";
import type { RawMessage } from "../../transforms/types.js";
import { type ProtectedEvent, restoreFromBronze } from "../../transforms/protect.js";

export const FILE_SOURCE_MODULE = "ecom-stream/dist/pipelines/beam/file-source.js";

const CHUNK = 1 << 20;
const BLANK = /^\s*$/;

/** The lines of a file (gunzipped when it ends in .gz), without their line breaks; numbered from 1. */
export function* fileLines(file: string): Generator<[string, number]> {
  let lineNo = 0;
  const emit = (buf: Buffer, start: number, end: number): string => {
    if (end > start && buf[end - 1] === 0x0d) end--;
    return buf.toString("utf8", start, end);
  };
  if (file.endsWith(".gz")) {
    const buf = zlib.gunzipSync(fs.readFileSync(file));
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      yield [emit(buf, start, nl), ++lineNo];
      start = nl + 1;
    }
    if (start < buf.length) yield [emit(buf, start, buf.length), ++lineNo];
    return;
  }
  const fd = fs.openSync(file, "r");
  try {
    let carry = Buffer.alloc(0);
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        yield [emit(buf, start, nl), ++lineNo];
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
    }
    if (carry.length) yield [emit(carry, 0, carry.length), ++lineNo];
  } finally {
    fs.closeSync(fd);
  }
}

/** One NDJSON file -> its messages (flatMap over the seed of file paths). */
export function* readNdjsonFile(file: string): Generator<RawMessage> {
  const receivedAtMs = Date.now();
  for (const [line, lineNo] of fileLines(file)) {
    if (line.length === 0 || BLANK.test(line)) continue;
    yield { data: line, origin: `file:${file}:${lineNo}`, receivedAtMs };
  }
}

/** The Bronze files (relative to `root`) whose dt partition lies in [from, to] (YYYY-MM-DD, inclusive), sorted. */
export function bronzeFilesInRange(root: string, from: string, to: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(root)) return out;
  for (const typeDir of fs.readdirSync(root).sort()) {
    if (!typeDir.startsWith("event_type=")) continue;
    for (const dtDir of fs.readdirSync(path.join(root, typeDir)).sort()) {
      const dt = dtDir.slice("dt=".length);
      if (!dtDir.startsWith("dt=") || dt < from || dt > to) continue;
      for (const hourDir of fs.readdirSync(path.join(root, typeDir, dtDir)).sort()) {
        const dir = path.join(root, typeDir, dtDir, hourDir);
        for (const f of fs.readdirSync(dir).sort()) {
          if (f.endsWith(".ndjson.gz") && !f.startsWith(".")) out.push(path.join(typeDir, dtDir, hourDir, f));
        }
      }
    }
  }
  return out;
}

export interface BronzeReadContext {
  root: string;
  /** Subject data keys by kid (base64), resolved before the run; a missing kid = erased: the fields stay absent. */
  keys: Record<string, string>;
}

/**
 * One Bronze file -> messages with their personal fields decrypted again, so
 * a replay walks the same steps as first ingestion.
 */
export function* readBronzeFile(name: string, ctx: BronzeReadContext): Generator<RawMessage> {
  const file = path.join(ctx.root, name);
  const receivedAtMs = Date.now();
  for (const [line, lineNo] of fileLines(file)) {
    if (line.length === 0 || BLANK.test(line)) continue;
    const record = JSON.parse(line) as ProtectedEvent;
    const kid = record._pii?.kid;
    const key = kid === undefined || ctx.keys[kid] === undefined ? undefined : Buffer.from(ctx.keys[kid]!, "base64");
    yield { data: JSON.stringify(restoreFromBronze(record, key)), origin: `bronze:${name}:${lineNo}`, receivedAtMs };
  }
}

/** The kids a set of Bronze files needs (read before the run, to resolve their keys). */
export function bronzeKids(root: string, names: readonly string[]): string[] {
  const kids = new Set<string>();
  for (const name of names) {
    for (const [line] of fileLines(path.join(root, name))) {
      const m = /"_pii":\{"kid":"([^"]+)"/.exec(line);
      if (m) kids.add(m[1]!);
    }
  }
  return [...kids];
}

requireForSerialization(FILE_SOURCE_MODULE, { fileLines, readNdjsonFile, readBronzeFile });
