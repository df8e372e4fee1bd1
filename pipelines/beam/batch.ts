/**
 * The Beam batch ingest pipeline: NDJSON files, or a range of Bronze
 * partitions, through the same element steps as every other executor, into
 * a sink (the local data dir on the DirectRunner; GCS + BigQuery on
 * Dataflow for backfills).
 *
 * Steps:
 *  1. ListInputFiles / ListBronzeFiles   a small seed: the file names (never the events: create() is quadratic)
 *  2. ReadNdjsonLines / ReadBronzeRecords  each file read lazily inside the pipeline
 *  3. Decode, Validate                     the step list of pipelines/ingest-steps.ts; dead letters a tagged output
 *  4. CollectDeadLetters                   dead letters of every step in one collection
 *  5. WriteSuccessfulRecords, WriteFailedRecords
 *                                          the sink: dedupe within the batch and against the dedupe store,
 *                                          project, commit exactly once (the executor's commit)
 */
import { beam } from "./sdk.js";
import type { RawMessage } from "../../transforms/types.js";
import { type IngestSink, applyElementSteps } from "./apply-steps.js";
import type { BronzeReadContext } from "../../sources/bronze.js";
import { readBronzeFile, readNdjsonFile } from "./file-source.js";

export type BatchSource = { files: readonly string[]; bronze?: never } | { bronze: BronzeReadContext & { names: readonly string[] }; files?: never };

export function batchIngestPipeline(source: BatchSource, sink: IngestSink): (root: beam.Root) => void {
  if (source.files && source.bronze) throw new TypeError("give a batch source either files or bronze, not both");
  if (!source.files && !source.bronze) throw new TypeError("a batch source needs files or bronze");
  return (root) => {
    let messages: beam.PCollection<RawMessage>;
    if (source.files) {
      messages = root
        .apply(beam.withName("ListInputFiles", beam.create([...source.files], false)))
        .apply(beam.withName("ReadNdjsonLines", (files: beam.PCollection<string>) => files.flatMap(readNdjsonFile)));
    } else {
      const { names, ...ctx } = source.bronze;
      messages = root
        .apply(beam.withName("ListBronzeFiles", beam.create([...names], false)))
        .apply(beam.withName("ReadBronzeRecords", (files: beam.PCollection<string>) => files.flatMap(readBronzeFile, ctx)));
    }
    const { valid, deadLetters } = applyElementSteps(messages);
    sink.writeSuccessful(valid);
    sink.writeFailed(deadLetters);
  };
}
