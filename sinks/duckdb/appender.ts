/** Append typed rows (column name -> value) to a DuckDB table through the appender. */
import { type DuckDBAppender, dateValue, timestampValue } from "@duckdb/node-api";
import type { ColumnType } from "../../schemas/table.js";

/** A column to append, by its declared type. */
export interface AppendColumn {
  name: string;
  type: ColumnType;
}

const DAY_MS = 86_400_000;
const INT32_MAX = 2_147_483_647;

export type RowValue = string | number | boolean | null | undefined | Uint8Array;

export function appendRows(appender: DuckDBAppender, columns: readonly AppendColumn[], rows: readonly object[]): void {
  for (const row of rows) {
    for (const col of columns) {
      const v = (row as Record<string, RowValue>)[col.name];
      if (v === null || v === undefined) {
        appender.appendNull();
        continue;
      }
      switch (col.type) {
        case "STRING":
        case "JSON":
        case "UUID":
          appender.appendVarchar(v as string);
          break;
        case "INT64": {
          const n = v as number;
          if (n <= INT32_MAX && n >= -INT32_MAX) appender.appendInteger(n);
          else appender.appendBigInt(BigInt(n));
          break;
        }
        case "BOOL":
          appender.appendBoolean(v as boolean);
          break;
        case "TIMESTAMP":
          appender.appendTimestamp(timestampValue(BigInt(v as number) * 1000n));
          break;
        case "BYTES":
          appender.appendBlob(v as Uint8Array);
          break;
        case "DATE":
          appender.appendDate(dateValue(Math.floor(Date.parse(v as string) / DAY_MS)));
          break;
      }
    }
    appender.endRow();
  }
}
