/**
 * A privacy request's identifier at rest: encrypted (AES-256-GCM) under a
 * fresh random key of its own, that key wrapped by the key-encryption key
 * through the KeyWrapper (the local key file here, Cloud KMS in production).
 * The request id is the additional authenticated data, so a sealed
 * identifier copied onto another request does not open. The key is XORed
 * with the request's pad before wrapping (request-pads.ts): destroying the
 * pad shreds the identifier, whatever copies the store keeps.
 *
 * Fail closed: a key that does not unwrap, or a ciphertext that does not
 * authenticate, is an error; nothing is ever returned half-decrypted.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { xorPad } from "./request-pads.js";
import type { KeyWrapper } from "./subject-keys.js";

export interface SealedIdentifier {
  /** iv (12) | ciphertext | tag (16). */
  ciphertext: Buffer;
  /** The identifier's key, wrapped by the KEK. */
  wrappedKey: Buffer;
  kekId: string;
}

export async function sealIdentifier(plain: string, requestId: string, kek: KeyWrapper, pad: Buffer): Promise<SealedIdentifier> {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(requestId, "utf8"));
  const ciphertext = Buffer.concat([iv, c.update(plain, "utf8"), c.final(), c.getAuthTag()]);
  const [wrappedKey] = await kek.wrapAll([xorPad(key, pad)]);
  key.fill(0);
  return { ciphertext, wrappedKey: wrappedKey!, kekId: kek.id };
}

/** Opens a sealed identifier with its unwrapped key (still XORed with the pad, as wrapped); throws when it does not authenticate (wrong key, other request, altered bytes). */
export function openIdentifier(ciphertext: Buffer, paddedKey: Buffer, pad: Buffer, requestId: string): string {
  const key = xorPad(paddedKey, pad);
  const iv = ciphertext.subarray(0, 12);
  const tag = ciphertext.subarray(ciphertext.length - 16);
  const d = createDecipheriv("aes-256-gcm", key, iv);
  d.setAAD(Buffer.from(requestId, "utf8"));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ciphertext.subarray(12, ciphertext.length - 16)), d.final()]).toString("utf8");
}
