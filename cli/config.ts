/**
 * The one configuration of every `ecom` command: flags over environment over
 * defaults, validated once here and passed down as a typed object. Nothing
 * below cli/ reads process.env.
 */
import { z } from "zod";

export const configSchema = z.object({
  dataDir: z.string().min(1).default("./data"),
  projectId: z.string().regex(/^[a-z][a-z0-9-]{4,29}$/, "must be a GCP project id like ecom-local").default("ecom-local"),
  topic: z.string().regex(/^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/, "must start with a letter and be at least 3 characters").default("events"),
  subscription: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/, "must start with a letter and be at least 3 characters")
    .default("events-ingest"),
  /** host:port of a running emulator; unset = `ecom start` starts its own. */
  emulatorHost: z.string().regex(/^[^:]+:\d+$/, "must be host:port").optional(),
  batchSize: z.coerce.number().int().min(1).max(200_000).default(20_000),
  batchWaitMs: z.coerce.number().int().min(10).max(60_000).default(500),
  maxStreams: z.coerce.number().int().min(1).max(64).default(8),
  /** Worker threads for parse/validate/tokenize/encrypt; 0 (default) = all in the main thread. On 2 cores they help bulk loads a little and hurt streaming latency (README, Benchmarks). */
  parseThreads: z.coerce.number().int().min(0).max(16).default(0),
  rate: z.coerce.number().positive().max(1_000_000).default(2_000),
  seed: z.coerce.number().int().default(42),
  duplicates: z.coerce.number().min(0).max(0.9).default(0.01),
  invalid: z.coerce.number().min(0).max(0.9).default(0.005),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Test hook: kill the process at this point of the batch commit (see FAULT_POINTS). */
  faultAt: z.string().optional(),
  /** With faultAt: the batch number (1-based, this process) at which to die. */
  faultBatch: z.coerce.number().int().min(1).default(1),
});

export type Config = z.infer<typeof configSchema>;

const ENV: Record<string, keyof Config> = {
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
  ECOM_FAULT_AT: "faultAt",
  ECOM_FAULT_BATCH: "faultBatch",
};

/** Builds the config from the environment and the command's flags (flags win). */
export function loadConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Config {
  return parseOptions(configSchema, flags, env);
}

/**
 * A command's options: the shared config extended with the command's own
 * fields (one zod schema per command, `configSchema.extend({...})`), from
 * its flags over the environment over defaults, validated once. Every
 * problem is listed, each under its flag's name.
 */
export function parseOptions<S extends z.ZodObject>(schema: S, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined && env[name] !== "" && key in schema.shape) raw[key] = env[name];
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k in schema.shape) raw[k] = v;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${flagName(i.path.map(String).join(".")) || "(options)"}: ${i.message}`);
    throw new UsageError(`invalid options:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** `sourceDataDir` -> `--source-data-dir`; the positional `paths` -> `<paths>`. */
export function flagName(key: string): string {
  if (key === "paths") return "<paths>";
  return key ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : "";
}

/** A UTC date, YYYY-MM-DD, that exists. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD (UTC)")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s, "must be a date YYYY-MM-DD (UTC) that is in the calendar");

export class UsageError extends Error {}
