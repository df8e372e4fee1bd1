/**
 * GoogleSQL literals -> DuckDB literals, re-rendered from their values: the
 * two dialects escape strings differently (GoogleSQL backslashes, DuckDB
 * doubled quotes), GoogleSQL's `1.5` is a FLOAT64 where DuckDB's is a DECIMAL,
 * and DATE/TIMESTAMP texts are checked and normalised to UTC here so that
 * DuckDB never guesses a zone.
 */
import { dateText, isoTimestamp, parseDateDays, parseDatetimeMicros, parseTimestampMicros } from "../bigquery-values.js";
import type { N } from "./emitter.js";
import { BigQueryError, Unsupported } from "./types.js";

export const sqlString = (s: string) => {
  if (s.includes("\u0000")) throw new Unsupported("a NUL character in a string literal");
  return `'${s.replace(/'/g, "''")}'`;
};

const ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, "'": 39, '"': 34, "?": 63, "`": 96 };

/**
 * The bytes of a BYTES literal, from its text: the parser's decoded value turns
 * \xHH above 7F into a character's UTF-8 bytes, where GoogleSQL means the byte.
 */
function blobBytes(text: string): Uint8Array {
  const m = /^([bB][rR]?|[rR][bB])('''|"""|'|")([\s\S]*)\2$/.exec(text);
  if (!m) throw new Unsupported(`BYTES literal ${text}`);
  const raw = /r/i.test(m[1]!);
  const body = m[3]!;
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== "\\" || raw) {
      out.push(...Buffer.from(ch, "utf8"));
      continue;
    }
    const next = body[++i]!;
    if (next === "x" || next === "X") {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(next)) {
      out.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else if (ESCAPES[next] !== undefined) out.push(ESCAPES[next]!);
    else throw new Unsupported(`escape \\${next} in a BYTES literal`);
  }
  return new Uint8Array(out);
}

/** GoogleSQL integers are INT64, anything with a point or exponent FLOAT64. */
function numberLiteral(n: N): string {
  const text = String(n.text);
  if (/^0x/i.test(text)) return BigInt(text).toString();
  if (/[.eE]/.test(text)) return `CAST(${text} AS DOUBLE)`;
  if (BigInt(text) > 2n ** 63n - 1n) throw new BigQueryError(`Invalid integer literal: ${text}`);
  return text;
}

/** A literal node as DuckDB SQL. */
export function literal(n: N): string {
  switch (n.type) {
    case "string_literal":
      return sqlString(n.value);
    case "number_literal":
      return numberLiteral(n);
    case "boolean_literal":
      return n.value ? "TRUE" : "FALSE";
    case "null_literal":
      return "NULL";
    case "blob_literal":
      return `CAST('${[...blobBytes(String(n.text))].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}' AS BLOB)`;
    case "date_literal":
      return `DATE '${dateText(parseDateDays(n.string.value))}'`;
    case "timestamp_literal":
      return `TIMESTAMPTZ '${isoTimestamp(parseTimestampMicros(n.string.value))}'`;
    case "datetime_literal":
      return `TIMESTAMP '${isoTimestamp(parseDatetimeMicros(n.string.value)).slice(0, -1)}'`;
    case "json_literal":
      try {
        JSON.parse(n.string.value);
      } catch {
        throw new BigQueryError(`Invalid JSON literal: ${n.string.value}`);
      }
      return `json(${sqlString(n.string.value)})`;
    case "numeric_literal":
      if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(n.string.value)) throw new BigQueryError(`Invalid NUMERIC literal: ${n.string.value}`);
      return `CAST(${sqlString(n.string.value.trim())} AS DECIMAL(38, 9))`;
    default:
      throw new Unsupported(n.type.replace(/_/g, " "));
  }
}
