/**
 * The envelope every event carries. Payload schemas are combined with it per
 * (event_type, schema_version) in `registry.ts`.
 *
 * Objects are "loose": a field the schema does not know never fails an event.
 * The validator reports such fields as schema drift and keeps them in `extras`.
 */
import { z } from "zod";
import { country, rfc3339, uuid } from "./common.js";

export const contextSchema = z.looseObject({
  ip: z.string().optional(),
  user_agent: z.string().optional(),
  locale: z.string().optional(),
  country: country.optional(),
  app_version: z.string().optional(),
});

export function envelope<T extends string, S extends z.ZodType, P extends z.ZodType>(eventType: T, source: S, payload: P) {
  return z.looseObject({
    event_id: uuid,
    event_type: z.literal(eventType),
    schema_version: z.number().int().min(1),
    event_time: rfc3339,
    source,
    user_id: z.string().min(1).optional(),
    anonymous_id: z.string().min(1).optional(),
    session_id: z.string().min(1).optional(),
    context: contextSchema.optional(),
    payload,
  });
}
