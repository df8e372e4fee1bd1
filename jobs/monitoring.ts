/**
 * `ecom monitoring generate`: writes the monitoring files made from the
 * objectives and alert rules (pipelines/observe/monitoring-files.ts) into a
 * folder (infra/monitoring by default), and says which changed.
 */
import fs from "node:fs";
import path from "node:path";
import { monitoringFiles } from "../pipelines/observe/monitoring-files.js";

export interface GeneratedFile {
  path: string;
  changed: boolean;
}

export function generateMonitoringFiles(outDir: string): GeneratedFile[] {
  fs.mkdirSync(outDir, { recursive: true });
  return Object.entries(monitoringFiles()).map(([name, text]) => {
    const file = path.join(outDir, name);
    const changed = !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text;
    if (changed) fs.writeFileSync(file, text);
    return { path: file, changed };
  });
}
