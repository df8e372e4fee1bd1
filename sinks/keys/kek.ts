/**
 * The key-encryption key, whichever it is: the one function every executor
 * opens it through (the local Engine, the Beam sink's worker, the Dataflow
 * commit, a Bronze replay from another data dir), so a command's
 * `--kms-key` reaches every place that wraps or unwraps a subject key.
 *
 *   { kind: "local" }                the data dir's keys/kek.json (the default, for development)
 *   { kind: "kms", keyName, endpoint? }  a Cloud KMS CryptoKey (sinks/keys/kms.ts); `endpoint`
 *                                    host:port of another KMS endpoint (a regional one, or a
 *                                    local server speaking the KMS API: plaintext, loopback only)
 *
 * Guarantees: fail closed. A KMS key that cannot encrypt and decrypt (missing,
 * disabled primary, no permission, unreachable) stops `openKek` before
 * anything is written; a local KEK that is not there is an error, never a
 * reason to make one. What the store records of the KEK (`record`,
 * fingerprints.ts) never holds key bytes.
 */
import { type KekRecord, KMS_KEY_FILE, keyFingerprint } from "./fingerprints.js";
import { KEK_FILE, type KeyMaterial, KeyError } from "./local-keys.js";
import { type KeyWrapper, localKeyWrapper } from "./subject-keys.js";

export type KekSource = { kind: "local" } | { kind: "kms"; keyName: string; endpoint?: string };

export const LOCAL_KEK: KekSource = Object.freeze({ kind: "local" });

/** An open KEK: the key stores' wrapper, what the store records of it, and `rewrapAll` (the same data keys wrapped again by the KEK's current version). */
export interface OpenedKek extends KeyWrapper {
  readonly record: KekRecord;
  rewrapAll(wrapped: readonly Buffer[]): Promise<Buffer[]>;
  /** The KMS key version that wrapped a blob (read without KMS); undefined for the local key file, which has no versions. */
  versionOf(wrapped: Buffer): string | undefined;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Opens the KEK `source` names; `keys` are the data dir's (or key bundle's) local key files. */
export async function openKek(source: KekSource, keys: KeyMaterial): Promise<OpenedKek> {
  if (source.kind === "local") {
    if (!keys.kek) {
      throw new KeyError(
        `the keys folder has no ${KEK_FILE} (the local key-encryption key). Nothing was written.\n` +
          `  If this data dir's subject keys are wrapped by Cloud KMS, give its key: --kms-key projects/P/locations/L/keyRings/R/cryptoKeys/K (or ECOM_KMS_KEY);\n` +
          `  otherwise restore ${KEK_FILE} from your key backup; do not create a new one for an existing data dir.`,
      );
    }
    const w = localKeyWrapper(keys.kek);
    return {
      ...w,
      record: { keyFile: KEK_FILE, keyId: keys.kek.id, fingerprint: keyFingerprint(keys.kek.key) },
      rewrapAll: async (wrapped) => w.wrapAll(await w.unwrapAll(wrapped)),
      versionOf: () => undefined,
      close: async () => undefined,
    };
  }
  // Loaded only when asked for: the KMS client is large, and development runs use the local file.
  const { openKmsKeyWrapper, kmsVersionOf } = await import("./kms.js");
  const kms = await openKmsKeyWrapper({ keyName: source.keyName, ...(await endpointOptions(source.endpoint)) });
  return {
    id: kms.id,
    record: { keyFile: KMS_KEY_FILE, keyId: kms.id, fingerprint: keyFingerprint(Buffer.from(kms.id, "utf8")) },
    wrapAll: (k) => kms.wrapAll(k),
    unwrapAll: (w) => kms.unwrapAll(w),
    rewrapAll: (w) => kms.rewrapAll(w),
    versionOf: (w) => kmsVersionOf(w),
    close: () => kms.close(),
  };
}

async function endpointOptions(endpoint: string | undefined) {
  if (endpoint === undefined) return {};
  const m = /^(.+):(\d+)$/.exec(endpoint);
  if (!m) throw new KeyError(`the Cloud KMS endpoint "${endpoint}" is not host:port.`);
  const host = m[1]!;
  const port = Number(m[2]);
  // A local server speaking the KMS API has no TLS and wants no Google credentials; anything else gets both.
  if (!LOOPBACK.test(host)) return { apiEndpoint: host, port };
  const { credentials } = await import("@grpc/grpc-js");
  return { apiEndpoint: host, port, sslCreds: credentials.createInsecure() };
}
