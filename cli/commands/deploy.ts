/**
 * `ecom deploy`: builds the Dataflow job options from the validated config
 * (cli/config.ts for the project and subscription, the schema below for the
 * deployment fields) and submits the streaming pipeline through the
 * TypeScript SDK's Dataflow runner (which starts the Python job service of
 * apache-beam[gcp]; the Pub/Sub read is expanded by the Java expansion
 * service). `--dry-run` prints what would be submitted, graph included,
 * and submits nothing. The Flex Template launcher runs this same command.
 */
import type { Command } from "commander";
import { z } from "zod";
import { allBigQueryDdl } from "../../sinks/bigquery/ddl.js";
import { OptionsError, parseDataflowJobOptions, parseStreamingOptions } from "../../pipelines/beam/streaming-options.js";
import { buildGraph, dataflowPipelineOptions, submitStreaming, transformNames } from "../../pipelines/beam/submit.js";
import { streamingIngestPipeline } from "../../pipelines/beam/streaming.js";
import { beam } from "../../pipelines/beam/sdk.js";
import { UsageError, loadConfig } from "../config.js";

/** Deployment fields beyond cli/config.ts: flags over ECOM_DATAFLOW_* environment. */
const deployConfigSchema = z.object({
  region: z.string().optional(),
  jobName: z.string().default("ecom-ingest"),
  bronzeBucket: z.string().optional(),
  stagingBucket: z.string().optional(),
  keysUri: z.string().optional(),
  tempLocation: z.string().optional(),
  stagingLocation: z.string().optional(),
  sdkContainerImage: z.string().optional(),
  serviceAccount: z.string().optional(),
  machineType: z.string().optional(),
  numWorkers: z.string().optional(),
  maxNumWorkers: z.string().optional(),
  subnetwork: z.string().optional(),
  bigqueryLocation: z.string().optional(),
  windowSeconds: z.string().optional(),
  commitShards: z.string().optional(),
  update: z.boolean().default(false),
  /** Path of the Beam GCP expansion-service jar, or host:port of a running one (default: downloaded by the SDK). */
  expansionService: z.string().optional(),
});

const ENV: Record<string, keyof z.infer<typeof deployConfigSchema>> = {
  ECOM_DATAFLOW_REGION: "region",
  ECOM_DATAFLOW_JOB_NAME: "jobName",
  ECOM_DATAFLOW_BRONZE_BUCKET: "bronzeBucket",
  ECOM_DATAFLOW_STAGING_BUCKET: "stagingBucket",
  ECOM_DATAFLOW_KEYS_URI: "keysUri",
  ECOM_DATAFLOW_TEMP_LOCATION: "tempLocation",
  ECOM_DATAFLOW_STAGING_LOCATION: "stagingLocation",
  ECOM_DATAFLOW_WORKER_IMAGE: "sdkContainerImage",
  ECOM_DATAFLOW_SERVICE_ACCOUNT: "serviceAccount",
  ECOM_DATAFLOW_EXPANSION_SERVICE: "expansionService",
};

const GCP_EXPANSION_TARGET = "sdks:java:io:google-cloud-platform:expansion-service:shadowJar";

function subscriptionPath(project: string, subscription: string): string {
  return subscription.startsWith("projects/") ? subscription : `projects/${project}/subscriptions/${subscription}`;
}

/** The streaming and Dataflow options of a deployment, validated (UsageError with every problem on failure). */
export function deploymentFromFlags(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(flags, env);
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) if (env[name]) raw[key] = env[name];
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k in deployConfigSchema.shape) raw[k] = v;
  const d = deployConfigSchema.parse(raw);
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  // Both option sets are checked before failing, so one run lists every problem.
  const problems: string[] = [];
  const collect = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof OptionsError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
    const streaming = collect(() => parseStreamingOptions(
      defined({
        project: config.projectId,
        region: d.region,
        jobName: d.jobName,
        subscription: subscriptionPath(config.projectId, config.subscription),
        bronzeBucket: d.bronzeBucket,
        stagingBucket: d.stagingBucket ?? d.bronzeBucket,
        keysUri: d.keysUri,
        bigqueryLocation: d.bigqueryLocation,
        windowSeconds: d.windowSeconds,
        commitShards: d.commitShards,
      }),
    ));
    const job = collect(() => parseDataflowJobOptions(
      defined({
        tempLocation: d.tempLocation,
        stagingLocation: d.stagingLocation,
        sdkContainerImage: d.sdkContainerImage,
        serviceAccountEmail: d.serviceAccount,
        machineType: d.machineType,
        numWorkers: d.numWorkers,
        maxNumWorkers: d.maxNumWorkers,
        subnetwork: d.subnetwork,
        update: d.update,
      }),
    ));
  if (!streaming || !job) throw new UsageError(problems.join("\n"));
  return { streaming, job, expansionService: d.expansionService };
}

export function deployCommand(program: Command): void {
  program
    .command("deploy")
    .description("Submit the streaming ingest pipeline to Dataflow (see docs/deploying.md); --dry-run prints what it would submit")
    .option("--region <region>", "Dataflow region, e.g. europe-west1 (env ECOM_DATAFLOW_REGION)")
    .option("--job-name <name>", "Dataflow job name; keep it across updates", "ecom-ingest")
    .option("--subscription <name>", "Pub/Sub subscription (name or projects/<p>/subscriptions/<name>)")
    .option("--project-id <id>", "GCP project")
    .option("--bronze-bucket <bucket>", "bucket of Bronze objects (env ECOM_DATAFLOW_BRONZE_BUCKET)")
    .option("--staging-bucket <bucket>", "bucket of BigQuery load staging objects (default: the Bronze bucket)")
    .option("--keys-uri <gs-uri>", "gs://bucket/prefix with token-keys.json and kek.json (env ECOM_DATAFLOW_KEYS_URI)")
    .option("--temp-location <gs-uri>", "gs:// prefix for the job's temporary files")
    .option("--staging-location <gs-uri>", "gs:// prefix for the job's staged artifacts")
    .option("--sdk-container-image <image>", "the TypeScript worker image (infra/dataflow/worker.Dockerfile)")
    .option("--service-account <email>", "worker service account")
    .option("--machine-type <type>", "worker machine type", undefined)
    .option("--num-workers <n>", "initial workers")
    .option("--max-num-workers <n>", "autoscaling ceiling")
    .option("--subnetwork <url>", "regions/<r>/subnetworks/<name>")
    .option("--bigquery-location <loc>", "BigQuery location of the datasets (default EU)")
    .option("--window-seconds <s>", "commit window length (default 60)")
    .option("--commit-shards <n>", "commit batches per window (default 48)")
    .option("--update", "replace the running job of the same name in place")
    .option("--expansion-service <jar|host:port>", "Beam GCP expansion service jar or address (env ECOM_DATAFLOW_EXPANSION_SERVICE)")
    .option("--print-ddl", "print the BigQuery DDL of the tables the job writes, then exit")
    .option("--dry-run", "print the job options and the graph; submit nothing")
    .action(async (flags: Record<string, unknown>) => {
      const { streaming, job, expansionService } = deploymentFromFlags(flags);
      if (flags.printDdl) {
        const ddl = allBigQueryDdl({ project: streaming.project, silver: streaming.silverDataset, ops: streaming.opsDataset, staging: streaming.stagingDataset });
        process.stdout.write(ddl.map((s) => `${s};\n`).join("\n"));
        return;
      }
      const pipelineOptions = dataflowPipelineOptions(streaming, job);
      if (flags.dryRun) {
        // The graph with a stand-in for the Pub/Sub read, which needs the Java expansion service.
        const standIn = {
          read: async (root: beam.Root) => root.apply(beam.withName("ReadPubSubSubscription", beam.create([], false))),
        };
        const steps = transformNames(await buildGraph(streamingIngestPipeline(streaming, standIn))).filter((n) => !n.includes("/"));
        const plan = {
          submit: "TypeScript SDK dataflowRunner -> python -m apache_beam.runners.dataflow.dataflow_job_service -> Dataflow",
          read: { subscription: streaming.subscription, idAttribute: "event_id", expansionService: expansionService ?? `Maven jar for ${GCP_EXPANSION_TARGET}` },
          pipelineOptions,
          streamingOptions: streaming,
          steps,
        };
        process.stdout.write(JSON.stringify(plan, null, 2) + "\n");
        return;
      }
      if (expansionService) {
        // The SDK reads its service overrides from the environment; this is the CLI edge that sets it.
        const overrides = JSON.parse(process.env.BEAM_SERVICE_OVERRIDES ?? "{}") as Record<string, string>;
        process.env.BEAM_SERVICE_OVERRIDES = JSON.stringify({ ...overrides, [GCP_EXPANSION_TARGET]: expansionService });
      }
      await submitStreaming(streaming, job);
      process.stdout.write(`submitted Dataflow job ${streaming.jobName} in ${streaming.project}/${streaming.region}\n`);
    });
}
