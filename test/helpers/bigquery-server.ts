/**
 * A local HTTP server that speaks the parts of the BigQuery REST v2 API (and
 * the GCS JSON API, for the staging objects load jobs read) that
 * sinks/bigquery/commit.ts and pipelines/beam/cloud-commit.ts call, through
 * the official clients pointed at it with `apiEndpoint`:
 *
 *   BigQuery  POST   /bigquery/v2/projects/:p/jobs                 jobs.insert (load, query); 409 for an existing id
 *             GET    /bigquery/v2/projects/:p/jobs/:id             jobs.get (RUNNING for `pollsLeft` polls, then DONE, errorResult on failure)
 *             POST   /bigquery/v2/projects/:p/queries              jobs.query
 *             GET    /bigquery/v2/projects/:p/queries/:id          jobs.getQueryResults (paged by maxResults/pageToken)
 *             GET/DELETE .../datasets/:d/tables/:t                 tables.get, tables.delete
 *             GET/POST/DELETE .../datasets[/:d]                    datasets.get, datasets.insert, datasets.delete
 *   GCE metadata  /computeMetadata/v1/...                        instance probe and an access token (set GCE_METADATA_HOST)
 *   GCS       POST   /upload/storage/v1/b/:b/o                     multipart upload
 *             GET    /storage/v1/b/:b/o/:o[?alt=media]             metadata / download
 *             DELETE /storage/v1/b/:b/o/:o                         delete
 *             POST   /storage/v1/b/:b/o/:o/rewriteTo/b/:b2/o/:o2   copy; ifGenerationMatch=0 gives 412 when the target exists
 *
 * It runs what the jobs ask for on an in-memory DuckDB (bigquery-engine.ts),
 * a schema per dataset: query jobs execute their GoogleSQL translated by
 * bigquery-sql.ts (scripts and transactions included), load jobs read
 * NEWLINE_DELIMITED_JSON from the in-memory GCS objects into the tables.
 * Answers are in BigQuery's wire format (bigquery-values.ts), so the official
 * client parses them as it parses BigQuery's: BigQueryTimestamp and
 * BigQueryDate objects, numbers, Buffers. A query that fails, or uses a
 * construct the translator does not support, fails its job with errorResult
 * `invalidQuery` (jobs.query: HTTP 400), naming the construct. Every request is
 * recorded in `requests`; every job keeps the statements it ran.
 */
import http from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { CRC32C } from "@google-cloud/storage";
import { BigQueryEngine, type ExecutedStatement, type LoadConfig, type ResultSet, type ScriptOutcome } from "./bigquery-engine.js";
import { BigQueryError, restField } from "./bigquery-sql/types.js";
import { wireValue } from "./bigquery-values.js";

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
  statistics: Record<string, any>;
  /** How many jobs.get (or getQueryResults) calls still answer RUNNING before DONE. */
  pollsLeft: number;
  /** The errorResult message it will finish with, if it fails. */
  failure?: string;
  failureReason?: string;
  /** How the client created it: jobs.insert, or jobs.query (which creates a job too). */
  via: "jobs.insert" | "jobs.query";
  /** A query job's statements as they ran: the GoogleSQL text and the DuckDB statements it became. */
  statements: ExecutedStatement[];
  /** The rows of a query job's last statement, when that is a query. */
  result?: ResultSet;
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
  /** GCS objects by `bucket/name`. */
  objects: Map<string, Buffer>;
  /** The DuckDB database the datasets live in. */
  engine: BigQueryEngine;
  /** Return an error message to make a jobs.insert job (found by its id and configuration) finish DONE with errorResult, without running. */
  failJob: (job: FakeJob) => string | undefined;
  /** An override for jobs.query: an answer is sent as is instead of running the query; undefined runs it. */
  answer?: (request: { query: string; queryParameters?: unknown[] }) => QueryAnswer | undefined;
  /** jobs.insert POSTs the server accepted (201-ish) vs answered 409. */
  inserted: string[];
  conflicts: string[];
  /** Every row of `project.dataset.table` (or `dataset.table`), as plain JSON values (bigquery-values.ts). */
  rows(table: string): Promise<Record<string, unknown>[]>;
  /** DuckDB SQL on the fake's database, rows as plain JSON values. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Every table and view, as `dataset.table`. */
  tables(): Promise<string[]>;
  /** Forgets every dataset, job, object and request, and the hooks. */
  reset(): Promise<void>;
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
  const { pollsLeft: _p, failure: _f, failureReason: _r, via: _v, statements: _s, result: _x, ...rest } = j;
  return rest;
}

const HTTP_STATUS: Record<string, [number, string]> = {
  notFound: [404, "NOT_FOUND"],
  duplicate: [409, "ALREADY_EXISTS"],
  invalidQuery: [400, "INVALID_ARGUMENT"],
  invalid: [400, "INVALID_ARGUMENT"],
};

function sendError(res: http.ServerResponse, reason: string, message: string): void {
  const [code, status] = HTTP_STATUS[reason] ?? [400, "INVALID_ARGUMENT"];
  apiError(res, code, reason, message, status);
}

/** A page of a result set as BigQuery's `schema` and `rows`. */
function wirePage(result: ResultSet | undefined, start: number, max: number | undefined, int64Timestamps: boolean) {
  if (!result) return { totalRows: "0" };
  const end = max === undefined ? result.rows.length : Math.min(result.rows.length, start + max);
  const rows = result.rows.slice(start, end).map((r) => ({ f: result.fields.map((f, i) => ({ v: wireValue(f.type, r[i]!, int64Timestamps) })) }));
  return {
    schema: { fields: result.fields.map((f) => restField(f.name, f.type)) },
    ...(rows.length ? { rows } : {}),
    totalRows: String(result.rows.length),
    ...(end < result.rows.length ? { pageToken: String(end) } : {}),
  };
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

/** `gs://bucket/name` (one `*` wildcard allowed in the name) -> the matching objects, or undefined. */
function readObjects(objects: Map<string, Buffer>, uri: string): Buffer[] | undefined {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) return undefined;
  const key = `${m[1]}/${m[2]}`;
  if (!key.includes("*")) return objects.has(key) ? [objects.get(key)!] : undefined;
  const [before, after] = key.split("*", 2) as [string, string];
  const found = [...objects.keys()].filter((k) => k.startsWith(before) && k.endsWith(after) && k.length >= before.length + after.length).sort();
  return found.length ? found.map((k) => objects.get(k)!) : undefined;
}

/** Query job settings this fake does not implement; they would change where or how results land. */
function unsupportedQueryOptions(q: Record<string, any>): string | undefined {
  if (q.useLegacySql === true) return "fake BigQuery: legacy SQL is not supported";
  for (const k of [
    "destinationTable",
    "defaultDataset",
    "writeDisposition",
    "createDisposition",
    "tableDefinitions",
    "timePartitioning",
    "clustering",
    "connectionProperties",
  ]) {
    if (q[k] !== undefined) return `fake BigQuery: query option ${k} is not supported`;
  }
  if (q.parameterMode && String(q.parameterMode).toUpperCase() === "POSITIONAL") return "fake BigQuery: positional query parameters is not supported";
  return undefined;
}

export async function startFakeBigQuery(): Promise<FakeBigQuery> {
  const engine = await BigQueryEngine.create();
  const state = {
    requests: [] as RecordedRequest[],
    jobs: new Map<string, FakeJob>(),
    objects: new Map<string, Buffer>(),
    engine,
    failJob: (() => undefined) as FakeBigQuery["failJob"],
    answer: undefined as FakeBigQuery["answer"],
    inserted: [] as string[],
    conflicts: [] as string[],
  };

  function gcsMeta(bucket: string, name: string) {
    const b = state.objects.get(`${bucket}/${name}`)!;
    return {
      kind: "storage#object",
      bucket,
      name,
      generation: "1",
      size: String(b.length),
      md5Hash: createHash("md5").update(b).digest("base64"),
      crc32c: crc32c(b),
    };
  }

  function newJob(project: string, jobId: string, location: string, configuration: Record<string, any>, via: FakeJob["via"]): FakeJob {
    return {
      kind: "bigquery#job",
      id: `${project}:${location}.${jobId}`,
      jobReference: { projectId: project, jobId, location },
      configuration,
      status: { state: "RUNNING" },
      statistics: { creationTime: String(Date.now()) },
      pollsLeft: 0,
      via,
      statements: [],
    };
  }

  function fail(job: FakeJob, message: string, reason = "invalidQuery"): void {
    job.failure = message;
    job.failureReason = reason;
  }

  function record(job: FakeJob, out: ScriptOutcome): void {
    job.statements = out.statements;
    job.result = out.result;
    job.statistics.query = {
      statementType: out.statementType,
      ...(out.affectedRows !== undefined ? { numDmlAffectedRows: String(out.affectedRows) } : {}),
      ...(out.statementType === "SCRIPT" ? { numChildJobs: String(out.statements.length) } : {}),
    };
    if (out.error) fail(job, out.error.message, out.error.reason);
  }

  /** What BigQuery does while a job runs; the outcome shows once the job is polled DONE. */
  async function execute(job: FakeJob): Promise<void> {
    const c = job.configuration;
    const project = job.jobReference.projectId;
    if (c.query) {
      const unsupported = unsupportedQueryOptions(c.query);
      if (unsupported) return fail(job, unsupported);
      return record(job, await engine.runScript(c.query.query, project, c.query.queryParameters ?? []));
    }
    if (c.load) {
      try {
        await engine.load(project, c.load as LoadConfig, (uri) => readObjects(state.objects, uri));
        job.statistics.load = { outputRows: "0" };
      } catch (err) {
        const e = err instanceof BigQueryError ? err : new BigQueryError(String((err as Error).message), "invalid");
        fail(job, e.message, e.reason);
      }
      return;
    }
    fail(job, `fake BigQuery: job type ${Object.keys(c).join(", ")} is not supported`, "invalid");
  }

  function finish(job: FakeJob): void {
    if (job.status.state === "DONE") return;
    job.statistics.endTime = String(Date.now());
    job.status = job.failure
      ? {
          state: "DONE",
          errorResult: { reason: job.failureReason ?? "invalidQuery", message: job.failure },
          errors: [{ reason: job.failureReason ?? "invalidQuery", message: job.failure }],
        }
      : { state: "DONE" };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: Error) => apiError(res, 500, "internalError", `fake server: ${err.stack}`, "INTERNAL"));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
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

    // --- BigQuery jobs ---
    if (req.method === "POST" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(p))) {
      const insert = body as { jobReference?: { projectId?: string; jobId?: string; location?: string }; configuration: Record<string, any> };
      const jobId = insert.jobReference?.jobId ?? randomUUID();
      const location = insert.jobReference?.location ?? "US";
      if (state.jobs.has(jobId)) {
        state.conflicts.push(jobId);
        return apiError(res, 409, "duplicate", `Already Exists: Job ${m[1]}:${location}.${jobId}`, "ALREADY_EXISTS");
      }
      const job = newJob(m[1]!, jobId, location, insert.configuration, "jobs.insert");
      state.jobs.set(jobId, job);
      state.inserted.push(jobId);
      job.statistics.startTime = String(Date.now());
      const failure = state.failJob(job);
      if (failure) fail(job, failure);
      else await execute(job);
      return send(res, 200, publicJob(job));
    }
    if (req.method === "GET" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)$/.exec(p))) {
      const job = state.jobs.get(decodeURIComponent(m[2]!));
      if (!job) return apiError(res, 404, "notFound", `Not found: Job ${m[1]}:${decodeURIComponent(m[2]!)}`, "NOT_FOUND");
      if (job.pollsLeft > 0) {
        job.pollsLeft--;
        return send(res, 200, publicJob(job));
      }
      finish(job);
      return send(res, 200, publicJob(job));
    }
    if (req.method === "POST" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(p))) {
      const q = body as {
        query: string;
        queryParameters?: unknown[];
        location?: string;
        maxResults?: number;
        formatOptions?: { useInt64Timestamp?: boolean };
      } & Record<string, any>;
      const jobId = `job_${randomUUID().replace(/-/g, "")}`;
      const location = q.location ?? "US";
      const a = state.answer?.(q);
      if (a) {
        return send(res, 200, {
          kind: "bigquery#queryResponse",
          jobReference: { projectId: m[1], jobId, location },
          jobComplete: true,
          schema: { fields: a.fields.map((f) => ({ mode: "NULLABLE", ...f })) },
          rows: a.rows.map((r) => ({ f: a.fields.map((f) => ({ v: r[f.name] ?? null })) })),
          totalRows: String(a.rows.length),
          cacheHit: false,
        });
      }
      const job = newJob(
        m[1]!,
        jobId,
        location,
        { query: { query: q.query, queryParameters: q.queryParameters, useLegacySql: q.useLegacySql, parameterMode: q.parameterMode } },
        "jobs.query",
      );
      state.jobs.set(jobId, job);
      await execute(job);
      finish(job);
      if (job.failure) return sendError(res, job.failureReason ?? "invalidQuery", job.failure);
      return send(res, 200, {
        kind: "bigquery#queryResponse",
        jobReference: job.jobReference,
        jobComplete: true,
        ...wirePage(job.result, 0, q.maxResults, q.formatOptions?.useInt64Timestamp === true),
        ...(job.statistics.query.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: job.statistics.query.numDmlAffectedRows } : {}),
        cacheHit: false,
        totalBytesProcessed: "0",
      });
    }
    if (req.method === "GET" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(p))) {
      const job = state.jobs.get(decodeURIComponent(m[2]!));
      if (!job) return apiError(res, 404, "notFound", `Not found: Job ${m[1]}:${decodeURIComponent(m[2]!)}`, "NOT_FOUND");
      if (job.pollsLeft > 0) {
        job.pollsLeft--;
        return send(res, 200, { kind: "bigquery#getQueryResultsResponse", jobReference: job.jobReference, jobComplete: false });
      }
      finish(job);
      if (job.failure) return sendError(res, job.failureReason ?? "invalidQuery", job.failure);
      const start = Number(url.searchParams.get("pageToken") ?? url.searchParams.get("startIndex") ?? 0);
      const max = url.searchParams.has("maxResults") ? Number(url.searchParams.get("maxResults")) : undefined;
      return send(res, 200, {
        kind: "bigquery#getQueryResultsResponse",
        jobReference: job.jobReference,
        jobComplete: true,
        ...wirePage(job.result, start, max, url.searchParams.get("formatOptions.useInt64Timestamp") === "true"),
      });
    }

    // --- BigQuery datasets and tables ---
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/.exec(p))) {
      const [project, dataset, table] = [m[1]!, decodeURIComponent(m[2]!), decodeURIComponent(m[3]!)];
      const name = `${project}:${dataset}.${table}`;
      if (req.method === "DELETE") {
        if (!(await engine.dropTable(dataset, table))) return apiError(res, 404, "notFound", `Not found: Table ${name}`, "NOT_FOUND");
        return send(res, 204);
      }
      if (req.method === "GET") {
        const info = await engine.table(dataset, table);
        if (!info) return apiError(res, 404, "notFound", `Not found: Table ${name}`, "NOT_FOUND");
        return send(res, 200, {
          kind: "bigquery#table",
          id: name,
          tableReference: { projectId: project, datasetId: dataset, tableId: table },
          type: info.kind,
          schema: { fields: info.fields.map((f) => restField(f.field.name, f.field.type, f.required)) },
          numRows: String(info.numRows),
        });
      }
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets(?:\/([^/]+))?$/.exec(p))) {
      const project = m[1]!;
      if (req.method === "POST" && !m[2]) {
        const dataset = (body as { datasetReference?: { datasetId?: string } }).datasetReference?.datasetId;
        if (!dataset) return apiError(res, 400, "invalid", "datasetReference.datasetId is required", "INVALID_ARGUMENT");
        if (!(await engine.createDataset(dataset))) return apiError(res, 409, "duplicate", `Already Exists: Dataset ${project}:${dataset}`, "ALREADY_EXISTS");
        return send(res, 200, { kind: "bigquery#dataset", id: `${project}:${dataset}`, datasetReference: { projectId: project, datasetId: dataset } });
      }
      if (m[2]) {
        const dataset = decodeURIComponent(m[2]);
        const ref = { kind: "bigquery#dataset", id: `${project}:${dataset}`, datasetReference: { projectId: project, datasetId: dataset } };
        if (req.method === "GET")
          return (await engine.datasetExists(dataset))
            ? send(res, 200, ref)
            : apiError(res, 404, "notFound", `Not found: Dataset ${project}:${dataset}`, "NOT_FOUND");
        if (req.method === "DELETE") {
          try {
            if (!(await engine.dropDataset(dataset, url.searchParams.get("deleteContents") === "true")))
              return apiError(res, 404, "notFound", `Not found: Dataset ${project}:${dataset}`, "NOT_FOUND");
          } catch (err) {
            return apiError(res, 400, "resourceInUse", (err as Error).message, "FAILED_PRECONDITION");
          }
          return send(res, 204);
        }
      }
    }

    // --- GCS ---
    if (req.method === "POST" && (m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p))) {
      const { meta, media } = multipart(ct, raw);
      const name = url.searchParams.get("name") ?? (meta.name as string);
      state.objects.set(`${m[1]}/${name}`, media);
      return send(res, 200, gcsMeta(m[1]!, name));
    }
    if (req.method === "POST" && (m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/rewriteTo\/b\/([^/]+)\/o\/([^/]+)$/.exec(p))) {
      const [src, dst] = [`${m[1]}/${decodeURIComponent(m[2]!)}`, `${m[3]}/${decodeURIComponent(m[4]!)}`];
      if (url.searchParams.get("ifGenerationMatch") === "0" && state.objects.has(dst))
        return apiError(res, 412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.", "FAILED_PRECONDITION");
      const body = state.objects.get(src);
      if (!body) return apiError(res, 404, "notFound", "No such object", "NOT_FOUND");
      state.objects.set(dst, body);
      return send(res, 200, {
        kind: "storage#rewriteResponse",
        done: true,
        totalBytesRewritten: String(body.length),
        objectSize: String(body.length),
        resource: gcsMeta(m[3]!, decodeURIComponent(m[4]!)),
      });
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
  const splitRef = (ref: string): [string, string] => {
    const parts = ref.replace(/`/g, "").split(".");
    if (parts.length < 2 || parts.length > 3) throw new Error(`${ref} is not project.dataset.table or dataset.table`);
    return [parts.at(-2)!, parts.at(-1)!];
  };
  const fake: FakeBigQuery = Object.assign(state, {
    endpoint,
    rows: (ref: string) => engine.rows(...splitRef(ref)),
    query: (sql: string) => engine.query(sql),
    tables: () => engine.tables(),
    reset: async () => {
      state.requests.length = 0;
      state.jobs.clear();
      state.objects.clear();
      state.inserted.length = 0;
      state.conflicts.length = 0;
      state.failJob = () => undefined;
      state.answer = undefined;
      await engine.reset();
    },
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      engine.close();
    },
  });
  return fake;
}
