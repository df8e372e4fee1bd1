/** Fixtures for integration tests: generated NDJSON files, temp data dirs, and readers for what the runner wrote. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { type GeneratedMessage, takeMessages } from "../../sources/dev/generator/index.js";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ecom-${prefix}-`));
}

export const START = new Date("2026-11-20T08:00:00Z");

export function generated(count: number, seed = 11, fractions = { duplicateFraction: 0.05, invalidFraction: 0.03 }): GeneratedMessage[] {
  return takeMessages({ seed, ratePerSecond: 200, startTime: START, ...fractions }, count);
}

export function writeNdjson(file: string, messages: readonly GeneratedMessage[]): string {
  const text = messages.map((m) => m.data).join("\n") + "\n";
  fs.writeFileSync(file, file.endsWith(".gz") ? zlib.gzipSync(text) : text);
  return file;
}

/** What the generator says should land: distinct valid event ids (with their types), distinct invalid bodies. */
export function expected(messages: readonly GeneratedMessage[]) {
  const validIds = new Set<string>();
  const invalidBodies = new Set<string>();
  const byType = new Map<string, number>();
  for (const m of messages) {
    if (m.kind === "invalid") invalidBodies.add(m.data);
    else if (m.kind === "valid") {
      const id = m.eventId!.toLowerCase();
      if (validIds.has(id)) continue;
      validIds.add(id);
      const t = JSON.parse(m.data).event_type as string;
      byType.set(t, (byType.get(t) ?? 0) + 1);
    }
  }
  return { validIds, invalidBodies, byType, read: messages.length };
}

function walkFiles(dir: string, pick: (name: string) => boolean, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, pick, out);
    else if (pick(e.name)) out.push(p);
  }
  return out;
}

/** Every line of every Bronze file in place, parsed. */
export function bronzeRecords(dataDir: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of walkFiles(path.join(dataDir, "bronze"), (n) => n.endsWith(".ndjson.gz") && !n.startsWith("."))) {
    for (const line of zlib.gunzipSync(fs.readFileSync(p)).toString("utf8").split("\n")) if (line) out.push(JSON.parse(line));
  }
  return out;
}

/** Temporary Bronze files left behind (there must be none after a run or a recovery). */
export function tempFiles(dataDir: string): string[] {
  return walkFiles(path.join(dataDir, "bronze"), (n) => n.endsWith(".tmp"));
}
