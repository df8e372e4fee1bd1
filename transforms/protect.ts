/**
 * Bronze keeps the raw event, but its personal fields only as ciphertext under
 * a per-subject data key (subject = user_id, else the email, else the
 * anonymous_id). Erasing a person is deleting their key: every Bronze copy of
 * their data becomes unreadable at once (crypto-shredding).
 *
 * The personal fields move into one `_pii` envelope per event (AES-256-GCM;
 * one cipher call per event, not per field) and are deleted from the event.
 * `restore` puts them back for replay from Bronze.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { type PiiField, looksPersonal, piiFieldsOf } from "../schemas/pii.js";
import type { AnyEvent, EventType } from "../schemas/registry.js";
import { type TokenKey, tokenize } from "./tokenize.js";

export interface SubjectKey {
  /** Opaque id of the key (a token of the subject); what Bronze records name. */
  kid: string;
  key: Buffer;
}

export interface PiiEnvelope {
  kid: string;
  alg: "A256GCM";
  iv: string;
  ct: string;
}

export interface ProtectedEvent {
  [field: string]: unknown;
  _pii?: PiiEnvelope;
  /** Personal fields dropped because the event had no subject to key them to. */
  _pii_dropped?: string[];
}

/** The person an event's personal data belongs to, or undefined. */
export function subjectOf(event: AnyEvent): string | undefined {
  if (event.user_id) return `user:${event.user_id}`;
  const p = event.payload as Record<string, unknown>;
  const email = event.event_type === "order_created" ? (p.customer as { email?: string }).email : p.email;
  if (typeof email === "string" && email) return `email:${email.trim().toLowerCase()}`;
  if (event.anonymous_id) return `anon:${event.anonymous_id}`;
  return undefined;
}

/** The key id for a subject: a token, so the key store never holds the clear id. */
export function subjectKid(subject: string, tokenKey: TokenKey): string {
  return tokenize(subject, tokenKey, "id").replace(/^tok_/, "sk_");
}

/** Removes the personal fields of `event` (in place) and returns them by path. */
export function extractPii(
  event: Record<string, unknown>,
  eventType: EventType,
  extras: Record<string, unknown> | null,
): Record<string, unknown> | null {
  let bag: Record<string, unknown> | null = null;
  for (const field of piiFieldsOf(eventType)) {
    const moved = takePath(event, field);
    // Erased markers (a replayed, erased person) are dropped, never encrypted under a new key.
    if (moved !== undefined && !isErased(moved)) (bag ??= {})[field.path.join(".")] = moved;
  }
  if (extras) {
    for (const path of Object.keys(extras)) {
      if (!looksPersonal(path) || path.includes("[]")) continue;
      const parts = path.split(".");
      const moved = takePath(event, { path: parts });
      if (moved !== undefined) (bag ??= {})[path] = moved;
    }
  }
  return bag;
}

function isErased(v: unknown): boolean {
  return v === ERASED || (v !== null && typeof v === "object" && Object.values(v).every((x) => x === ERASED));
}

function takePath(root: Record<string, unknown>, field: PiiField): unknown {
  let parent: Record<string, unknown> = root;
  const last = field.path.length - 1;
  for (let i = 0; i < last; i++) {
    const next = parent[field.path[i]!];
    if (next === null || typeof next !== "object") return undefined;
    parent = next as Record<string, unknown>;
  }
  const leaf = field.path[last]!;
  const value = parent[leaf];
  if (value === undefined) return undefined;
  if (field.exceptChildren && value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const taken: Record<string, unknown> = {};
    let any = false;
    for (const k of Object.keys(obj)) {
      if (field.exceptChildren.includes(k)) continue;
      taken[k] = obj[k];
      delete obj[k];
      any = true;
    }
    return any ? taken : undefined;
  }
  delete parent[leaf];
  return value;
}

const IV_POOL_SIZE = 12 * 4096;
let ivPool = Buffer.alloc(0);
let ivOffset = IV_POOL_SIZE;

function nextIv(): Buffer {
  if (ivOffset >= ivPool.length) {
    ivPool = randomFillSync(Buffer.allocUnsafe(IV_POOL_SIZE));
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + 12);
  ivOffset += 12;
  return iv;
}

export function encryptPii(bag: Record<string, unknown>, key: SubjectKey): PiiEnvelope {
  const iv = nextIv();
  const cipher = createCipheriv("aes-256-gcm", key.key, iv);
  const ct = Buffer.concat([cipher.update(JSON.stringify(bag), "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { kid: key.kid, alg: "A256GCM", iv: iv.toString("base64"), ct: ct.toString("base64") };
}

export function decryptPii(envelope: PiiEnvelope, key: Buffer): Record<string, unknown> {
  const ct = Buffer.from(envelope.ct, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "base64"));
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  const clear = Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]);
  return JSON.parse(clear.toString("utf8")) as Record<string, unknown>;
}

/**
 * The Bronze form of a validated event: personal fields encrypted under the
 * subject's key (or dropped when there is no subject). It works in place, for
 * speed: the event must not be read for anything else afterwards.
 */
export function protectForBronze(
  event: AnyEvent,
  extras: Record<string, unknown> | null,
  key: SubjectKey | undefined,
): ProtectedEvent {
  const copy = event as unknown as ProtectedEvent;
  const bag = extractPii(copy, event.event_type, extras);
  if (bag) {
    if (key) copy._pii = encryptPii(bag, key);
    else copy._pii_dropped = Object.keys(bag);
  }
  return copy;
}

/**
 * What an erased person's required personal fields hold when their events are
 * replayed from Bronze: the data key is gone, the values with it, but the event
 * must stay valid so it is not lost. Silver turns the marker into null tokens.
 */
export const ERASED = "[ERASED]";

// Personal fields the schemas require (the rest are optional and simply stay absent).
const REQUIRED_WHEN_ERASED: Partial<Record<string, string[]>> = {
  order_created: ["payload.customer.email"],
};
const ADDRESS_FIELDS = ["line1", "city", "postal_code"];

/**
 * Puts decrypted personal fields back (replay from Bronze). `key` undefined =
 * erased: optional fields stay absent, required ones hold `ERASED`.
 */
export function restoreFromBronze(record: ProtectedEvent, key: Buffer | undefined): Record<string, unknown> {
  const { _pii, _pii_dropped, ...event } = record;
  void _pii_dropped;
  if (!_pii) return event;
  if (!key) return markErased(event);
  for (const [path, value] of Object.entries(decryptPii(_pii, key))) {
    const parts = path.split(".");
    let parent = event as Record<string, unknown>;
    for (let i = 0; i < parts.length - 1; i++) {
      const k = parts[i]!;
      if (parent[k] === null || typeof parent[k] !== "object") parent[k] = {};
      parent = parent[k] as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1]!;
    const existing = parent[leaf];
    parent[leaf] =
      existing && typeof existing === "object" && value && typeof value === "object" ? { ...existing, ...value } : value;
  }
  return event;
}

function markErased(event: Record<string, unknown>): Record<string, unknown> {
  for (const path of REQUIRED_WHEN_ERASED[event.event_type as string] ?? []) {
    const parts = path.split(".");
    let parent: Record<string, unknown> | undefined = event;
    for (const k of parts.slice(0, -1)) parent = parent?.[k] as Record<string, unknown> | undefined;
    if (parent && typeof parent === "object" && parent[parts.at(-1)!] === undefined) parent[parts.at(-1)!] = ERASED;
  }
  // A shipping address left with only its country keeps the shape the schema requires.
  const address = (event.payload as { customer?: { shipping_address?: Record<string, unknown> } } | undefined)?.customer?.shipping_address;
  if (address && typeof address === "object") for (const f of ADDRESS_FIELDS) address[f] ??= ERASED;
  return event;
}
