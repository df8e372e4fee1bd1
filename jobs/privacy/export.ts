/**
 * `ecom privacy export`: everything the data dir holds about one person, as
 * one JSON file (right of access): their events from Bronze with their
 * personal fields decrypted, their Silver rows, their CRM record (none is
 * loaded yet: null), and the erasure history of their identifiers. An erased
 * person's keys are gone and their rows pseudonymised: the export finds
 * nothing personal, only the history.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { Engine } from "../../pipelines/local/engine.js";
import { qualified } from "../../schemas/table.js";
import { ERASURE_TABLES, ownedRowsSql } from "../../sinks/erasure-sql.js";
import { AUDIT_ROWS_SQL, auditRowsOf } from "../../sinks/duckdb/privacy.js";
import { PRIVATE_FILE } from "../../sinks/local-files/private-files.js";
import type { AuditEntry } from "./audit-chain.js";
import { appendAudit } from "./audit.js";
import { identifierOf } from "./erase.js";
import { subjectHash } from "./identifier.js";
import { type SubjectIdentifier, fillWorkTables, findSubject, normalizedIdentifier } from "./subject.js";

export interface SubjectExport {
  exported_at: string;
  identifier: { kind: "user" | "email"; value: string };
  subject_found: boolean;
  bronze_events: Record<string, unknown>[];
  silver: Record<string, Record<string, unknown>[]>;
  /** The CRM record: the platform loads no CRM data yet. */
  crm: null;
  erasure_history: { request_id: string; erased_at: string }[];
  /** The audit log's entries about the person (requests queued, erasures, exports), as recorded: counts only. */
  audit: AuditEntry[];
}

export interface ExportResult {
  out: string;
  subject_found: boolean;
  bronze_events: number;
  silver_rows: number;
  erasures: number;
  seconds: number;
}

export async function buildSubjectExport(engine: Engine, id: SubjectIdentifier, opts: { own?: boolean } = {}): Promise<SubjectExport> {
  const s = await engine.store.session(opts.own ?? false);
  try {
    const found = await findSubject(engine, s, id, { decryptBronze: true });
    await fillWorkTables(s, found.tokens, found.sessions, found.partitions);
    const silver: SubjectExport["silver"] = {};
    for (const t of ERASURE_TABLES) {
      if (t.partitioned && !found.partitions.has(t.table.name)) continue;
      const rows = await s.query(ownedRowsSql("duckdb", t, qualified));
      if (rows.length) silver[qualified(t.table)] = rows;
    }
    const history = await s.query(
      `SELECT DISTINCT request_id, strftime(erased_at, '%Y-%m-%dT%H:%M:%SZ') AS erased_at FROM ops.erased_subjects
       WHERE subject_ref IN (SELECT unnest($refs)) ORDER BY erased_at, request_id`,
      { refs: found.refs },
    );
    const bronze = found.bronzeEvents.map((b) => b.event);
    const hash = subjectHash(identifierOf(id), engine.keys.tokenKey);
    const audit = auditRowsOf(await s.query(AUDIT_ROWS_SQL))
      .map((r) => JSON.parse(r.entry) as AuditEntry)
      .filter((e) => e.subject_hash === hash);
    return {
      exported_at: new Date().toISOString(),
      identifier: normalizedIdentifier(id),
      subject_found: bronze.length > 0 || Object.keys(silver).length > 0,
      bronze_events: bronze,
      silver,
      crm: null,
      erasure_history: history.map((h) => ({ request_id: h.request_id as string, erased_at: h.erased_at as string })),
      audit,
    };
  } finally {
    s.close();
  }
}

/** Writes the export to `out` (0600: it holds the person's data in clear) and says what it holds. */
export async function exportSubject(engine: Engine, id: SubjectIdentifier, out: string, opts: { own?: boolean } = {}): Promise<ExportResult> {
  const t0 = performance.now();
  const data = await buildSubjectExport(engine, id, opts);
  fs.writeFileSync(out, JSON.stringify(data, null, 2) + "\n", { mode: PRIVATE_FILE });
  fs.chmodSync(out, PRIVATE_FILE);
  return {
    out,
    subject_found: data.subject_found,
    bronze_events: data.bronze_events.length,
    silver_rows: Object.values(data.silver).reduce((n, r) => n + r.length, 0),
    erasures: new Set(data.erasure_history.map((h) => h.request_id)).size,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}

/** `ecom privacy export`: the export, then its entry in the audit log. */
export async function exportAndAudit(
  engine: Engine,
  id: SubjectIdentifier,
  out: string,
  opts: { operator?: string } = {},
): Promise<ExportResult & { request_id: string }> {
  const requestedAt = new Date().toISOString();
  const requestId = randomUUID();
  const r = await exportSubject(engine, id, out);
  await appendAudit(
    { dataDir: engine.dataDir, store: engine.store },
    {
      request_id: requestId,
      kind: "export",
      subject_hash: subjectHash(identifierOf(id), engine.keys.tokenKey),
      requested_at: requestedAt,
      done_at: new Date().toISOString(),
      counts: { subject_found: r.subject_found ? 1 : 0, bronze_events: r.bronze_events, silver_rows: r.silver_rows, seconds: r.seconds },
      operator: opts.operator ?? null,
      outcome: "done",
    },
  );
  return { ...r, request_id: requestId };
}
