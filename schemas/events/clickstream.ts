/** Clickstream payloads, version 1 (source web, ios or android). */
import { z } from "zod";
import { envelope } from "../envelope.js";
import { clientSource, currency, minor, nonEmpty } from "../common.js";

export const pageViewV1 = envelope(
  "page_view",
  clientSource,
  z.looseObject({
    url: nonEmpty,
    path: nonEmpty,
    referrer: z.string().optional(),
    title: z.string().optional(),
    product_id: z.string().optional(),
  }),
);

export const searchV1 = envelope(
  "search",
  clientSource,
  z.looseObject({
    query: z.string(),
    results_count: z.number().int().min(0),
    filters: z.record(z.string(), z.unknown()).optional(),
  }),
);

export const addToCartV1 = envelope(
  "add_to_cart",
  clientSource,
  z.looseObject({
    cart_id: nonEmpty,
    product_id: nonEmpty,
    sku: nonEmpty,
    quantity: z.number().int().positive(),
    unit_price_minor: minor.min(0),
    currency,
  }),
);
