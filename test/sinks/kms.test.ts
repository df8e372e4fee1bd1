/**
 * The Cloud KMS key wrapper through the official client, over real gRPC, to
 * the local KMS server (test/helpers/kms-server.ts): KMS calls per batch and
 * per distinct intermediate key (counted on the server), the key version in
 * each blob, rotation and rewrapping, fail-closed errors that name the key
 * and carry no key bytes, tampered blobs refused, and what KMS is shown.
 */
import { createDecipheriv, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KeyError } from "../../sinks/keys/local-keys.js";
import { KmsKeyWrapper, type KmsKeyWrapperOptions, KmsKeyError, kmsKeyName, kmsVersionOf, openKmsKeyWrapper } from "../../sinks/keys/kms.js";
import { KmsServer } from "../helpers/kms-server.js";

let kms: KmsServer;
const opened: KmsKeyWrapper[] = [];
let keyCount = 0;

beforeAll(async () => {
  kms = await KmsServer.start();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await kms.close();
});

const newKey = () => kms.createKey("shop-prod", "europe-west1", "ecom", `subject-keks-${++keyCount}`);
const dataKeys = (n: number) => Array.from({ length: n }, () => randomBytes(32));

async function wrapper(keyName: string, more: Partial<KmsKeyWrapperOptions> = {}): Promise<KmsKeyWrapper> {
  const w = await openKmsKeyWrapper({ keyName, ...kms.connection(), probe: false, ...more } as KmsKeyWrapperOptions);
  opened.push(w);
  return w;
}

/** The blob layout the module header documents. */
function layout(blob: Buffer) {
  const n = blob.readUInt16BE(1);
  const m = blob.readUInt16BE(3 + n);
  const end = 5 + n + m;
  return {
    version: blob.toString("utf8", 3, 3 + n),
    versionAt: 3,
    wrappedIk: blob.subarray(5 + n, end),
    wrappedIkAt: 5 + n,
    header: blob.subarray(0, end),
    ivAt: end,
    sealedAt: end + 12,
    tagAt: blob.length - 16,
  };
}

async function failure(p: Promise<unknown>): Promise<KmsKeyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KmsKeyError);
  expect(err).toBeInstanceOf(KeyError);
  return err as KmsKeyError;
}

/** Every key given, in every spelling a message could carry it, is absent. */
function expectNoKeyBytes(message: string, secrets: readonly Buffer[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) {
    for (const form of [s.toString("hex"), s.toString("base64"), s.toString("base64url"), s.toString("latin1")]) {
      expect(message.includes(form)).toBe(false);
    }
  }
}

/** The plaintexts of every Encrypt the server was sent: the intermediate keys. */
const encryptedPlaintexts = (since = 0) => kms.callsOf("Encrypt", since).map((c) => c.request.plaintext as Buffer);

describe("KMS calls per batch", () => {
  it("wraps 10 000 keys with one Encrypt and unwraps them with one Decrypt; the cache serves the next unwraps", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(10_000);
    const mark = kms.calls.length;

    const blobs = await w.wrapAll(keys);
    expect(kms.callsOf("Encrypt", mark)).toHaveLength(1);
    expect(kms.calls.length - mark).toBe(1);
    expect(blobs).toHaveLength(10_000);
    expect(new Set(blobs.map((b) => b.toString("base64"))).size).toBe(10_000);

    const back = await w.unwrapAll(blobs);
    expect(back.every((k, i) => k.equals(keys[i]!))).toBe(true);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(1);

    const again = await w.unwrapAll([blobs[9_999]!, blobs[0]!, ...blobs.slice(100, 200)]);
    expect(again[0]!.equals(keys[9_999]!)).toBe(true);
    expect(again[1]!.equals(keys[0]!)).toBe(true);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(1);
    expect(kms.callsOf("Encrypt", mark)).toHaveLength(1);
  });

  it("a cold cache decrypts once per distinct intermediate key, and any one blob unwraps alone", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const batches = [dataKeys(5), dataKeys(7), dataKeys(11)];
    const wrapped: Buffer[][] = [];
    for (const b of batches) wrapped.push(await w.wrapAll(b));
    expect(new Set(wrapped.map((bs) => layout(bs[0]!).wrappedIk.toString("hex"))).size).toBe(3);

    const interleaved: Buffer[] = [];
    const expected: Buffer[] = [];
    for (let i = 0; i < 11; i++) {
      for (const [j, bs] of wrapped.entries()) {
        if (bs[i]) {
          interleaved.push(bs[i]!);
          expected.push(batches[j]![i]!);
        }
      }
    }
    const cold = await wrapper(name);
    const mark = kms.calls.length;
    const back = await cold.unwrapAll(interleaved);
    expect(back.every((k, i) => k.equals(expected[i]!))).toBe(true);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(3);
    expect(kms.calls.length - mark).toBe(3);

    const alone = await wrapper(name);
    const one = await alone.unwrapAll([wrapped[1]![4]!]);
    expect(one[0]!.equals(batches[1]![4]!)).toBe(true);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(4);
  });

  it("concurrent unwraps of the same intermediate key share one Decrypt", async () => {
    const name = newKey();
    const keys = dataKeys(50);
    const blobs = await (await wrapper(name)).wrapAll(keys);
    const cold = await wrapper(name);
    const mark = kms.calls.length;
    const [a, b] = await Promise.all([cold.unwrapAll(blobs.slice(0, 25)), cold.unwrapAll(blobs.slice(20))]);
    expect(a.every((k, i) => k.equals(keys[i]!))).toBe(true);
    expect(b.every((k, i) => k.equals(keys[20 + i]!))).toBe(true);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(1);
  });

  it("the cache is bounded and its entries expire", async () => {
    const name = newKey();
    let clock = 1_000_000;
    const w = await wrapper(name, { cache: { maxEntries: 2, ttlMs: 60_000 }, now: () => clock });
    const batches = [dataKeys(3), dataKeys(3), dataKeys(3)];
    const blobs: Buffer[] = [];
    for (const b of batches) blobs.push(...(await w.wrapAll(b)));
    const mark = kms.calls.length;
    await w.unwrapAll(blobs);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(3);
    await w.unwrapAll(blobs);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(4);
    await w.unwrapAll(blobs.slice(6));
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(4);
    clock += 60_001;
    const back = await w.unwrapAll(blobs);
    expect(back.every((k, i) => k.equals(batches[Math.floor(i / 3)]![i % 3]!))).toBe(true);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(7);
  });

  it("empty batches make no KMS call", async () => {
    const w = await wrapper(newKey());
    const mark = kms.calls.length;
    expect(await w.wrapAll([])).toEqual([]);
    expect(await w.unwrapAll([])).toEqual([]);
    expect(await w.rewrapAll([])).toEqual([]);
    expect(kms.calls.length).toBe(mark);
  });

  it("opening probes the key once both ways, unless told not to", async () => {
    const name = newKey();
    const mark = kms.calls.length;
    const w = await openKmsKeyWrapper({ keyName: name, ...kms.connection() });
    opened.push(w);
    expect(kms.calls.slice(mark).map((c) => [c.method, c.code])).toEqual([
      ["Encrypt", 0],
      ["Decrypt", 0],
    ]);
    expect(String(kms.calls[mark]!.request.additionalAuthenticatedData)).toMatch(/probe/);
    await wrapper(name);
    expect(kms.calls.length).toBe(mark + 2);
  });
});

describe("key versions and rotation", () => {
  it("records in each blob the version that wrapped it, readable without KMS", async () => {
    const name = kms.createKey("shop-prod", "europe-west1", "ecom", "versions");
    const w = await wrapper(kmsKeyName({ project: "shop-prod", location: "europe-west1", keyRing: "ecom", key: "versions" }));
    expect(w.id).toBe(name);
    const blobs = await w.wrapAll(dataKeys(20));
    const mark = kms.calls.length;
    expect(new Set(blobs.map(kmsVersionOf))).toEqual(new Set([`${name}/cryptoKeyVersions/1`]));
    expect(kms.calls.length).toBe(mark);
    expect(await w.primaryVersion()).toBe(`${name}/cryptoKeyVersions/1`);
    expect(kms.callsOf("GetCryptoKey", mark)).toHaveLength(1);
    expect(() => kmsVersionOf(Buffer.from("not a blob"))).toThrow(KmsKeyError);
  });

  it("after rotation new blobs carry the new version and old blobs still unwrap", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const oldKeys = dataKeys(30);
    const oldBlobs = await w.wrapAll(oldKeys);
    const v2 = kms.rotate(name);
    expect(v2).toBe(`${name}/cryptoKeyVersions/2`);
    expect(await w.primaryVersion()).toBe(v2);

    const newKeys = dataKeys(30);
    const newBlobs = await w.wrapAll(newKeys);
    expect(newBlobs.every((b) => kmsVersionOf(b) === v2)).toBe(true);
    expect(oldBlobs.every((b) => kmsVersionOf(b) === `${name}/cryptoKeyVersions/1`)).toBe(true);

    const cold = await wrapper(name);
    const back = await cold.unwrapAll([...oldBlobs, ...newBlobs]);
    expect(back.every((k, i) => k.equals([...oldKeys, ...newKeys][i]!))).toBe(true);
  });

  it("rewrapAll moves old blobs to the primary version with the same data keys, so the old version can go", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = [...dataKeys(40), ...dataKeys(60)];
    const old = [...(await w.wrapAll(keys.slice(0, 40))), ...(await w.wrapAll(keys.slice(40)))];
    const v2 = kms.rotate(name);

    const cold = await wrapper(name);
    const mark = kms.calls.length;
    const moved = await cold.rewrapAll(old);
    expect(kms.callsOf("Encrypt", mark)).toHaveLength(1);
    expect(kms.callsOf("Decrypt", mark)).toHaveLength(2);
    expect(moved.every((b) => kmsVersionOf(b) === v2)).toBe(true);
    expect(new Set(moved.map((b) => layout(b).wrappedIk.toString("hex"))).size).toBe(1);

    kms.setState(`${name}/cryptoKeyVersions/1`, "DISABLED");
    const after = await wrapper(name);
    const back = await after.unwrapAll(moved);
    expect(back.every((k, i) => k.equals(keys[i]!))).toBe(true);
    const err = await failure(after.unwrapAll(old));
    expect(err.message).toContain(`${name}/cryptoKeyVersions/1 is not enabled, current state is: DISABLED`);
  });
});

describe("fails closed", () => {
  it("a disabled primary version stops wraps, and a disabled version stops unwraps, naming the key and what to check", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(10);
    const mark = kms.calls.length;
    const blobs = await w.wrapAll(keys);
    kms.setState(`${name}/cryptoKeyVersions/1`, "DISABLED");

    const wrapErr = await failure(w.wrapAll(dataKeys(3)));
    expect(wrapErr.message).toContain(name);
    expect(wrapErr.message).toContain("FAILED_PRECONDITION");
    expect(wrapErr.message).toContain("Nothing was wrapped");
    expect(wrapErr.message).toContain("gcloud kms keys versions list --key=");

    const cold = await wrapper(name);
    const unwrapErr = await failure(cold.unwrapAll(blobs));
    expect(unwrapErr.message).toContain("current state is: DISABLED");
    expect(unwrapErr.message).toContain("Nothing was unwrapped");
    const openErr = await failure(openKmsKeyWrapper({ keyName: name, ...kms.connection() }));
    expect(openErr.message).toContain(name);
    for (const e of [wrapErr, unwrapErr, openErr]) expectNoKeyBytes(e.message, [...keys, ...encryptedPlaintexts(mark)]);

    kms.setState(`${name}/cryptoKeyVersions/1`, "ENABLED");
    expect((await cold.unwrapAll(blobs)).every((k, i) => k.equals(keys[i]!))).toBe(true);
  });

  it("a destroyed version cannot unwrap what it wrapped, even from a warm wrapper once its cache is cleared", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(10);
    const mark = kms.calls.length;
    const blobs = await w.wrapAll(keys);
    await w.unwrapAll(blobs);
    kms.rotate(name);
    kms.setState(`${name}/cryptoKeyVersions/1`, "DESTROYED");
    w.clearCache();
    const err = await failure(w.unwrapAll(blobs));
    expect(err.message).toContain(`${name}/cryptoKeyVersions/1 is not enabled, current state is: DESTROYED`);
    expect(err.message).toContain("a destroyed version cannot come back");
    expectNoKeyBytes(err.message, [...keys, ...encryptedPlaintexts(mark)]);
  });

  it("a key that does not exist, or that the caller may not use, fails at open and on every call", async () => {
    const missing = "projects/shop-prod/locations/europe-west1/keyRings/ecom/cryptoKeys/no-such-key";
    const notFound = await failure(openKmsKeyWrapper({ keyName: missing, ...kms.connection() }));
    expect(notFound.message).toContain(missing);
    expect(notFound.message).toContain("NOT_FOUND");
    expect(notFound.message).toContain("Check the project, location, key ring and key names");
    const noRing = await failure(openKmsKeyWrapper({ project: "shop-prod", location: "europe-west1", keyRing: "other", key: "k", ...kms.connection() }));
    expect(noRing.message).toContain("KeyRing projects/shop-prod/locations/europe-west1/keyRings/other not found");

    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(4);
    const blobs = await w.wrapAll(keys);
    kms.deny(name);
    try {
      const cold = await wrapper(name);
      const attempts = [() => openKmsKeyWrapper({ keyName: name, ...kms.connection() }), () => w.wrapAll(dataKeys(2)), () => cold.unwrapAll(blobs)];
      for (const attempt of attempts) {
        const err = await failure(attempt());
        expect(err.message).toContain("PERMISSION_DENIED");
        expect(err.message).toContain(`roles/cloudkms.cryptoKeyEncrypterDecrypter on ${name}`);
        expectNoKeyBytes(err.message, keys);
      }
    } finally {
      kms.allow(name);
    }
  });

  it("an unreachable endpoint fails with the endpoint in the message", async () => {
    const name = newKey();
    const err = await failure(openKmsKeyWrapper({ keyName: name, ...kms.connection(), port: 1, timeoutMs: 1_000 }));
    expect(err.message).toContain("127.0.0.1:1");
    expect(err.message).toContain(name);
  });

  it("Application Default Credentials that cannot be loaded reject the call with what to check, before anything reaches KMS", async () => {
    const name = newKey();
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = path.join(os.tmpdir(), `missing-${randomBytes(6).toString("hex")}.json`);
    const mark = kms.calls.length;
    try {
      const err = await failure(openKmsKeyWrapper({ keyName: name, apiEndpoint: "127.0.0.1", port: kms.port }));
      expect(err.message).toContain(name);
      expect(err.message).toContain("Check that Google credentials are available (Application Default Credentials");
      expect(kms.calls.length).toBe(mark);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
  });

  it("a key name that is not a CryptoKey is refused before any call", () => {
    const mark = kms.calls.length;
    expect(() => kmsKeyName({ keyName: "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3" })).toThrow(/names a key version/);
    expect(() => kmsKeyName({ keyName: "projects/p/keyRings/r" })).toThrow(/not of the form/);
    expect(() => kmsKeyName({ project: "p", location: "l", keyRing: "r/x", key: "k" })).toThrow(/without "\/"/);
    expect(() => kmsKeyName({ keyName: "projects/p/locations/l/keyRings/r/cryptoKeys/k", project: "p" } as never)).toThrow(/not both/);
    expect(() => new KmsKeyWrapper({ keyName: "projects/p/locations/l/keyRings/r/cryptoKeys/k", timeoutMs: 0 })).toThrow(
      /timeoutMs must be a whole number above 0/,
    );
    expect(() => new KmsKeyWrapper({ keyName: "projects/p/locations/l/keyRings/r/cryptoKeys/k", cache: { ttlMs: -1 } })).toThrow(/cache.ttlMs/);
    expect(kms.calls.length).toBe(mark);
  });

  it("a tampered blob is refused, wherever it was changed, and the others still unwrap", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(3);
    const [blob, other, third] = await w.wrapAll(keys);
    const secondBatch = await w.wrapAll(dataKeys(1));
    const at = layout(blob!);
    const flipped = (i: number) => {
      const b = Buffer.from(blob!);
      b[i]! ^= 0x40;
      return b;
    };
    const cases: [string, Buffer, RegExp][] = [
      ["format byte", flipped(0), /not a KMS-wrapped key of format 1/],
      ["version name", flipped(at.versionAt + at.version.length - 1), /does not authenticate/],
      ["wrapped intermediate key", flipped(at.wrappedIkAt + 10), /does not authenticate/],
      ["IV", flipped(at.ivAt), /does not authenticate/],
      ["sealed data key", flipped(at.sealedAt + 5), /does not authenticate/],
      ["tag", flipped(at.tagAt + 3), /does not authenticate/],
      ["truncated", blob!.subarray(0, blob!.length - 20), /does not authenticate|not a KMS-wrapped key/],
      ["header of another batch", Buffer.concat([layout(secondBatch[0]!).header, blob!.subarray(at.ivAt)]), /does not authenticate/],
    ];
    for (const [what, bad, expected] of cases) {
      const err = await failure(w.unwrapAll([other!, bad]));
      expect(err.message, what).toMatch(expected);
      expectNoKeyBytes(err.message, keys);
    }
    const foreign = Buffer.from(blob!);
    foreign.write("projects/elsewhere", at.versionAt, "utf8");
    expect((await failure(w.unwrapAll([foreign]))).message).toMatch(/not by projects\/shop-prod/);
    expect((await w.unwrapAll([third!, blob!])).map((k) => k.toString("hex"))).toEqual([keys[2]!, keys[0]!].map((k) => k.toString("hex")));
  });

  it("a KMS answer damaged in transit is refused by its checksum", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(5);
    kms.tamperNext("Encrypt");
    expect((await failure(w.wrapAll(keys))).message).toMatch(/damaged in transit.*Nothing was wrapped/);
    const blobs = await w.wrapAll(keys);
    kms.tamperNext("Decrypt");
    expect((await failure(w.unwrapAll(blobs))).message).toMatch(/damaged in transit.*Nothing was unwrapped/);
    expect((await w.unwrapAll(blobs)).every((k, i) => k.equals(keys[i]!))).toBe(true);
  });
});

describe("what KMS is shown", () => {
  it("the only plaintext KMS sees is the intermediate key, sent with its purpose; no data key is in any request", async () => {
    const name = newKey();
    const w = await wrapper(name);
    const keys = dataKeys(10_000);
    const mark = kms.calls.length;
    const blobs = await w.wrapAll(keys);
    await (await wrapper(name)).unwrapAll(blobs);
    await (await wrapper(name)).rewrapAll(blobs.slice(0, 100));

    const encrypts = kms.callsOf("Encrypt", mark);
    expect(encrypts).toHaveLength(2);
    for (const c of encrypts) {
      expect((c.request.plaintext as Buffer).length).toBe(32);
      expect(String(c.request.additionalAuthenticatedData)).toMatch(/intermediate key/);
    }
    const ik = encrypts[0]!.request.plaintext as Buffer;
    for (const i of [0, 4_321, 9_999]) {
      const at = layout(blobs[i]!);
      expect(at.wrappedIk.equals(kms.callsOf("Decrypt", mark)[0]!.request.ciphertext as Buffer)).toBe(true);
      const d = createDecipheriv("aes-256-gcm", ik, blobs[i]!.subarray(at.ivAt, at.sealedAt));
      d.setAAD(at.header);
      d.setAuthTag(blobs[i]!.subarray(at.tagAt));
      expect(Buffer.concat([d.update(blobs[i]!.subarray(at.sealedAt, at.tagAt)), d.final()]).equals(keys[i]!)).toBe(true);
    }
    const requests = kms.calls.slice(mark);
    expect(requests.length).toBe(4);
    for (const c of requests) {
      expect(c.raw.length).toBeGreaterThan(0);
      for (const k of keys) expect(c.raw.includes(k)).toBe(false);
    }
  });
});
