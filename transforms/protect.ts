/**
 * Bronze keeps the raw event, but its personal data only as ciphertext under
 * a per-subject data key (subject = user_id, else the email, else the
 * anonymous_id, else the session_id). Erasing a person is deleting their
 * key: every Bronze copy of their data becomes unreadable at once
 * (crypto-shredding).
 *
 * What moves into the one `_pii` envelope per event (AES-256-GCM; one cipher
 * call per event, not per field), at any depth and inside arrays: the
 * contract's personal fields, the person's identifiers (user_id,
 * anonymous_id, session_id), every field whose name looks personal, and
 * every text that holds an email or a personal URL parameter, or is an IP
 * address or a phone number (rules: schemas/personal-data.ts). An array
 * element that moves leaves a null behind, so the indexes stay. `restore`
 * puts everything back for replay from Bronze.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { CONTRACT_PERSONAL_FIELDS, NEVER_PERSONAL_PATHS, PERSON_IDENTIFIERS, type PersonalField } from "../schemas/personal-data.js";
import type { AnyEvent, EventType } from "../schemas/registry.js";
import { holdsPersonalText, isPersonalName, isPersonalValue } from "./personal.js";
import { type TokenKey, tokenize } from "./tokenize.js";

export interface SubjectKey {
  /** The key's id, random: what Bronze envelopes name. Nothing derives it from the person. */
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

/** A path into an event: member names and array indexes. */
export type FieldPath = (string | number)[];

/** The plaintext of an envelope: each moved value with its path. */
interface PiiBag {
  f: [FieldPath, unknown][];
}

export type SubjectKind = "user" | "email" | "anon" | "session";

/** Whose personal data an event holds: the kind of identifier and the token Silver keeps of it (user_token, the email's token, ...). */
export interface Subject {
  kind: SubjectKind;
  token: string;
}

/**
 * The person an event's personal data belongs to (user_id, else the email,
 * else the anonymous_id, else the session_id), or undefined. Takes any
 * decoded object, so a dead letter names its person too (only string
 * identifiers count).
 */
export function subjectOf(event: Readonly<Record<string, unknown>>, tokenKey: TokenKey): Subject | undefined {
  const id = (v: unknown): v is string => typeof v === "string" && v !== "" && v !== ERASED;
  if (id(event.user_id)) return { kind: "user", token: tokenize(event.user_id, tokenKey, "id") };
  const p = event.payload !== null && typeof event.payload === "object" ? (event.payload as Record<string, unknown>) : {};
  const customer = p.customer !== null && typeof p.customer === "object" ? (p.customer as Record<string, unknown>) : {};
  const email = event.event_type === "order_created" ? customer.email : p.email;
  if (id(email)) return { kind: "email", token: tokenize(email, tokenKey, "email") };
  if (id(event.anonymous_id)) return { kind: "anon", token: tokenize(event.anonymous_id, tokenKey, "id") };
  if (id(event.session_id)) return { kind: "session", token: tokenize(event.session_id, tokenKey, "id") };
  return undefined;
}

/**
 * The reference the key store files a person's data keys under. It is made
 * from the Silver token of their identifier, so erasure can find every key
 * of a person from the tokens their Silver rows hold; it is never written to
 * Bronze (Bronze names keys by a random kid).
 */
export function subjectRef(subject: Subject, tokenKey: TokenKey): string {
  return tokenize(`subject:${subject.kind}:${subject.token}`, tokenKey, "id").replace(/^tok_/, "sr_");
}

const contractFields = new Map<EventType, PersonalField[]>();

function contractFieldsOf(type: EventType): PersonalField[] {
  let fields = contractFields.get(type);
  if (!fields) contractFields.set(type, (fields = [...CONTRACT_PERSONAL_FIELDS.every, ...(CONTRACT_PERSONAL_FIELDS.byType[type] ?? [])]));
  return fields;
}

const ENVELOPE_KEYS = new Set<string>([...NEVER_PERSONAL_PATHS, ...PERSON_IDENTIFIERS]);

/** Removes every personal value of `event` (in place) and returns them with their paths. */
export function extractPersonal(event: Record<string, unknown>, eventType: EventType): [FieldPath, unknown][] {
  const taken: [FieldPath, unknown][] = [];
  const keep = (path: FieldPath, v: unknown): void => {
    // Erased markers (a replayed, erased person) are dropped, never encrypted under a new key.
    if (v !== undefined && !isErased(v)) taken.push([path, v]);
  };
  for (const id of PERSON_IDENTIFIERS) {
    if (event[id] !== undefined) keep([id], event[id]);
    delete event[id];
  }
  // What stays of a contract subtree (a shipping address's country) is not personal: the walk leaves it.
  const kept = new WeakSet<object>();
  for (const field of contractFieldsOf(eventType)) takeContractField(event, field, keep, kept);
  for (const key of Object.keys(event)) {
    if (ENVELOPE_KEYS.has(key)) continue;
    takePersonal(event, key, keep, kept);
  }
  return taken;
}

/** A container being walked, and how it hangs from the event (paths are built only for what moves). */
interface Frame {
  value: Record<string, unknown> | unknown[];
  key: string | number;
  up: Frame | undefined;
  /** Name of the nearest named container, for `product.name`-style verdicts. */
  name: string | undefined;
}

function pathOf(frame: Frame | undefined, last: string | number): FieldPath {
  const path: FieldPath = [last];
  for (let f = frame; f; f = f.up) path.push(f.key);
  return path.reverse();
}

function personalMember(name: string | undefined, parent: string | undefined, v: unknown): boolean {
  if (name !== undefined && isPersonalName(name, parent)) return true;
  return typeof v === "string" && (isPersonalValue(v) || holdsPersonalText(v));
}

/**
 * Walks one member of the event and everything under it: a member that is
 * personal moves whole, a container that is not is looked into. Iterative,
 * so no depth overflows it; only containers get a frame.
 */
function takePersonal(event: Record<string, unknown>, key: string, keep: (path: FieldPath, v: unknown) => void, kept: WeakSet<object>): void {
  const top = event[key];
  if (top !== null && typeof top === "object" && kept.has(top)) return;
  if (personalMember(key, undefined, top)) {
    keep([key], top);
    delete event[key];
    return;
  }
  if (top === null || typeof top !== "object") return;
  const stack: Frame[] = [{ value: top as Record<string, unknown>, key, up: undefined, name: key }];
  while (stack.length) {
    const frame = stack.pop()!;
    const c = frame.value;
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) {
        const v = c[i];
        if (typeof v === "string") {
          if (personalMember(undefined, frame.name, v)) {
            keep(pathOf(frame, i), v);
            c[i] = null;
          }
        } else if (v !== null && typeof v === "object" && !kept.has(v)) {
          stack.push({ value: v as Record<string, unknown>, key: i, up: frame, name: frame.name });
        }
      }
      continue;
    }
    for (const k of Object.keys(c)) {
      const v = c[k];
      if (v !== null && typeof v === "object" && kept.has(v)) continue;
      if (personalMember(k, frame.name, v)) {
        keep(pathOf(frame, k), v);
        delete c[k];
      } else if (v !== null && typeof v === "object" && !kept.has(v)) {
        stack.push({ value: v as Record<string, unknown>, key: k, up: frame, name: k });
      }
    }
  }
}

function takeContractField(root: Record<string, unknown>, field: PersonalField, keep: (path: FieldPath, v: unknown) => void, kept: WeakSet<object>): void {
  let parent: Record<string, unknown> = root;
  const last = field.path.length - 1;
  for (let i = 0; i < last; i++) {
    const next = parent[field.path[i]!];
    if (next === null || typeof next !== "object" || Array.isArray(next)) return;
    parent = next as Record<string, unknown>;
  }
  const leaf = field.path[last]!;
  const value = parent[leaf];
  if (value === undefined) return;
  if (field.exceptChildren && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (field.exceptChildren.includes(k)) continue;
      keep([...field.path, k], obj[k]);
      delete obj[k];
    }
    kept.add(obj);
    return;
  }
  keep([...field.path], value);
  delete parent[leaf];
}

function isErased(v: unknown): boolean {
  return v === ERASED || (v !== null && typeof v === "object" && Object.values(v).length > 0 && Object.values(v).every((x) => x === ERASED));
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

export function encryptPii(bag: unknown, key: SubjectKey): PiiEnvelope {
  const iv = nextIv();
  const cipher = createCipheriv("aes-256-gcm", key.key, iv);
  const ct = Buffer.concat([cipher.update(JSON.stringify(bag), "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { kid: key.kid, alg: "A256GCM", iv: iv.toString("base64"), ct: ct.toString("base64") };
}

export function decryptPii(envelope: PiiEnvelope, key: Buffer): unknown {
  const ct = Buffer.from(envelope.ct, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "base64"));
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  const clear = Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]);
  return JSON.parse(clear.toString("utf8")) as unknown;
}

/** The (path, value) pairs of a decrypted envelope; envelopes written before paths could hold indexes keyed values by dotted path. */
export function envelopeEntries(clear: unknown): [FieldPath, unknown][] {
  if (clear !== null && typeof clear === "object" && Array.isArray((clear as PiiBag).f)) return (clear as PiiBag).f;
  return Object.entries(clear as Record<string, unknown>).map(([path, v]) => [path.split("."), v]);
}

/**
 * The Bronze form of a validated event: personal data encrypted under the
 * subject's key (or dropped when there is no subject). It works in place, for
 * speed: the event must not be read for anything else afterwards.
 */
export function protectForBronze(event: AnyEvent, key: SubjectKey | undefined): ProtectedEvent {
  const copy = event as unknown as ProtectedEvent;
  const taken = extractPersonal(copy, event.event_type);
  if (taken.length) {
    if (key) copy._pii = encryptPii({ f: taken } satisfies PiiBag, key);
    else copy._pii_dropped = taken.map(([p]) => p.join("."));
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
const REQUIRED_WHEN_ERASED: Partial<Record<string, string[][]>> = {
  order_created: [["payload", "customer", "email"]],
};
const ADDRESS_FIELDS = ["line1", "city", "postal_code"];

/**
 * Puts decrypted personal data back (replay from Bronze). `key` undefined =
 * erased: optional fields stay absent, required ones hold `ERASED`, and
 * array elements that moved stay null.
 */
export function restoreFromBronze(record: ProtectedEvent, key: Buffer | undefined): Record<string, unknown> {
  const { _pii, _pii_dropped, ...event } = record;
  void _pii_dropped;
  if (!_pii) return event;
  if (!key) return markErased(event);
  for (const [path, value] of envelopeEntries(decryptPii(_pii, key))) setPath(event, path, value);
  return event;
}

function setPath(root: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let parent = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (parent[k] === null || typeof parent[k] !== "object") parent[k] = typeof path[i + 1] === "number" ? [] : {};
    parent = parent[k] as Record<string | number, unknown>;
  }
  const leaf = path[path.length - 1]!;
  const existing = parent[leaf];
  parent[leaf] =
    existing && typeof existing === "object" && !Array.isArray(existing) && value && typeof value === "object" && !Array.isArray(value)
      ? { ...existing, ...value }
      : value;
}

function markErased(event: Record<string, unknown>): Record<string, unknown> {
  for (const path of REQUIRED_WHEN_ERASED[event.event_type as string] ?? []) {
    let parent: Record<string, unknown> | undefined = event;
    for (const k of path.slice(0, -1)) parent = parent?.[k] as Record<string, unknown> | undefined;
    if (parent && typeof parent === "object" && parent[path.at(-1)!] === undefined) parent[path.at(-1)!] = ERASED;
  }
  // A shipping address left with only its country keeps the shape the schema requires.
  const address = (event.payload as { customer?: { shipping_address?: Record<string, unknown> } } | undefined)?.customer?.shipping_address;
  if (address && typeof address === "object") for (const f of ADDRESS_FIELDS) address[f] ??= ERASED;
  return event;
}
