/**
 * Bronze on GCS through the official client against a local HTTP server
 * that speaks the parts of the GCS JSON API the adapter uses (multipart
 * upload, rewrite with ifGenerationMatch, get, delete): a batch's final
 * objects are created once, a second finalize (a retried bundle) gets 412
 * and leaves them untouched, and temporaries are removed.
 */
import http from "node:http";
import zlib from "node:zlib";
import { createHash } from "node:crypto";
import { CRC32C, Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcsBronze } from "../../sinks/gcs/bronze-objects.js";

const objects = new Map<string, { body: Buffer; generation: number }>();
const log: string[] = [];
let generation = 1;
let server: http.Server;
let endpoint: string;

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

function meta(bucket: string, name: string) {
  const o = objects.get(`${bucket}/${name}`)!;
  return {
    kind: "storage#object",
    bucket,
    name,
    generation: String(o.generation),
    size: String(o.body.length),
    md5Hash: createHash("md5").update(o.body).digest("base64"),
    crc32c: (() => {
      const c = new CRC32C();
      c.update(o.body);
      return c.toString();
    })(),
  };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      const body = Buffer.concat(chunks);
      const p = url.pathname;
      log.push(`${req.method} ${p}${url.search}`);
      let m: RegExpExecArray | null;
      if (req.method === "POST" && (m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p))) {
        // multipart/related: JSON metadata part, then the media part.
        const boundary = /boundary=([^;]+)/.exec(req.headers["content-type"]!)![1]!.replace(/"/g, "");
        const parts = body.toString("latin1").split(`--${boundary}`).slice(1, -1);
        const name = url.searchParams.get("name") ?? (JSON.parse(parts[0]!.split("\r\n\r\n")[1]!) as { name: string }).name;
        const media = parts[1]!.slice(parts[1]!.indexOf("\r\n\r\n") + 4, -2);
        objects.set(`${m[1]}/${name}`, { body: Buffer.from(media, "latin1"), generation: generation++ });
        return send(res, 200, meta(m[1]!, name));
      }
      if (req.method === "POST" && (m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/rewriteTo\/b\/([^/]+)\/o\/([^/]+)$/.exec(p))) {
        const [src, dst] = [`${m[1]}/${decodeURIComponent(m[2]!)}`, `${m[3]}/${decodeURIComponent(m[4]!)}`];
        if (url.searchParams.get("ifGenerationMatch") === "0" && objects.has(dst)) return send(res, 412, { error: { code: 412, message: "conditionNotMet" } });
        const o = objects.get(src);
        if (!o) return send(res, 404, { error: { code: 404, message: "Not Found" } });
        objects.set(dst, { body: o.body, generation: generation++ });
        return send(res, 200, {
          kind: "storage#rewriteResponse",
          done: true,
          totalBytesRewritten: String(o.body.length),
          objectSize: String(o.body.length),
          resource: meta(m[3]!, decodeURIComponent(m[4]!)),
        });
      }
      if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(p))) {
        const key = `${m[1]}/${decodeURIComponent(m[2]!)}`;
        if (!objects.has(key)) return send(res, 404, { error: { code: 404, message: "Not Found" } });
        if (req.method === "DELETE") {
          objects.delete(key);
          return send(res, 204);
        }
        return send(res, 200, meta(m[1]!, decodeURIComponent(m[2]!)));
      }
      send(res, 501, { error: { code: 501, message: `fake GCS: ${req.method} ${p} not implemented` } });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => server?.close());

describe("GcsBronze (sinks/gcs) against the GCS JSON API", () => {
  it("creates each final object once; a retried finalize gets 412 and changes nothing", async () => {
    const bronze = new GcsBronze(new Storage({ projectId: "ecom-test", apiEndpoint: endpoint }), { bucket: "bronze-b", prefix: "bronze" });
    const batch = { id: 3n, name: "ev_ecom-ingest_1764064800000_3" };
    const partitions = new Map([
      ["event_type=search/dt=2026-11-25/hour=10", ['{"event_id":"a"}', '{"event_id":"b"}']],
      ["event_type=page_view/dt=2026-11-25/hour=10", ['{"event_id":"c"}']],
    ]);
    const written = await bronze.writeTemp(batch, partitions);
    expect([...objects.keys()].every((k) => k.includes("/_tmp/"))).toBe(true);

    await bronze.finalize(batch, written);
    const finals = [...objects.keys()].sort();
    expect(finals).toEqual([
      "bronze-b/bronze/event_type=page_view/dt=2026-11-25/hour=10/part-ev_ecom-ingest_1764064800000_3.ndjson.gz",
      "bronze-b/bronze/event_type=search/dt=2026-11-25/hour=10/part-ev_ecom-ingest_1764064800000_3.ndjson.gz",
    ]);
    const generations = finals.map((k) => objects.get(k)!.generation);
    expect(zlib.gunzipSync(objects.get(finals[1]!)!.body).toString()).toBe('{"event_id":"a"}\n{"event_id":"b"}\n');
    expect(log.filter((l) => l.includes("rewriteTo")).every((l) => l.includes("ifGenerationMatch=0"))).toBe(true);

    // A retried bundle: temporaries written again (new bytes), finalize again.
    await bronze.writeTemp(batch, new Map([["event_type=search/dt=2026-11-25/hour=10", ['{"event_id":"a"}', '{"event_id":"b"}', '{"event_id":"zombie"}']]]));
    await bronze.finalize(batch, written);
    expect([...objects.keys()].sort()).toEqual(finals);
    expect(finals.map((k) => objects.get(k)!.generation)).toEqual(generations);
    expect(zlib.gunzipSync(objects.get(finals[1]!)!.body).toString()).not.toContain("zombie");
  });

  it("fails loudly when a committed batch's object is neither staged nor in place", async () => {
    const bronze = new GcsBronze(new Storage({ projectId: "ecom-test", apiEndpoint: endpoint }), { bucket: "bronze-b", prefix: "bronze" });
    const batch = { id: 0n, name: "ev_missing_0_0" };
    await expect(bronze.finalize(batch, ["event_type=search/dt=2026-11-25/hour=11/part-ev_missing_0_0.ndjson.gz"])).rejects.toThrow(
      /neither in place nor staged/,
    );
  });
});
