/**
 * The local Bronze folder by date partition, for retention: which
 * `event_type=<t>/dt=<YYYY-MM-DD>` folders lie before a day, with their
 * files and bytes, and removing them whole. Nothing outside
 * `<data-dir>/bronze/` is ever listed or removed.
 */
import fs from "node:fs";
import path from "node:path";
import { isPartFile } from "../../schemas/bronze.js";
import { dataDirPaths } from "./data-dir.js";

export interface BronzePartition {
  /** `event_type=<t>/dt=<YYYY-MM-DD>`, relative to the Bronze root. */
  partition: string;
  eventType: string;
  date: string;
  files: number;
  bytes: number;
}

const TYPE_DIR = /^event_type=([a-z0-9_]+)$/;
const DATE_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;

function dirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

function filesUnder(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = filesUnder(p);
      files += sub.files;
      bytes += sub.bytes;
    } else if (isPartFile(e.name)) {
      files++;
      bytes += fs.statSync(p).size;
    }
  }
  return { files, bytes };
}

/** The Bronze date partitions of a data dir dated before `day` (YYYY-MM-DD), sorted by date then type. */
export function bronzePartitionsBefore(dataDir: string, day: string): BronzePartition[] {
  const root = dataDirPaths(dataDir).bronze;
  const out: BronzePartition[] = [];
  for (const typeDir of dirs(root)) {
    const eventType = TYPE_DIR.exec(typeDir)?.[1];
    if (!eventType) continue;
    for (const dateDir of dirs(path.join(root, typeDir))) {
      const date = DATE_DIR.exec(dateDir)?.[1];
      if (!date || date >= day) continue;
      out.push({ partition: `${typeDir}/${dateDir}`, eventType, date, ...filesUnder(path.join(root, typeDir, dateDir)) });
    }
  }
  return out.sort((a, b) => (a.date === b.date ? a.eventType.localeCompare(b.eventType) : a.date < b.date ? -1 : 1));
}

/** Removes the partitions' folders (a folder already gone is fine: a second run, or a run cut short). */
export function removeBronzePartitions(dataDir: string, partitions: readonly BronzePartition[]): void {
  const root = dataDirPaths(dataDir).bronze;
  for (const p of partitions) {
    if (!TYPE_DIR.test(p.partition.split("/")[0]!) || !DATE_DIR.test(p.partition.split("/")[1] ?? "")) {
      throw new Error(`not a Bronze date partition: ${p.partition}`);
    }
    fs.rmSync(path.join(root, p.partition), { recursive: true, force: true });
  }
}
