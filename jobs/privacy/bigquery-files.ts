/** `ecom privacy bigquery`: writes the erasure compiled for BigQuery to a folder (infra/bigquery/privacy/ in the repository). */
import fs from "node:fs";
import path from "node:path";
import { privacyBigQueryFiles } from "../../sinks/bigquery/erasure.js";

export function writePrivacyBigQuery(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return [...privacyBigQueryFiles()].map(([name, text]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  });
}
