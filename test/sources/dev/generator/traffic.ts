/** Shared traffic for the generator's tests: default options, and a per-file cache of generated runs. */
import { type GeneratedMessage, type GeneratorOptions, takeMessages } from "../../../../sources/dev/generator/index.js";
import type { EventType, Obj } from "./contract.js";

export const START = new Date("2025-03-01T08:00:00.000Z");
export const opts = (o: Partial<GeneratorOptions> = {}): GeneratorOptions => ({ seed: 42, ratePerSecond: 100, startTime: START, ...o });

export interface Ev {
  event_id: string;
  event_type: EventType;
  event_time: string;
  source: string;
  user_id?: string;
  payload: Obj;
}

export function parsedValid(msgs: GeneratedMessage[]): Ev[] {
  return msgs.filter((m) => m.kind === "valid").map((m) => JSON.parse(m.data) as Ev);
}

const cache = new Map<string, GeneratedMessage[]>();
export function take(o: GeneratorOptions, n: number): GeneratedMessage[] {
  const key = JSON.stringify(o) + "|" + n;
  let v = cache.get(key);
  if (!v) cache.set(key, (v = takeMessages(o, n)));
  return v;
}
