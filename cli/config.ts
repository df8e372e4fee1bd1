/**
 * The options of every `ecom` command: flags over environment over
 * defaults, validated once here and passed down as typed objects. Each
 * command declares ONE zod schema (`configSchema.extend({...})` or, for
 * `deploy`, fields derived from the pipeline's own options), parsed by
 * `parseOptions`; every problem is reported under the flag (or environment
 * variable) it came from, saying what is allowed. Nothing below cli/ reads
 * process.env.
 */
import type { Command } from "commander";
import { z } from "zod";
import { FAULT_POINTS } from "../pipelines/commit.js";
import type { EngineServices } from "../pipelines/local/engine.js";
import type { KekSource } from "../sinks/keys/kek.js";
import { TEXT_INSPECTORS, type TextInspectorSource } from "../sinks/text-inspector.js";

// Field helpers. Each message says what is allowed; a failed check ends the field's checks
// (`abort`), so the command's cross-field rules only ever see valid values.

/** A whole number from `min` to `max` (flags arrive as text). */
export function wholeNumber(min: number, max?: number) {
  const message = `must be ${max === undefined ? `a whole number, at least ${min}` : `a whole number from ${min} to ${max}`}`;
  const n = z.coerce.number({ error: message }).int({ message, abort: true }).min(min, { message, abort: true });
  return max === undefined ? n : n.max(max, { message, abort: true });
}

/** A number greater than 0 and at most `max`. */
export function positiveNumber(max: number, what = "a number") {
  const message = `must be ${what} greater than 0 (at most ${max})`;
  return z.coerce.number({ error: message }).positive({ message, abort: true }).max(max, { message, abort: true });
}

/** A fraction from 0 to `max`. */
export function fraction(max: number) {
  const message = `must be a fraction from 0 to ${max}`;
  return z.coerce.number({ error: message }).min(0, { message, abort: true }).max(max, { message, abort: true });
}

/** One of a known set of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of: ${values.join(", ")}` });
}

/** A UTC date, YYYY-MM-DD, that exists. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date YYYY-MM-DD (UTC)", abort: true })
  .refine(
    (s) => {
      const ms = Date.parse(`${s}T00:00:00Z`);
      return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === s;
    },
    { message: "must be a date YYYY-MM-DD (UTC) that is in the calendar", abort: true },
  );

/** A point in time, as an ISO 8601 text (2026-11-25T00:00:00Z), read as a Date. */
export const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: "must be an ISO 8601 time like 2026-11-25T00:00:00Z", abort: true })
  .transform((s) => new Date(s));

/** Today's date, UTC, YYYY-MM-DD. */
export const todayUtc = (): string => new Date().toISOString().slice(0, 10);

const pubsubName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/, "must start with a letter and be at least 3 characters (letters, digits, . _ ~ + % -)");

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const configSchema = z.object({
  dataDir: z.string().min(1, "must be a folder path").default("./data"),
  projectId: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,29}$/, "must be a GCP project id like ecom-local")
    .default("ecom-local"),
  topic: pubsubName.default("events"),
  subscription: pubsubName.default("events-ingest"),
  /** host:port of a running emulator; unset = `ecom start` starts its own. */
  emulatorHost: z
    .string()
    .regex(/^[^:]+:\d+$/, "must be host:port")
    .optional(),
  batchSize: wholeNumber(1, 200_000).default(20_000),
  batchWaitMs: wholeNumber(10, 60_000).default(500),
  maxStreams: wholeNumber(1, 64).default(8),
  /** Worker threads for parse/validate/tokenize/encrypt; 0 (default) = all in the main thread. On 2 cores they help bulk loads a little and hurt streaming latency (README, Benchmarks). */
  parseThreads: wholeNumber(0, 16).default(0),
  rate: positiveNumber(1_000_000).default(2_000),
  seed: z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").default(42),
  duplicates: fraction(0.9).default(0.01),
  invalid: fraction(0.9).default(0.005),
  logLevel: oneOf(LOG_LEVELS).default("info"),
  /** Test hook: kill the process at this point of the batch commit. */
  faultAt: oneOf(FAULT_POINTS).optional(),
  /** With faultAt: the batch number (1-based, this process) at which to die. */
  faultBatch: wholeNumber(1).default(1),
});

export type Config = z.infer<typeof configSchema>;

const hostPort = z.string().regex(/^[^:]+:\d+$/, "must be host:port");
const gcpProject = z.string().regex(/^[a-z][a-z0-9-]{4,29}$/, "must be a GCP project id like ecom-prod");

/** Where the key-encryption key is, for every command that opens the keys: a Cloud KMS key, or the data dir's kek.json when none is given. */
export const keyFields = {
  kmsKey: z
    .string()
    .regex(
      /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/,
      "must be a Cloud KMS key name projects/P/locations/L/keyRings/R/cryptoKeys/K",
    )
    .optional(),
  /** host:port of another KMS endpoint; plaintext when it is a loopback address (a local server speaking the KMS API). */
  kmsEndpoint: hostPort.optional(),
};

/** Which inspector reads free text, for every command that commits events: the built-in rules, or Cloud DLP once per batch on top. */
export const textInspectorFields = {
  textInspector: oneOf(TEXT_INSPECTORS).default("builtin"),
  dlpProject: gcpProject.optional(),
  dlpLocation: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, "must be global or a region like europe-west1")
    .optional(),
  dlpEndpoint: hostPort.optional(),
};

type ServiceOptions = { kmsKey?: string; kmsEndpoint?: string; textInspector?: string; dlpProject?: string; dlpLocation?: string; dlpEndpoint?: string };

/** The cross-field rules of keyFields and textInspectorFields (call from the command's superRefine). */
export function checkServiceOptions(o: ServiceOptions, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (o.kmsEndpoint !== undefined && o.kmsKey === undefined) issue("kmsEndpoint", "only applies with --kms-key");
  if (o.textInspector === "dlp" && o.dlpProject === undefined) issue("dlpProject", "--text-inspector dlp needs the GCP project DLP runs in");
  if (o.textInspector !== "dlp") {
    for (const k of ["dlpProject", "dlpLocation", "dlpEndpoint"] as const) if (o[k] !== undefined) issue(k, "only applies with --text-inspector dlp");
  }
}

/** The engine's KEK and text inspector from the parsed options. */
export function servicesOf(o: ServiceOptions): EngineServices {
  const kek: KekSource | undefined = o.kmsKey ? { kind: "kms", keyName: o.kmsKey, ...(o.kmsEndpoint ? { endpoint: o.kmsEndpoint } : {}) } : undefined;
  const textInspector: TextInspectorSource | undefined =
    o.textInspector === "dlp"
      ? { kind: "dlp", project: o.dlpProject!, ...(o.dlpLocation ? { location: o.dlpLocation } : {}), ...(o.dlpEndpoint ? { endpoint: o.dlpEndpoint } : {}) }
      : undefined;
  return { ...(kek ? { kek } : {}), ...(textInspector ? { textInspector } : {}) };
}

/** The flags of keyFields. */
export function keyFlags(cmd: Command): Command {
  return cmd
    .option(
      "--kms-key <name>",
      "Cloud KMS key wrapping the subject keys, projects/P/locations/L/keyRings/R/cryptoKeys/K (default: the data dir's keys/kek.json)",
    )
    .option("--kms-endpoint <host:port>", "another Cloud KMS endpoint (plaintext to a loopback address: a local server speaking the KMS API)");
}

/** The flags of textInspectorFields. */
export function textInspectorFlags(cmd: Command): Command {
  return cmd
    .option("--text-inspector <name>", "free-text inspector: builtin (default) or dlp (Cloud DLP, one request per batch)")
    .option("--dlp-project <id>", "with --text-inspector dlp: the GCP project DLP runs in")
    .option("--dlp-location <loc>", "with --text-inspector dlp: global (default) or a region")
    .option(
      "--dlp-endpoint <host:port>",
      "with --text-inspector dlp: another DLP endpoint (plaintext to a loopback address: a local server speaking the DLP API)",
    );
}

/** Environment variable -> option; an option is read from it only by the commands whose schema has it. */
const ENV: Record<string, string> = {
  ECOM_DATA_DIR: "dataDir",
  ECOM_PROJECT: "projectId",
  ECOM_TOPIC: "topic",
  ECOM_SUBSCRIPTION: "subscription",
  PUBSUB_EMULATOR_HOST: "emulatorHost",
  ECOM_BATCH_SIZE: "batchSize",
  ECOM_BATCH_WAIT_MS: "batchWaitMs",
  ECOM_MAX_STREAMS: "maxStreams",
  ECOM_PARSE_THREADS: "parseThreads",
  ECOM_LOG_LEVEL: "logLevel",
  ECOM_PORT: "port",
  ECOM_ALERT_WEBHOOK: "alertWebhook",
  ECOM_FAULT_AT: "faultAt",
  ECOM_FAULT_BATCH: "faultBatch",
  ECOM_KMS_KEY: "kmsKey",
  ECOM_KMS_ENDPOINT: "kmsEndpoint",
  ECOM_TEXT_INSPECTOR: "textInspector",
  ECOM_DLP_PROJECT: "dlpProject",
  ECOM_DLP_LOCATION: "dlpLocation",
  ECOM_DLP_ENDPOINT: "dlpEndpoint",
  // `ecom retention run`
  ECOM_SILVER_YEARS: "silverYears",
  // `ecom deploy`
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

/**
 * A command's options from its flags over the environment over defaults,
 * validated once by the command's schema. On failure a UsageError lists
 * every problem, one line each: `  --flag: what is allowed` (or the
 * environment variable's name when the value came from there).
 */
export function parseOptions<S extends z.ZodObject>(schema: S, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const keys = new Set(Object.keys(schema.shape));
  const raw: Record<string, unknown> = {};
  const fromEnv = new Map<string, string>();
  for (const [name, key] of Object.entries(ENV)) {
    if (env[name] === undefined || env[name] === "" || !keys.has(key)) continue;
    raw[key] = env[name];
    fromEnv.set(key, name);
  }
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || !keys.has(k)) continue;
    raw[k] = v;
    fromEnv.delete(k);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const key = i.path.length ? String(i.path[0]) : "";
    const where = fromEnv.get(key) ?? (flagName(key) || "(options)");
    if (i.code === "invalid_type" && key && raw[key] === undefined) {
      const envName = Object.entries(ENV).find(([, k]) => k === key)?.[0];
      return `  ${where}: required${envName ? ` (or set ${envName})` : ""}`;
    }
    return `  ${where}: ${i.message}`;
  });
  throw new UsageError(`invalid options:\n${[...new Set(lines)].join("\n")}`);
}

/** `sourceDataDir` -> `--source-data-dir`; the positional arguments -> `<paths>`, `<sql>`. */
function flagName(key: string): string {
  if (key === "paths" || key === "sql") return `<${key}>`;
  return key ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : "";
}

/** A problem with what the person typed: printed without a stack, exit code 2. */
export class UsageError extends Error {}
