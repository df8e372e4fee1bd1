/** The fault-injection hook of the crash tests: SIGKILL this process at a named commit step. */
import { FAULT_POINTS, type FaultPoint } from "../pipelines/local/process-batch.js";
import { type Config, UsageError } from "./config.js";

export function faultHook(config: Config): ((p: FaultPoint) => void) | undefined {
  if (!config.faultAt) return undefined;
  if (!(FAULT_POINTS as readonly string[]).includes(config.faultAt)) {
    throw new UsageError(`ECOM_FAULT_AT must be one of ${FAULT_POINTS.join(", ")}`);
  }
  const counts = new Map<FaultPoint, number>();
  return (point) => {
    const n = (counts.get(point) ?? 0) + 1;
    counts.set(point, n);
    if (point === config.faultAt && n === config.faultBatch) process.kill(process.pid, "SIGKILL");
  };
}
