/**
 * NDJSON files and folders (`.ndjson`, `.ndjson.gz`, `.jsonl`), one event per
 * line, read as a stream in batches. Blank lines are skipped; every other line
 * becomes one message, whatever it holds (bad lines become dead letters
 * downstream, never silently dropped).
 */
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import zlib from "node:zlib";
import type { RawMessage } from "../transforms/types.js";

const EXTENSIONS = [".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz"];

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

/** Reads the files' lines as batches of at most `batchSize` messages. */
export async function* readNdjsonBatches(files: readonly string[], batchSize: number): AsyncGenerator<RawMessage[]> {
  let batch: RawMessage[] = [];
  for (const file of files) {
    let stream: NodeJS.ReadableStream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    if (file.endsWith(".gz")) stream = stream.pipe(zlib.createGunzip({ chunkSize: 1 << 20 }));
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    let lineNo = 0;
    const now = Date.now();
    for await (const line of lines) {
      lineNo++;
      if (line.length === 0 || /^\s*$/.test(line)) continue;
      batch.push({ data: line, origin: `file:${file}:${lineNo}`, receivedAtMs: now });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
