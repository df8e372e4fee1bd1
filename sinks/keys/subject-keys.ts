/**
 * Per-subject data keys for Bronze. Keys are created on first use, wrapped by
 * the KEK and stored in `ops.subject_keys` in the same transaction as the batch
 * that first uses them; until that commit they are not cached, so a rolled
 * back batch never leaves ciphertext under a key that was not saved.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { SubjectKey } from "../../transforms/protect.js";
import type { DuckDbStore, NewSubjectKey } from "../duckdb/store.js";
import type { Kek } from "./local-keys.js";

export function wrapKey(key: Buffer, kek: Kek): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", kek.key, iv);
  return Buffer.concat([iv, c.update(key), c.final(), c.getAuthTag()]);
}

export function unwrapKey(wrapped: Buffer, kek: Kek): Buffer {
  const iv = wrapped.subarray(0, 12);
  const tag = wrapped.subarray(wrapped.length - 16);
  const d = createDecipheriv("aes-256-gcm", kek.key, iv);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(wrapped.subarray(12, wrapped.length - 16)), d.final()]);
}

/** What can run a query with parameters (a DuckDbStore, or a read-only connection on another data dir). */
export interface Queryable {
  query(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
}

/** The stored data keys of `kids`, unwrapped; an erased subject's kid is missing from the result. */
export async function loadStoredKeys(store: Queryable, kids: readonly string[], kek: Kek): Promise<Map<string, Buffer>> {
  const keys = new Map<string, Buffer>();
  if (kids.length === 0) return keys;
  const rows = await store.query(
    `SELECT kid, to_base64(wrapped_key) AS w FROM ops.subject_keys WHERE kid IN (SELECT unnest(string_split($kids, ',')))`,
    { kids: kids.join(",") }, // kids are base64url: no commas
  );
  for (const r of rows) keys.set(r.kid as string, unwrapKey(Buffer.from(r.w as string, "base64"), kek));
  return keys;
}

export interface ResolvedKeys {
  keys: Map<string, SubjectKey>;
  created: NewSubjectKey[];
}

export class SubjectKeyring {
  private readonly cache = new Map<string, SubjectKey>();
  private pending = new Map<string, SubjectKey>();

  constructor(private readonly kek: Kek) {}

  /** The keys for `kids`, loading stored ones and creating missing ones (not cached until `committed`). */
  async resolve(kids: Iterable<string>, store: DuckDbStore): Promise<ResolvedKeys> {
    const keys = new Map<string, SubjectKey>();
    const missing: string[] = [];
    for (const kid of kids) {
      if (keys.has(kid)) continue;
      const k = this.cache.get(kid);
      if (k) keys.set(kid, k);
      else missing.push(kid);
    }
    for (const [kid, stored] of await loadStoredKeys(store, missing, this.kek)) {
      const key: SubjectKey = { kid, key: stored };
      this.cache.set(kid, key);
      keys.set(kid, key);
    }
    const created: NewSubjectKey[] = [];
    this.pending = new Map();
    for (const kid of missing) {
      if (keys.has(kid)) continue;
      const key: SubjectKey = { kid, key: randomBytes(32) };
      keys.set(kid, key);
      this.pending.set(kid, key);
      created.push({ kid, wrappedKey: wrapKey(key.key, this.kek), kekId: this.kek.id });
    }
    return { keys, created };
  }

  /** Called after the batch that created keys committed. */
  committed(): void {
    for (const [kid, key] of this.pending) this.cache.set(kid, key);
    this.pending = new Map();
  }

  forget(kid: string): void {
    this.cache.delete(kid);
  }
}
