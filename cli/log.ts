/** Structured logs (pino) to stderr: one line per batch, never per event, never a field value. */
import { pino, type Logger } from "pino";

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
export type { Logger };

/** A warning for the person at the terminal (a job's side effect that did not happen, e.g. its run not recorded). */
export function warn(message: string): void {
  process.stderr.write(`ecom: warning: ${message}\n`);
}
