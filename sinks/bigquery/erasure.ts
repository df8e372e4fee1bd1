/**
 * The erasure of one person on BigQuery: the statements of the local
 * erasure (sinks/erasure-sql.ts) compiled for BigQuery, as one script run as
 * a query job with named parameters, never a person's value in its text.
 * Every UPDATE is pruned to the partitions the subject index names for the
 * person (an array parameter of dates per table), so one erasure scans the
 * person's few partitions, not the tables.
 *
 * `infra/bigquery/privacy/` holds the script and the finder's queries as
 * generated (`ecom privacy bigquery`), for review and for the cost estimate
 * in docs/privacy.md.
 */
import { BigQuery, type Query } from "@google-cloud/bigquery";
import { qualified } from "../../schemas/table.js";
import { ERASURE_TABLES, type TableRef, datesParam, forgetSql, indexLookupSql, ownedIdentifiersSql, pseudonymiseSql, workTablesSql } from "../erasure-sql.js";
import { type BigQueryDatasets, refOf } from "./ddl.js";

/** Table references in a generated file: dataset.table (the job's project). */
const DATASET_QUALIFIED: TableRef = qualified;

export function erasureScript(ref: TableRef = DATASET_QUALIFIED, opsRef: (name: string) => string = (n) => `ops.${n}`): string {
  const statements = [
    ...workTablesSql("bigquery"),
    "BEGIN TRANSACTION",
    ...ERASURE_TABLES.map((t) => pseudonymiseSql("bigquery", t, ref)),
    ...forgetSql("bigquery", {
      subjectKeys: opsRef("subject_keys"),
      erasedSubjects: opsRef("erased_subjects"),
      subjectIndex: opsRef("subject_index"),
      deadLetters: opsRef("dead_letters"),
    }),
    "COMMIT TRANSACTION",
  ];
  return statements.map((s) => `${s};`).join("\n\n") + "\n";
}

/** The finder's queries: the index lookup (parameter `tokens`) and, per table, the identifiers of the person's own rows (parameters `map`, `dates_<table>`). */
export function finderQueries(ref: TableRef = DATASET_QUALIFIED, opsRef: (name: string) => string = (n) => `ops.${n}`): Map<string, string> {
  const out = new Map<string, string>([["subject_index", indexLookupSql("bigquery", opsRef("subject_index"))]]);
  for (const t of ERASURE_TABLES.filter((x) => x.partitioned)) out.set(t.table.name, ownedIdentifiersSql("bigquery", t, ref));
  return out;
}

/** The files of infra/bigquery/privacy/. */
export function privacyBigQueryFiles(): Map<string, string> {
  const header = (what: string) =>
    `-- ${what}\n-- Generated from the table declarations (ecom privacy bigquery); the same statements the local erasure runs on DuckDB.\n\n`;
  const finder = [...finderQueries()].map(([name, sql]) => `-- ${name}\n${sql};`).join("\n\n");
  return new Map([
    ["erase.sql", header("Erasure of one person: run as one query job with the parameters of erasureParameters().") + erasureScript()],
    ["find.sql", header("Finding a person: the subject index lookup, then the identifiers of their own rows, per table.") + finder + "\n"],
  ]);
}

export interface ErasureInput {
  /** Each token and session id of the person, with its pseudonym. */
  pseudonyms: ReadonlyMap<string, string>;
  /** Silver partitions: table name -> dates. */
  partitions: ReadonlyMap<string, ReadonlySet<string>>;
  pattern: string;
  refs: readonly string[];
  deadLetterIds: readonly string[];
  requestId: string;
}

/** The named parameters of the erasure script and their types (the official client needs types for arrays that may be empty). */
export function erasureParameters(input: ErasureInput): { params: Record<string, unknown>; types: NonNullable<Query["types"]> } {
  const params: Record<string, unknown> = {
    map: [...input.pseudonyms].map(([t, p]) => ({ t, p })),
    pattern: input.pattern,
    refs: [...input.refs],
    dead_letter_ids: [...input.deadLetterIds],
    request_id: input.requestId,
  };
  const types: Record<string, string | string[] | Record<string, string>[]> = {
    map: [{ t: "STRING", p: "STRING" }],
    pattern: "STRING",
    refs: ["STRING"],
    dead_letter_ids: ["STRING"],
    request_id: "STRING",
  };
  for (const t of ERASURE_TABLES.filter((x) => x.partitioned)) {
    // The client sends a DATE parameter's `.value`: dates go as BigQueryDate, not as text.
    params[datesParam(t)] = [...(input.partitions.get(t.table.name) ?? [])].sort().map((d) => BigQuery.date(d));
    types[datesParam(t)] = ["DATE"];
  }
  return { params, types };
}

/** The script with the adapter's datasets. */
export function erasureScriptFor(d: BigQueryDatasets): string {
  return erasureScript(
    (t) => refOf(d, t),
    (n) => `\`${d.project}.${d.ops}.${n}\``,
  );
}
