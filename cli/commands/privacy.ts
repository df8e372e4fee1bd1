/**
 * `ecom privacy requests add|list|run` and `ecom privacy audit`: parse the
 * flags (one schema each), call the privacy jobs (jobs/privacy/), print a
 * table or JSON. Commands that write the queue refuse while `ecom start`
 * holds the data dir; the listings go through it.
 *
 * Exit codes beside the usual ones (2: bad flags or input, 1: failure):
 *   requests run    3 when any request is past due after the run
 *   audit --verify  4 when the log was altered (the first bad seq is named)
 */
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { listAudit, verifyAudit } from "../../jobs/privacy/audit.js";
import { eraseAndAudit, erasureCounts, eraseSubject } from "../../jobs/privacy/erase.js";
import { exportAndAudit, exportSubject } from "../../jobs/privacy/export.js";
import { writePrivacyBigQuery } from "../../jobs/privacy/bigquery-files.js";
import { type RequestExecutors, addRequest, existingStore, listRequests, refuseWhileRunning, runRequests } from "../../jobs/privacy/requests.js";
import { openRuntime } from "../../jobs/runtime.js";
import { configSchema, isoDate, keyFields, keyFlags, oneOf, parseOptions, servicesOf } from "../config.js";
import { formatTable } from "../format-table.js";

export const EXIT_PAST_DUE = 3;
export const EXIT_AUDIT_ALTERED = 4;

const DAY_MS = 86_400_000;
const DEFAULT_DUE_DAYS = 30;

/** The end of a UTC day: a request due on D is on time until D is over. */
const endOfDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS - 1);

const operator = z.string().min(1, "must not be empty").max(100, "must be at most 100 characters").optional();

const personOptions = {
  userId: z.string().trim().min(1, "must not be empty").optional(),
  email: z
    .string()
    .trim()
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "must be an email address")
    .optional(),
};

function onePerson(o: { userId?: string; email?: string }, ctx: z.RefinementCtx): void {
  if ((o.userId === undefined) === (o.email === undefined))
    ctx.addIssue({ code: "custom", path: ["userId"], message: "give exactly one of --user-id ID or --email ADDR" });
}

export const addOptions = configSchema
  .pick({ dataDir: true })
  .extend({
    erase: z.boolean().default(false),
    export: z.boolean().default(false),
    ...personOptions,
    out: z.string().min(1, "must be a file path").optional(),
    due: isoDate.optional(),
    reason: z.string().max(500, "must be at most 500 characters").optional(),
    operator,
    ...keyFields,
    json: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    if (o.erase === o.export) ctx.addIssue({ code: "custom", path: ["erase"], message: "give exactly one of --erase or --export" });
    onePerson(o, ctx);
    if (o.export && !o.out) ctx.addIssue({ code: "custom", path: ["out"], message: "an export request needs --out FILE" });
    if (o.erase && o.out) ctx.addIssue({ code: "custom", path: ["out"], message: "--out is for --export only" });
  });

export const eraseOptions = configSchema
  .pick({ dataDir: true })
  .extend({
    ...personOptions,
    reason: z.string().max(500, "must be at most 500 characters").optional(),
    operator,
    ...keyFields,
    fullScan: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .superRefine(onePerson);

export const exportOptions = configSchema
  .pick({ dataDir: true })
  .extend({ ...personOptions, out: z.string().min(1, "must be a file path"), operator, ...keyFields, json: z.boolean().default(false) })
  .superRefine(onePerson);

export const bigqueryOptions = z.object({ out: z.string().min(1, "must be a folder").default("infra/bigquery/privacy") });

/** The flags that name the person (exactly one). */
function personFlags(cmd: Command): Command {
  return cmd.option("--user-id <id>", "the person's user id").option("--email <addr>", "the person's email address");
}

/** The erasure and export jobs, as the request queue runs them (it writes the audit entries itself). */
export const PRIVACY_EXECUTORS: RequestExecutors = {
  erase: async (id, ctx) => erasureCounts(await eraseSubject(ctx.engine, { ...personOf(id), requestId: ctx.requestId })),
  export: async (id, out, ctx) => {
    const r = await exportSubject(ctx.engine, personOf(id), out);
    return { subject_found: r.subject_found ? 1 : 0, bronze_events: r.bronze_events, silver_rows: r.silver_rows, seconds: r.seconds };
  },
};

function personOf(id: { kind: string; value: string }): { userId?: string; email?: string } {
  return id.kind === "email" ? { email: id.value } : { userId: id.value };
}

export const listOptions = configSchema.pick({ dataDir: true }).extend({
  status: oneOf(["pending", "done", "failed"]).optional(),
  json: z.boolean().default(false),
});

export const runOptions = configSchema.pick({ dataDir: true }).extend({ ...keyFields, json: z.boolean().default(false) });

export const auditOptions = configSchema.pick({ dataDir: true }).extend({
  json: z.boolean().default(false),
  verify: z.boolean().default(false),
});

/** `executors`: the erasure and export jobs `requests run` hands each request to; a kind without one stays pending. */
export function privacyCommand(program: Command, executors: Partial<RequestExecutors> = PRIVACY_EXECUTORS): void {
  const privacy = program.command("privacy").description("Privacy operations for compliance staff: erasure, export, the request queue and the audit log");

  personFlags(keyFlags(privacy.command("erase")))
    .description(
      "Erase one person everywhere: Bronze keys destroyed, Silver rows pseudonymised, dead letters deleted, Gold recomputed; then a scan proves it (fails loudly if it finds anything). Recorded in the audit log",
    )
    .option("--reason <text>", "why (kept in clear: no personal data)")
    .option("--operator <name>", "who runs it (default the OS user)")
    .option(
      "--full-scan",
      "verify over every row of every table and every Bronze file, not only the person's partitions and files (slower: grows with the store)",
    )
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print the result as one JSON object on the last stdout line")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(eraseOptions, flags);
      existingStore(o.dataDir);
      refuseWhileRunning(o.dataDir, "erasing");
      const engine = await openRuntime(o.dataDir, servicesOf(o));
      try {
        const r = await eraseAndAudit(
          engine,
          { userId: o.userId, email: o.email, reason: o.reason, operator: o.operator ?? os.userInfo().username },
          { fullScan: o.fullScan },
        );
        process.stdout.write(
          o.json
            ? JSON.stringify(r) + "\n"
            : `erased (request ${r.request_id}): ${r.subject_found ? "found" : "nothing held"}; ${r.bronze_keys_destroyed} Bronze keys destroyed (${r.bronze_lines_shredded} lines), ` +
                `${r.silver_rows_pseudonymised} Silver rows pseudonymised, ${r.dead_letters_deleted} dead letters deleted, ${r.gold_windows_refreshed} Gold windows recomputed; ` +
                `verified (${r.verified.full ? "every row and file" : "the person's partitions and files, every identity column"}) over ${r.verified.tables} tables and ${r.verified.bronze_files} Bronze files in ${r.seconds} s\n`,
        );
      } finally {
        engine.close();
      }
    });

  personFlags(keyFlags(privacy.command("export")))
    .description("Write everything held about one person to a JSON file (0600): Bronze events decrypted, Silver rows, CRM record, erasure history")
    .option("--out <file>", "where the export goes")
    .option("--operator <name>", "who runs it (default the OS user)")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print what was exported as JSON")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(exportOptions, flags);
      existingStore(o.dataDir);
      refuseWhileRunning(o.dataDir, "exporting");
      const engine = await openRuntime(o.dataDir, { gold: false, ...servicesOf(o) });
      try {
        const r = await exportAndAudit(engine, { userId: o.userId, email: o.email }, path.resolve(o.out), { operator: o.operator ?? os.userInfo().username });
        process.stdout.write(
          o.json
            ? JSON.stringify(r) + "\n"
            : `exported to ${r.out}: ${r.bronze_events} Bronze events, ${r.silver_rows} Silver rows, ${r.erasures} erasures on record\n`,
        );
      } finally {
        engine.close();
      }
    });

  privacy
    .command("bigquery")
    .description("Write the erasure compiled for BigQuery (erase.sql, find.sql) to a folder")
    .option("--out <dir>", "folder (default infra/bigquery/privacy)")
    .action((flags: Record<string, unknown>) => {
      const o = parseOptions(bigqueryOptions, flags);
      for (const f of writePrivacyBigQuery(o.out)) process.stdout.write(`wrote ${f}\n`);
    });
  const requests = privacy.command("requests").description("The queue of erasure and export requests (identifiers kept encrypted until done)");

  personFlags(keyFlags(requests.command("add")))
    .description("Queue an erasure or export request; the audit log records it")
    .option("--erase", "erase the person's data")
    .option("--export", "export the person's data to --out")
    .option("--out <file>", "export destination (--export only)")
    .option("--due <YYYY-MM-DD>", `legal deadline, UTC day (default ${DEFAULT_DUE_DAYS} days from today)`)
    .option("--reason <text>", "why (kept in clear: no personal data)")
    .option("--operator <name>", "who queues it (default the OS user)")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print the queued request as JSON")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(addOptions, flags);
      existingStore(o.dataDir);
      refuseWhileRunning(o.dataDir, "queuing a request");
      const due = o.due ?? new Date(Date.now() + DEFAULT_DUE_DAYS * DAY_MS).toISOString().slice(0, 10);
      const engine = await openRuntime(o.dataDir, { gold: false, ...servicesOf(o) });
      try {
        const r = await addRequest(engine, {
          kind: o.erase ? "erase" : "export",
          identifier: o.email !== undefined ? { kind: "email", value: o.email } : { kind: "user_id", value: o.userId! },
          outPath: o.out ? path.resolve(o.out) : undefined,
          dueAt: endOfDay(due),
          reason: o.reason,
          operator: o.operator ?? os.userInfo().username,
        });
        process.stdout.write(o.json ? JSON.stringify(r) + "\n" : `queued ${r.kind} request ${r.request_id} (subject ${r.subject}), due ${r.due}\n`);
      } finally {
        engine.close();
      }
    });

  requests
    .command("list")
    .description("List requests without identifiers: id, kind, subject hash prefix, due day, status, attempts, past due")
    .option("--status <s>", "only pending, done or failed")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON array")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(listOptions, flags);
      const rows = await listRequests(o.dataDir, { status: o.status });
      process.stdout.write(o.json ? JSON.stringify(rows) + "\n" : formatTable(rows.map((r) => ({ ...r }))));
    });

  keyFlags(requests.command("run"))
    .description(`Process pending and failed requests in due order, then report those past due (exit code ${EXIT_PAST_DUE} when any is)`)
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print a JSON summary as the last stdout line")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(runOptions, flags);
      existingStore(o.dataDir);
      refuseWhileRunning(o.dataDir, "running requests");
      const engine = await openRuntime(o.dataDir, servicesOf(o));
      let s: Awaited<ReturnType<typeof runRequests>>;
      try {
        s = await runRequests(engine, executors);
      } finally {
        engine.close();
      }
      if (o.json) process.stdout.write(JSON.stringify(s) + "\n");
      else {
        for (const r of s.results) {
          process.stdout.write(`${r.request_id} ${r.kind}: ${r.status}${r.counts ? ` ${JSON.stringify(r.counts)}` : ""}${r.error ? ` (${r.error})` : ""}\n`);
        }
        for (const k of s.skipped) process.stdout.write(`${k.request_id} ${k.kind}: skipped, ${k.why}\n`);
        for (const p of s.past_due) process.stdout.write(`PAST DUE ${p.request_id} ${p.kind}: due ${p.due}, ${p.status}, ${p.attempts} attempts\n`);
        process.stdout.write(`ran ${s.ran}: done ${s.done}, failed ${s.failed}; skipped ${s.skipped.length}; past due ${s.past_due.length}\n`);
      }
      if (s.past_due.length) process.exitCode = EXIT_PAST_DUE;
    });

  privacy
    .command("audit")
    .description(`List the privacy audit log, or check it with --verify (exit code ${EXIT_AUDIT_ALTERED} when it was altered)`)
    .option("--verify", "recompute the hash chain over the table and the file and check they agree")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print JSON lines, one entry each")
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(auditOptions, flags);
      existingStore(o.dataDir);
      if (o.verify) {
        const v = await verifyAudit(o.dataDir);
        if (v.ok) {
          process.stdout.write(
            o.json
              ? JSON.stringify({ ok: true, entries: v.entries, head: v.head }) + "\n"
              : `privacy audit log intact: ${v.entries} entries, table and file agree; head hash ${v.head}\n`,
          );
        } else {
          const p = v.problem;
          if (o.json) process.stdout.write(JSON.stringify({ ok: false, seq: p.seq, where: p.where, problem: p.problem }) + "\n");
          process.stderr.write(`ecom: the privacy audit log was altered: first bad entry seq ${p.seq} (${p.where}): ${p.problem}\n  file: ${v.file}\n`);
          process.exitCode = EXIT_AUDIT_ALTERED;
        }
        return;
      }
      const records = await listAudit(o.dataDir);
      if (o.json) {
        process.stdout.write(records.map((r) => JSON.stringify(r) + "\n").join(""));
        return;
      }
      process.stdout.write(
        formatTable(
          records.map((r) => ({
            seq: r.seq,
            recorded_at: r.entry.recorded_at,
            kind: r.entry.kind,
            outcome: r.entry.outcome,
            request_id: r.entry.request_id,
            subject: r.entry.subject_hash.slice(0, 12),
            operator: r.entry.operator,
            counts: JSON.stringify(r.entry.counts),
          })),
        ),
      );
    });
}
