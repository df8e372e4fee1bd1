/**
 * `ecom keys rewrap`: after the KEK's rotation (a new primary version of the
 * Cloud KMS key), every stored subject key wrapped again by the current
 * version, in one transaction of `ops.subject_keys`. The data keys
 * themselves do not change, so Bronze is not rewritten, and the older KMS
 * versions can then be disabled and destroyed.
 *
 * One KMS Encrypt per chunk of keys and one Decrypt per intermediate key
 * they were wrapped under (sinks/keys/kms.ts), never one per key. Fail
 * closed: a key that cannot be unwrapped or wrapped rolls the whole
 * transaction back; nothing is half rewrapped.
 */
import type { EngineServices } from "../pipelines/local/engine.js";
import { openRuntime } from "./runtime.js";

/** Keys per KMS Encrypt. */
const CHUNK = 20_000;

export interface RewrapSummary {
  /** Subject keys rewrapped. */
  keys: number;
  /** The KEK they are wrapped by (the KMS key name, or the local key id). */
  kek: string;
  /** Keys per KMS key version, before and after (empty for the local key file). */
  before: Record<string, number>;
  after: Record<string, number>;
}

export async function rewrapKeysJob(dataDir: string, services: EngineServices = {}): Promise<RewrapSummary> {
  const engine = await openRuntime(dataDir, { ...services, gold: false });
  try {
    const kek = engine.kek;
    const stored = await engine.store.query("SELECT kid, to_base64(wrapped_key) AS w FROM ops.subject_keys ORDER BY kid");
    const kids = stored.map((r) => String(r.kid));
    const blobs = stored.map((r) => Buffer.from(String(r.w), "base64"));
    const tally = (list: readonly Buffer[]) => {
      const out: Record<string, number> = {};
      for (const b of list) {
        const v = kek.versionOf(b);
        if (v !== undefined) out[v] = (out[v] ?? 0) + 1;
      }
      return out;
    };
    const rewrapped: Buffer[] = [];
    for (let i = 0; i < blobs.length; i += CHUNK) rewrapped.push(...(await kek.rewrapAll(blobs.slice(i, i + CHUNK))));
    const tx = await engine.store.begin();
    try {
      for (let i = 0; i < kids.length; i += CHUNK) {
        await tx.run(
          `UPDATE ops.subject_keys SET wrapped_key = from_base64(u.w), kek_id = $kek
           FROM (SELECT unnest($kids::VARCHAR[]) AS kid, unnest($ws::VARCHAR[]) AS w) u WHERE ops.subject_keys.kid = u.kid`,
          { kek: kek.id, kids: kids.slice(i, i + CHUNK), ws: rewrapped.slice(i, i + CHUNK).map((b) => b.toString("base64")) },
        );
      }
      await tx.commit();
    } catch (err) {
      await tx.rollback().catch(() => undefined);
      throw err;
    }
    return { keys: kids.length, kek: kek.id, before: tally(blobs), after: tally(rewrapped) };
  } finally {
    engine.close();
  }
}
