/** JSON Schema files for producers, one per (event_type, schema_version), generated from the zod schemas. */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { createRegistry } from "../schemas/registry.js";

export function jsonSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of createRegistry().entries()) {
    const schema = z.toJSONSchema(e.schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    schema.$id = `https://schemas.ecom-stream.dev/events/${e.eventType}/v${e.version}.json`;
    schema.title = `${e.eventType} v${e.version}`;
    out.set(`${e.eventType}.v${e.version}.schema.json`, JSON.stringify(schema, null, 2) + "\n");
  }
  return out;
}

export function writeJsonSchemas(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of jsonSchemas()) {
    fs.writeFileSync(path.join(dir, name), text);
    written.push(path.join(dir, name));
  }
  return written;
}
