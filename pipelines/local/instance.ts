/**
 * One process owns the DuckDB file (design.md). While `ecom start` runs, it
 * serves readers on a loopback HTTP port recorded in `<data-dir>/ecom.instance.json`;
 * `ecom query` and `ecom report` use it when the recorded process is alive and
 * open the file themselves when none runs.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

export interface InstanceInfo {
  pid: number;
  port: number;
  startedAt: string;
}

export type QueryFn = (sql: string) => Promise<Record<string, unknown>[]>;
export type Routes = Record<string, (body: string) => Promise<{ status?: number; type?: string; body: string }>>;

function instanceFile(dataDir: string): string {
  return path.join(dataDir, "ecom.instance.json");
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

/** Serves `POST /query` (SQL in the body, JSON rows out) and the given extra routes. */
export async function serveInstance(dataDir: string, query: QueryFn, routes: Routes = {}): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const route = `${req.method} ${(req.url ?? "/").split("?")[0]}`;
      const handler: Routes[string] | undefined =
        route === "POST /query"
          ? async (sql) => ({ type: "application/json", body: JSON.stringify(await query(sql)) })
          : routes[route];
      if (!handler) {
        res.writeHead(404).end("not found\n");
        return;
      }
      handler(body).then(
        (r) => res.writeHead(r.status ?? 200, { "content-type": r.type ?? "text/plain" }).end(r.body),
        (err: Error) => res.writeHead(400, { "content-type": "text/plain" }).end(err.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const info: InstanceInfo = { pid: process.pid, port, startedAt: new Date().toISOString() };
  fs.writeFileSync(instanceFile(dataDir), JSON.stringify(info) + "\n");
  return {
    port,
    close: async () => {
      fs.rmSync(instanceFile(dataDir), { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs SQL on the running instance. */
export async function queryInstance(info: InstanceInfo, sql: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`http://127.0.0.1:${info.port}/query`, { method: "POST", body: sql });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return JSON.parse(text) as Record<string, unknown>[];
}
