/**
 * Inventory events: stock_update when a shipped order's lines leave the
 * warehouse, and spontaneous ones (restocks, returns put back, sales on
 * other channels, periodic full counts without a delta); price_change up or
 * down in one currency. Both change the live catalog, so later add_to_cart
 * and orders see the new price.
 *
 * Guarantees: quantity_on_hand is never negative; a delta, when given, is
 * exactly the change from the SKU's stock in that warehouse before the event;
 * a price change always changes the price, and the new price ends in 99.
 */
import type { Order, World } from "./model.js";
import { popularSku, to99 } from "./catalog.js";
import { scheduleOrder } from "./orders.js";
import { CURRENCIES, CURRENCY_CUM, WAREHOUSES } from "./reference/countries.js";

/** Takes the order's next line out of its warehouse's stock; the lines follow each other by a second or two. */
export function pickStock(w: World, o: Order): void {
  const cat = w.catalog;
  const i = o.stockIdx++;
  const sku = o.lines[3 * i]!;
  const k = sku * WAREHOUSES.length + o.warehouse;
  const old = cat.stock[k]!;
  const q = Math.max(0, old - o.lines[3 * i + 1]!);
  cat.stock[k] = q;
  const payload = { sku: cat.skuCode[sku]!, warehouse_id: WAREHOUSES[o.warehouse]!, quantity_on_hand: q, delta: q - old };
  w.out.emit("stock_update", "inventory-service", undefined, undefined, payload, w.clock);
  if (3 * o.stockIdx < o.lines.length) scheduleOrder(w, w.clock + 200 + w.r.float() * 1800, "pick_stock", o);
}

export function stockUpdate(w: World): void {
  const r = w.r;
  const cat = w.catalog;
  const sku = popularSku(r, cat);
  const wh = r.int(0, WAREHOUSES.length - 1);
  const k = sku * WAREHOUSES.length + wh;
  const old = cat.stock[k]!;
  const x = r.float();
  let delta: number;
  if (x < 0.3 || old === 0)
    delta = r.int(24, 400); // restock
  else if (x < 0.45)
    delta = r.int(1, 3); // returns put back
  else delta = -r.int(1, 12); // other channels / shrinkage
  const q = Math.max(0, old + delta);
  cat.stock[k] = q;
  const payload = {
    sku: cat.skuCode[sku]!,
    warehouse_id: WAREHOUSES[wh]!,
    quantity_on_hand: q,
    delta: r.chance(0.05) ? undefined : q - old, // a periodic full count carries no delta
  };
  w.out.emit("stock_update", "inventory-service", undefined, undefined, payload, w.clock);
}

/** A markdown (to 60-90 %) or a markup (to 105-140 %). */
export function priceChange(w: World): void {
  const r = w.r;
  const cat = w.catalog;
  const sku = popularSku(r, cat);
  const cur = r.weighted(CURRENCY_CUM);
  const k = sku * 3 + cur;
  const old = cat.prices[k]!;
  let next = to99(old * (r.chance(0.5) ? 0.6 + r.float() * 0.3 : 1.05 + r.float() * 0.35));
  if (next === old) next = old + 100;
  cat.prices[k] = next;
  const payload = { sku: cat.skuCode[sku]!, old_price_minor: old, new_price_minor: next, currency: CURRENCIES[cur] };
  w.out.emit("price_change", "inventory-service", undefined, undefined, payload, w.clock);
}
