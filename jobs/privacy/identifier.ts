/**
 * Whom a privacy request is about: a user id or an email address, and the
 * salted hash that names them in the audit log and the queue. The hash is an
 * HMAC-SHA-256 under the project's active token key of
 * `"audit:" + kind + ":" + normalized identifier` (email trimmed and
 * lower-cased, user id as is): stable for one person, not reversible, and
 * not guessable from a list of emails without the key. It differs from the
 * Silver tokens of the same person, so the audit log cannot be joined to
 * Silver by itself.
 */
import { createHmac } from "node:crypto";
import { type TokenKey, normalizeForToken } from "../../transforms/tokenize.js";

export const IDENTIFIER_KINDS = ["user_id", "email"] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export interface Identifier {
  kind: IdentifierKind;
  value: string;
}

export function normalizeIdentifier(id: Identifier): string {
  return id.kind === "email" ? normalizeForToken(id.value, "email") : id.value;
}

export function subjectHash(id: Identifier, tokenKey: TokenKey): string {
  return createHmac("sha256", tokenKey.secret)
    .update(`audit:${id.kind}:${normalizeIdentifier(id)}`)
    .digest("hex");
}

/** How the identifier is kept inside its sealed envelope. */
export function identifierText(id: Identifier): string {
  return JSON.stringify({ kind: id.kind, value: id.value });
}

export function identifierFromText(text: string): Identifier {
  const v = JSON.parse(text) as Partial<Identifier>;
  if (!IDENTIFIER_KINDS.includes(v.kind as IdentifierKind) || typeof v.value !== "string") throw new Error("a sealed identifier holds no identifier");
  return { kind: v.kind as IdentifierKind, value: v.value };
}

/** `text` with every spelling of the identifier replaced (for error messages). */
export function withoutIdentifier(text: string, id: Identifier): string {
  let out = text;
  for (const form of new Set([id.value, id.value.trim(), normalizeIdentifier(id)].filter((f) => f.length > 0))) {
    out = out.replace(new RegExp(form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi"), "[identifier]");
  }
  return out.replace(/[^\s@'"<>()[\]]+@[^\s@'"<>()[\]]+\.[^\s@'"<>()[\]]+/g, "[email]");
}
