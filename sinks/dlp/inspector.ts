/**
 * Cloud DLP in the TextInspector role (sinks/roles.ts): the production
 * option for finding personal data in free text, through the official
 * `@google-cloud/dlp` client. `openDlpInspector(options)` gives the
 * inspector; the commit calls `inspect(texts)` once per batch and applies
 * the findings (transforms/text-findings.ts `applyFindings`).
 *
 * Guarantees:
 *  - One `inspectContent` call per batch: the batch's distinct texts as one
 *    table of one column, a row per text. A batch beyond DLP's request
 *    limits is cut into the fewest requests that fit (sinks/dlp/requests.ts);
 *    a request whose findings DLP truncated is inspected again in halves, so
 *    no finding is lost to DLP's cap per request.
 *  - Findings come back per text, in the order of `texts`, as UTF-16 spans
 *    (DLP's UTF-8 byte and codepoint ranges converted, sinks/dlp/offsets.ts),
 *    sorted by start, without duplicates.
 *  - DLP is never asked to echo a value (`includeQuote: false`).
 *  - Fail closed: any DLP error, or an answer the adapter cannot place,
 *    rejects the whole batch's inspection with a DlpInspectionError that
 *    names the project, location and endpoint and says what to check. The
 *    caller then commits nothing of the batch. The message holds no text of
 *    the batch: DLP's own message, which could echo one, is left out.
 *
 * Configuration comes in as an options object (`dlpInspectorOptions` is its
 * zod schema, for the CLI's config); nothing here reads the environment.
 * Credentials are the client's usual Application Default Credentials;
 * `insecure` (plaintext gRPC, no credentials) is for a local test server
 * only and needs an `apiEndpoint`.
 */
import { DlpServiceClient, protos } from "@google-cloud/dlp";
import { credentials, status } from "@grpc/grpc-js";
import { z } from "zod";
import type { TextFinding, TextInspector } from "../roles.js";
import { DlpInspectionError } from "./errors.js";
import { utf16Span } from "./offsets.js";
import { DLP_LIMITS, type DlpLimits, type PlannedRequest, type RequestFraming, packRequests, piecesOf, rowBudget, splitRequest } from "./requests.js";

type InspectRequest = protos.google.privacy.dlp.v2.IInspectContentRequest;
type Finding = protos.google.privacy.dlp.v2.IFinding;

export const DLP_LIKELIHOODS = ["VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY"] as const;
export type DlpLikelihood = (typeof DLP_LIKELIHOODS)[number];

export const DEFAULT_DLP_INFO_TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON_NAME", "STREET_ADDRESS", "IP_ADDRESS", "CREDIT_CARD_NUMBER"] as const;

/** The one column of every request's table. */
export const DLP_COLUMN = "text";

export const dlpInspectorOptions = z
  .object({
    /** The GCP project DLP bills and runs in. */
    project: z.string().regex(/^[a-z][a-z0-9-]{4,29}$/, "must be a GCP project id like ecom-prod"),
    /** DLP location: `global` or a region such as `europe-west1` (data residency). */
    location: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be global or a region like europe-west1")
      .default("global"),
    infoTypes: z
      .array(z.string().regex(/^[A-Z][A-Z0-9_]*$/, "must be a DLP info type name like EMAIL_ADDRESS"))
      .min(1)
      .default([...DEFAULT_DLP_INFO_TYPES]),
    /** Findings less likely than this are not reported. */
    minLikelihood: z.enum(DLP_LIKELIHOODS).default("POSSIBLE"),
    /** Host of the DLP API (default the client's: dlp.googleapis.com); a regional endpoint or a local test server. */
    apiEndpoint: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    /** Plaintext gRPC without credentials: a local test server only. */
    insecure: z.boolean().default(false),
    /** One request's total time, its retries of UNAVAILABLE and DEADLINE_EXCEEDED included. */
    timeoutMs: z.number().int().min(1).max(600_000).default(60_000),
    /** Requests in flight at once for a batch cut into several (DLP's default quota: 600 requests a minute). */
    concurrency: z.number().int().min(1).max(32).default(4),
    /** DLP's limits per request; smaller ones only in tests. */
    limits: z
      .object({ maxRequestBytes: z.number().int().min(16_384).max(DLP_LIMITS.maxRequestBytes), maxCells: z.number().int().min(1).max(DLP_LIMITS.maxCells) })
      .partial()
      .default({}),
  })
  .strict()
  .refine((o) => !o.insecure || o.apiEndpoint !== undefined, {
    message: "insecure needs an apiEndpoint (it is for a local test server only)",
    path: ["insecure"],
  });

export { DlpInspectionError };

export type DlpInspectorOptions = z.input<typeof dlpInspectorOptions>;

export interface DlpInspector extends TextInspector {
  /** Closes the client's channel. */
  close(): Promise<void>;
}

/** Opens a Cloud DLP inspector. Throws for invalid options, listing each problem. */
export function openDlpInspector(options: DlpInspectorOptions): DlpInspector {
  const parsed = dlpInspectorOptions.safeParse(options);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(options)"}: ${i.message}`);
    throw new Error(`invalid Cloud DLP options:\n${lines.join("\n")}`);
  }
  const o = parsed.data;
  const client = new DlpServiceClient({
    projectId: o.project,
    ...(o.apiEndpoint !== undefined ? { apiEndpoint: o.apiEndpoint } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    // No credentials at all: and the universe domain given, so the auth library never looks for a metadata server.
    ...(o.insecure ? { sslCreds: credentials.createInsecure(), universeDomain: "googleapis.com" } : {}),
  });
  const limits: DlpLimits = { ...DLP_LIMITS, ...o.limits };
  const where = {
    project: o.project,
    location: o.location,
    endpoint: `${o.apiEndpoint ?? "dlp.googleapis.com"}${o.port !== undefined ? `:${o.port}` : ""}`,
  };
  const base: InspectRequest = {
    parent: `projects/${o.project}/locations/${o.location}`,
    inspectConfig: {
      infoTypes: o.infoTypes.map((name) => ({ name })),
      minLikelihood: o.minLikelihood,
      includeQuote: false,
    },
    item: { table: { headers: [{ name: DLP_COLUMN }], rows: [] } },
  };
  const v2 = protos.google.privacy.dlp.v2;
  const framing: RequestFraming = {
    outerBytes: v2.InspectContentRequest.encode({ ...base, item: null }).finish().length,
    headerBytes: v2.Table.encode({ headers: [{ name: DLP_COLUMN }] }).finish().length,
  };
  const budget = rowBudget(limits, framing);
  if (budget < 8_192) throw new Error(`invalid Cloud DLP options: limits.maxRequestBytes leaves ${budget} bytes for texts beside the request's configuration`);

  async function call(request: PlannedRequest, batchSize: number): Promise<{ findings: Finding[]; truncated: boolean }> {
    const req: InspectRequest = {
      ...base,
      item: { table: { headers: [{ name: DLP_COLUMN }], rows: request.pieces.map((p) => ({ values: [{ stringValue: p.value }] })) } },
    };
    try {
      const [response] = await client.inspectContent(req, { timeout: o.timeoutMs });
      return { findings: response.result?.findings ?? [], truncated: response.result?.findingsTruncated === true };
    } catch (err) {
      throw failure(err, where, batchSize);
    }
  }

  /** Findings of one planned request, per distinct text (spans in that text); halves it while DLP truncates. */
  async function run(request: PlannedRequest, out: TextFinding[][], texts: readonly string[]): Promise<void> {
    const { findings, truncated } = await call(request, texts.length);
    if (truncated) {
      const halves = splitRequest(request);
      if (!halves)
        throw new DlpInspectionError(
          `${prefix(where, texts.length)}: DLP truncated the findings of a single text of ${request.pieces[0]!.value.length} characters; it cannot be inspected completely. Lower the info types or the likelihood it reports, or shorten the field.`,
        );
      for (const half of halves) await run(half, out, texts);
      return;
    }
    for (const f of findings) {
      const row = rowOf(f, request.pieces.length);
      const piece = row === undefined ? undefined : request.pieces[row];
      const span = piece ? utf16Span(piece.value, f.location?.byteRange, f.location?.codepointRange) : undefined;
      const infoType = f.infoType?.name;
      if (!piece || !span || !infoType) {
        throw new DlpInspectionError(
          `${prefix(where, texts.length)}: DLP answered a finding the adapter cannot place (row ${row ?? "missing"} of ${request.pieces.length}, ${span ? "span ok" : "no span within its text"}). Check the endpoint speaks DLP v2.`,
        );
      }
      out[piece.text]!.push({ start: piece.offset + span.start, end: piece.offset + span.end, infoType });
    }
  }

  return {
    name: "cloud-dlp",
    async inspect(texts: readonly string[]): Promise<TextFinding[][]> {
      // Search queries and messages repeat within a batch: each distinct text is inspected (and billed) once.
      const distinct: string[] = [];
      const indexOf = new Map<string, number>();
      const slot = texts.map((t) => {
        if (t === "") return -1;
        let i = indexOf.get(t);
        if (i === undefined) indexOf.set(t, (i = distinct.push(t) - 1));
        return i;
      });
      const found: TextFinding[][] = distinct.map(() => []);
      const planned = packRequests(piecesOf(distinct, budget), limits, framing);
      let next = 0;
      let failed = false;
      const worker = async () => {
        try {
          while (!failed && next < planned.length) await run(planned[next++]!, found, texts);
        } catch (err) {
          // The batch fails whole: the other workers send nothing more.
          failed = true;
          throw err;
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency, planned.length) }, worker));
      const clean = found.map(sortUnique);
      return slot.map((i) => (i < 0 ? [] : clean[i]!.map((f) => ({ ...f }))));
    },
    close: () => client.close(),
  };
}

/** The table row a finding is in; a table of one row may leave it out. */
function rowOf(f: Finding, rows: number): number | undefined {
  for (const loc of f.location?.contentLocations ?? []) {
    const raw = loc.recordLocation?.tableLocation?.rowIndex;
    if (raw !== undefined && raw !== null) {
      const n = Number(String(raw));
      return Number.isSafeInteger(n) && n >= 0 && n < rows ? n : undefined;
    }
  }
  return rows === 1 ? 0 : undefined;
}

function sortUnique(fs: TextFinding[]): TextFinding[] {
  fs.sort((a, b) => a.start - b.start || b.end - a.end || (a.infoType < b.infoType ? -1 : a.infoType > b.infoType ? 1 : 0));
  return fs.filter((f, i) => i === 0 || f.start !== fs[i - 1]!.start || f.end !== fs[i - 1]!.end || f.infoType !== fs[i - 1]!.infoType);
}

interface Where {
  project: string;
  location: string;
  endpoint: string;
}

function prefix(w: Where, texts: number): string {
  return `ecom: Cloud DLP could not inspect a batch of ${texts} texts (project ${w.project}, location ${w.location}, endpoint ${w.endpoint})`;
}

const HINTS: Partial<Record<number, string>> = {
  [status.PERMISSION_DENIED]:
    "Check that the DLP API (dlp.googleapis.com) is enabled in project {project} and that the credentials hold the DLP User role (roles/dlp.user) there.",
  [status.UNAUTHENTICATED]: "Check the Application Default Credentials (gcloud auth application-default login, or the workload's service account).",
  [status.INVALID_ARGUMENT]: "Check the configured info types, likelihood and location ({location}).",
  [status.NOT_FOUND]: "Check that project {project} and location {location} exist.",
  [status.RESOURCE_EXHAUSTED]: "DLP's quota is used up: lower the batch rate or raise the DLP quota of project {project}.",
  [status.UNAVAILABLE]: "Check that {endpoint} is reachable from here; the batch is retried on the next delivery.",
  [status.DEADLINE_EXCEEDED]: "DLP did not answer in time: check {endpoint}, or raise timeoutMs; the batch is retried on the next delivery.",
};

/**
 * A client error as the batch's failure: where, DLP's status (and its
 * ErrorInfo reason, e.g. SERVICE_DISABLED), what to check. The server's own
 * message is left out: it may echo what it was sent.
 */
function failure(err: unknown, w: Where, texts: number): DlpInspectionError {
  const e = err as { code?: unknown; reason?: unknown };
  const code = typeof e.code === "number" ? e.code : undefined;
  const codeName = code !== undefined ? (status[code] ?? `status ${code}`) : "no gRPC status";
  const reason = typeof e.reason === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(e.reason) ? ` (${e.reason})` : "";
  const hint = (HINTS[code ?? -1] ?? "Check the DLP configuration of project {project}.").replace(/\{(\w+)\}/g, (_m, k: keyof Where) => w[k]);
  return new DlpInspectionError(`${prefix(w, texts)}: ${codeName}${reason}. ${hint} Nothing of the batch may be committed.`, code);
}
