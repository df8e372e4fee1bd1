/**
 * A local HTTP server that speaks the parts of the BigQuery REST v2 API (and
 * the GCS JSON API, for the staging objects load jobs read) that
 * sinks/bigquery/commit.ts and pipelines/beam/cloud-commit.ts call, through
 * the official clients pointed at it with `apiEndpoint`:
 *
 *   BigQuery  POST   /bigquery/v2/projects/:p/jobs                 jobs.insert (load, query); 409 for an existing id
 *             GET    /bigquery/v2/projects/:p/jobs/:id             jobs.get (DONE, errorResult when told to fail)
 *             POST   /bigquery/v2/projects/:p/queries              jobs.query (answered by `answer`)
 *             GET    /bigquery/v2/projects/:p/queries/:id          jobs.getQueryResults
 *             DELETE /bigquery/v2/projects/:p/datasets/:d/tables/:t tables.delete
 *   GCE metadata  /computeMetadata/v1/...                        instance probe and an access token (set GCE_METADATA_HOST)
 *   GCS       POST   /upload/storage/v1/b/:b/o                     multipart upload
 *             GET    /storage/v1/b/:b/o/:o[?alt=media]             metadata / download
 *             DELETE /storage/v1/b/:b/o/:o                         delete
 *
 * It executes no SQL. A load job reads its gs:// source objects from the
 * in-memory GCS store and replaces (WRITE_TRUNCATE) or appends the parsed
 * NDJSON rows in its destination table, as BigQuery does at load time. Every
 * request is recorded in `requests`.
 */
import http from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { CRC32C } from "@google-cloud/storage";

/** The access token the fake metadata server hands out (the clients send it as `Authorization: Bearer ...`). */
export const FAKE_ACCESS_TOKEN = "fake-token-for-tests";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  host: string | undefined;
  authorization: string | undefined;
  /** Parsed JSON body when it is JSON, else the raw text. */
  body: unknown;
}

export interface FakeJob {
  kind: "bigquery#job";
  id: string;
  jobReference: { projectId: string; jobId: string; location: string };
  configuration: Record<string, any>;
  status: { state: "RUNNING" | "DONE"; errorResult?: { reason: string; message: string }; errors?: { reason: string; message: string }[] };
  statistics: Record<string, unknown>;
  /** How many jobs.get calls still answer RUNNING before DONE. */
  pollsLeft: number;
  /** The errorResult message it will finish with, if it fails. */
  failure?: string;
}

export interface QueryAnswer {
  fields: { name: string; type: string; mode?: string }[];
  rows: Record<string, string | null>[];
}

export interface FakeBigQuery {
  endpoint: string;
  requests: RecordedRequest[];
  /** Jobs by job id, in creation order. */
  jobs: Map<string, FakeJob>;
  /** Table rows by `project.dataset.table`. */
  tables: Map<string, Record<string, unknown>[]>;
  /** GCS objects by `bucket/name`. */
  objects: Map<string, Buffer>;
  /** Return an error message to make a job (found by its id and configuration) finish DONE with errorResult. */
  failJob: (job: FakeJob) => string | undefined;
  /** Rows for a jobs.query request (SELECT and single DML statements the committer runs through `query()`). */
  answer: (request: { query: string; queryParameters?: unknown[] }) => QueryAnswer;
  /** jobs.insert POSTs the server accepted (201-ish) vs answered 409. */
  inserted: string[];
  conflicts: string[];
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

function apiError(res: http.ServerResponse, code: number, reason: string, message: string, status: string): void {
  send(res, code, { error: { code, message, errors: [{ message, domain: "global", reason }], status } });
}

function publicJob(j: FakeJob) {
  const { pollsLeft: _p, failure: _f, ...rest } = j;
  return rest;
}

function crc32c(b: Buffer): string {
  const c = new CRC32C();
  c.update(b);
  return c.toString();
}

/** The parts of a multipart/related body: JSON metadata, then the media. */
function multipart(contentType: string, body: Buffer): { meta: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary=([^;]+)/.exec(contentType)![1]!.replace(/"/g, "");
  const parts = body.toString("latin1").split(`--${boundary}`).slice(1, -1);
  const meta = JSON.parse(parts[0]!.slice(parts[0]!.indexOf("\r\n\r\n") + 4).trim()) as Record<string, unknown>;
  const media = parts[1]!.slice(parts[1]!.indexOf("\r\n\r\n") + 4, -2);
  return { meta, media: Buffer.from(media, "latin1") };
}

export async function startFakeBigQuery(): Promise<FakeBigQuery> {
  const state: Omit<FakeBigQuery, "endpoint" | "close"> = {
    requests: [],
    jobs: new Map(),
    tables: new Map(),
    objects: new Map(),
    failJob: () => undefined,
    answer: () => ({ fields: [], rows: [] }),
    inserted: [],
    conflicts: [],
  };

  function gcsMeta(bucket: string, name: string) {
    const b = state.objects.get(`${bucket}/${name}`)!;
    return { kind: "storage#object", bucket, name, generation: "1", size: String(b.length), md5Hash: createHash("md5").update(b).digest("base64"), crc32c: crc32c(b) };
  }

  /** What BigQuery does when a load job runs: read the sources, write the destination. */
  function runLoad(job: FakeJob): string | undefined {
    const load = job.configuration.load as {
      sourceUris: string[];
      destinationTable: { projectId: string; datasetId: string; tableId: string };
      writeDisposition?: string;
      sourceFormat?: string;
    };
    if (load.sourceFormat !== "NEWLINE_DELIMITED_JSON") return `fake: unsupported sourceFormat ${load.sourceFormat}`;
    const rows: Record<string, unknown>[] = [];
    for (const uri of load.sourceUris) {
      const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
      const body = m ? state.objects.get(`${m[1]}/${m[2]}`) : undefined;
      if (!body) return `Not found: URI ${uri}`;
      for (const line of body.toString("utf8").split("\n")) if (line.trim()) rows.push(JSON.parse(line) as Record<string, unknown>);
    }
    const d = load.destinationTable;
    const key = `${d.projectId}.${d.datasetId}.${d.tableId}`;
    state.tables.set(key, load.writeDisposition === "WRITE_TRUNCATE" ? rows : [...(state.tables.get(key) ?? []), ...rows]);
    return undefined;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        apiError(res, 500, "internalError", `fake server: ${(err as Error).stack}`, "INTERNAL");
      }
    });
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const url = new URL(req.url!, "http://x");
    const p = url.pathname;
    const ct = req.headers["content-type"] ?? "";
    let body: unknown = raw.toString("utf8");
    if (ct.includes("json") && raw.length) body = JSON.parse(raw.toString("utf8"));
    state.requests.push({ method: req.method!, path: p, query: url.searchParams, host: req.headers.host, authorization: req.headers.authorization, body });
    let m: RegExpExecArray | null;

    // --- GCE metadata server (GCE_METADATA_HOST points here): the credentials the clients use, never Google's ---
    if (req.method === "GET" && p.startsWith("/computeMetadata/v1/")) {
      const flavor = { "metadata-flavor": "Google" };
      if (req.headers["metadata-flavor"] !== "Google") return apiError(res, 403, "forbidden", "Missing Metadata-Flavor header", "PERMISSION_DENIED");
      if (p === "/computeMetadata/v1/instance" || p === "/computeMetadata/v1/instance/") {
        res.writeHead(200, { ...flavor, "content-type": "application/text" });
        res.end("");
        return;
      }
      if (/^\/computeMetadata\/v1\/instance\/service-accounts\/[^/]+\/token$/.test(p)) {
        res.writeHead(200, { ...flavor, "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: FAKE_ACCESS_TOKEN, expires_in: 3600, token_type: "Bearer" }));
        return;
      }
      if (p === "/computeMetadata/v1/universe/universe-domain") {
        res.writeHead(200, { ...flavor, "content-type": "application/text" });
        res.end("googleapis.com");
        return;
      }
      if (p === "/computeMetadata/v1/project/project-id") {
        res.writeHead(200, { ...flavor, "content-type": "application/text" });
        res.end("ecom-test");
        return;
      }
      return apiError(res, 404, "notFound", `fake metadata: ${p}`, "NOT_FOUND");
    }

    // --- BigQuery ---
    if (req.method === "POST" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(p))) {
      const insert = body as { jobReference?: { projectId?: string; jobId?: string; location?: string }; configuration: Record<string, any> };
      const jobId = insert.jobReference?.jobId ?? randomUUID();
      const location = insert.jobReference?.location ?? "US";
      if (state.jobs.has(jobId)) {
        state.conflicts.push(jobId);
        return apiError(res, 409, "duplicate", `Already Exists: Job ${m[1]}:${location}.${jobId}`, "ALREADY_EXISTS");
      }
      const job: FakeJob = {
        kind: "bigquery#job",
        id: `${m[1]}:${location}.${jobId}`,
        jobReference: { projectId: m[1]!, jobId, location },
        configuration: insert.configuration,
        status: { state: "RUNNING" },
        statistics: { creationTime: String(Date.now()) },
        pollsLeft: 0,
      };
      state.jobs.set(jobId, job);
      state.inserted.push(jobId);
      job.failure = state.failJob(job) ?? (job.configuration.load ? runLoad(job) : undefined);
      return send(res, 200, publicJob(job));
    }
    if (req.method === "GET" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)$/.exec(p))) {
      const job = state.jobs.get(decodeURIComponent(m[2]!));
      if (!job) return apiError(res, 404, "notFound", `Not found: Job ${m[1]}:${decodeURIComponent(m[2]!)}`, "NOT_FOUND");
      if (job.pollsLeft > 0) {
        job.pollsLeft--;
        return send(res, 200, publicJob(job));
      }
      const failure = job.failure;
      job.status = failure
        ? { state: "DONE", errorResult: { reason: "invalidQuery", message: failure }, errors: [{ reason: "invalidQuery", message: failure }] }
        : { state: "DONE" };
      return send(res, 200, publicJob(job));
    }
    if (req.method === "POST" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(p))) {
      const q = body as { query: string; queryParameters?: unknown[]; location?: string };
      const a = state.answer(q);
      const jobId = `job_${randomUUID().replace(/-/g, "")}`;
      return send(res, 200, {
        kind: "bigquery#queryResponse",
        jobReference: { projectId: m[1], jobId, location: q.location ?? "US" },
        jobComplete: true,
        schema: { fields: a.fields.map((f) => ({ mode: "NULLABLE", ...f })) },
        rows: a.rows.map((r) => ({ f: a.fields.map((f) => ({ v: r[f.name] ?? null })) })),
        totalRows: String(a.rows.length),
        cacheHit: false,
      });
    }
    if (req.method === "GET" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(p))) {
      return send(res, 200, { kind: "bigquery#getQueryResultsResponse", jobComplete: true, schema: { fields: [] }, rows: [], totalRows: "0" });
    }
    if (req.method === "DELETE" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/.exec(p))) {
      const key = `${m[1]}.${m[2]}.${decodeURIComponent(m[3]!)}`;
      if (!state.tables.delete(key)) return apiError(res, 404, "notFound", `Not found: Table ${key}`, "NOT_FOUND");
      return send(res, 204);
    }

    // --- GCS ---
    if (req.method === "POST" && (m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p))) {
      const { meta, media } = multipart(ct, raw);
      const name = url.searchParams.get("name") ?? (meta.name as string);
      state.objects.set(`${m[1]}/${name}`, media);
      return send(res, 200, gcsMeta(m[1]!, name));
    }
    if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(p))) {
      const name = decodeURIComponent(m[2]!);
      const key = `${m[1]}/${name}`;
      if (!state.objects.has(key)) return apiError(res, 404, "notFound", "No such object", "NOT_FOUND");
      if (req.method === "DELETE") {
        state.objects.delete(key);
        return send(res, 204);
      }
      if (url.searchParams.get("alt") === "media") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(state.objects.get(key));
        return;
      }
      return send(res, 200, gcsMeta(m[1]!, name));
    }
    apiError(res, 501, "notImplemented", `fake server: ${req.method} ${p} not implemented`, "UNIMPLEMENTED");
  }

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return Object.assign(state, {
    endpoint,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as FakeBigQuery;
}
