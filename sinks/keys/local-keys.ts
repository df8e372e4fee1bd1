/**
 * Local key material, in `<data-dir>/keys/`: the token keys (HMAC, for Silver
 * tokens) and the key-encryption key that wraps every subject's data key. In
 * production the KEK is a Cloud KMS key and the token key a Secret Manager
 * secret; the files play their part here.
 *
 * Fail closed: a key file that exists but cannot be read or parsed is an
 * error, never a reason to write in clear or to mint a new key; so is a key
 * file or keys folder that other users could read or change (the error says
 * which chmod makes it private). New keys are made only for a data dir that
 * has no Silver store yet. Whether the keys are the ones a store was created
 * with is checked against the store (fingerprints.ts).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { TokenKey } from "../../transforms/tokenize.js";

export interface Kek {
  id: string;
  key: Buffer;
}

export interface KeyMaterial {
  tokenKey: TokenKey;
  /** Older token keys, by id, kept so rotated tokens can still be recomputed. */
  tokenKeys: Map<string, TokenKey>;
  /** The local KEK file's key; absent when the KEK is a Cloud KMS key and the data dir has no kek.json. */
  kek?: Kek;
}

const key32 = z.string().refine((s) => Buffer.from(s, "base64").length === 32, "must be 32 bytes, base64");

const tokenKeysFile = z.object({ active: z.string().min(1), keys: z.record(z.string(), key32) });
const kekFile = z.object({ id: z.string().min(1), key: key32 });

export class KeyError extends Error {}

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new KeyError(
      `cannot read the key file ${file} (${(err as NodeJS.ErrnoException).code ?? "error"}).\n` +
        `  Nothing was written. Restore the file from your key backup; do not create a new one for an existing data dir:\n` +
        `  tokens and Bronze ciphertext made with the old key would no longer match.`,
    );
  }
  const parsed = schema.safeParse(safeJson(text));
  if (!parsed.success) throw new KeyError(`the key file ${file} is damaged (${parsed.error.issues[0]?.message}). Nothing was written.`);
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function keysDir(dataDir: string): string {
  return path.join(dataDir, "keys");
}

export const KEK_FILE = "kek.json";
export const TOKEN_KEYS_FILE = "token-keys.json";

/** Refuses a key file or folder that group or others can read, write or enter. */
function requirePrivate(p: string, kind: "file" | "folder"): void {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st || (st.mode & 0o077) === 0) return;
  throw new KeyError(
    `the key ${kind} ${p} can be read or changed by other users (mode ${(st.mode & 0o777).toString(8)}). Nothing was written.\n` +
      `  Make it private with: chmod ${kind === "file" ? "600" : "700"} ${p}`,
  );
}

/**
 * Loads the keys; creates them when `allowCreate` (a fresh data dir) and they
 * do not exist yet. `localKek: false` (the KEK is a Cloud KMS key): kek.json
 * is neither made nor required, and read only when it is there.
 */
export function loadKeys(dataDir: string, allowCreate: boolean, opts: { localKek?: boolean } = {}): KeyMaterial {
  const localKek = opts.localKek ?? true;
  const dir = keysDir(dataDir);
  const tokenPath = path.join(dir, TOKEN_KEYS_FILE);
  const kekPath = path.join(dir, KEK_FILE);
  if (allowCreate && !fs.existsSync(tokenPath) && !fs.existsSync(kekPath)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tk = { active: "t1", keys: { t1: randomBytes(32).toString("base64") } };
    fs.writeFileSync(tokenPath, JSON.stringify(tk, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    if (localKek) {
      const kek = { id: "local-kek-1", key: randomBytes(32).toString("base64") };
      fs.writeFileSync(kekPath, JSON.stringify(kek, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    }
  }
  requirePrivate(dir, "folder");
  requirePrivate(tokenPath, "file");
  const readKek = localKek || fs.existsSync(kekPath);
  if (readKek) requirePrivate(kekPath, "file");
  const tk = readJson(tokenPath, tokenKeysFile);
  const kek = readKek ? readJson(kekPath, kekFile) : undefined;
  const tokenKeys = new Map<string, TokenKey>();
  for (const [id, secret] of Object.entries(tk.keys)) tokenKeys.set(id, { id, secret: Buffer.from(secret, "base64") });
  const tokenKey = tokenKeys.get(tk.active);
  if (!tokenKey) throw new KeyError(`the token key file names active key "${tk.active}", which it does not hold. Nothing was written.`);
  return { tokenKey, tokenKeys, ...(kek ? { kek: { id: kek.id, key: Buffer.from(kek.key, "base64") } } : {}) };
}
