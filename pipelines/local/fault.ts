/** The fault-injection hook of the crash tests: SIGKILL this process at a named commit step of the n-th batch. */
import { FAULT_POINTS, type FaultPoint } from "../commit.js";

export function faultHook(at: string | undefined, batch = 1): ((p: FaultPoint) => void) | undefined {
  if (!at) return undefined;
  if (!(FAULT_POINTS as readonly string[]).includes(at)) throw new RangeError(`ECOM_FAULT_AT must be one of ${FAULT_POINTS.join(", ")}`);
  const counts = new Map<FaultPoint, number>();
  return (point) => {
    const n = (counts.get(point) ?? 0) + 1;
    counts.set(point, n);
    if (point === at && n === batch) process.kill(process.pid, "SIGKILL");
  };
}
