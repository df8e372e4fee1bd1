import { DlpInspectionError } from "../../sinks/dlp/errors.js";
import { publicErrorMessage, redactDuckDbMessage } from "../../sinks/duckdb/read-only.js";
import { KeyError } from "../../sinks/keys/local-keys.js";

/**
 * A failure of a service every message of a batch needs (the KEK, Cloud KMS,
 * Cloud DLP): no message is to blame, so none is isolated or set aside as a
 * dead letter; the whole batch waits unacked and is retried.
 */
export function isServiceFailure(err: unknown): boolean {
  return err instanceof KeyError || err instanceof DlpInspectionError;
}

/** A failed batch's cause, said so that an operator knows what to do. The batch was rolled back either way. */
export function describeBatchError(err: unknown, dataDir: string): string {
  const e = err as NodeJS.ErrnoException & { message?: string };
  const msg = e?.message ?? String(err);
  if (e?.code === "ENOSPC" || /no space left on device/i.test(msg)) {
    return `the disk holding ${dataDir} is full. Free space there; the batch was rolled back and its messages will be redelivered.`;
  }
  if (e?.code === "EACCES" || e?.code === "EPERM" || e?.code === "EROFS") {
    return `cannot write under ${dataDir} (${e.code}). Fix the permissions or the mount; the batch was rolled back and its messages will be redelivered.`;
  }
  if (e?.code === "ENOTDIR" || e?.code === "EEXIST") {
    return `a file is in the way of a Bronze folder under ${dataDir}/bronze (${e.code}: ${e.path ?? "?"}). Move it; the batch was rolled back and its messages will be redelivered.`;
  }
  if (/duckdb|catalog error|constraint|transaction/i.test(msg) || e?.constructor?.name?.startsWith("DuckDB")) {
    const text = /^[A-Za-z ]+ Error: /.test(msg) ? redactDuckDbMessage(msg, { phase: "run" }) : msg; // a DuckDB error can echo row values
    return `DuckDB failed: ${text}. The batch was rolled back and its messages will be redelivered; if it repeats, check ${dataDir}/ecom.duckdb (disk, permissions) and the log above.`;
  }
  return `${publicErrorMessage(err instanceof Error ? err : new Error(msg))}. The batch was rolled back and its messages will be redelivered.`;
}
