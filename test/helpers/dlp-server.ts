/**
 * A local Cloud DLP for tests: a gRPC server speaking
 * google.privacy.dlp.v2.DlpService (InspectContent) from the proto
 * definitions the official @google-cloud/dlp client ships, so the adapter
 * is tested through the real client and the real wire format.
 *
 * It has a small real detector of its own (emails, international phone
 * numbers, the person names of PERSON_NAMES) and answers in DLP's shape: a
 * finding per match with its info type and likelihood, byte ranges into the
 * cell's UTF-8 and codepoint ranges, and for a table the row index and
 * column name. It honours the requested info types and minimum likelihood,
 * returns a quote only when one is asked for, caps findings per request the
 * way DLP does (`findingsTruncated`), and refuses a request over DLP's size
 * or table limits with INVALID_ARGUMENT, as DLP does. It records every
 * request, and can be told to fail the next calls with a gRPC status.
 */
import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);

/** Names the server knows as PERSON_NAME: scripts of every width in UTF-8 and UTF-16. */
export const PERSON_NAMES = [
  "Anna Svensson",
  "José García",
  "Zoë Ångström",
  "王小明",
  "Søren Kierkegaard",
  "Nguyễn Văn An",
  "Ayşe Yılmaz",
  "Олег Петров",
  "𠜎𠜱 Kim",
];

export const LIKELIHOOD = ["LIKELIHOOD_UNSPECIFIED", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY"] as const;

const DETECTORS: { infoType: string; likelihood: (typeof LIKELIHOOD)[number]; find: (text: string) => [number, number][] }[] = [
  { infoType: "EMAIL_ADDRESS", likelihood: "VERY_LIKELY", find: (t) => matches(t, /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g) },
  { infoType: "PHONE_NUMBER", likelihood: "LIKELY", find: (t) => matches(t, /\+\d{1,3}(?:[ -]\d{2,4}){2,4}(?!\d)/g) },
  {
    infoType: "PERSON_NAME",
    likelihood: "POSSIBLE",
    find: (t) =>
      PERSON_NAMES.flatMap((n) => {
        const out: [number, number][] = [];
        for (let i = t.indexOf(n); i >= 0; i = t.indexOf(n, i + n.length)) out.push([i, i + n.length]);
        return out;
      }),
  },
];

function matches(text: string, re: RegExp): [number, number][] {
  return [...text.matchAll(re)].map((m) => [m.index, m.index + m[0].length]);
}

/** Bytes of `text.slice(0, i)` in UTF-8, and its codepoints. */
function utf8Offset(text: string, i: number): number {
  return Buffer.byteLength(text.slice(0, i), "utf8");
}

function codepointOffset(text: string, i: number): number {
  return [...text.slice(0, i)].length;
}

/** A request as the server decoded it (camelCase fields, int64 and enums as strings). */
export interface RecordedRequest {
  parent?: string;
  inspectConfig?: {
    infoTypes?: { name?: string }[];
    minLikelihood?: string;
    includeQuote?: boolean;
    limits?: { maxFindingsPerRequest?: number };
  };
  item?: { value?: string; table?: { headers?: { name?: string }[]; rows?: { values?: { stringValue?: string }[] }[] } };
  /** Encoded size on the wire. */
  bytes: number;
}

export interface DlpServerOptions {
  /** DLP's limits: 0.5 MB per request, 50 000 table values, 3 000 findings per request. */
  maxRequestBytes?: number;
  maxCells?: number;
  maxFindingsPerRequest?: number;
}

export interface LocalDlp {
  /** host:port */
  readonly address: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** The next `times` calls fail with this gRPC status (the details name no text). */
  failNext(code: grpc.status, details: string, times?: number): void;
  /** Drops the failures not used up yet. */
  clearFailures(): void;
  setLimits(limits: DlpServerOptions): void;
  stop(): Promise<void>;
}

interface ServiceDef {
  InspectContent: { requestSerialize: (v: unknown) => Buffer };
}

export async function startLocalDlp(options: DlpServerOptions = {}): Promise<LocalDlp> {
  const json = require("@google-cloud/dlp/build/protos/protos.json") as Parameters<typeof fromJSON>[0];
  const definition = fromJSON(json, { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
  const service = definition["google.privacy.dlp.v2.DlpService"] as unknown as grpc.ServiceDefinition & ServiceDef;
  let limits = { maxRequestBytes: 524_288, maxCells: 50_000, maxFindingsPerRequest: 3_000, ...options };
  const requests: RecordedRequest[] = [];
  const failures: { code: grpc.status; details: string }[] = [];

  const inspectContent: grpc.handleUnaryCall<Omit<RecordedRequest, "bytes">, unknown> = (call, callback) => {
    const req = call.request;
    const bytes = service.InspectContent.requestSerialize(req).length;
    requests.push({ ...req, bytes });
    const failure = failures.shift();
    if (failure) return callback({ code: failure.code, details: failure.details });
    if (bytes > limits.maxRequestBytes)
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: `Request size ${bytes} exceeds the limit of ${limits.maxRequestBytes} bytes.` });
    const table = req.item?.table;
    const cells = table ? (table.rows ?? []).reduce((n, r) => n + (r.values?.length ?? 0), 0) : 0;
    if (cells > limits.maxCells)
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: `Too many values in the table: ${cells} > ${limits.maxCells}.` });
    if (!req.parent || !/^projects\/[^/]+\/locations\/[^/]+$/.test(req.parent))
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: "parent must be projects/{project}/locations/{location}" });

    const config = req.inspectConfig ?? {};
    const wanted = new Set((config.infoTypes ?? []).map((t) => t.name));
    const minimum = Math.max(1, LIKELIHOOD.indexOf((config.minLikelihood ?? "POSSIBLE") as (typeof LIKELIHOOD)[number]));
    const column = table?.headers?.[0]?.name ?? "";
    const cellsOf: { text: string; row?: number }[] = table
      ? (table.rows ?? []).map((r, row) => ({ text: r.values?.[0]?.stringValue ?? "", row }))
      : [{ text: req.item?.value ?? "" }];
    const findings: unknown[] = [];
    for (const cell of cellsOf) {
      for (const d of DETECTORS) {
        if (wanted.size > 0 && !wanted.has(d.infoType)) continue;
        if (LIKELIHOOD.indexOf(d.likelihood) < minimum) continue;
        for (const [start, end] of d.find(cell.text)) {
          findings.push({
            ...(config.includeQuote ? { quote: cell.text.slice(start, end) } : {}),
            infoType: { name: d.infoType },
            likelihood: d.likelihood,
            location: {
              byteRange: { start: utf8Offset(cell.text, start), end: utf8Offset(cell.text, end) },
              codepointRange: { start: codepointOffset(cell.text, start), end: codepointOffset(cell.text, end) },
              contentLocations: [
                cell.row === undefined
                  ? { containerName: "" }
                  : { containerName: "", recordLocation: { fieldId: { name: column }, tableLocation: { rowIndex: cell.row } } },
              ],
            },
            createTime: { seconds: Math.floor(Date.now() / 1000), nanos: 0 },
          });
        }
      }
    }
    const cap = Math.min(limits.maxFindingsPerRequest, config.limits?.maxFindingsPerRequest || Number.POSITIVE_INFINITY);
    callback(null, { result: { findings: findings.slice(0, cap), findingsTruncated: findings.length > cap } });
  };

  const server = new grpc.Server();
  const unimplemented: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: "not in the local DLP" });
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(service)) handlers[name] = unimplemented;
  handlers.InspectContent = inspectContent as grpc.handleUnaryCall<unknown, unknown>;
  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    address: `127.0.0.1:${port}`,
    port,
    requests,
    failNext(code, details, times = 1) {
      for (let i = 0; i < times; i++) failures.push({ code, details });
    },
    clearFailures() {
      failures.length = 0;
    },
    setLimits(next) {
      limits = { ...limits, ...next };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
