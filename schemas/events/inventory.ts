/** Inventory payloads, version 1 (source inventory-service). */
import { z } from "zod";
import { envelope } from "../envelope.js";
import { currency, inventorySource, nonEmpty, nonNegativeMinor } from "../common.js";

export const stockUpdateV1 = envelope(
  "stock_update",
  inventorySource,
  z.looseObject({
    sku: nonEmpty,
    warehouse_id: nonEmpty,
    quantity_on_hand: z.number().int().min(0),
    delta: z.number().int().optional(),
  }),
);

export const priceChangeV1 = envelope(
  "price_change",
  inventorySource,
  z.looseObject({ sku: nonEmpty, old_price_minor: nonNegativeMinor, new_price_minor: nonNegativeMinor, currency }),
);
