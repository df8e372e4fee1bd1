/**
 * Per-person data keys for Bronze, in the key-store role (sinks/roles.ts).
 * A key is made on first use, wrapped by the key-encryption key and stored
 * by the batch that first uses it; until that batch commits it is not
 * cached, so a rolled-back batch never leaves ciphertext under a key that
 * was not saved. The KEK wraps and unwraps whole batches of keys at once
 * (one call per batch, never per event), so a remote KEK fits the same role.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { NewSubjectKey } from "../../schemas/ops.js";
import type { SubjectKey } from "../../transforms/protect.js";
import type { KeyStore, ResolvedKeys, WarehouseStore } from "../roles.js";
import type { Kek } from "./local-keys.js";

/** The key-encryption key as the key store uses it: whole batches of data keys at a time. */
export interface KeyWrapper {
  readonly id: string;
  wrapAll(keys: readonly Buffer[]): Promise<Buffer[]>;
  unwrapAll(wrapped: readonly Buffer[]): Promise<Buffer[]>;
}

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

/** The local key file's KEK (AES-256-GCM key wrap). */
export function localKeyWrapper(kek: Kek): KeyWrapper {
  return {
    id: kek.id,
    wrapAll: async (keys) => keys.map((k) => wrapKey(k, kek)),
    unwrapAll: async (wrapped) => wrapped.map((w) => unwrapKey(w, kek)),
  };
}

/** The stored data keys of `kids`, unwrapped; an erased person's kid is missing. */
export async function unwrapStoredKeys(
  store: Pick<WarehouseStore, "storedSubjectKeys">,
  kids: readonly string[],
  kek: KeyWrapper,
): Promise<Map<string, Buffer>> {
  const stored = await store.storedSubjectKeys(kids);
  const ids = [...stored.keys()];
  const clear = await kek.unwrapAll(ids.map((k) => stored.get(k)!));
  return new Map(ids.map((kid, i) => [kid, clear[i]!]));
}

export class SubjectKeyring implements KeyStore {
  private readonly cache = new Map<string, SubjectKey>();
  private pending = new Map<string, SubjectKey>();

  constructor(private readonly kek: KeyWrapper) {}

  async resolve(kids: readonly string[], warehouse: WarehouseStore): Promise<ResolvedKeys> {
    const keys = new Map<string, SubjectKey>();
    const missing: string[] = [];
    for (const kid of kids) {
      if (keys.has(kid)) continue;
      const k = this.cache.get(kid);
      if (k) keys.set(kid, k);
      else missing.push(kid);
    }
    for (const [kid, key] of await unwrapStoredKeys(warehouse, missing, this.kek)) {
      const k: SubjectKey = { kid, key };
      this.cache.set(kid, k);
      keys.set(kid, k);
    }
    const fresh = missing.filter((kid) => !keys.has(kid));
    const made = fresh.map((kid) => ({ kid, key: randomBytes(32) }));
    const wrapped = await this.kek.wrapAll(made.map((k) => k.key));
    this.pending = new Map(made.map((k) => [k.kid, k]));
    const created: NewSubjectKey[] = made.map((k, i) => ({ kid: k.kid, wrappedKey: wrapped[i]!, kekId: this.kek.id }));
    for (const k of made) keys.set(k.kid, k);
    return { keys, created };
  }

  committed(): void {
    for (const [kid, key] of this.pending) this.cache.set(kid, key);
    this.pending = new Map();
  }
}
