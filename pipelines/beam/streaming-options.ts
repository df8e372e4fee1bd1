/**
 * The options of the Dataflow jobs, validated once before a graph is built:
 * what the pipeline itself needs (where to read, where to write, windows,
 * shards) and what Dataflow needs to run it (workers, image, locations).
 * A bad option fails here with the option's name and what to do, never later
 * on a worker.
 */
import { z } from "zod";

const projectId = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a GCP project id (6-30 lower-case letters, digits, hyphens)");
const bucket = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, "must be a bucket name without gs:// (e.g. ecom-prod-bronze)");
const prefix = z.string().regex(/^[A-Za-z0-9._=-]+(\/[A-Za-z0-9._=-]+)*$/, "must be an object prefix without leading or trailing slashes");
const gsUri = z.string().regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/.*)?$/, "must be a gs://bucket/path URI");
const dataset = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/, "must be a BigQuery dataset id (letters, digits, underscores)");
const subscriptionPath = z
  .string()
  .regex(
    /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/,
    "must be a full subscription path: projects/<project>/subscriptions/<name>",
  );

export const streamingOptionsSchema = z
  .object({
    project: projectId,
    /** Dataflow region, e.g. europe-west1. */
    region: z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, "must be a Dataflow region such as europe-west1"),
    /** Dataflow job name; batch names in BigQuery start with it, so keep it across updates. */
    jobName: z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be lower-case letters, digits and hyphens, starting with a letter"),
    subscription: subscriptionPath,
    bronzeBucket: bucket,
    bronzePrefix: prefix.default("bronze"),
    stagingBucket: bucket,
    stagingPrefix: prefix.default("staging"),
    /** gs://bucket/prefix holding token-keys.json, and kek.json unless kmsKey is given. */
    keysUri: gsUri,
    /** The Cloud KMS key wrapping the subject keys (projects/P/locations/L/keyRings/R/cryptoKeys/K); unset: the bundle's kek.json. */
    kmsKey: z
      .string()
      .regex(
        /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/,
        "must be a Cloud KMS key name projects/P/locations/L/keyRings/R/cryptoKeys/K",
      )
      .optional(),
    /** Free text inspected by the built-in rules, or by Cloud DLP too (one request per commit batch). */
    textInspector: z.enum(["builtin", "dlp"], { error: "must be one of: builtin, dlp" }).default("builtin"),
    /** With textInspector dlp: the project DLP runs in (default: project) and its location (default global). */
    dlpProject: projectId.optional(),
    dlpLocation: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be global or a region like europe-west1")
      .optional(),
    bigqueryLocation: z.string().min(2).default("EU"),
    silverDataset: dataset.default("silver"),
    opsDataset: dataset.default("ops"),
    stagingDataset: dataset.default("ops_staging"),
    windowSeconds: z.coerce.number().int().min(10, "must be at least 10 s (each window is one BigQuery transaction per shard)").max(600).default(60),
    commitShards: z.coerce.number().int().min(1).max(256).default(48),
  })
  .strict();

export type StreamingOptions = z.infer<typeof streamingOptionsSchema>;

/** The rule across two job options, declared once for every schema that carries them (the `ecom deploy` flags too). */
export const workerBounds = {
  check: (o: { numWorkers: number; maxNumWorkers: number }): boolean => o.maxNumWorkers >= o.numWorkers,
  message: "maxNumWorkers must be >= numWorkers",
  path: ["maxNumWorkers"],
};

export const dataflowJobOptionsSchema = z
  .object({
    /** gs:// prefix for temporary files of the job. */
    tempLocation: gsUri,
    /** gs:// prefix the job's artifacts are staged to. */
    stagingLocation: gsUri,
    /** The TypeScript SDK worker image (infra/dataflow/worker.Dockerfile), in Artifact Registry. */
    sdkContainerImage: z
      .string()
      .regex(
        /^[a-z0-9.-]+(:\d+)?\/[^\s:]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/,
        "must be an image reference such as europe-west1-docker.pkg.dev/p/ecom/worker:1.2.0",
      ),
    serviceAccountEmail: z.string().email("must be the worker service account's e-mail"),
    machineType: z
      .string()
      .regex(/^[a-z0-9]+-[a-z]+(-[0-9]+)?$/, "must be a Compute Engine machine type such as n2-standard-4")
      .default("n2-standard-4"),
    /** Sized for the 100 K events/s peak: docs/deploying.md. */
    numWorkers: z.coerce.number().int().min(1).max(1000).default(6),
    maxNumWorkers: z.coerce.number().int().min(1).max(1000).default(16),
    subnetwork: z
      .string()
      .regex(
        /^(https:\/\/www\.googleapis\.com\/compute\/v1\/)?(projects\/[^/]+\/)?regions\/[a-z0-9-]+\/subnetworks\/[a-z0-9-]+$/,
        "must be regions/<region>/subnetworks/<name> (optionally after projects/<project>/)",
      )
      .optional(),
    usePublicIps: z.boolean().default(false),
    /** Replace a running job of the same name in place (keeps its state and unacked messages). */
    update: z.boolean().default(false),
    /** Old step name -> new step name, for an update that renames steps. */
    transformNameMapping: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine(workerBounds.check, { message: workerBounds.message, path: workerBounds.path });

export type DataflowJobOptions = z.infer<typeof dataflowJobOptionsSchema>;

export class OptionsError extends Error {}

function parseWith<T>(schema: z.ZodType<T>, what: string, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const name = i.path.join(".") || "(options)";
    if (i.code === "unrecognized_keys") return `  ${i.keys.join(", ")}: not an option of the ${what}`;
    if (i.code === "invalid_type" && i.input === undefined) return `  ${name}: required`;
    return `  ${name}: ${i.message}`;
  });
  return fail(`invalid ${what} options:\n${lines.join("\n")}`);
}

function fail(message: string): never {
  throw new OptionsError(message);
}

export function parseStreamingOptions(raw: Record<string, unknown>): StreamingOptions {
  if ("topic" in raw) {
    fail(
      "invalid streaming pipeline options:\n  topic: read from a subscription, not a topic. A topic read makes a new subscription per job,\n" +
        "  so whatever is published while a job is drained and replaced is lost. Create the subscription once (infra/) and pass subscription.",
    );
  }
  return parseWith(streamingOptionsSchema, "streaming pipeline", raw);
}

export function parseDataflowJobOptions(raw: Record<string, unknown>): DataflowJobOptions {
  return parseWith(dataflowJobOptionsSchema, "Dataflow job", raw);
}
