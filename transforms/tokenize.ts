/**
 * Tokens for Silver and Gold: a keyed deterministic hash (HMAC-SHA-256,
 * truncated to 128 bits). The same input under the same key gives the same
 * token, so tokens join across tables; without the key they cannot be
 * reversed or guessed from a list of emails. The key id is stored beside the
 * rows so keys can rotate.
 */
import { createHmac } from "node:crypto";

export interface TokenKey {
  id: string;
  secret: Buffer;
}

export type TokenKind = "email" | "phone" | "id" | "text";

/** Canonical form, so `A@x.com ` and `a@x.com` are one person. */
export function normalizeForToken(value: string, kind: TokenKind): string {
  switch (kind) {
    case "email":
      return value.trim().toLowerCase();
    case "phone":
      return value.replace(/[^\d+]/g, "");
    case "id":
      return value;
    case "text":
      return value.trim().replace(/\s+/g, " ").toLowerCase();
  }
}

export function tokenize(value: string, key: TokenKey, kind: TokenKind = "text"): string {
  return "tok_" + createHmac("sha256", key.secret).update(normalizeForToken(value, kind)).digest("base64url").slice(0, 22);
}

/** Token of any JSON value (objects by sorted-key canonical JSON). */
export function tokenizeValue(value: unknown, key: TokenKey, kind: TokenKind = "text"): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return tokenize(value, key, kind);
  return tokenize(canonicalJson(value), key, "id");
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(",")}}`;
}
