/**
 * Which keys a store belongs to. A store records, in `ops.key_fingerprints`,
 * a fingerprint of the KEK and of each token key it was written with: an
 * HMAC-SHA-256 of a fixed label under the key, truncated to 128 bits, from
 * which the key cannot be recovered. A Cloud KMS KEK never leaves KMS: its
 * row (key_file `cloud-kms`) names the CryptoKey, and the fingerprint is
 * that of its name.
 *
 * Guarantees: a data dir opened with a KEK or token key other than the
 * recorded ones stops before anything is written or acked, with an error
 * that names the file that differs. A store from before fingerprints (none
 * recorded) is accepted only if the KEK unwraps its oldest and newest stored
 * subject keys; its fingerprints are then recorded. A store whose KEK is
 * the local file refuses a KMS key and the other way round, naming the one
 * it was written with. A token key added to
 * token-keys.json (a rotation) is recorded beside the old ones; a recorded
 * one that is missing or changed is refused.
 */
import { createHmac } from "node:crypto";
import path from "node:path";
import type { Queryable } from "../duckdb/store.js";
import { KEK_FILE, type KeyMaterial, KeyError, TOKEN_KEYS_FILE } from "./local-keys.js";
import type { KeyWrapper } from "./subject-keys.js";

const LABEL = "ecom-stream key fingerprint v1";

export function keyFingerprint(key: Buffer): string {
  return createHmac("sha256", key).update(LABEL).digest("hex").slice(0, 32);
}

interface Fingerprint {
  key_file: string;
  key_id: string;
  fingerprint: string;
}

/** The KEK as the store records it: the key file kek.json or a Cloud KMS key (KMS_KEY_FILE), its id and fingerprint. */
export interface KekRecord {
  keyFile: string;
  keyId: string;
  fingerprint: string;
}

/** The key_file of a Cloud KMS KEK's row in ops.key_fingerprints. */
export const KMS_KEY_FILE = "cloud-kms";

/** A KEK the store can check: what it records, and the wrapper that must unwrap the store's subject keys. */
export type CheckedKek = Pick<KeyWrapper, "unwrapAll"> & { readonly record: KekRecord };

function current(keys: KeyMaterial, kek: KekRecord): Fingerprint[] {
  return [
    { key_file: kek.keyFile, key_id: kek.keyId, fingerprint: kek.fingerprint },
    ...[...keys.tokenKeys.values()].map((k) => ({ key_file: TOKEN_KEYS_FILE, key_id: k.id, fingerprint: keyFingerprint(k.secret) })),
  ];
}

async function opsTables(store: Queryable): Promise<Set<string>> {
  const rows = await store.query(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'ops'`);
  return new Set(rows.map((r) => String(r.table_name)));
}

function differs(keysDir: string, file: string, why: string, consequence: string): KeyError {
  return new KeyError(
    `the key file ${path.join(keysDir, file)} is not the one this data dir's store was written with (${why}). Nothing was written.\n` +
      `  Restore ${file} from your key backup of ${keysDir}; do not go on with this one: ${consequence}.`,
  );
}

const KEK_CONSEQUENCE = "it cannot unwrap the stored subject keys, and subject keys it wrapped could not be unwrapped once the right KEK is back";
const TOKEN_CONSEQUENCE = "tokens made with it would no longer join the stored ones";

/**
 * Refuses keys that are not the store's (see the header). Reads only:
 * run it before anything is written to the store. Works on a store opened
 * read-only, and on one whose ops tables do not exist yet (a new store).
 */
export async function checkStoreKeys(store: Queryable, keys: KeyMaterial, kek: CheckedKek, keysDir: string): Promise<void> {
  const tables = await opsTables(store);
  const recorded = tables.has("key_fingerprints")
    ? ((await store.query(`SELECT key_file, key_id, fingerprint FROM ops.key_fingerprints`)) as unknown as Fingerprint[])
    : [];
  const now = kek.record;
  const keks = recorded.filter((r) => r.key_file !== TOKEN_KEYS_FILE);
  for (const r of keks) {
    if (r.key_file !== now.keyFile || (r.key_file === KMS_KEY_FILE && r.key_id !== now.keyId)) throw otherKek(keysDir, r, now);
    if (r.key_id !== now.keyId) throw differs(keysDir, KEK_FILE, `its key id is "${now.keyId}", the store's is "${r.key_id}"`, KEK_CONSEQUENCE);
    if (r.fingerprint !== now.fingerprint) throw differs(keysDir, KEK_FILE, "its fingerprint differs from the recorded one", KEK_CONSEQUENCE);
  }
  for (const r of recorded.filter((x) => x.key_file === TOKEN_KEYS_FILE)) {
    const k = keys.tokenKeys.get(r.key_id);
    if (!k) throw differs(keysDir, TOKEN_KEYS_FILE, `it has no token key "${r.key_id}"`, TOKEN_CONSEQUENCE);
    if (keyFingerprint(k.secret) !== r.fingerprint) {
      throw differs(keysDir, TOKEN_KEYS_FILE, `token key "${r.key_id}" differs from the recorded one`, TOKEN_CONSEQUENCE);
    }
  }
  if (keks.length === 0 && tables.has("subject_keys")) {
    // No KEK recorded yet: the stored subject keys are the only witness of the store's KEK.
    const rows = await store.query(
      `(SELECT to_base64(wrapped_key) AS w FROM ops.subject_keys ORDER BY created_at, kid LIMIT 1)
       UNION ALL (SELECT to_base64(wrapped_key) AS w FROM ops.subject_keys ORDER BY created_at DESC, kid DESC LIMIT 1)`,
    );
    for (const r of rows) {
      try {
        await kek.unwrapAll([Buffer.from(String(r.w), "base64")]);
      } catch {
        if (now.keyFile === KMS_KEY_FILE) {
          throw new KeyError(
            `the Cloud KMS key ${now.keyId} cannot unwrap the subject keys stored in ops.subject_keys. Nothing was written.\n` +
              `  Give the KEK this store was written with (--kms-key, or the local ${KEK_FILE} when none is given).`,
          );
        }
        throw differs(keysDir, KEK_FILE, "it cannot unwrap the subject keys stored in ops.subject_keys", KEK_CONSEQUENCE);
      }
    }
  }
}

/** The store's KEK is of another kind, or another Cloud KMS key, than the one given. */
function otherKek(keysDir: string, recorded: Fingerprint, now: KekRecord): KeyError {
  const was = recorded.key_file === KMS_KEY_FILE ? `the Cloud KMS key ${recorded.key_id}` : `the local key file ${path.join(keysDir, KEK_FILE)}`;
  const given = now.keyFile === KMS_KEY_FILE ? `the Cloud KMS key ${now.keyId}` : `the local key file ${path.join(keysDir, KEK_FILE)}`;
  const todo =
    recorded.key_file === KMS_KEY_FILE
      ? `Give that key: --kms-key ${recorded.key_id} (or ECOM_KMS_KEY).`
      : "Go on without --kms-key (and ECOM_KMS_KEY unset). A data dir keeps the KEK it was made with; to use Cloud KMS, start a new data dir with --kms-key.";
  return new KeyError(`this data dir's subject keys are wrapped by ${was}, not by ${given}. Nothing was written.\n  ${todo}`);
}

/** Records the fingerprints of the current keys that are not recorded yet (after `checkStoreKeys` accepted them). */
export async function recordStoreKeys(store: Queryable, keys: KeyMaterial, kek: KekRecord): Promise<void> {
  for (const f of current(keys, kek)) {
    await store.query(`INSERT INTO ops.key_fingerprints VALUES ($file, $id, $fp, now()::TIMESTAMP) ON CONFLICT DO NOTHING`, {
      file: f.key_file,
      id: f.key_id,
      fp: f.fingerprint,
    });
  }
}
