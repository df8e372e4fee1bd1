/**
 * The key-store role on BigQuery: several Dataflow workers can meet a new
 * person at the same moment, so a new data key is stored at once,
 * insert-if-absent, and the stored winner is what every worker uses (a key
 * stored by a batch that then failed is harmless: it encrypts nothing
 * until a batch that commits uses it). Keys are cached per worker; the KEK
 * wraps and unwraps whole batches of keys at a time.
 */
import { randomBytes } from "node:crypto";
import type { SubjectKey } from "../../transforms/protect.js";
import { type KeyWrapper, unwrapStoredKeys } from "../keys/subject-keys.js";
import type { KeyStore, ResolvedKeys } from "../roles.js";
import type { BigQueryStore } from "./store.js";

export class BigQueryKeyStore implements KeyStore {
  private readonly cache = new Map<string, SubjectKey>();

  constructor(
    private readonly store: BigQueryStore,
    private readonly kek: KeyWrapper,
  ) {}

  async resolve(kids: readonly string[]): Promise<ResolvedKeys> {
    const keys = new Map<string, SubjectKey>();
    const missing = [...new Set(kids)].filter((kid) => {
      const k = this.cache.get(kid);
      if (k) keys.set(kid, k);
      return !k;
    });
    const remember = (stored: Map<string, Buffer>) => {
      for (const [kid, key] of stored) {
        const k: SubjectKey = { kid, key };
        this.cache.set(kid, k);
        keys.set(kid, k);
      }
    };
    remember(await unwrapStoredKeys(this.store, missing, this.kek));
    const fresh = missing.filter((kid) => !keys.has(kid));
    if (fresh.length) {
      const wrapped = await this.kek.wrapAll(fresh.map(() => randomBytes(32)));
      await this.store.insertSubjectKeysIfAbsent(fresh.map((kid, i) => ({ kid, wrappedKey: wrapped[i]!, kekId: this.kek.id })));
      // Another worker may have stored its key for the same person first: use the stored one.
      remember(await unwrapStoredKeys(this.store, fresh, this.kek));
    }
    return { keys, created: [] };
  }

  committed(): void {}
}
