/**
 * NDJSON files and folders (`.ndjson`, `.ndjson.gz`, `.jsonl`, `.json`, and
 * their `.gz`), one event per line: the one reader both executors use. The
 * local runner streams a file (`readNdjsonBatches`); a Beam DoFn, which
 * cannot await, reads it synchronously (`readNdjsonFile`). Both split lines
 * with the same splitter, so they yield the same messages: one per line
 * that is not blank (bad lines become dead letters downstream, never
 * silently dropped), origin `file:<path>:<line>` counting every line.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { RawMessage } from "../transforms/types.js";

const EXTENSIONS = [".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz"];
const CHUNK = 1 << 20;
const BLANK = /^\s*$/;

/** Expands files and folders (recursively, sorted) into the list of input files. */
export function listInputFiles(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch {
      throw new Error(`input ${input} does not exist`);
    }
    if (stat.isDirectory()) {
      const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else if (!e.name.startsWith(".") && EXTENSIONS.some((x) => e.name.endsWith(x))) out.push(p);
        }
      };
      walk(input);
    } else out.push(input);
  }
  return out;
}

/** Byte chunks in, lines out (numbered from 1, without `\n` or `\r\n`); a last line without a break counts too. */
class LineSplitter {
  private carry = Buffer.alloc(0);
  private lineNo = 0;

  *push(chunk: Buffer): Generator<[string, number]> {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      yield [text(buf, start, nl), ++this.lineNo];
      start = nl + 1;
    }
    this.carry = Buffer.from(buf.subarray(start));
  }

  *end(): Generator<[string, number]> {
    if (this.carry.length) yield [text(this.carry, 0, this.carry.length), ++this.lineNo];
    this.carry = Buffer.alloc(0);
  }
}

function text(buf: Buffer, start: number, end: number): string {
  if (end > start && buf[end - 1] === 0x0d) end--;
  return buf.toString("utf8", start, end);
}

/** The lines of a file, read synchronously (a `.gz` file is inflated whole: prefer plain files for large Beam inputs). */
export function* fileLines(file: string): Generator<[string, number]> {
  const lines = new LineSplitter();
  if (file.endsWith(".gz")) {
    yield* lines.push(zlib.gunzipSync(fs.readFileSync(file)));
    yield* lines.end();
    return;
  }
  const fd = fs.openSync(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (let n = fs.readSync(fd, chunk, 0, CHUNK, null); n > 0; n = fs.readSync(fd, chunk, 0, CHUNK, null)) {
      yield* lines.push(Buffer.from(chunk.subarray(0, n)));
    }
    yield* lines.end();
  } finally {
    fs.closeSync(fd);
  }
}

/** The lines of a file, streamed (`.gz` inflated as it is read). */
export async function* fileLinesAsync(file: string): AsyncGenerator<[string, number]> {
  const lines = new LineSplitter();
  let stream: NodeJS.ReadableStream = fs.createReadStream(file, { highWaterMark: CHUNK });
  if (file.endsWith(".gz")) stream = stream.pipe(zlib.createGunzip({ chunkSize: CHUNK }));
  for await (const chunk of stream) yield* lines.push(chunk as Buffer);
  yield* lines.end();
}

function message(file: string, line: string, lineNo: number, receivedAtMs: number): RawMessage | undefined {
  if (line.length === 0 || BLANK.test(line)) return undefined;
  return { data: line, origin: `file:${file}:${lineNo}`, receivedAtMs };
}

/** One file's messages, synchronously (a Beam flatMap over the seed of file paths). */
export function* readNdjsonFile(file: string): Generator<RawMessage> {
  const now = Date.now();
  for (const [line, n] of fileLines(file)) {
    const m = message(file, line, n, now);
    if (m) yield m;
  }
}

/** The files' messages as batches of at most `batchSize`, streamed. */
export async function* readNdjsonBatches(files: readonly string[], batchSize: number): AsyncGenerator<RawMessage[]> {
  let batch: RawMessage[] = [];
  for (const file of files) {
    const now = Date.now();
    for await (const [line, n] of fileLinesAsync(file)) {
      const m = message(file, line, n, now);
      if (!m) continue;
      batch.push(m);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
