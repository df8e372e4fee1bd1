/**
 * gold.inventory_levels
 *
 * Grain: one row per (sku, warehouse_id).
 * Meaning: the latest stock_update by event_time (ties broken by the greater
 * event_id, whatever the arrival order): its `quantity_on_hand`, `as_of` =
 * its event_time; `low_stock` = quantity_on_hand < 10.
 *
 * Window: the sku. Touched by: a stock_update of that sku.
 */
import { type GoldModel, SILVER, col } from "../model.js";

export const LOW_STOCK_BELOW = 10;

export const inventoryLevels: GoldModel = {
  name: "inventory_levels",
  grain: "one row per (sku, warehouse_id)",
  description: `The latest stock_update by event_time per sku and warehouse: quantity_on_hand, as_of = its event_time, low_stock = quantity_on_hand < ${LOW_STOCK_BELOW}.`,
  columns: [
    col("sku", "STRING", "SKU"),
    col("warehouse_id", "STRING", "Warehouse"),
    col("quantity_on_hand", "INT64", "quantity_on_hand of the latest stock_update"),
    col("as_of", "TIMESTAMP", "event_time of that stock_update"),
    col("low_stock", "BOOL", `quantity_on_hand < ${LOW_STOCK_BELOW}`),
  ],
  window: { grain: "key", column: "sku" },
  bigquery: { clusterBy: ["sku", "warehouse_id"] },
  // A level whose last stock_update is older than Silver's retention could not be rebuilt: it expires with it.
  expiresBy: "as_of",
  select: ({ w }) => `
SELECT sku, warehouse_id, quantity_on_hand, event_time AS as_of, quantity_on_hand < ${LOW_STOCK_BELOW} AS low_stock
FROM (
  SELECT
    sku, warehouse_id, quantity_on_hand, event_time,
    ROW_NUMBER() OVER (PARTITION BY sku, warehouse_id ORDER BY event_time DESC, event_id DESC) AS rn
  FROM ${SILVER.inventory}
  WHERE event_type = 'stock_update' AND ${w.key("sku")}
) AS latest
WHERE rn = 1`,
  dirty: [
    {
      on: ["inventory"],
      sql: (_d, f) => `SELECT DISTINCT sku AS window_key FROM ${SILVER.inventory} WHERE ${f.rows()} AND event_type = 'stock_update'`,
    },
  ],
};
