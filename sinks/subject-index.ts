/**
 * The subject index (ops.subject_index) written with each batch's Silver
 * rows, compiled for DuckDB and BigQuery from the table declarations: per
 * fresh row, its identity tokens (user, anonymous id, emails, phones) and
 * every token inside its text and JSON columns, as (token, table, day,
 * batch). Erasure and export read a person's few index rows instead of
 * scanning Silver, and the batch names the Bronze files their events are in.
 */
import { EVENT_PERSONAL_COLUMNS, TOKEN_PATTERN } from "../schemas/personal-columns.js";
import type { Domain } from "../schemas/registry.js";
import { EVENT_TABLES } from "../schemas/silver.js";
import type { StateDialect } from "./state-merge.js";

/**
 * INSERT of the index rows of `source` (the batch's fresh rows of `domain`'s
 * event table, aliased S): DISTINCT within the batch. `index` is the index
 * table's reference, `batch` the batch id's SQL expression.
 */
export function subjectIndexSql(d: StateDialect, domain: Domain, source: string, index: string, batch: string): string {
  const cols = EVENT_PERSONAL_COLUMNS[domain];
  const table = EVENT_TABLES[domain].name;
  const texts = [...cols.freeText, ...cols.json];
  const identity = cols.identity.map((c) => `S.${c}`).join(", ");
  if (d === "duckdb") {
    const text = `concat_ws(' ', ${texts.map((c) => `S.${c}::VARCHAR`).join(", ")})`;
    const found = `CASE WHEN contains(${text}, 'tok_') THEN regexp_extract_all(${text}, '${TOKEN_PATTERN}') ELSE []::VARCHAR[] END`;
    return `INSERT INTO ${index} (token, table_name, event_date, batch_id)
SELECT DISTINCT token, '${table}', event_date, ${batch} FROM (
  SELECT S.event_date, unnest(list_concat([${identity}], ${found})) AS token FROM ${source} S
) WHERE token IS NOT NULL`;
  }
  const text = `CONCAT(${texts.map((c) => `IFNULL(${cols.json.includes(c) ? `TO_JSON_STRING(S.${c})` : `S.${c}`}, '')`).join(", ' ', ")})`;
  return `INSERT INTO ${index} (token, table_name, event_date, batch_id)
SELECT DISTINCT token, '${table}', S.event_date, ${batch}
FROM ${source} S, UNNEST(ARRAY_CONCAT([${identity}], REGEXP_EXTRACT_ALL(${text}, r'${TOKEN_PATTERN}'))) AS token
WHERE token IS NOT NULL`;
}
