/**
 * Validate: a decoded object against the registry, by (event_type,
 * schema_version). A failure becomes a dead letter with a machine-readable
 * reason and the failing paths. A field the schema does not know never fails an
 * event: it is reported as drift and kept in `extras`.
 */
import type { z } from "zod";
import type { Registry, SchemaEntry } from "../schemas/registry.js";
import { decodeFailure } from "./decode.js";
import { findUnknownFields, type KnownFields, knownFieldsOf } from "./drift.js";
import { scrubPans } from "./scrub-pans.js";
import type { Decoded, DeadLetter, ValidEvent } from "./types.js";

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
      const message = decoded.message;
      const type = value.event_type;
      const version = value.schema_version;
      if (typeof type !== "string") {
        return withPaths(decodeFailure(message, "schema_violation", "event_type is missing or not a string"), ["event_type"]);
      }
      if (typeof version !== "number" || !Number.isInteger(version)) {
        return withPaths(
          decodeFailure(message, "schema_violation", "schema_version is missing or not an integer"),
          ["schema_version"],
        );
      }
      const entry = registry.lookup(type, version);
      if (entry === "unknown_type" || entry === "unknown_version") {
        const detail =
          entry === "unknown_type"
            ? `unknown event_type ${JSON.stringify(type.slice(0, 64))}`
            : `${type} has no schema_version ${version}`;
        return stamp(decodeFailure(message, entry, detail), value);
      }
      const pans = scrubPans(value);
      const parsed = entry.schema.safeParse(value);
      if (!parsed.success) {
        const { detail, paths } = describeIssues(parsed.error);
        return withPaths(stamp(decodeFailure(message, "schema_violation", detail), value), paths);
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
        message,
        pansRedacted: pans,
      };
    },
  };
}

function stamp(dl: DeadLetter, value: Record<string, unknown>): DeadLetter {
  if (typeof value.event_id === "string") dl.event_id = value.event_id.slice(0, 64);
  if (typeof value.event_type === "string") dl.event_type = value.event_type.slice(0, 64);
  if (typeof value.schema_version === "number") dl.schema_version = value.schema_version;
  dl.stage = "validate";
  return dl;
}

function withPaths(dl: DeadLetter, paths: string[]): DeadLetter {
  dl.paths = paths;
  dl.stage = "validate";
  return dl;
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
