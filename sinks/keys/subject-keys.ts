/**
 * Per-person data keys for Bronze, in the key-store role (sinks/roles.ts).
 * A key is made on first use under a random kid, filed under the person's
 * reference, wrapped by the key-encryption key and stored by the batch that
 * first uses it; until that batch commits it is not cached, so a
 * rolled-back batch never leaves ciphertext under a key that was not saved.
 * A person's key rotates (a new one for new data every 90 days by default);
 * the old ones stay for the data they encrypted, and erasure destroys all. The KEK wraps and unwraps whole batches of keys at once
 * (one call per batch, never per event), so a remote KEK fits the same role.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { NewSubjectKey, StoredSubjectKey } from "../../schemas/ops.js";
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

/** A new key id: random, so nothing in Bronze can be traced back to the person it belongs to. */
export function newKid(): string {
  return `k_${randomBytes(16).toString("base64url")}`;
}

/** How long a person's data key encrypts new data before a new one is made (the old ones stay, for the data they encrypted). */
export const DEFAULT_KEY_ROTATION_MS = 90 * 86_400_000;

export interface KeyringOptions {
  /** How long a person's key encrypts new data before a new one is made. */
  rotationMs?: number;
  /**
   * How long a cached key is trusted before the store is asked again: an
   * erasure run by another process (on BigQuery) reaches this one within it.
   * Unbounded by default: locally one process owns the store, and an erasure
   * it runs calls `forget`.
   */
  cacheTtlMs?: number;
  now?: () => number;
}

interface Cached {
  /** null: the person is erased (permanent). */
  key: SubjectKey | null;
  createdAtMs: number;
  cachedAtMs: number;
}

export class SubjectKeyring implements KeyStore {
  /** The current key of each person, by reference, with when it was made (or null for an erased person). */
  private readonly cache = new Map<string, Cached>();
  private pending = new Map<string, Cached>();
  private readonly rotationMs: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;

  constructor(
    /** What wraps and unwraps the data keys (the KEK). */
    readonly kek: KeyWrapper,
    opts: KeyringOptions = {},
  ) {
    this.rotationMs = opts.rotationMs ?? DEFAULT_KEY_ROTATION_MS;
    this.cacheTtlMs = opts.cacheTtlMs ?? Infinity;
    this.now = opts.now ?? Date.now;
  }

  private current(entry: { createdAtMs: number } | undefined): boolean {
    return entry !== undefined && this.now() - entry.createdAtMs < this.rotationMs;
  }

  private usable(entry: Cached | undefined): entry is Cached {
    if (entry === undefined || this.now() - entry.cachedAtMs >= this.cacheTtlMs) return false;
    return entry.key === null || this.current(entry);
  }

  async resolve(refs: readonly string[], warehouse: WarehouseStore): Promise<ResolvedKeys> {
    const keys = new Map<string, SubjectKey | null>();
    let missing: string[] = [];
    for (const ref of new Set(refs)) {
      const c = this.cache.get(ref);
      if (this.usable(c)) keys.set(ref, c.key);
      else missing.push(ref);
    }
    const at = this.now();
    if (missing.length) {
      // Erased people first: they get no key, ever.
      const erased = await warehouse.erasedSubjects(missing);
      for (const ref of erased) {
        this.cache.set(ref, { key: null, createdAtMs: at, cachedAtMs: at });
        keys.set(ref, null);
      }
      missing = missing.filter((ref) => !erased.has(ref));
    }
    // The newest stored key of each, unless it is due for rotation.
    const newest = new Map<string, StoredSubjectKey>();
    for (const k of await warehouse.subjectKeysOf(missing)) {
      const n = newest.get(k.subjectRef);
      if (!n || k.createdAtMs > n.createdAtMs || (k.createdAtMs === n.createdAtMs && k.kid > n.kid)) newest.set(k.subjectRef, k);
    }
    const usable = [...newest.values()].filter((k) => this.current(k));
    const clear = await this.kek.unwrapAll(usable.map((k) => k.wrappedKey));
    usable.forEach((k, i) => {
      const entry = { key: { kid: k.kid, key: clear[i]! }, createdAtMs: k.createdAtMs, cachedAtMs: at };
      this.cache.set(k.subjectRef, entry);
      keys.set(k.subjectRef, entry.key);
    });
    const fresh = missing.filter((ref) => !keys.has(ref));
    const made = fresh.map((ref) => ({ ref, key: { kid: newKid(), key: randomBytes(32) } }));
    const wrapped = await this.kek.wrapAll(made.map((m) => m.key.key));
    this.pending = new Map(made.map((m) => [m.ref, { key: m.key, createdAtMs: at, cachedAtMs: at }]));
    for (const m of made) keys.set(m.ref, m.key);
    const created: NewSubjectKey[] = made.map((m, i) => ({ kid: m.key.kid, subjectRef: m.ref, wrappedKey: wrapped[i]!, kekId: this.kek.id }));
    return { keys, created };
  }

  committed(): void {
    for (const [ref, entry] of this.pending) this.cache.set(ref, entry);
    this.pending = new Map();
  }

  forget(refs: readonly string[]): void {
    for (const ref of refs) {
      this.cache.delete(ref);
      this.pending.delete(ref);
    }
  }
}
