/**
 * The Beam streaming ingest pipeline for Dataflow: Pub/Sub -> the same
 * element steps as every executor -> Bronze on GCS, Silver and dead letters
 * on BigQuery, exactly once per event_id.
 *
 * Steps:
 *  1. ReadPubSubSubscription   cross-language read (Java expansion service) with idAttribute=event_id:
 *                              Dataflow drops a redelivered or re-published copy of an event_id
 *                              within its dedupe window (10 minutes)
 *  2. ToRawMessage             PubsubMessage -> the RawMessage every step takes
 *  3. Decode, Validate         pipelines/ingest-steps.ts, dead letters a tagged output
 *  4. CollectDeadLetters
 *  5. CommitToBronzeAndSilver  fixed windows x commit shards; each group one exactly-once batch:
 *                              dedupe within it, claim against Silver, keys, project, Bronze temp
 *                              objects, BigQuery MERGE on event_id + manifest, finalize Bronze
 *  6. WriteFailedRecords       dead letters, same windows and shards, MERGE on dl_id
 */
import type { Root } from "apache-beam";
import { type IngestSink, applyElementSteps } from "./apply-steps.js";
import type { CloudSinkInit } from "./cloud-commit.js";
import { cloudSink } from "./cloud-sink.js";
import { beam } from "./sdk.js";
import { type PubsubMessageLike, toRawMessage } from "./step-fns.js";
import type { StreamingOptions } from "./streaming-options.js";

/** Where the messages come from: Pub/Sub in production; a test gives a stand-in that needs no expansion service. */
export interface MessageSource {
  read(root: Root): Promise<beam.PCollection<PubsubMessageLike>>;
}

/** The production read: the SDK's cross-language Pub/Sub read, deduplicating on the event_id attribute. */
export function pubsubSource(subscription: string): MessageSource {
  return {
    read: (root) =>
      root.applyAsync(beam.withName("ReadPubSubSubscription", beam.readFromPubSubWithAttributes({ subscription, idAttribute: "event_id" }))) as Promise<
        beam.PCollection<PubsubMessageLike>
      >,
  };
}

/** What each commit worker opens: the stores, the key bundle, the KEK and the text inspector of the job's options. */
export function cloudSinkInit(options: StreamingOptions): CloudSinkInit {
  return {
    project: options.project,
    location: options.bigqueryLocation,
    datasets: { project: options.project, silver: options.silverDataset, ops: options.opsDataset, staging: options.stagingDataset },
    bronze: { bucket: options.bronzeBucket, prefix: options.bronzePrefix },
    staging: { bucket: options.stagingBucket, prefix: options.stagingPrefix },
    keysUri: options.keysUri,
    ...(options.kmsKey ? { kek: { kind: "kms" as const, keyName: options.kmsKey } } : {}),
    ...(options.textInspector === "dlp"
      ? {
          textInspector: {
            kind: "dlp" as const,
            project: options.dlpProject ?? options.project,
            ...(options.dlpLocation ? { location: options.dlpLocation } : {}),
          },
        }
      : {}),
    origin: `pubsub:${options.subscription}`,
  };
}

export function streamingSink(options: StreamingOptions): IngestSink {
  return cloudSink({
    init: cloudSinkInit(options),
    shards: options.commitShards,
    windowSeconds: options.windowSeconds,
    runName: options.jobName,
  });
}

export function streamingIngestPipeline(
  options: StreamingOptions,
  source: MessageSource = pubsubSource(options.subscription),
  sink: IngestSink = streamingSink(options),
): (root: Root) => Promise<void> {
  return async (root) => {
    const pubsub = await source.read(root);
    const messages = pubsub.apply(
      beam.withName("ToRawMessage", (pc: beam.PCollection<PubsubMessageLike>) => pc.map(toRawMessage, { origin: `pubsub:${options.subscription}` })),
    );
    const { valid, deadLetters } = applyElementSteps(messages);
    sink.writeSuccessful(valid);
    sink.writeFailed(deadLetters);
  };
}
