/**
 * Routes of the instance port get the request's URL (its query parameters,
 * the sign-in token removed) and answer text or bytes with their content
 * type; every answer, a refusal included, carries the strict
 * Content-Security-Policy. A real server on a real socket, asked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY, type InstanceInfo, type Routes, serveInstance } from "../../pipelines/local/instance.js";
import { tempDir } from "../helpers/data.js";
import { instanceInfo, rawRequest } from "../helpers/instance.js";

const dataDir = tempDir("routes");
const seen: string[] = [];
const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
const routes: Routes = {
  "GET /echo": async (_body, { url }) => {
    seen.push(url.search);
    return { type: "application/json", body: JSON.stringify(Object.fromEntries(url.searchParams)) };
  },
  "GET /bytes": async () => ({ type: "image/png", body: bytes }),
};
let server: Awaited<ReturnType<typeof serveInstance>>;
let info: InstanceInfo;

beforeAll(async () => {
  server = await serveInstance(dataDir, async () => [], routes);
  info = instanceInfo(dataDir);
});
afterAll(() => server?.close());

const get = (path: string, headers: Record<string, string> = {}) =>
  rawRequest(info.port, { method: "GET", path, headers: { host: `127.0.0.1:${info.port}`, ...headers } });

describe("routes", () => {
  it("get the query parameters of the URL", async () => {
    const res = await get("/echo?from=2026-11-01&to=2026-11-07&x=%3Cb%3E", { authorization: `Bearer ${info.token}` });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({ from: "2026-11-01", to: "2026-11-07", x: "<b>" });
  });

  it("never see the sign-in token: the link redirects first, and the cookie then brings the same parameters", async () => {
    const link = await get(`/echo?from=2026-11-01&token=${encodeURIComponent(info.token)}`);
    expect([link.status, link.headers.location]).toEqual([303, "/echo?from=2026-11-01"]);
    const jar = link.headers["set-cookie"]![0]!.split(";")[0]!;
    seen.length = 0;
    const res = await get(link.headers.location!, { cookie: jar });
    expect(JSON.parse(res.body)).toEqual({ from: "2026-11-01" });
    expect(seen).toEqual(["?from=2026-11-01"]);
  });

  it("answer bytes unchanged, with their content type", async () => {
    const res = await fetch(`http://127.0.0.1:${info.port}/bytes`, { headers: { authorization: `Bearer ${info.token}` } });
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });
});

describe("every answer", () => {
  it("carries the Content-Security-Policy (same origin only, nothing inline, no framing), nosniff and no referrer", async () => {
    const answers = [
      await get("/echo", { authorization: `Bearer ${info.token}` }),
      await get("/bytes", { authorization: `Bearer ${info.token}` }),
      await get("/nowhere", { authorization: `Bearer ${info.token}` }),
      await get("/echo"),
      await get("/echo", { authorization: `Bearer ${info.token}`, origin: "http://evil.example" }),
      await get(`/echo?token=${encodeURIComponent(info.token)}`),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 401, 403, 303]);
    for (const a of answers) {
      expect(a.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
      expect(a.headers["x-content-type-options"]).toBe("nosniff");
      expect(a.headers["referrer-policy"]).toBe("no-referrer");
    }
    const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    expect(directives).toMatchObject({ "default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "frame-ancestors": "'none'" });
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|\*|data:|http/);
  });
});
