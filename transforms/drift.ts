/**
 * Schema drift: the fields an event carries that its schema does not know.
 * They never fail an event; they are kept (Silver `extras`) and counted per
 * type and field, so a producer's new field is visible the day it appears.
 */
import type { z } from "zod";

/** The field names a schema knows, as a tree; `open` marks records/any (all keys known). */
export interface KnownFields {
  keys?: Map<string, KnownFields>;
  items?: KnownFields;
  open?: boolean;
}

const LEAF: KnownFields = {};

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

export function knownFieldsOf(schema: z.ZodType): KnownFields {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case "object": {
      const keys = new Map<string, KnownFields>();
      for (const [k, v] of Object.entries(def.shape ?? {})) keys.set(k, knownFieldsOf(v));
      return { keys };
    }
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
      return knownFieldsOf(def.innerType!);
    case "pipe":
      return knownFieldsOf(def.in!);
    case "array":
      return { items: knownFieldsOf(def.element!) };
    case "union": {
      // A field that is an object in one branch and a scalar in another: merge the object branches.
      const merged: KnownFields = {};
      for (const option of def.options ?? []) {
        const k = knownFieldsOf(option);
        if (k.open) return { open: true };
        if (k.keys) merged.keys = new Map([...(merged.keys ?? []), ...k.keys]);
        if (k.items) merged.items = k.items;
      }
      return merged.keys || merged.items ? merged : LEAF;
    }
    case "record":
    case "unknown":
    case "any":
      return { open: true };
    default:
      return LEAF;
  }
}

/** Unknown fields of `value` by dotted path (array indexes as `[]`), or null when none. */
export function findUnknownFields(value: unknown, known: KnownFields): Record<string, unknown> | null {
  let out: Record<string, unknown> | null = null;
  const walk = (v: unknown, k: KnownFields, path: string): void => {
    if (k.open || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      if (k.items) for (const item of v) walk(item, k.items, `${path}[]`);
      return;
    }
    if (!k.keys) return;
    const obj = v as Record<string, unknown>;
    for (const key in obj) {
      const child = k.keys.get(key);
      const p = path ? `${path}.${key}` : key;
      if (child === undefined) (out ??= {})[p] = obj[key];
      else walk(obj[key], child, p);
    }
  };
  walk(value, known, "");
  return out;
}
