/** Every Gold model, in the order they are built and documented. */
import type { GoldModel } from "../model.js";
import { cartAbandonment } from "./cart-abandonment.js";
import { conversionFunnel } from "./conversion-funnel.js";
import { customerActivity } from "./customer-activity.js";
import { dailyRevenue } from "./daily-revenue.js";
import { inventoryLevels } from "./inventory-levels.js";
import { orderFulfilment } from "./order-fulfilment.js";
import { paymentHealth } from "./payment-health.js";
import { revenueByMinute } from "./revenue-by-minute.js";

export const GOLD_MODELS: readonly GoldModel[] = [
  dailyRevenue,
  revenueByMinute,
  conversionFunnel,
  cartAbandonment,
  paymentHealth,
  orderFulfilment,
  inventoryLevels,
  customerActivity,
];

/** The Gold table names (without the `gold.` schema), in the same order. */
export const GOLD_MODEL_NAMES = GOLD_MODELS.map((m) => m.name) as [string, ...string[]];
