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

// Ids, IPs, user agents and emails repeat across a session's events: a bounded
// memo per key saves most HMAC calls on the hot path. Cleared whole when full.
const MEMO_LIMIT = 200_000;
const memos = new WeakMap<TokenKey, Record<TokenKind, Map<string, string>>>();

export function tokenize(value: string, key: TokenKey, kind: TokenKind = "text"): string {
  let byKind = memos.get(key);
  if (!byKind) memos.set(key, (byKind = { email: new Map(), phone: new Map(), id: new Map(), text: new Map() }));
  const memo = byKind[kind];
  let token = memo.get(value);
  if (token === undefined) {
    token = "tok_" + createHmac("sha256", key.secret).update(normalizeForToken(value, kind)).digest("base64url").slice(0, 22);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(value, token);
  }
  return token;
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
