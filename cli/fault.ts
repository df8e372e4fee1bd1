/** The crash tests' fault hook, from the validated config (ECOM_FAULT_AT, ECOM_FAULT_BATCH). */
import { faultHook as hook } from "../pipelines/local/fault.js";
import type { FaultPoint } from "../pipelines/commit.js";
import { type Config, UsageError } from "./config.js";

export function faultHook(config: Config): ((p: FaultPoint) => void) | undefined {
  try {
    return hook(config.faultAt, config.faultBatch);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
