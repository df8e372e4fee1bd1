/**
 * Validate: a decoded object against the registry, by (event_type,
 * schema_version). A failure becomes a dead letter with a machine-readable
 * reason and the failing paths. A field the schema does not know never fails an
 * event: it is reported as drift and kept in `extras`.
 */
import type { z } from "zod";
import { EVENT_TYPE_NAMES, type Registry, type SchemaEntry } from "../schemas/registry.js";
import { deadLetter } from "./dead-letter.js";
import { findUnknownFields, type KnownFields, knownFieldsOf } from "./drift.js";
import type { Decoded, DeadLetter, DeadLetterReason, ValidEvent } from "./types.js";

export interface Validator {
  validate(decoded: Decoded): ValidEvent | DeadLetter;
}

export function createValidator(registry: Registry): Validator {
  const known = new Map<SchemaEntry["schema"], KnownFields>();
  const knownFor = (entry: SchemaEntry): KnownFields => {
    let k = known.get(entry.schema);
    if (!k) known.set(entry.schema, (k = knownFieldsOf(entry.schema)));
    return k;
  };

  return {
    validate(decoded) {
      const value = decoded.value;
      const fail = (reason: DeadLetterReason, detail: string, paths: string[] = []): DeadLetter =>
        deadLetter(decoded.message, reason, detail, { stage: "validate", value, paths, pansRedacted: decoded.pansRedacted });
      const type = value.event_type;
      const version = value.schema_version;
      if (typeof type !== "string") return fail("schema_violation", "event_type is missing or not a string", ["event_type"]);
      if (typeof version !== "number" || !Number.isInteger(version)) {
        return fail("schema_violation", "schema_version is missing or not an integer", ["schema_version"]);
      }
      const entry = registry.lookup(type, version);
      // The type is named only when it is one the platform knows: an unknown one is producer text.
      if (entry === "unknown_type") return fail(entry, `event_type is not one of the ${EVENT_TYPE_NAMES.length} types the platform reads`);
      if (entry === "unknown_version") return fail(entry, `${type} has no schema_version ${version}`);
      const parsed = entry.schema.safeParse(value);
      if (!parsed.success) {
        const { detail, paths } = describeIssues(parsed.error);
        return fail("schema_violation", detail, paths);
      }
      const event = parsed.data;
      event.event_id = event.event_id.toLowerCase();
      return {
        ok: true,
        event,
        eventType: entry.eventType,
        domain: entry.domain,
        eventTimeMs: Date.parse(event.event_time),
        extras: findUnknownFields(value, knownFor(entry)),
        message: decoded.message,
        pansRedacted: decoded.pansRedacted,
      };
    },
  };
}

/** zod issues -> a detail line and the paths. Messages name types, never values. */
export function describeIssues(error: z.ZodError): { detail: string; paths: string[] } {
  const paths: string[] = [];
  const parts: string[] = [];
  for (const issue of error.issues.slice(0, 20)) {
    const path = issue.path.map(String).join(".") || "(root)";
    paths.push(path);
    parts.push(`${path}: ${issue.message}`);
  }
  return { detail: parts.join("; "), paths };
}
