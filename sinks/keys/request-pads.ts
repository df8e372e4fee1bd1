/**
 * Shredding a privacy request's identifier for real. A store does not
 * overwrite what it deletes: DuckDB leaves an updated row's old bytes in
 * freed blocks of its file (measured: a sealed identifier NULLed and
 * checkpointed is still in the file), and BigQuery keeps deleted rows for
 * time travel. So the identifier's key is wrapped by the KEK only after
 * being XORed with a random pad kept outside the store, one private file a
 * request (`<data-dir>/keys/requests/<request_id>.pad`, 0600 in a 0700
 * folder). Destroying the pad makes whatever the store still holds of the
 * identifier undecryptable, KEK or not.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PRIVATE_FILE, ensurePrivateDir } from "../local-files/private-files.js";
import { KeyError, keysDir } from "./local-keys.js";

const PAD_BYTES = 32;

export function padFile(dataDir: string, requestId: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(requestId)) throw new RangeError("a request id is letters, digits, _ and -");
  return path.join(keysDir(dataDir), "requests", `${requestId}.pad`);
}

/** Makes and stores a new pad for `requestId` (before its request is committed: a pad without a request is harmless). */
export function createPad(dataDir: string, requestId: string): Buffer {
  const file = padFile(dataDir, requestId);
  ensurePrivateDir(path.dirname(file));
  const pad = randomBytes(PAD_BYTES);
  fs.writeFileSync(file, pad, { mode: PRIVATE_FILE, flag: "wx" });
  return pad;
}

/** The pad of `requestId`; a missing or damaged one is a KeyError (the identifier cannot be opened: fail closed). */
export function readPad(dataDir: string, requestId: string): Buffer {
  const file = padFile(dataDir, requestId);
  let pad: Buffer;
  try {
    pad = fs.readFileSync(file);
  } catch (err) {
    throw new KeyError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"}): restore it from your backup of the keys folder`);
  }
  if (pad.length !== PAD_BYTES)
    throw new KeyError(`${file} is damaged (${pad.length} bytes, not ${PAD_BYTES}): restore it from your backup of the keys folder`);
  return pad;
}

/** Destroys the pad (overwritten, then removed). Idempotent. */
export function destroyPad(dataDir: string, requestId: string): void {
  const file = padFile(dataDir, requestId);
  try {
    fs.writeFileSync(file, randomBytes(PAD_BYTES), { flag: "r+" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  fs.rmSync(file, { force: true });
}

/** The request ids that have a pad. */
export function padsOf(dataDir: string): string[] {
  const dir = path.join(keysDir(dataDir), "requests");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".pad"))
    .map((f) => f.slice(0, -4));
}

export function xorPad(key: Buffer, pad: Buffer): Buffer {
  const out = Buffer.alloc(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key[i]! ^ pad[i % pad.length]!;
  return out;
}
