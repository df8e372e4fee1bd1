/** For tests of the instance port: raw HTTP requests (every header under the test's control) and the instance file. */
import fs from "node:fs";
import http from "node:http";
import { type InstanceInfo, instanceFile } from "../../pipelines/local/instance.js";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to 127.0.0.1:`port`, with exactly the given headers (Host included, when given). */
export function rawRequest(port: number, req: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port, method: req.method, path: req.path, headers: req.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    r.on("error", reject);
    r.end(req.body);
  });
}

/** The instance file as the CLI reads it. */
export function instanceInfo(dataDir: string): InstanceInfo {
  return JSON.parse(fs.readFileSync(instanceFile(dataDir), "utf8")) as InstanceInfo;
}

/** A POST /query with the instance's token. */
export function postQuery(info: InstanceInfo, sql: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(info.port, { method: "POST", path: "/query", headers: { authorization: `Bearer ${info.token}`, ...headers }, body: sql });
}
