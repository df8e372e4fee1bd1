/**
 * Shared field rules of the event contract (../shared/event-contract.md):
 * ids, times, money and the source naming. Every event schema builds on these,
 * so a rule lives in one place.
 */
import { z } from "zod";

/** Any UUID version, either case; normalized to lower case by the validator. */
export const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a UUID");

/** RFC 3339 with a zone offset (`Z` or `+hh:mm`). */
export const rfc3339 = z.iso.datetime({ offset: true, local: false });

export const nonEmpty = z.string().min(1);

/** Integer amount in the currency's minor unit; never a float. */
export const minor = z.number().int();
export const nonNegativeMinor = minor.min(0);

/** ISO 4217 alphabetic code. */
export const currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like USD");

/** ISO 3166-1 alpha-2 country code. */
export const country = z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code like DE");

export const CLICKSTREAM_SOURCES = ["web", "ios", "android"] as const;
export const clientSource = z.enum(CLICKSTREAM_SOURCES);
export const orderSource = z.literal("order-service");
export const inventorySource = z.literal("inventory-service");
export const paymentSource = z.union([
  z.literal("payment-service"),
  z.string().regex(/^gateway:[a-z0-9][a-z0-9_-]*$/, "must be payment-service or gateway:<name>"),
]);
