/**
 * Which keys a store belongs to. A store records, in `ops.key_fingerprints`,
 * a fingerprint of the KEK and of each token key it was written with: an
 * HMAC-SHA-256 of a fixed label under the key, truncated to 128 bits, from
 * which the key cannot be recovered.
 *
 * Guarantees: a data dir opened with a KEK or token key other than the
 * recorded ones stops before anything is written or acked, with an error
 * that names the file that differs. A store from before fingerprints (none
 * recorded) is accepted only if the KEK unwraps its oldest and newest stored
 * subject keys; its fingerprints are then recorded. A token key added to
 * token-keys.json (a rotation) is recorded beside the old ones; a recorded
 * one that is missing or changed is refused.
 */
import { createHmac } from "node:crypto";
import path from "node:path";
import { type KeyMaterial, KEK_FILE, KeyError, TOKEN_KEYS_FILE } from "./local-keys.js";
import type { Queryable } from "../duckdb/store.js";
import { unwrapKey } from "./subject-keys.js";

const LABEL = "ecom-stream key fingerprint v1";

export function keyFingerprint(key: Buffer): string {
  return createHmac("sha256", key).update(LABEL).digest("hex").slice(0, 32);
}

interface Fingerprint {
  key_file: string;
  key_id: string;
  fingerprint: string;
}

function current(keys: KeyMaterial): Fingerprint[] {
  return [
    { key_file: KEK_FILE, key_id: keys.kek.id, fingerprint: keyFingerprint(keys.kek.key) },
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
export async function checkStoreKeys(store: Queryable, keys: KeyMaterial, keysDir: string): Promise<void> {
  const tables = await opsTables(store);
  const recorded = tables.has("key_fingerprints")
    ? ((await store.query(`SELECT key_file, key_id, fingerprint FROM ops.key_fingerprints`)) as unknown as Fingerprint[])
    : [];
  const kek = recorded.filter((r) => r.key_file === KEK_FILE);
  for (const r of kek) {
    if (r.key_id !== keys.kek.id) throw differs(keysDir, KEK_FILE, `its key id is "${keys.kek.id}", the store's is "${r.key_id}"`, KEK_CONSEQUENCE);
    if (r.fingerprint !== keyFingerprint(keys.kek.key)) throw differs(keysDir, KEK_FILE, "its fingerprint differs from the recorded one", KEK_CONSEQUENCE);
  }
  for (const r of recorded.filter((x) => x.key_file === TOKEN_KEYS_FILE)) {
    const k = keys.tokenKeys.get(r.key_id);
    if (!k) throw differs(keysDir, TOKEN_KEYS_FILE, `it has no token key "${r.key_id}"`, TOKEN_CONSEQUENCE);
    if (keyFingerprint(k.secret) !== r.fingerprint) {
      throw differs(keysDir, TOKEN_KEYS_FILE, `token key "${r.key_id}" differs from the recorded one`, TOKEN_CONSEQUENCE);
    }
  }
  if (kek.length === 0 && tables.has("subject_keys")) {
    // No KEK recorded yet: the stored subject keys are the only witness of the store's KEK.
    const rows = await store.query(
      `(SELECT to_base64(wrapped_key) AS w FROM ops.subject_keys ORDER BY created_at, kid LIMIT 1)
       UNION ALL (SELECT to_base64(wrapped_key) AS w FROM ops.subject_keys ORDER BY created_at DESC, kid DESC LIMIT 1)`,
    );
    for (const r of rows) {
      try {
        unwrapKey(Buffer.from(String(r.w), "base64"), keys.kek);
      } catch {
        throw differs(keysDir, KEK_FILE, "it cannot unwrap the subject keys stored in ops.subject_keys", KEK_CONSEQUENCE);
      }
    }
  }
}

/** Records the fingerprints of the current keys that are not recorded yet (after `checkStoreKeys` accepted them). */
export async function recordStoreKeys(store: Queryable, keys: KeyMaterial): Promise<void> {
  for (const f of current(keys)) {
    await store.query(`INSERT INTO ops.key_fingerprints VALUES ($file, $id, $fp, now()::TIMESTAMP) ON CONFLICT DO NOTHING`, {
      file: f.key_file,
      id: f.key_id,
      fp: f.fingerprint,
    });
  }
}
