/**
 * `ecom deploy`: the streaming ingest pipeline to Dataflow, from options
 * already validated against the pipeline's contract
 * (pipelines/beam/streaming-options.ts). Submission goes through the
 * TypeScript SDK's Dataflow runner (which starts the Python job service of
 * apache-beam[gcp]; the Pub/Sub read is expanded by the Java expansion
 * service). The plan is what would be submitted, graph included, with a
 * stand-in for the Pub/Sub read, so it needs neither service. The Flex
 * Template launcher runs this same job through the same command.
 */
import { beam } from "../pipelines/beam/sdk.js";
import type { DataflowJobOptions, StreamingOptions } from "../pipelines/beam/streaming-options.js";
import { streamingIngestPipeline } from "../pipelines/beam/streaming.js";
import { buildGraph, dataflowPipelineOptions, submitStreaming, transformNames } from "../pipelines/beam/submit.js";
import { allBigQueryDdl } from "../sinks/bigquery/ddl.js";

/** The Beam service whose jar or address `expansionService` overrides. */
export const GCP_EXPANSION_TARGET = "sdks:java:io:google-cloud-platform:expansion-service:shadowJar";

export interface Deployment {
  streaming: StreamingOptions;
  job: DataflowJobOptions;
  /** Path of the Beam GCP expansion-service jar, or host:port of a running one (default: downloaded by the SDK). */
  expansionService?: string;
}

/** The BigQuery DDL of the datasets and tables the job writes. */
export function deploymentDdl({ streaming: s }: Deployment): string[] {
  return allBigQueryDdl({ project: s.project, silver: s.silverDataset, ops: s.opsDataset, staging: s.stagingDataset });
}

/** What `submitDeployment` would submit: the pipeline options, the read, and the top-level steps of the graph. */
export async function deploymentPlan(d: Deployment) {
  const standIn = { read: async (root: beam.Root) => root.apply(beam.withName("ReadPubSubSubscription", beam.create([], false))) };
  const steps = transformNames(await buildGraph(streamingIngestPipeline(d.streaming, standIn))).filter((n) => !n.includes("/"));
  return {
    submit: "TypeScript SDK dataflowRunner -> python -m apache_beam.runners.dataflow.dataflow_job_service -> Dataflow",
    read: { subscription: d.streaming.subscription, idAttribute: "event_id", expansionService: d.expansionService ?? `Maven jar for ${GCP_EXPANSION_TARGET}` },
    pipelineOptions: dataflowPipelineOptions(d.streaming, d.job),
    streamingOptions: d.streaming,
    steps,
  };
}

/**
 * The SDK reads its service overrides from BEAM_SERVICE_OVERRIDES (JSON);
 * this is the value with the expansion service added, for the caller (the
 * CLI edge) to set before `submitDeployment`.
 */
export function serviceOverrides(current: string | undefined, expansionService: string): string {
  const overrides = JSON.parse(current ?? "{}") as Record<string, string>;
  return JSON.stringify({ ...overrides, [GCP_EXPANSION_TARGET]: expansionService });
}

export async function submitDeployment(d: Deployment): Promise<void> {
  await submitStreaming(d.streaming, d.job);
}
