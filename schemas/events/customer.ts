/** Customer payloads, version 1 (source web, ios or android). */
import { z } from "zod";
import { envelope } from "../envelope.js";
import { clientSource } from "../common.js";

export const loginV1 = envelope("login", clientSource, z.looseObject({ method: z.enum(["password", "oauth", "sso"]), success: z.boolean() }));

export const profileUpdateV1 = envelope(
  "profile_update",
  clientSource,
  z.looseObject({
    changed_fields: z.array(z.string()),
    email: z.string().optional(),
    phone: z.string().optional(),
    name: z.string().optional(),
    address: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  }),
);
