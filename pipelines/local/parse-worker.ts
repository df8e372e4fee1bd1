/**
 * A worker thread of the parallel parser: runs steps 1-3a (parse, validate,
 * scrub, in-chunk dedupe) on a chunk of messages, keeps the parsed events,
 * and runs step 4 (project) on the fresh ones when the commit thread has
 * claimed their ids and resolved their keys. Pure CPU; no IO.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createRegistry } from "../../schemas/registry.js";
import type { SubjectKey } from "../../transforms/protect.js";
import type { TokenKey } from "../../transforms/tokenize.js";
import type { RawMessage } from "../../transforms/types.js";
import { elementSteps } from "../ingest-steps.js";
import { type ParsedBatch, parseBatch } from "../parse-batch.js";
import type { ToWorker } from "./parallel-parse.js";

const init = workerData as { tokenKey: { id: string; secret: Uint8Array } };
const tokenKey: TokenKey = { id: init.tokenKey.id, secret: Buffer.from(init.tokenKey.secret) };
const steps = elementSteps(createRegistry());
const pending = new Map<number, ParsedBatch>();

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

parentPort!.on("message", (msg: ToWorker) => {
  try {
    if (msg.op === "parse") {
      const messages: RawMessage[] = msg.messages.map((m) => (typeof m.data === "string" ? m : { ...m, data: asBuffer(m.data) }));
      const parsed = parseBatch(messages, steps, tokenKey);
      pending.set(msg.chunk, parsed);
      const { read, dead, inBatchDuplicates, validByType, pansRedacted, parseMs, ids, domains, dates, refs } = parsed;
      parentPort!.postMessage({ chunk: msg.chunk, read, dead, inBatchDuplicates, validByType, pansRedacted, parseMs, ids, domains, dates, refs });
    } else if (msg.op === "project") {
      const parsed = pending.get(msg.chunk);
      pending.delete(msg.chunk);
      if (!parsed) throw new Error(`parse worker: chunk ${msg.chunk} is not held`);
      const keys = new Map<string, SubjectKey | null>(msg.keys.map(([ref, kid, key]) => [ref, kid === null ? null : { kid, key: asBuffer(key!) }]));
      const p = parsed.project(new Set(msg.fresh), keys, msg.ingestedAtMs) as Exclude<ReturnType<ParsedBatch["project"]>, Promise<unknown>>;
      parentPort!.postMessage({
        chunk: msg.chunk,
        rows: [...p.rows],
        partitions: [...p.partitions],
        drift: p.drift,
        minT: p.minT,
        maxT: p.maxT,
        dead: p.dead,
        failedIds: p.failedIds,
      });
    } else {
      pending.delete(msg.chunk);
    }
  } catch (err) {
    parentPort!.postMessage({ chunk: msg.chunk, error: (err as Error).stack ?? String(err) });
  }
});
