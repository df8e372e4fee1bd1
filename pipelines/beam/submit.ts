/**
 * Building and submitting the Dataflow job. `buildGraph` constructs the
 * pipeline proto without running or submitting anything (the dry run and the
 * construction tests); `submitStreaming` hands the same graph to the
 * TypeScript SDK's Dataflow runner, which starts the Python job service
 * (`apache_beam.runners.dataflow.dataflow_job_service`, from
 * `pip install apache-beam[gcp]`) and returns once Dataflow has the job.
 */
import type { Root } from "apache-beam";
import type { Pipeline } from "apache-beam/proto/beam_runner_api";
import { PipelineResult, Runner, TYPESCRIPT_DEFAULT_ENVIRONMENT_URN, asDockerEnvironment, dataflowRunner } from "./sdk.js";
import type { DataflowJobOptions, StreamingOptions } from "./streaming-options.js";
import { type MessageSource, streamingIngestPipeline } from "./streaming.js";

class CapturingRunner extends Runner {
  proto: Pipeline | undefined;
  override async runPipeline(pipeline: Pipeline): Promise<PipelineResult> {
    this.proto = pipeline;
    return new PipelineResult();
  }
}

/** The pipeline proto of `fn`, built as a runner would receive it; nothing runs. */
export async function buildGraph(fn: (root: Root) => unknown): Promise<Pipeline> {
  const runner = new CapturingRunner();
  await runner.runAsync(fn as never);
  return runner.proto!;
}

/** Every transform's full name (`Parent/Child`), in graph order. */
export function transformNames(proto: Pipeline): string[] {
  return Object.values(proto.components!.transforms).map((t) => t.uniqueName);
}

/** The options the Dataflow runner is given (the SDK turns them into beam:option:<snake_case>:v1). */
export function dataflowPipelineOptions(s: StreamingOptions, j: DataflowJobOptions): Record<string, unknown> {
  return {
    project: s.project,
    region: s.region,
    jobName: s.jobName,
    tempLocation: j.tempLocation,
    stagingLocation: j.stagingLocation,
    sdkContainerImage: j.sdkContainerImage,
    serviceAccountEmail: j.serviceAccountEmail,
    machineType: j.machineType,
    numWorkers: j.numWorkers,
    maxNumWorkers: j.maxNumWorkers,
    autoscalingAlgorithm: "THROUGHPUT_BASED",
    enableStreamingEngine: true,
    streaming: true,
    usePublicIps: j.usePublicIps,
    ...(j.subnetwork ? { subnetwork: j.subnetwork } : {}),
    ...(j.update ? { update: true } : {}),
    ...(j.transformNameMapping ? { transformNameMapping: JSON.stringify(j.transformNameMapping) } : {}),
  };
}

/**
 * Points every TypeScript environment of the graph at our worker image.
 *
 * Left as the SDK's default environment, the 2.49.0 portable runner stages
 * the code by running `npm pack` in the current directory and
 * `npm pack apache-beam@2_49_rc`, a dist-tag the registry does not have
 * (`npm view apache-beam dist-tags` lists only latest), so submission would
 * fail. The worker image (infra/dataflow/worker.Dockerfile) already holds
 * the exact build, so nothing needs staging.
 */
export function useWorkerImage(proto: Pipeline, image: string): Pipeline {
  for (const [id, env] of Object.entries(proto.components!.environments)) {
    if (env.urn === TYPESCRIPT_DEFAULT_ENVIRONMENT_URN) proto.components!.environments[id] = asDockerEnvironment(env, image);
  }
  return proto;
}

/** Submits the streaming job; resolves when Dataflow accepted it (it does not wait for the job to finish). */
export async function submitStreaming(s: StreamingOptions, j: DataflowJobOptions, source?: MessageSource): Promise<void> {
  const options = dataflowPipelineOptions(s, j);
  const proto = useWorkerImage(await buildGraph(streamingIngestPipeline(s, source)), j.sdkContainerImage);
  const runner = dataflowRunner(options as Parameters<typeof dataflowRunner>[0]);
  await runner.runPipeline(proto, options as never);
}
