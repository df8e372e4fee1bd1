/**
 * The statements of one erasure, compiled for DuckDB and BigQuery from the
 * table declarations (schemas/personal-columns.ts), so both backends do the
 * same operation. Every statement reads two small work tables the erasure
 * fills first, and never a person's value in its text:
 *
 *   erasure_map   (t, p): each token of the person and each of their session
 *                 ids, with the random pseudonym that replaces it (on
 *                 BigQuery the array parameter `map` itself);
 *   erasure_parts (table_name, event_date): the Silver partitions the subject
 *                 index names for the person (DuckDB). Every UPDATE is pruned
 *                 to them; on BigQuery through an array parameter per table
 *                 (`dates_<table>`), the form BigQuery prunes partitions by.
 *
 * In a person's rows the identity tokens and session ids become their
 * pseudonyms (one per value, so distinct counts and every business figure
 * stay), the other tokens (ip, user agent, name, address, card) become NULL,
 * and tokens of theirs inside texts and JSON become the erased marker.
 */
import { IDENTITY_TOKEN_COLUMNS, type PersonalColumns, TOKEN_PATTERN, personalColumns } from "../schemas/personal-columns.js";
import { EVENT_TABLES, STATE_TABLES } from "../schemas/silver.js";
import { DOMAINS } from "../schemas/registry.js";
import type { TableDef } from "../schemas/table.js";
import type { StateDialect } from "./state-merge.js";

/** How the statements name a declared table (DuckDB: silver.x; BigQuery: `project.dataset.x`). */
export type TableRef = (t: TableDef) => string;

/** What a token of the person inside a text or JSON column becomes. */
export const ERASED_IN_TEXT = "[erased]";

/** The prefix of a pseudonym; it never matches a token's shape, so a pseudonym is never taken for one. */
export const PSEUDONYM_PREFIX = "erased_";

export interface ErasureTable {
  table: TableDef;
  columns: PersonalColumns;
  /** Partitioned by event_date (the event tables); state tables are small and have no partitions. */
  partitioned: boolean;
}

/** Every Silver table that can hold a person's token or session id. */
export const ERASURE_TABLES: readonly ErasureTable[] = [
  ...DOMAINS.map((d) => ({ table: EVENT_TABLES[d], columns: textsWithoutSession(personalColumns(EVENT_TABLES[d])), partitioned: true })),
  ...STATE_TABLES.map((t) => ({ table: t, columns: personalColumns(t), partitioned: false })).filter(
    (s) => s.columns.identity.length + s.columns.otherTokens.length > 0,
  ),
];

function textsWithoutSession(c: PersonalColumns): PersonalColumns {
  return { ...c, freeText: c.freeText.filter((n) => n !== c.session) };
}

const MAP = "erasure_map";
const PARTS = "erasure_parts";

/** A query parameter in the dialect's syntax. */
const param = (d: StateDialect, name: string) => (d === "duckdb" ? `$${name}` : `@${name}`);

/** Statements that create and fill the work tables from the parameters (DuckDB: `map_t`/`map_p`, `parts_table`/`parts_date`; BigQuery needs none). */
export function workTablesSql(d: StateDialect): string[] {
  if (d === "duckdb") {
    return [
      `CREATE OR REPLACE TEMP TABLE ${MAP} AS SELECT unnest($map_t) AS t, unnest($map_p) AS p`,
      `CREATE OR REPLACE TEMP TABLE ${PARTS} AS SELECT unnest($parts_table) AS table_name, CAST(unnest($parts_date) AS DATE) AS event_date`,
    ];
  }
  return [];
}

/** The person's values and pseudonyms as a FROM item: DuckDB's work table, BigQuery's parameter (no temp table to create). */
const mapSource = (d: StateDialect) => (d === "duckdb" ? `${MAP} AS m` : "UNNEST(@map) AS m");
const inMap = (d: StateDialect, col: string) => `${col} IN (SELECT m.t FROM ${mapSource(d)})`;
const pseudonym = (d: StateDialect, col: string) => `(SELECT m.p FROM ${mapSource(d)} WHERE m.t = ${col})`;

/** A text with the person's tokens replaced by the erased marker (the pattern is the parameter `pattern`: their tokens, alternated). */
function textErased(d: StateDialect, col: string, json: boolean): string {
  const p = param(d, "pattern");
  if (d === "duckdb") {
    const text = json ? `CAST(${col} AS VARCHAR)` : col;
    const replaced = `regexp_replace(${text}, ${p}, '${ERASED_IN_TEXT}', 'g')`;
    return `CASE WHEN regexp_matches(${text}, ${p}) THEN ${json ? `CAST(${replaced} AS JSON)` : replaced} ELSE ${col} END`;
  }
  const text = json ? `TO_JSON_STRING(${col})` : col;
  const replaced = `REGEXP_REPLACE(${text}, ${p}, '${ERASED_IN_TEXT}')`;
  return `CASE WHEN REGEXP_CONTAINS(${text}, ${p}) THEN ${json ? `PARSE_JSON(${replaced})` : replaced} ELSE ${col} END`;
}

function textMatches(d: StateDialect, col: string, json: boolean): string {
  const p = param(d, "pattern");
  if (d === "duckdb") return `regexp_matches(${json ? `CAST(${col} AS VARCHAR)` : col}, ${p})`;
  return `REGEXP_CONTAINS(${json ? `TO_JSON_STRING(${col})` : col}, ${p})`;
}

/**
 * The rows that are the person's own: their user token, email or phone, or
 * no user token and an anonymous id of theirs (a device can be shared: an
 * anonymous id alone never claims another user's row).
 */
export function ownedPredicate(d: StateDialect, c: PersonalColumns): string {
  const strong = c.identity.filter((n) => IDENTITY_TOKEN_COLUMNS[n] !== "anon");
  const anon = c.identity.filter((n) => IDENTITY_TOKEN_COLUMNS[n] === "anon");
  const has = (n: string) => inMap(d, n);
  const owned = strong.map(has);
  if (anon.length) owned.push(c.identity.includes("user_token") ? `(user_token IS NULL AND (${anon.map(has).join(" OR ")}))` : anon.map(has).join(" OR "));
  return owned.join(" OR ") || "FALSE";
}

function partitionFilter(d: StateDialect, t: ErasureTable): string {
  if (!t.partitioned) return "TRUE";
  return d === "duckdb" ? `event_date IN (SELECT event_date FROM ${PARTS} WHERE table_name = '${t.table.name}')` : `event_date IN UNNEST(@${datesParam(t)})`;
}

/** The BigQuery parameter holding the person's partition dates of `t`. */
export function datesParam(t: ErasureTable): string {
  return `dates_${t.table.name}`;
}

/**
 * The identifiers held by the person's own rows of `t` in their partitions:
 * the identity tokens and session ids that join the person's set in the
 * next round (a login links an anonymous id to the user, an order an email).
 */
export function ownedIdentifiersSql(d: StateDialect, t: ErasureTable, ref: TableRef): string {
  const cols = [...t.columns.identity, ...(t.columns.session ? [t.columns.session] : [])];
  return `SELECT DISTINCT ${cols.join(", ")} FROM ${ref(t.table)} WHERE ${partitionFilter(d, t)} AND (${ownedPredicate(d, t.columns)})`;
}

/** The person's own rows of `t` (in their partitions; in a state table, the rows of their identifiers): what an export holds. */
export function ownedRowsSql(d: StateDialect, t: ErasureTable, ref: TableRef): string {
  const own = t.partitioned ? ownedPredicate(d, t.columns) : t.columns.identity.map((n) => inMap(d, n)).join(" OR ");
  return `SELECT * FROM ${ref(t.table)} WHERE ${partitionFilter(d, t)} AND (${own})`;
}

/** The UPDATE that removes the person from `t` (see the module's comment). */
export function pseudonymiseSql(d: StateDialect, t: ErasureTable, ref: TableRef): string {
  const c = t.columns;
  const owned = ownedPredicate(d, c);
  const sets = [
    ...c.identity.map((n) => `${n} = CASE WHEN ${inMap(d, n)} THEN ${pseudonym(d, n)} ELSE ${n} END`),
    ...c.otherTokens.map((n) => `${n} = CASE WHEN ${owned} THEN NULL ELSE ${n} END`),
    ...(c.session ? [`${c.session} = CASE WHEN ${inMap(d, c.session)} THEN ${pseudonym(d, c.session)} ELSE ${c.session} END`] : []),
    ...c.freeText.map((n) => `${n} = ${textErased(d, n, false)}`),
    ...c.json.map((n) => `${n} = ${textErased(d, n, true)}`),
  ];
  const touched = [
    ...c.identity.map((n) => inMap(d, n)),
    ...(c.session ? [inMap(d, c.session)] : []),
    ...c.freeText.map((n) => textMatches(d, n, false)),
    ...c.json.map((n) => textMatches(d, n, true)),
  ];
  return `UPDATE ${ref(t.table)} SET ${sets.join(", ")} WHERE ${partitionFilter(d, t)} AND (${touched.join(" OR ")})`;
}

/**
 * Rows of `t` that still hold a token or session id of the person (the
 * verification's count): in the identity and session columns of every row,
 * and in the texts and JSON of the person's partitions (the subject index
 * records every partition whose texts hold one of their tokens), or of every
 * row when `full`.
 */
export function residueSql(d: StateDialect, t: ErasureTable, ref: TableRef, full = false): string {
  const c = t.columns;
  const ids = [...c.identity.map((n) => inMap(d, n)), ...(c.session ? [inMap(d, c.session)] : [])];
  const texts = [...c.freeText, ...c.json];
  let inTexts = "FALSE";
  if (texts.length) {
    // One text per row (every text and JSON column joined), looked at only when it holds a token at all.
    const joined =
      d === "duckdb"
        ? `concat_ws(' ', ${texts.map((n) => `CAST(${n} AS VARCHAR)`).join(", ")})`
        : `CONCAT(${texts.map((n) => `IFNULL(${c.json.includes(n) ? `TO_JSON_STRING(${n})` : n}, '')`).join(", ' ', ")})`;
    const p = param(d, "pattern");
    const match = d === "duckdb" ? `(contains(${joined}, 'tok_') AND regexp_matches(${joined}, ${p}))` : `REGEXP_CONTAINS(${joined}, ${p})`;
    inTexts = full || !t.partitioned ? match : `(${partitionFilter(d, t)} AND ${match})`;
  }
  return `SELECT COUNT(*) AS n FROM ${ref(t.table)} WHERE ${[...ids, inTexts].join(" OR ")}`;
}

export interface ErasureRefs {
  subjectKeys: string;
  erasedSubjects: string;
  subjectIndex: string;
  deadLetters: string;
}

/**
 * The statements after the rows: the person's data keys deleted
 * (crypto-shredding Bronze), their references added to the suppression
 * list, their dead letters and index rows deleted. Parameters: `refs`
 * (key references), `request_id`, `dead_letter_ids` (found by the erasure's
 * scan of the dead letters), and the work table of their tokens.
 */
export function forgetSql(d: StateDialect, r: ErasureRefs): string[] {
  const list = (name: string) => (d === "duckdb" ? `(SELECT unnest($${name}))` : `UNNEST(@${name})`);
  const now = d === "duckdb" ? "now()::TIMESTAMP" : "CURRENT_TIMESTAMP()";
  return [
    `DELETE FROM ${r.subjectKeys} WHERE subject_ref IN ${list("refs")}`,
    `INSERT INTO ${r.erasedSubjects} (subject_ref, erased_at, request_id)
SELECT ref, ${now}, ${param(d, "request_id")} FROM ${d === "duckdb" ? "(SELECT unnest($refs) AS ref)" : "UNNEST(@refs) AS ref"}
WHERE ref NOT IN (SELECT subject_ref FROM ${r.erasedSubjects})`,
    `DELETE FROM ${r.deadLetters} WHERE dl_id IN ${list("dead_letter_ids")} OR subject_ref IN ${list("refs")}`,
    `DELETE FROM ${r.subjectIndex} WHERE ${inMap(d, "token")}`,
  ];
}

/** The partitions the subject index names for a set of tokens (parameter `tokens`). */
export function indexLookupSql(d: StateDialect, subjectIndex: string): string {
  const list = d === "duckdb" ? "(SELECT unnest($tokens))" : "UNNEST(@tokens)";
  return `SELECT DISTINCT table_name, CAST(event_date AS STRING) AS event_date, batch_id FROM ${subjectIndex} WHERE token IN ${list}`;
}

/** The token pattern the statements match texts with: the person's tokens, alternated (tokens are [A-Za-z0-9_-]: nothing to escape). */
export function tokensPattern(tokens: readonly string[]): string {
  const valid = new RegExp(`^${TOKEN_PATTERN}$`);
  const mine = tokens.filter((t) => valid.test(t));
  // A pattern that matches nothing when the person has no token (only session ids).
  return mine.length ? `(${mine.join("|")})` : "a^";
}
