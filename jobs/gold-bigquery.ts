/** `ecom gold bigquery`: writes the Gold models compiled for BigQuery (DDL, scheduled refresh, rebuild) to a folder. */
import fs from "node:fs";
import path from "node:path";
import { bigqueryFiles } from "../gold/bigquery/compile.js";

export function writeGoldBigQuery(dir: string): string[] {
  const written: string[] = [];
  for (const [name, text] of bigqueryFiles()) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    written.push(file);
  }
  return written;
}
