/** DuckDB results as plain JSON rows: integers as numbers (strings past 2^53), timestamps as ISO-like text. */
import type { DuckDBResultReader } from "@duckdb/node-api";

const INTEGER_TYPES = new Set(["BIGINT", "HUGEINT", "UBIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT"]);

export function jsonRows(result: DuckDBResultReader): Record<string, unknown>[] {
  const names = result.columnNames();
  const integer = result.columnTypes().map((t) => INTEGER_TYPES.has(t.toString()));
  const rows = result.getRowObjectsJson() as Record<string, unknown>[];
  for (const row of rows) {
    for (let i = 0; i < names.length; i++) {
      const v = row[names[i]!];
      if (integer[i] && typeof v === "string") {
        const n = Number(v);
        if (Number.isSafeInteger(n)) row[names[i]!] = n;
      }
    }
  }
  return rows;
}
