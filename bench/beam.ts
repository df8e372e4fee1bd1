/**
 * Benchmark: events/s of the Beam batch pipeline on the DirectRunner over an
 * NDJSON file, end to end (read, Decode, Validate, commit into a fresh data
 * dir exactly as `ecom ingest --runner=beam` does). `npm run bench` calls
 * `benchBeam` on the same file as the local runner and reports the ratio.
 *
 * Standalone: node dist/bench/beam.js <file.ndjson> [--batch-size N] [--steps-only]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import { batchIngestPipeline } from "../pipelines/beam/batch.js";
import { ingestFilesJob } from "../jobs/ingest.js";
import { beam, directRunner, requireForSerialization } from "../pipelines/beam/sdk.js";
import { project, subjectRefOf } from "../pipelines/ingest-steps.js";
import type { SubjectKey } from "../transforms/protect.js";
import type { ValidEvent } from "../transforms/types.js";

export async function benchBeam(file: string, opts: { batchSize?: number } = {}): Promise<{ events_per_s: number; seconds: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ecom-bench-beam-"));
  try {
    const t0 = performance.now();
    const { counts: totals } = await ingestFilesJob([file], { dataDir, runner: "beam", batchSize: opts.batchSize ?? 20_000 });
    const seconds = (performance.now() - t0) / 1000;
    return { events_per_s: Math.round(totals.read / seconds), seconds: Number(seconds.toFixed(2)) };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const stepsSeen = { events: 0 };
const subjectKeys = new Map<string, SubjectKey>();
const tokenKey = { id: "bench", secret: randomBytes(32) };

/** A Dataflow worker's CPU work per valid event without its IO: subject key lookup (in memory), Silver row, Bronze line. */
export function projectAndDiscard(v: ValidEvent): void {
  const ref = subjectRefOf(v, tokenKey);
  let key: SubjectKey | undefined;
  if (ref !== undefined) {
    key = subjectKeys.get(ref);
    if (!key) subjectKeys.set(ref, (key = { kid: `k_${ref}`, key: randomBytes(32) }));
  }
  project(v, key, { tokenKey, ingestedAtMs: 0 });
  stepsSeen.events++;
}

export function discard(): void {
  stepsSeen.events++;
}

requireForSerialization("ecom-stream/dist/bench/beam.js", { projectAndDiscard, discard });

/**
 * Events/s of the element steps alone on one core (read, Decode, Validate,
 * project; no commit IO): the per-vCPU figure the Dataflow sizing rests on.
 */
export async function benchBeamSteps(file: string): Promise<{ events_per_s: number; seconds: number }> {
  stepsSeen.events = 0;
  const t0 = performance.now();
  await directRunner().run(
    batchIngestPipeline(
      { files: [file] },
      {
        writeSuccessful: (valid) => {
          valid.apply(beam.withName("ProjectAndDiscard", (pc: beam.PCollection<ValidEvent>) => pc.map(projectAndDiscard)));
        },
        writeFailed: (dead) => {
          dead.apply(beam.withName("Discard", (pc: beam.PCollection<unknown>) => pc.map(discard)));
        },
      },
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { events_per_s: Math.round(stepsSeen.events / seconds), seconds: Number(seconds.toFixed(2)) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node dist/bench/beam.js <file.ndjson> [--batch-size N] [--steps-only]\n");
    process.exit(2);
  }
  const i = process.argv.indexOf("--batch-size");
  const batchSize = i > 0 ? Number(process.argv[i + 1]) : undefined;
  if (process.argv.includes("--steps-only")) {
    process.stdout.write(JSON.stringify({ runner: "beam-direct", mode: "steps-only", file, ...(await benchBeamSteps(file)) }) + "\n");
  } else {
    process.stdout.write(JSON.stringify({ runner: "beam-direct", file, ...(await benchBeam(file, { batchSize })) }) + "\n");
  }
}
