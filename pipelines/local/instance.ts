/**
 * One process owns the DuckDB file (design.md). While `ecom start` runs, it
 * serves readers on a loopback HTTP port recorded in `<data-dir>/ecom.instance.json`;
 * `ecom query` and `ecom report` use it when the recorded process is alive and
 * open the file themselves when none runs.
 *
 * The port is a trust boundary. Guarantees:
 * - every request must carry the instance's access token (32 random bytes,
 *   base64url, kept in the 0600 instance file, written atomically):
 *   `Authorization: Bearer <token>`, or the cookie a browser gets by opening
 *   a link with `?token=<token>` once (HttpOnly, SameSite=Strict; the answer
 *   is a 303 to the same URL without the token). Tokens are compared in
 *   constant time; a missing or wrong one is a 401 that says how to
 *   authenticate and never contains the token;
 * - a request whose Host is not `127.0.0.1:<port>` or `localhost:<port>`, or
 *   whose Origin (when sent) is not `http://` one of those, is a 403: no DNS
 *   rebinding, no cross-site request from a browser page;
 * - `POST /query` runs the caller's QueryFn (the read-only guard); an error
 *   answers 400 with a redacted message (no row values);
 * - every answer carries a strict Content-Security-Policy (scripts, styles,
 *   images and fetches from this origin only, nothing inline, no framing), so
 *   a page served here (the dashboards) runs only the files served beside it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { publicErrorMessage } from "../../sinks/duckdb/read-only.js";
import { writePrivateFileAtomic } from "../../sinks/local-files/private-files.js";
import type { Engine } from "./engine.js";

export interface InstanceInfo {
  pid: number;
  port: number;
  startedAt: string;
  /** The access token every request must carry. */
  token: string;
}

export type QueryFn = (sql: string) => Promise<Record<string, unknown>[]>;
/** What a route answers: a body (text, or bytes for a static asset) and its content type. */
export interface RouteAnswer {
  status?: number;
  type?: string;
  body: string | Buffer;
}
/** Routes by `"<METHOD> <pathname>"`; a handler gets the request body and the parsed URL (its query parameters), token removed. */
export type Routes = Record<string, (body: string, request: { url: URL }) => Promise<RouteAnswer>>;

/** Same origin only, nothing inline, no plugins, no framing, no form posts elsewhere. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Largest request body accepted (a query's SQL, a rebuild's options). */
const MAX_BODY_BYTES = 1 << 20;

export function instanceFile(dataDir: string): string {
  return path.join(dataDir, "ecom.instance.json");
}

/** The access token alone (0600), for a scraper's `authorization.credentials_file`; Prometheus reads it at every scrape. */
export function tokenFile(dataDir: string): string {
  return path.join(dataDir, "ecom.token");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running instance for a data dir, if any. */
export function findInstance(dataDir: string): InstanceInfo | undefined {
  let info: InstanceInfo;
  try {
    info = JSON.parse(fs.readFileSync(instanceFile(dataDir), "utf8")) as InstanceInfo;
  } catch {
    return undefined;
  }
  return info.pid !== process.pid && alive(info.pid) ? info : undefined;
}

function sameToken(given: string, token: string): boolean {
  // Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

type Verdict = { ok: true } | { ok: false; status: number; headers?: http.OutgoingHttpHeaders; body: string };

/** Host, Origin and token checks of one request (see the header). */
function admit(req: http.IncomingMessage, url: URL, port: number, token: string, dataDir: string): Verdict {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes((req.headers.host ?? "").toLowerCase())) {
    return { ok: false, status: 403, body: `refused: this ecom instance answers only requests addressed to ${hosts.join(" or ")}\n` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin.toLowerCase() === `http://${h}`)) {
    return { ok: false, status: 403, body: `refused: cross-site request; this ecom instance answers only pages it served itself\n` };
  }
  // Cookies are shared by every port of a host: the name carries the port so two instances do not clash.
  const cookie = `ecom_token_${port}`;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
  const presented = bearer ?? cookieValue(req.headers.cookie, cookie);
  if (presented !== undefined && sameToken(presented, token)) return { ok: true };
  const linked = url.searchParams.get("token");
  if (presented === undefined && req.method === "GET" && linked !== null && sameToken(linked, token)) {
    url.searchParams.delete("token");
    return {
      ok: false,
      status: 303,
      headers: { location: url.pathname + url.search, "set-cookie": `${cookie}=${token}; HttpOnly; SameSite=Strict; Path=/` },
      body: "authenticated; continue at the same address without the token\n",
    };
  }
  return {
    ok: false,
    status: 401,
    headers: { "www-authenticate": 'Bearer realm="ecom"' },
    body:
      `this ecom instance needs its access token.\n` +
      `  Send "Authorization: Bearer <token>" with the "token" from ${instanceFile(dataDir)} (readable by the user who started it;\n` +
      `  the ecom CLI does this for you), or open http://127.0.0.1:${port}/<path>?token=<token> once in a browser.\n`,
  };
}

/** Serves `POST /query` (SQL in the body, JSON rows out) and the given extra routes, to holders of the token only. */
export async function serveInstance(
  dataDir: string,
  query: QueryFn,
  routes: Routes = {},
  opts: { port?: number } = {},
): Promise<{ port: number; token: string; close(): Promise<void> }> {
  const token = randomBytes(32).toString("base64url");
  let port = 0;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) =>
      res
        .writeHead(status, {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "content-security-policy": CONTENT_SECURITY_POLICY,
          "referrer-policy": "no-referrer",
          ...headers,
        })
        .end(body);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    } catch {
      req.resume();
      send(400, "refused: the request target is not a URL path\n");
      return;
    }
    const verdict = admit(req, url, port, token, dataDir);
    if (!verdict.ok) {
      req.resume();
      send(verdict.status, verdict.body, verdict.headers);
      return;
    }
    const route = `${req.method} ${url.pathname}`;
    const handler: Routes[string] | undefined =
      route === "POST /query" ? async (sql) => ({ type: "application/json", body: JSON.stringify(await query(sql)) }) : routes[route];
    if (!handler) {
      req.resume();
      send(404, "not found\n");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) {
        send(413, `refused: the request body is larger than ${MAX_BODY_BYTES} bytes\n`);
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      handler(body, { url }).then(
        (r) => send(r.status ?? 200, r.body, { "content-type": r.type ?? "text/plain; charset=utf-8" }),
        (err: Error) => send(400, publicErrorMessage(err)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new Error(`port ${opts.port} on 127.0.0.1 is in use; choose another --port, or 0 for any free one`) : err),
    );
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  port = (server.address() as { port: number }).port;
  const info: InstanceInfo = { pid: process.pid, port, startedAt: new Date().toISOString(), token };
  writePrivateFileAtomic(instanceFile(dataDir), JSON.stringify(info) + "\n");
  writePrivateFileAtomic(tokenFile(dataDir), token);
  return {
    port,
    token,
    close: async () => {
      fs.rmSync(instanceFile(dataDir), { force: true });
      fs.rmSync(tokenFile(dataDir), { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves an open Engine: `POST /query` through its store's read-only guard (a connection per query), plus `routes`. */
export function serveEngine(engine: Engine, routes: Routes = {}, opts: { port?: number } = {}): ReturnType<typeof serveInstance> {
  return serveInstance(engine.dataDir, (sql) => engine.store.queryReadOnly(sql), routes, opts);
}

/** A request to the running instance, with its token. */
export function instanceFetch(info: InstanceInfo, pathname: string, init: { method: string; body?: string }): Promise<Response> {
  return fetch(`http://127.0.0.1:${info.port}${pathname}`, { ...init, headers: { authorization: `Bearer ${info.token}` } });
}

/** Runs SQL on the running instance. */
export async function queryInstance(info: InstanceInfo, sql: string): Promise<Record<string, unknown>[]> {
  const res = await instanceFetch(info, "/query", { method: "POST", body: sql });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return JSON.parse(text) as Record<string, unknown>[];
}
