/**
 * The instance port lets in only holders of its token, from this machine's
 * loopback names: a real server (serveEngine, as `ecom start` runs it) on a
 * real data dir, asked over real HTTP with every header under the test's
 * control. A browser link with `?token=` sets a cookie and redirects to the
 * same URL without the token; the cookie then authenticates.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goldRoutes } from "../../gold/routes.js";
import { openRuntime } from "../../jobs/runtime.js";
import type { Engine } from "../../pipelines/local/engine.js";
import { type InstanceInfo, instanceFile, queryInstance, serveEngine } from "../../pipelines/local/instance.js";
import { generated, tempDir } from "../helpers/data.js";
import { instanceInfo, rawRequest } from "../helpers/instance.js";

const data = path.join(tempDir("auth"), "data");
let engine: Engine;
let server: Awaited<ReturnType<typeof serveEngine>>;
let info: InstanceInfo;
let orders: number;

beforeAll(async () => {
  engine = await openRuntime(data);
  const messages = generated(400, 7);
  await engine.processBatch(
    messages.map((m, i) => ({ data: m.data, origin: `test:${i}`, receivedAtMs: Date.now() })),
    "test",
  );
  orders = Number((await engine.store.query("SELECT count(*) AS n FROM silver.order_events"))[0]!.n);
  server = await serveEngine(engine, goldRoutes(engine));
  info = instanceInfo(data);
});
afterAll(async () => {
  await server?.close();
  engine?.close();
});

const get = (p: string, headers: Record<string, string> = {}) =>
  rawRequest(info.port, { method: "GET", path: p, headers: { host: `127.0.0.1:${info.port}`, ...headers } });
const countSql = "SELECT count(*) AS n FROM silver.order_events";

describe("the instance file", () => {
  it("is 0600 and holds a 32-byte base64url token that the server also returns", () => {
    expect(fs.statSync(instanceFile(data)).mode & 0o777).toBe(0o600);
    expect(info.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(info.token, "base64url").length).toBe(32);
    expect(info.token).toBe(server.token);
    expect(info).toMatchObject({ pid: process.pid, port: server.port });
  });

  it("leaves no temporary file behind", () => {
    expect(fs.readdirSync(data).filter((n) => n.includes("instance"))).toEqual(["ecom.instance.json"]);
  });
});

describe("authentication", () => {
  it("answers the client that sends the token from the file", async () => {
    expect(await queryInstance(info, countSql)).toEqual([{ n: orders }]);
  });

  it("answers 401 without a token or with a wrong one, says how to authenticate, and never shows the token", async () => {
    const tries: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${"A".repeat(43)}` },
      { authorization: `Bearer ${info.token}x` },
      { authorization: `Basic ${Buffer.from(`ecom:${info.token}`).toString("base64")}` },
      { cookie: `ecom_token_${info.port}=${"B".repeat(43)}` },
      { cookie: `ecom_token_${info.port + 1}=${info.token}` }, // another instance's cookie
    ];
    for (const headers of tries) {
      for (const req of [
        { method: "POST", path: "/query", body: countSql },
        { method: "GET", path: "/gold/status" },
        { method: "POST", path: "/gold/rebuild", body: "{}" },
        { method: "GET", path: "/nowhere" },
      ]) {
        const res = await rawRequest(info.port, { ...req, headers: { host: `127.0.0.1:${info.port}`, ...headers } });
        expect(res.status, `${JSON.stringify(headers)} ${req.method} ${req.path}`).toBe(401);
        expect(res.body).toContain("Authorization: Bearer <token>");
        expect(res.body).toContain(instanceFile(data));
        expect(res.body).not.toContain(info.token);
        expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
        expect(res.headers["set-cookie"]).toBeUndefined();
      }
    }
  });

  it("a ?token= link sets an HttpOnly SameSite=Strict cookie and redirects (303) to the same URL without the token", async () => {
    const res = await get(`/gold/status?view=1&token=${encodeURIComponent(info.token)}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/gold/status?view=1");
    const [cookie] = res.headers["set-cookie"] ?? [];
    expect(cookie).toBe(`ecom_token_${info.port}=${info.token}; HttpOnly; SameSite=Strict; Path=/`);
    expect(res.body).not.toContain(info.token);

    const jar = cookie!.split(";")[0]!;
    const status = await get("/gold/status?view=1", { cookie: `other=1; ${jar}` });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toHaveProperty("pending");
    const rows = await rawRequest(info.port, {
      method: "POST",
      path: "/query",
      headers: { host: `localhost:${info.port}`, origin: `http://localhost:${info.port}`, cookie: jar },
      body: countSql,
    });
    expect([rows.status, JSON.parse(rows.body)]).toEqual([200, [{ n: orders }]]);
  });

  it("a wrong ?token= gets a 401 and no cookie; a POST never takes the token from the URL", async () => {
    const wrong = await get(`/gold/status?token=${"C".repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    const post = await rawRequest(info.port, {
      method: "POST",
      path: `/query?token=${encodeURIComponent(info.token)}`,
      headers: { host: `127.0.0.1:${info.port}` },
      body: countSql,
    });
    expect(post.status).toBe(401);
  });
});

describe("Host and Origin", () => {
  const bearer = () => ({ authorization: `Bearer ${info.token}` });

  it("accepts 127.0.0.1:<port> and localhost:<port>, with or without a matching Origin", async () => {
    for (const host of [`127.0.0.1:${info.port}`, `localhost:${info.port}`, `LOCALHOST:${info.port}`]) {
      for (const origin of [undefined, `http://127.0.0.1:${info.port}`, `http://localhost:${info.port}`]) {
        const res = await rawRequest(info.port, {
          method: "POST",
          path: "/query",
          headers: { host, ...(origin ? { origin } : {}), ...bearer() },
          body: countSql,
        });
        expect([res.status, res.body], `${host} ${origin}`).toEqual([200, JSON.stringify([{ n: orders }])]);
      }
    }
  });

  it("refuses (403) a foreign Host, even with the token: a DNS-rebound name, another port, no port", async () => {
    for (const host of [
      `evil.example:${info.port}`,
      `127.0.0.1.nip.io:${info.port}`,
      `127.0.0.1:${info.port + 1}`,
      "127.0.0.1",
      "localhost",
      `[::1]:${info.port}`,
    ]) {
      const res = await rawRequest(info.port, { method: "POST", path: "/query", headers: { host, ...bearer() }, body: countSql });
      expect(res.status, host).toBe(403);
      expect(res.body.startsWith("["), "no rows in the answer").toBe(false);
    }
  });

  it("refuses (403) a foreign Origin, even with the token or the cookie", async () => {
    const jar = `ecom_token_${info.port}=${info.token}`;
    for (const origin of [
      "http://evil.example",
      `https://127.0.0.1:${info.port}`,
      `http://127.0.0.1:${info.port + 1}`,
      "null",
      `http://localhost:${info.port}.evil.example`,
    ]) {
      for (const auth of [bearer(), { cookie: jar }]) {
        const res = await rawRequest(info.port, {
          method: "POST",
          path: "/query",
          headers: { host: `127.0.0.1:${info.port}`, origin, ...auth },
          body: countSql,
        });
        expect(res.status, `${origin} ${Object.keys(auth)[0]}`).toBe(403);
      }
    }
    // The ?token= link is refused from a foreign page too: no cookie is set.
    const link = await get(`/gold/status?token=${encodeURIComponent(info.token)}`, { origin: "http://evil.example" });
    expect(link.status).toBe(403);
    expect(link.headers["set-cookie"]).toBeUndefined();
  });
});

describe("malformed requests", () => {
  it("a request target that is not a URL is a 400, and the instance keeps answering", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = net.connect(info.port, "127.0.0.1", () =>
        socket.write(`GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${info.port}\r\nConnection: close\r\n\r\n`),
      );
      socket.on("data", (d: Buffer) => (text += d.toString("utf8")));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
    expect(await queryInstance(info, countSql)).toEqual([{ n: orders }]);
  });
});

describe("closing", () => {
  it("removes the instance file; the port no longer answers", async () => {
    const other = await serveEngine(engine);
    const port = other.port;
    await other.close();
    expect(fs.existsSync(instanceFile(data))).toBe(false);
    await expect(rawRequest(port, { method: "GET", path: "/" })).rejects.toThrow(/ECONNREFUSED/);
  });
});
