/**
 * A local gRPC server that speaks the Cloud KMS API
 * (google.cloud.kms.v1.KeyManagementService) for what sinks/keys/kms.ts
 * calls, loaded from the proto definitions shipped in @google-cloud/kms, so
 * the official client talks to it exactly as to KMS:
 *
 *   Encrypt       with a CryptoKey name (its primary version) or a version name
 *   Decrypt       with a CryptoKey name; the version comes from the ciphertext
 *   GetCryptoKey  name, purpose ENCRYPT_DECRYPT, primary version and its state
 *
 * Keys live in memory: key rings, keys, versions, each version its own
 * AES-256-GCM key. A ciphertext is [u32 version][12 IV][ciphertext][16 tag]
 * with the key name and the caller's additional data authenticated, so a
 * ciphertext of another key, another AAD or with any byte changed fails as
 * on KMS. Errors carry KMS's status codes: NOT_FOUND for a missing key ring,
 * key or version; PERMISSION_DENIED for a denied key (`deny`);
 * FAILED_PRECONDITION for a version that is not ENABLED; INVALID_ARGUMENT for
 * a bad ciphertext or a CRC32C that does not match its data. Every other
 * method answers UNIMPLEMENTED. Every call is recorded in `calls` (decoded
 * request, its raw bytes, the status answered).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { CRC32C } from "@google-cloud/storage";

export type KmsMethod = "Encrypt" | "Decrypt" | "GetCryptoKey";
export type VersionState = "ENABLED" | "DISABLED" | "DESTROY_SCHEDULED" | "DESTROYED";

export interface KmsCall {
  method: string;
  /** The request as decoded (bytes fields are Buffers). */
  request: Record<string, unknown>;
  /** The request exactly as it came over the wire. */
  raw: Buffer;
  /** gRPC status answered: 0 for OK. */
  code: number;
}

interface Version {
  n: number;
  state: VersionState;
  material: Buffer;
}

interface Key {
  versions: Version[];
  primary: number;
}

type Answer = Record<string, unknown>;

class KmsStatus extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const SERVICE = "google.cloud.kms.v1.KeyManagementService";
const KEY_NAME = /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+)\/cryptoKeys\/([^/]+)$/;
const VERSION_NAME = /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/(\d+)$/;
const MAX_BYTES = 64 * 1024;

function loadService(): grpc.ServiceDefinition {
  const file = createRequire(import.meta.url).resolve("@google-cloud/kms/build/protos/protos.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  const def = protoLoader.fromJSON(json, { longs: String, enums: String, defaults: true, oneofs: true });
  return def[SERVICE] as grpc.ServiceDefinition;
}

export function crc32c(data: Buffer): number {
  const c = new CRC32C();
  c.update(data);
  return c.valueOf() >>> 0;
}

export class KmsServer {
  readonly calls: KmsCall[] = [];
  private readonly keyRings = new Set<string>();
  private readonly keys = new Map<string, Key>();
  private readonly denied = new Set<string>();
  private readonly tamper = new Set<KmsMethod>();

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<KmsServer> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const kms = new KmsServer(server, port);
    kms.serve(loadService());
    return kms;
  }

  /** What KmsKeyWrapperOptions needs to reach this server. */
  connection(): { apiEndpoint: string; port: number; sslCreds: grpc.ChannelCredentials } {
    return { apiEndpoint: "127.0.0.1", port: this.port, sslCreds: grpc.credentials.createInsecure() };
  }

  /** A new key with version 1 as its primary (the key ring is made too); returns its name. */
  createKey(project: string, location: string, keyRing: string, key: string): string {
    const ring = `projects/${project}/locations/${location}/keyRings/${keyRing}`;
    const name = `${ring}/cryptoKeys/${key}`;
    if (this.keys.has(name)) throw new Error(`${name} exists`);
    this.keyRings.add(ring);
    this.keys.set(name, { versions: [{ n: 1, state: "ENABLED", material: randomBytes(32) }], primary: 1 });
    return name;
  }

  /** A new version, made primary (as `gcloud kms keys versions create --primary`); returns its name. */
  rotate(keyName: string): string {
    const key = this.key(keyName);
    const n = key.versions.length + 1;
    key.versions.push({ n, state: "ENABLED", material: randomBytes(32) });
    key.primary = n;
    return `${keyName}/cryptoKeyVersions/${n}`;
  }

  /** Sets a version's state; DESTROYED discards its key material for good. */
  setState(versionName: string, state: VersionState): void {
    const m = VERSION_NAME.exec(versionName);
    const v = m ? this.key(m[1]!).versions[Number(m[2]) - 1] : undefined;
    if (!v) throw new Error(`no version ${versionName}`);
    if (v.state === "DESTROYED" && state !== "DESTROYED") throw new Error(`${versionName} is destroyed`);
    v.state = state;
    if (state === "DESTROYED") v.material = Buffer.alloc(0);
  }

  /** Calls on this key answer PERMISSION_DENIED, as for a caller without a role on it. */
  deny(keyName: string): void {
    this.denied.add(keyName);
  }

  allow(keyName: string): void {
    this.denied.delete(keyName);
  }

  /** The next successful answer to `method` has one byte of its payload flipped after its checksum was computed. */
  tamperNext(method: Exclude<KmsMethod, "GetCryptoKey">): void {
    this.tamper.add(method);
  }

  /** Calls of `method` recorded from index `since` on. */
  callsOf(method: KmsMethod, since = 0): KmsCall[] {
    return this.calls.slice(since).filter((c) => c.method === method);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private serve(service: grpc.ServiceDefinition): void {
    const raws = new WeakMap<object, Buffer>();
    const recorded: Record<string, grpc.MethodDefinition<object, Answer>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    const methods: Record<string, (req: Answer) => Answer> = {
      Encrypt: (req) => this.encrypt(req),
      Decrypt: (req) => this.decrypt(req),
      GetCryptoKey: (req) => this.getCryptoKey(req),
    };
    for (const [method, def] of Object.entries(service)) {
      recorded[method] = {
        ...(def as grpc.MethodDefinition<object, Answer>),
        requestDeserialize: (bytes: Buffer) => {
          const req = def.requestDeserialize(bytes) as object;
          raws.set(req, Buffer.from(bytes));
          return req;
        },
      };
      handlers[method] = (call: grpc.ServerUnaryCall<Answer, Answer>, callback: grpc.sendUnaryData<Answer>) => {
        const entry: KmsCall = { method, request: call.request, raw: raws.get(call.request) ?? Buffer.alloc(0), code: grpc.status.OK };
        this.calls.push(entry);
        try {
          const run = methods[method];
          if (!run) throw new KmsStatus(grpc.status.UNIMPLEMENTED, `${method} is not implemented by the local KMS server.`);
          callback(null, run(call.request));
        } catch (err) {
          if (!(err instanceof KmsStatus)) throw err;
          entry.code = err.code;
          callback({ code: err.code, details: err.message });
        }
      };
    }
    this.server.addService(recorded as grpc.ServiceDefinition, handlers);
  }

  private encrypt(req: Answer): Answer {
    const name = String(req.name);
    const plaintext = req.plaintext as Buffer;
    const aad = req.additionalAuthenticatedData as Buffer;
    const version = VERSION_NAME.exec(name);
    const keyName = version ? version[1]! : name;
    const key = this.usable(keyName, "useToEncrypt");
    const v = this.enabled(keyName, key, version ? Number(version[2]) : key.primary);
    if (plaintext.length === 0 || plaintext.length > MAX_BYTES || aad.length > MAX_BYTES) {
      throw new KmsStatus(grpc.status.INVALID_ARGUMENT, "The plaintext must be 1 to 65536 bytes and the additional authenticated data at most 65536.");
    }
    checkCrc(req.plaintextCrc32c, plaintext, "plaintext");
    checkCrc(req.additionalAuthenticatedDataCrc32c, aad, "additional_authenticated_data");
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", v.material, iv);
    c.setAAD(Buffer.concat([Buffer.from(keyName), Buffer.from([0]), aad]));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(v.n);
    const ciphertext = Buffer.concat([head, iv, c.update(plaintext), c.final(), c.getAuthTag()]);
    const crc = crc32c(ciphertext);
    return {
      name: `${keyName}/cryptoKeyVersions/${v.n}`,
      ciphertext: this.maybeTamper("Encrypt", ciphertext),
      ciphertextCrc32c: { value: String(crc) },
      verifiedPlaintextCrc32c: req.plaintextCrc32c != null,
      verifiedAdditionalAuthenticatedDataCrc32c: req.additionalAuthenticatedDataCrc32c != null,
      protectionLevel: "SOFTWARE",
    };
  }

  private decrypt(req: Answer): Answer {
    const keyName = String(req.name);
    const ciphertext = req.ciphertext as Buffer;
    const aad = req.additionalAuthenticatedData as Buffer;
    if (!KEY_NAME.test(keyName)) throw new KmsStatus(grpc.status.INVALID_ARGUMENT, `Decrypt needs a CryptoKey name, not ${keyName}.`);
    const key = this.usable(keyName, "useToDecrypt");
    checkCrc(req.ciphertextCrc32c, ciphertext, "ciphertext");
    checkCrc(req.additionalAuthenticatedDataCrc32c, aad, "additional_authenticated_data");
    const invalid = new KmsStatus(grpc.status.INVALID_ARGUMENT, "Decryption failed: the ciphertext is invalid.");
    if (ciphertext.length < 4 + 12 + 16) throw invalid;
    const n = ciphertext.readUInt32BE(0);
    if (!key.versions[n - 1]) throw invalid;
    const v = this.enabled(keyName, key, n);
    let plaintext: Buffer;
    try {
      const d = createDecipheriv("aes-256-gcm", v.material, ciphertext.subarray(4, 16));
      d.setAAD(Buffer.concat([Buffer.from(keyName), Buffer.from([0]), aad]));
      d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      plaintext = Buffer.concat([d.update(ciphertext.subarray(16, ciphertext.length - 16)), d.final()]);
    } catch {
      throw invalid;
    }
    const crc = crc32c(plaintext);
    return {
      plaintext: this.maybeTamper("Decrypt", plaintext),
      plaintextCrc32c: { value: String(crc) },
      usedPrimary: n === key.primary,
      protectionLevel: "SOFTWARE",
    };
  }

  private getCryptoKey(req: Answer): Answer {
    const name = String(req.name);
    const key = this.usable(name, "get", "cryptoKeys");
    const primary = key.versions[key.primary - 1]!;
    return {
      name,
      purpose: "ENCRYPT_DECRYPT",
      primary: { name: `${name}/cryptoKeyVersions/${primary.n}`, state: primary.state, algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "SOFTWARE" },
    };
  }

  private key(keyName: string): Key {
    const key = this.keys.get(keyName);
    if (!key) throw new Error(`no key ${keyName}`);
    return key;
  }

  /** The key, if this caller may use it: KMS checks permission before existence. */
  private usable(keyName: string, permission: string, kind = "cryptoKeyVersions"): Key {
    if (this.denied.has(keyName)) {
      throw new KmsStatus(grpc.status.PERMISSION_DENIED, `Permission 'cloudkms.${kind}.${permission}' denied on resource '${keyName}' (or it may not exist).`);
    }
    const m = KEY_NAME.exec(keyName);
    if (!m) throw new KmsStatus(grpc.status.INVALID_ARGUMENT, `Resource name [${keyName}] does not match any known resource name pattern.`);
    if (!this.keyRings.has(m[1]!)) throw new KmsStatus(grpc.status.NOT_FOUND, `KeyRing ${m[1]} not found.`);
    const key = this.keys.get(keyName);
    if (!key) throw new KmsStatus(grpc.status.NOT_FOUND, `CryptoKey ${keyName} not found.`);
    return key;
  }

  private enabled(keyName: string, key: Key, n: number): Version {
    const v = key.versions[n - 1];
    if (!v) throw new KmsStatus(grpc.status.NOT_FOUND, `CryptoKeyVersion ${keyName}/cryptoKeyVersions/${n} not found.`);
    if (v.state !== "ENABLED") {
      throw new KmsStatus(grpc.status.FAILED_PRECONDITION, `${keyName}/cryptoKeyVersions/${n} is not enabled, current state is: ${v.state}.`);
    }
    return v;
  }

  private maybeTamper(method: KmsMethod, payload: Buffer): Buffer {
    if (!this.tamper.delete(method)) return payload;
    const out = Buffer.from(payload);
    out[out.length - 1]! ^= 0x01;
    return out;
  }
}

function checkCrc(given: unknown, data: Buffer, field: string): void {
  const value = (given as { value?: unknown } | null | undefined)?.value;
  if (value === undefined || value === null) return;
  if (String(value) !== String(crc32c(data))) {
    throw new KmsStatus(grpc.status.INVALID_ARGUMENT, `The checksum in field ${field}_crc32c did not match the data in field ${field}.`);
  }
}
