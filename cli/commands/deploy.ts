/**
 * `ecom deploy`: parses the flags (and ECOM_DATAFLOW_* environment) into
 * the Dataflow job's options and calls the deploy job (jobs/deploy.ts):
 * `--print-ddl` prints the BigQuery DDL, `--dry-run` prints what would be
 * submitted, otherwise it submits. The flags' schema is made of the
 * pipeline's own option fields (pipelines/beam/streaming-options.ts), so a
 * flag is checked exactly as the pipeline checks that option. The Flex
 * Template launcher runs this same command.
 */
import type { Command } from "commander";
import { z } from "zod";
import { type Deployment, deploymentDdl, deploymentPlan, serviceOverrides, submitDeployment } from "../../jobs/deploy.js";
import {
  type DataflowJobOptions,
  type StreamingOptions,
  dataflowJobOptionsSchema,
  streamingOptionsSchema,
  workerBounds,
} from "../../pipelines/beam/streaming-options.js";
import { configSchema, parseOptions } from "../config.js";

// The pipeline's options under the flags' names: project <- --project-id (a short subscription name is
// completed with it), serviceAccountEmail <- --service-account, stagingBucket defaults to the Bronze bucket,
// jobName to ecom-ingest.
const { project, subscription: subscriptionPath, stagingBucket, jobName, ...streamingFields } = streamingOptionsSchema.shape;
const { serviceAccountEmail, ...jobFields } = dataflowJobOptionsSchema.shape;
const STREAMING_KEYS = Object.keys(streamingFields) as (keyof typeof streamingFields)[];
const JOB_KEYS = Object.keys(jobFields) as (keyof typeof jobFields)[];

export const deployOptions = z
  .object({
    projectId: configSchema.shape.projectId.pipe(project),
    subscription: z.union([configSchema.shape.subscription, subscriptionPath], {
      error: "must be a subscription name (a letter first, at least 3 characters) or projects/<project>/subscriptions/<name>",
    }),
    ...streamingFields,
    jobName: jobName.default("ecom-ingest"),
    stagingBucket: stagingBucket.optional(),
    ...jobFields,
    serviceAccount: serviceAccountEmail,
    expansionService: z.string().min(1, "must be a jar path or host:port").optional(),
    printDdl: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  })
  .refine(workerBounds.check, { message: workerBounds.message, path: workerBounds.path });

export type DeployOptions = z.output<typeof deployOptions>;

/** The job's options from the parsed flags. */
export function deploymentOf(o: DeployOptions): Deployment {
  const pick = <K extends keyof DeployOptions>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<DeployOptions, K>;
  const streaming: StreamingOptions = {
    ...pick(STREAMING_KEYS),
    project: o.projectId,
    jobName: o.jobName,
    subscription: o.subscription.startsWith("projects/") ? o.subscription : `projects/${o.projectId}/subscriptions/${o.subscription}`,
    stagingBucket: o.stagingBucket ?? o.bronzeBucket,
  };
  const job: DataflowJobOptions = { ...pick(JOB_KEYS), serviceAccountEmail: o.serviceAccount };
  return { streaming, job, expansionService: o.expansionService };
}

export function deployCommand(program: Command): void {
  program
    .command("deploy")
    .description("Submit the streaming ingest pipeline to Dataflow (see docs/deploying.md); --dry-run prints what it would submit")
    .option("--region <region>", "Dataflow region, e.g. europe-west1 (env ECOM_DATAFLOW_REGION)")
    .option("--job-name <name>", "Dataflow job name; keep it across updates (default ecom-ingest; env ECOM_DATAFLOW_JOB_NAME)")
    .option("--subscription <name>", "Pub/Sub subscription (name or projects/<p>/subscriptions/<name>)")
    .option("--project-id <id>", "GCP project")
    .option("--bronze-bucket <bucket>", "bucket of Bronze objects (env ECOM_DATAFLOW_BRONZE_BUCKET)")
    .option("--staging-bucket <bucket>", "bucket of BigQuery load staging objects (default: the Bronze bucket)")
    .option("--keys-uri <gs-uri>", "gs://bucket/prefix with token-keys.json, and kek.json unless --kms-key (env ECOM_DATAFLOW_KEYS_URI)")
    .option("--kms-key <name>", "Cloud KMS key wrapping the subject keys, projects/P/locations/L/keyRings/R/cryptoKeys/K (env ECOM_KMS_KEY)")
    .option("--text-inspector <name>", "free-text inspector: builtin (default) or dlp (Cloud DLP, one request per commit batch; env ECOM_TEXT_INSPECTOR)")
    .option("--dlp-project <id>", "with --text-inspector dlp: the project DLP runs in (default --project-id)")
    .option("--dlp-location <loc>", "with --text-inspector dlp: global (default) or a region")
    .option("--temp-location <gs-uri>", "gs:// prefix for the job's temporary files (env ECOM_DATAFLOW_TEMP_LOCATION)")
    .option("--staging-location <gs-uri>", "gs:// prefix for the job's staged artifacts (env ECOM_DATAFLOW_STAGING_LOCATION)")
    .option("--sdk-container-image <image>", "the TypeScript worker image (infra/dataflow/worker.Dockerfile; env ECOM_DATAFLOW_WORKER_IMAGE)")
    .option("--service-account <email>", "worker service account (env ECOM_DATAFLOW_SERVICE_ACCOUNT)")
    .option("--machine-type <type>", "worker machine type (default n2-standard-4)")
    .option("--num-workers <n>", "initial workers (default 6)")
    .option("--max-num-workers <n>", "autoscaling ceiling (default 16)")
    .option("--subnetwork <url>", "regions/<r>/subnetworks/<name>")
    .option("--bigquery-location <loc>", "BigQuery location of the datasets (default EU)")
    .option("--window-seconds <s>", "commit window length (default 60)")
    .option("--commit-shards <n>", "commit batches per window (default 48)")
    .option("--update", "replace the running job of the same name in place")
    .option("--expansion-service <jar|host:port>", "Beam GCP expansion service jar or address (env ECOM_DATAFLOW_EXPANSION_SERVICE)")
    .option("--print-ddl", "print the BigQuery DDL of the tables the job writes, then exit")
    .option("--dry-run", "print the job options and the graph; submit nothing")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(deployOptions, flags);
      const deployment = deploymentOf(o);
      if (o.printDdl) {
        process.stdout.write(
          deploymentDdl(deployment)
            .map((s) => `${s};\n`)
            .join("\n"),
        );
        return;
      }
      if (o.dryRun) {
        process.stdout.write(JSON.stringify(await deploymentPlan(deployment), null, 2) + "\n");
        return;
      }
      // The SDK reads its service overrides from the environment; this is the edge that sets it.
      if (o.expansionService) process.env.BEAM_SERVICE_OVERRIDES = serviceOverrides(process.env.BEAM_SERVICE_OVERRIDES, o.expansionService);
      await submitDeployment(deployment);
      process.stdout.write(`submitted Dataflow job ${deployment.streaming.jobName} in ${deployment.streaming.project}/${deployment.streaming.region}\n`);
    });
}
