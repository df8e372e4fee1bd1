/**
 * Where personal data sits in an event (contract: "Personal and payment data").
 * Silver gets these as tokens, Bronze as ciphertext under the subject's key.
 * A field the contract does not list but whose name looks personal (a
 * producer's new `birth_date`, say) is treated as personal too: unknown fields
 * are guilty until a schema version says otherwise.
 */
import type { EventType } from "./registry.js";

/** A personal field: its path, and for a subtree the children that are not personal. */
export interface PiiField {
  path: readonly string[];
  exceptChildren?: readonly string[];
}

const CONTEXT: PiiField[] = [{ path: ["context", "ip"] }, { path: ["context", "user_agent"] }];

const BY_TYPE: Partial<Record<EventType, PiiField[]>> = {
  order_created: [
    { path: ["payload", "customer", "email"] },
    { path: ["payload", "customer", "phone"] },
    { path: ["payload", "customer", "name"] },
    { path: ["payload", "customer", "shipping_address"], exceptChildren: ["country"] },
  ],
  profile_update: [
    { path: ["payload", "email"] },
    { path: ["payload", "phone"] },
    { path: ["payload", "name"] },
    { path: ["payload", "address"] },
  ],
};

const cache = new Map<EventType, PiiField[]>();

/** The personal fields of an event type (context fields included). */
export function piiFieldsOf(type: EventType): PiiField[] {
  let fields = cache.get(type);
  if (!fields) {
    fields = [...CONTEXT, ...(BY_TYPE[type] ?? [])];
    cache.set(type, fields);
  }
  return fields;
}

const PERSONAL_NAME =
  /(^|[._\[\]])(e-?mail|phone|mobile|tel|(first|last|full|given|family|middle)?_?name|address|street|line\d|postal(_code)?|zip(_code)?|ip|ip_address|birth_?date|dob|ssn|passport|iban|national_id|tax_id|user_agent)($|[._\[\]])/i;

/** True for an unknown field whose path looks personal, or that sits under a personal parent. */
export function looksPersonal(path: string): boolean {
  return PERSONAL_NAME.test(path) || path.startsWith("payload.customer.") || path.startsWith("context.");
}
