/**
 * Cloud KMS as the key-encryption key: a KeyWrapper (subject-keys.ts) for
 * production, where a KEK must never leave the KMS. It wraps whole batches
 * of per-person data keys with one KMS call, so the key stores can use it
 * exactly as they use the local key file.
 *
 * Design: envelope encryption with one intermediate key per call.
 *   wrapAll(keys)  makes a fresh random 256-bit intermediate key (IK), has
 *                  KMS encrypt it once (additionalAuthenticatedData names its
 *                  purpose, so no other ciphertext of the same KMS key can
 *                  pass for an IK), and seals each data key under the IK
 *                  locally with AES-256-GCM. One Encrypt per call, whatever
 *                  the batch size; none for an empty batch.
 *   unwrapAll(b)   groups the blobs by their KMS-wrapped IK and has KMS
 *                  decrypt each distinct one once; decrypted IKs are kept in
 *                  a bounded LRU cache with a TTL, and concurrent calls that
 *                  need the same IK share one Decrypt.
 *   rewrapAll(b)   after a rotation: unwraps the blobs, then wraps the same
 *                  data keys again under one fresh IK encrypted by the
 *                  current primary version. The data keys do not change, so
 *                  Bronze is not rewritten.
 * Why this one:
 *   - One KMS call per data key (the plain envelope pattern) costs 10 000
 *     calls for a batch with 10 000 new people; per call is one.
 *   - Reusing one IK across calls would save even that call, but a rotation
 *     would reach new wraps only when the IK expires, and one IK would
 *     protect an unbounded number of keys. One Encrypt per batch is far
 *     below KMS quotas.
 *   - Storing a batch's wrapped IK once, apart from the keys, would make rows
 *     smaller but a blob no longer self-contained; each blob here carries its
 *     IK (about 250 bytes in all) and unwraps alone.
 *   - rewrapAll makes a fresh IK instead of re-encrypting the old one: KMS has
 *     no re-encrypt, so the old IK is decrypted in this process either way;
 *     a fresh one retires the old IKs for good and merges many into one, so
 *     later unwraps cost one Decrypt.
 *
 * Blob layout (format 1), every length big-endian:
 *   u8 format = 1 | u16 n | n bytes: KMS key version name (UTF-8,
 *   projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V) |
 *   u16 m | m bytes: KMS ciphertext of the IK | 12 bytes IV |
 *   the data key, AES-256-GCM under the IK | 16 bytes tag.
 * Everything before the IV is the local AES-GCM's additional data, so a
 * change anywhere in a blob is refused. `kmsVersionOf(blob)` reads the
 * version without KMS, for `ops.subject_keys.kek_id`.
 *
 * Guarantees:
 *   - Fail closed: a KMS error (permission, missing key, a disabled or
 *     destroyed version, unreachable endpoint) rejects the whole call, with
 *     the key name and what to check, never key bytes; a blob that does not
 *     authenticate, or names another KMS key, is refused; nothing partial is
 *     returned.
 *   - Every request and response carries CRC32C checksums (KMS's end-to-end
 *     integrity check); a mismatch is refused.
 *   - Only IKs that KMS decrypted are cached, so disabling or destroying a
 *     version stops unwraps in a running process within the cache TTL
 *     (`clearCache()` at once). KMS decrypt picks the version from the
 *     ciphertext, so blobs of older versions unwrap while those are enabled.
 *
 * openKmsKeyWrapper(options), options:
 *   keyName        projects/P/locations/L/keyRings/R/cryptoKeys/K, or
 *   project, location, keyRing, key   its parts (not both)
 *   apiEndpoint, port   where KMS is (default cloudkms.googleapis.com:443)
 *   sslCreds       gRPC channel credentials instead of Application Default
 *                  Credentials, the default (tests: grpc.credentials.createInsecure())
 *   timeoutMs      per KMS call, retries included (default 30 000)
 *   cache          { maxEntries (default 4096), ttlMs (default 300 000) }
 *   probe          encrypt and decrypt a throwaway value at open, so a wrong
 *                  key, missing permission or disabled primary stops the
 *                  caller before anything is written (default true)
 *   now            clock for the cache TTL (default Date.now)
 * The role needed is roles/cloudkms.cryptoKeyEncrypterDecrypter on the key;
 * `primaryVersion()` also needs cloudkms.cryptoKeys.get (roles/cloudkms.viewer).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { CRC32C } from "@google-cloud/storage";
import { KeyError } from "./local-keys.js";
import type { KeyWrapper } from "./subject-keys.js";

export class KmsKeyError extends KeyError {}

type ClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;

export type KmsKeyRef =
  | { keyName: string; project?: never; location?: never; keyRing?: never; key?: never }
  | { keyName?: never; project: string; location: string; keyRing: string; key: string };

export type KmsKeyWrapperOptions = KmsKeyRef & {
  apiEndpoint?: string;
  port?: number;
  sslCreds?: ClientOptions["sslCreds"];
  timeoutMs?: number;
  cache?: { maxEntries?: number; ttlMs?: number };
  probe?: boolean;
  now?: () => number;
};

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const IK_BYTES = 32;
const IK_AAD = Buffer.from("ecom-stream: intermediate key wrapping subject data keys, blob format 1");
const PROBE_AAD = Buffer.from("ecom-stream: KMS reachability probe, wraps nothing");
const DECRYPTS_IN_FLIGHT = 8;
const KEY_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)$/;

/** Opens the wrapper and, unless `probe: false`, proves the key can encrypt and decrypt. */
export async function openKmsKeyWrapper(options: KmsKeyWrapperOptions): Promise<KmsKeyWrapper> {
  const wrapper = new KmsKeyWrapper(options);
  if (options.probe === false) return wrapper;
  try {
    await wrapper.probe();
  } catch (err) {
    await wrapper.close();
    throw err;
  }
  return wrapper;
}

/** The KMS key version (…/cryptoKeyVersions/N) that wrapped this blob, read without KMS. */
export function kmsVersionOf(blob: Buffer): string {
  return parseBlob(blob, 0).version;
}

export function kmsKeyName(ref: KmsKeyRef): string {
  const parts = [ref.project, ref.location, ref.keyRing, ref.key];
  if (ref.keyName !== undefined && parts.some((p) => p !== undefined)) {
    throw new KmsKeyError(`give the Cloud KMS key either as keyName or as project, location, keyRing and key, not both.`);
  }
  if (ref.keyName === undefined && !parts.every((p) => typeof p === "string" && p.length > 0 && !p.includes("/"))) {
    throw new KmsKeyError(`the Cloud KMS key needs project, location, keyRing and key, each non-empty and without "/".`);
  }
  const name = ref.keyName ?? `projects/${ref.project}/locations/${ref.location}/keyRings/${ref.keyRing}/cryptoKeys/${ref.key}`;
  if (/\/cryptoKeyVersions\/[^/]+$/.test(name)) {
    throw new KmsKeyError(
      `the Cloud KMS key name ${name} names a key version. Give the key itself (drop /cryptoKeyVersions/...):\n` +
        `  new keys must follow the primary version when the key rotates.`,
    );
  }
  if (!KEY_NAME.test(name)) throw new KmsKeyError(`the Cloud KMS key name "${name}" is not of the form projects/P/locations/L/keyRings/R/cryptoKeys/K.`);
  return name;
}

export class KmsKeyWrapper implements KeyWrapper {
  /** The CryptoKey resource name; each blob records the version that wrapped it. */
  readonly id: string;
  private readonly client: KeyManagementServiceClient;
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly cache: IkCache;
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  private readonly usesGoogleAuth: boolean;
  private credentialsReady: Promise<void> | undefined;

  constructor(options: KmsKeyWrapperOptions) {
    this.id = kmsKeyName(options);
    const project = KEY_NAME.exec(this.id)![1]!;
    this.endpoint = `${options.apiEndpoint ?? "cloudkms.googleapis.com"}:${options.port ?? 443}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const maxEntries = options.cache?.maxEntries ?? 4096;
    const ttlMs = options.cache?.ttlMs ?? 300_000;
    for (const [what, n] of [
      ["timeoutMs", this.timeoutMs],
      ["cache.maxEntries", maxEntries],
      ["cache.ttlMs", ttlMs],
    ] as const) {
      if (!Number.isInteger(n) || n < (what === "timeoutMs" ? 1 : 0))
        throw new KmsKeyError(`the KMS wrapper option ${what} must be a whole number${what === "timeoutMs" ? " above 0" : ", 0 or more"} (got ${n}).`);
    }
    this.cache = new IkCache(maxEntries, ttlMs, options.now ?? Date.now);
    const clientOptions: ClientOptions = { projectId: project };
    if (options.apiEndpoint !== undefined) clientOptions.apiEndpoint = options.apiEndpoint;
    if (options.port !== undefined) clientOptions.port = options.port;
    if (options.sslCreds !== undefined) {
      clientOptions.sslCreds = options.sslCreds;
      // Given channel credentials, no Google credentials are used: naming the universe spares the client a metadata-server lookup for it.
      clientOptions.universeDomain = "googleapis.com";
    }
    this.client = new KeyManagementServiceClient(clientOptions);
    this.usesGoogleAuth = options.sslCreds === undefined;
  }

  async wrapAll(keys: readonly Buffer[]): Promise<Buffer[]> {
    if (keys.length === 0) return [];
    keys.forEach((k, i) => {
      if (k.length === 0 || k.length > 1024) throw new KmsKeyError(`data key ${i} is ${k.length} bytes; a data key is 1-1024 bytes. Nothing was wrapped.`);
    });
    const ik = randomBytes(IK_BYTES);
    try {
      const { version, ciphertext } = await this.encrypt(ik, IK_AAD, "wrap data keys");
      const header = blobHeader(version, ciphertext);
      return keys.map((k) => seal(ik, header, k));
    } finally {
      ik.fill(0);
    }
  }

  async unwrapAll(wrapped: readonly Buffer[]): Promise<Buffer[]> {
    if (wrapped.length === 0) return [];
    const blobs = wrapped.map((b, i) => parseBlob(b, i));
    for (const b of blobs) {
      if (!b.version.startsWith(`${this.id}/cryptoKeyVersions/`)) {
        throw new KmsKeyError(
          `wrapped key ${b.index} was wrapped by the Cloud KMS key version ${b.version}, not by ${this.id}. Nothing was unwrapped.\n` +
            `  Open a wrapper for the key that wrapped it, or check that this store belongs to ${this.id}.`,
        );
      }
    }
    const distinct = new Map<string, Buffer>();
    for (const b of blobs) distinct.set(b.ikId, b.wrappedIk);
    const iks = await this.intermediateKeys(distinct);
    return blobs.map((b) => open(iks.get(b.ikId)!, b));
  }

  /** The same data keys, wrapped again under one fresh IK by the key's current primary version. */
  async rewrapAll(wrapped: readonly Buffer[]): Promise<Buffer[]> {
    const keys = await this.unwrapAll(wrapped);
    try {
      return await this.wrapAll(keys);
    } finally {
      for (const k of keys) k.fill(0);
    }
  }

  /** The key's primary version now (one GetCryptoKey; needs cloudkms.cryptoKeys.get). */
  async primaryVersion(): Promise<string> {
    const [key] = await this.call("read the key's primary version", () => this.client.getCryptoKey({ name: this.id }, { timeout: this.timeoutMs }));
    if ((key.purpose !== "ENCRYPT_DECRYPT" && key.purpose !== 1) || !key.primary?.name) {
      throw new KmsKeyError(
        `the Cloud KMS key ${this.id} is not a symmetric ENCRYPT_DECRYPT key with a primary version (purpose ${String(key.purpose)}).\n` +
          `  Create the key with: gcloud kms keys create K --purpose=encryption --keyring=R --location=L`,
      );
    }
    return key.primary.name;
  }

  /** Encrypts and decrypts a throwaway value: the key exists, is usable both ways, and its primary is enabled. */
  async probe(): Promise<void> {
    const value = randomBytes(IK_BYTES);
    const { ciphertext } = await this.encrypt(value, PROBE_AAD, "probe the key (encrypt)");
    const back = await this.decrypt(ciphertext, PROBE_AAD, "probe the key (decrypt)");
    if (!back.equals(value)) throw new KmsKeyError(`Cloud KMS at ${this.endpoint} did not give back what ${this.id} encrypted. Refusing to use it.`);
  }

  /** Forgets every decrypted IK: the next unwraps ask KMS again. */
  clearCache(): void {
    this.cache.clear();
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.client.close();
  }

  private async intermediateKeys(distinct: Map<string, Buffer>): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    const waits: Promise<void>[] = [];
    const missing: [string, Buffer][] = [];
    for (const [id, wrappedIk] of distinct) {
      const cached = this.cache.get(id);
      if (cached) found.set(id, cached);
      else if (this.inFlight.has(id)) waits.push(this.inFlight.get(id)!.then((ik) => void found.set(id, ik)));
      else missing.push([id, wrappedIk]);
    }
    const decryptOne = async ([id, wrappedIk]: [string, Buffer]) => {
      const p = this.decrypt(wrappedIk, IK_AAD, "unwrap data keys");
      this.inFlight.set(id, p);
      try {
        const ik = await p;
        if (ik.length !== IK_BYTES)
          throw new KmsKeyError(`Cloud KMS gave back a ${ik.length}-byte intermediate key under ${this.id}; refusing it (expected ${IK_BYTES}).`);
        this.cache.set(id, ik);
        found.set(id, ik);
      } finally {
        this.inFlight.delete(id);
      }
    };
    const queue = missing.slice();
    const workers = Array.from({ length: Math.min(DECRYPTS_IN_FLIGHT, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await decryptOne(next);
    });
    const settled = await Promise.allSettled([...waits, ...workers]);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    return found;
  }

  private async encrypt(plaintext: Buffer, aad: Buffer, purpose: string): Promise<{ version: string; ciphertext: Buffer }> {
    const request = {
      name: this.id,
      plaintext,
      additionalAuthenticatedData: aad,
      plaintextCrc32c: { value: crc32c(plaintext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
    };
    const [res] = await this.call(purpose, () => this.client.encrypt(request, { timeout: this.timeoutMs }));
    const version = res.name ?? "";
    const ciphertext = Buffer.from(res.ciphertext ?? []);
    if (!res.verifiedPlaintextCrc32c || !res.verifiedAdditionalAuthenticatedDataCrc32c || !sameCrc(res.ciphertextCrc32c?.value, ciphertext)) {
      throw new KmsKeyError(
        `the Cloud KMS encrypt with ${this.id} was damaged in transit (its CRC32C checksums do not match). Nothing was wrapped; retry the batch.`,
      );
    }
    if (!version.startsWith(`${this.id}/cryptoKeyVersions/`) || ciphertext.length === 0 || ciphertext.length > 0xffff || Buffer.byteLength(version) > 0xffff) {
      throw new KmsKeyError(
        `Cloud KMS at ${this.endpoint} answered an encrypt with ${this.id} with key version "${version}" and ${ciphertext.length} bytes of ciphertext. Refusing it.`,
      );
    }
    return { version, ciphertext };
  }

  private async decrypt(ciphertext: Buffer, aad: Buffer, purpose: string): Promise<Buffer> {
    const request = {
      name: this.id,
      ciphertext,
      additionalAuthenticatedData: aad,
      ciphertextCrc32c: { value: crc32c(ciphertext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
    };
    const [res] = await this.call(purpose, () => this.client.decrypt(request, { timeout: this.timeoutMs }));
    const plaintext = Buffer.from(res.plaintext ?? []);
    if (!sameCrc(res.plaintextCrc32c?.value, plaintext)) {
      plaintext.fill(0);
      throw new KmsKeyError(
        `the Cloud KMS decrypt with ${this.id} was damaged in transit (its CRC32C checksum does not match). Nothing was unwrapped; retry the batch.`,
      );
    }
    return plaintext;
  }

  private async call<T>(purpose: string, run: () => Promise<T>): Promise<T> {
    try {
      await this.credentials();
      return await run();
    } catch (err) {
      throw this.explain(purpose, err);
    }
  }

  /**
   * Resolves the Google credentials before the client's first call: when the
   * client finds none while making its channel, that failure escapes the
   * call's promise as an unhandled rejection (which would end the process)
   * instead of rejecting the call.
   */
  private credentials(): Promise<void> {
    if (!this.usesGoogleAuth) return Promise.resolve();
    this.credentialsReady ??= this.client.auth.getClient().then(
      () => undefined,
      (err: unknown) => {
        this.credentialsReady = undefined;
        throw err;
      },
    );
    return this.credentialsReady;
  }

  /** A KMS failure as an error a person can act on; the server's text names resources and states, never key bytes. */
  private explain(purpose: string, err: unknown): KmsKeyError {
    const code = typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : undefined;
    const raw = String((err as { details?: unknown }).details ?? (err as Error).message ?? err);
    const said = raw.replace(/[^\x20-\x7e]+/g, " ").slice(0, 300);
    const what = `Cloud KMS could not ${purpose} with ${this.id} (${code === undefined ? "error" : (STATUS[code] ?? `code ${code}`)}: ${said}).`;
    const nothing = purpose.startsWith("unwrap") ? "Nothing was unwrapped." : purpose.startsWith("wrap") ? "Nothing was wrapped." : "Nothing was written.";
    const ids = KEY_NAME.exec(this.id)!;
    const versions = `gcloud kms keys versions list --key=${ids[4]} --keyring=${ids[3]} --location=${ids[2]} --project=${ids[1]}`;
    const check: Record<number, string> = {
      3: purpose.startsWith("unwrap")
        ? `A wrapped key does not authenticate: its intermediate key was changed, or was wrapped by another KMS key or for another purpose. Refused.`
        : `Check that ${this.id} is a symmetric ENCRYPT_DECRYPT key.`,
      5: `Check the project, location, key ring and key names; list the keys with: gcloud kms keys list --keyring=${ids[3]} --location=${ids[2]} --project=${ids[1]}`,
      7: `Check that the caller's service account has roles/cloudkms.cryptoKeyEncrypterDecrypter on ${this.id}, and that the key name is right (KMS answers PERMISSION_DENIED for a key that does not exist too).`,
      9: `A key version this needs is not enabled (disabled, scheduled for destruction or destroyed). Check with: ${versions}\n  Re-enable a disabled version (gcloud kms keys versions enable N ...) or restore one scheduled for destruction; a destroyed version cannot come back.`,
      4: /UNAVAILABLE/.test(raw)
        ? `Cannot reach Cloud KMS at ${this.endpoint} (tried for ${this.timeoutMs} ms). Check the endpoint and the network path to it, then retry.`
        : `Cloud KMS at ${this.endpoint} did not answer in ${this.timeoutMs} ms. Check the network path to it, then retry.`,
      14: `Cannot reach Cloud KMS at ${this.endpoint}. Check the endpoint and the network path to it, then retry.`,
      16: `The credentials were refused. Check Application Default Credentials (gcloud auth application-default login, or the workload's service account).`,
      8: `The KMS quota for ${ids[1]} is exhausted; retry later or raise the quota.`,
    };
    const noCode = `Check that Google credentials are available (Application Default Credentials: the workload's service account, GOOGLE_APPLICATION_CREDENTIALS naming a readable key file, or gcloud auth application-default login) and that ${this.endpoint} is reachable.`;
    const advice = code === undefined ? noCode : (check[code] ?? `Check the key with: ${versions}`);
    return new KmsKeyError(`${what} ${nothing}\n  ${advice}`);
  }
}

const STATUS: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

interface ParsedBlob {
  index: number;
  version: string;
  wrappedIk: Buffer;
  /** The KMS ciphertext as text: what groups blobs and keys the cache. */
  ikId: string;
  header: Buffer;
  iv: Buffer;
  sealed: Buffer;
  tag: Buffer;
}

function blobHeader(version: string, wrappedIk: Buffer): Buffer {
  const v = Buffer.from(version, "utf8");
  const header = Buffer.alloc(1 + 2 + v.length + 2 + wrappedIk.length);
  header.writeUInt8(FORMAT, 0);
  header.writeUInt16BE(v.length, 1);
  v.copy(header, 3);
  header.writeUInt16BE(wrappedIk.length, 3 + v.length);
  wrappedIk.copy(header, 5 + v.length);
  return header;
}

function parseBlob(blob: Buffer, index: number): ParsedBlob {
  const bad = (why: string) => new KmsKeyError(`wrapped key ${index} is not a KMS-wrapped key of format ${FORMAT} (${why}). Refused; nothing was unwrapped.`);
  if (blob.length < 5) throw bad("too short");
  if (blob[0] !== FORMAT) throw bad(`format byte ${blob[0]}`);
  const n = blob.readUInt16BE(1);
  if (blob.length < 5 + n) throw bad("truncated");
  const m = blob.readUInt16BE(3 + n);
  const headerEnd = 5 + n + m;
  if (n === 0 || m === 0 || blob.length <= headerEnd + IV_BYTES + TAG_BYTES) throw bad("truncated");
  const version = blob.toString("utf8", 3, 3 + n);
  if (!/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/.test(version)) throw bad("no key version name");
  const wrappedIk = blob.subarray(5 + n, headerEnd);
  return {
    index,
    version,
    wrappedIk,
    ikId: wrappedIk.toString("base64"),
    header: blob.subarray(0, headerEnd),
    iv: blob.subarray(headerEnd, headerEnd + IV_BYTES),
    sealed: blob.subarray(headerEnd + IV_BYTES, blob.length - TAG_BYTES),
    tag: blob.subarray(blob.length - TAG_BYTES),
  };
}

function seal(ik: Buffer, header: Buffer, key: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", ik, iv);
  c.setAAD(header);
  return Buffer.concat([header, iv, c.update(key), c.final(), c.getAuthTag()]);
}

function open(ik: Buffer, b: ParsedBlob): Buffer {
  try {
    const d = createDecipheriv("aes-256-gcm", ik, b.iv);
    d.setAAD(b.header);
    d.setAuthTag(b.tag);
    return Buffer.concat([d.update(b.sealed), d.final()]);
  } catch {
    throw new KmsKeyError(`wrapped key ${b.index} does not authenticate: it was changed after wrapping. Refused; nothing was unwrapped.`);
  }
}

function crc32c(data: Buffer): number {
  const c = new CRC32C();
  c.update(data);
  return c.valueOf() >>> 0;
}

function sameCrc(value: unknown, data: Buffer): boolean {
  return value !== undefined && value !== null && String(value) === String(crc32c(data));
}

/** Decrypted intermediate keys by their KMS ciphertext: least recently used first out, each for `ttlMs` at most. */
class IkCache {
  private readonly entries = new Map<string, { ik: Buffer; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(id: string): Buffer | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    if (e.expires <= this.now()) return undefined;
    this.entries.set(id, e);
    return e.ik;
  }

  set(id: string, ik: Buffer): void {
    this.entries.delete(id);
    this.entries.set(id, { ik, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
