/**
 * The shop's catalog for one run: 400 products with their SKUs, a price per
 * SKU and currency, and stock per SKU and warehouse, drawn from the
 * simulation stream at start. Prices and stock are the live state that
 * price_change and stock_update events change; later events (add_to_cart,
 * orders) use the current values.
 */
import type { Rand } from "./random.js";
import { ADJECTIVES, CATEGORIES, N_PRODUCTS } from "./reference/catalog.js";
import { FX, WAREHOUSES } from "./reference/countries.js";

export interface Product {
  id: string;
  name: string;
  path: string;
  /** index into CATEGORIES */
  cat: number;
  firstSku: number;
  nSkus: number;
}

export interface Catalog {
  products: Product[];
  skuCode: string[];
  skuProduct: number[];
  prices: Int32Array; // [sku * 3 + currency]
  stock: Int32Array; // [sku * WAREHOUSES.length + warehouse]
}

/** A shop price: ends in 99, never below 0.99. */
export function to99(x: number): number {
  return Math.max(99, Math.round(x / 100) * 100 - 1);
}

export function buildCatalog(r: Rand): Catalog {
  const products: Product[] = [];
  const skuCode: string[] = [];
  const skuProduct: number[] = [];
  const basePrices: number[] = [];
  for (let i = 0; i < N_PRODUCTS; i++) {
    const cat = r.int(0, CATEGORIES.length - 1);
    const c = CATEGORIES[cat]!;
    const name = r.pick(ADJECTIVES) + " " + r.pick(c.nouns);
    const num = 10_000 + i * 7 + r.int(0, 6);
    const id = "prod_" + num;
    const u = r.float();
    const base = to99(c.lo + (c.hi - c.lo) * u * u);
    const firstSku = skuCode.length;
    const nSkus = c.variants.length === 0 ? 1 : r.int(1, Math.min(4, c.variants.length));
    const start = c.variants.length === 0 ? 0 : r.int(0, c.variants.length - nSkus);
    for (let v = 0; v < nSkus; v++) {
      skuCode.push("SKU-" + num + (c.variants.length === 0 ? "" : "-" + c.variants[start + v]));
      skuProduct.push(i);
      basePrices.push(base);
    }
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    products.push({ id, name, path: "/p/" + slug + "/" + id, cat, firstSku, nSkus });
  }
  const nSku = skuCode.length;
  const prices = new Int32Array(nSku * 3);
  const stock = new Int32Array(nSku * WAREHOUSES.length);
  for (let s = 0; s < nSku; s++) {
    for (let k = 0; k < 3; k++) prices[s * 3 + k] = k === 0 ? basePrices[s]! : to99(basePrices[s]! * FX[k]!);
    for (let w = 0; w < WAREHOUSES.length; w++) stock[s * WAREHOUSES.length + w] = r.int(0, 400);
  }
  return { products, skuCode, skuProduct, prices, stock };
}

/** A product index; low indexes are much more popular. */
export function popularProduct(r: Rand): number {
  const u = r.float();
  return Math.floor(N_PRODUCTS * u * u);
}

/** A SKU of a popular product. */
export function popularSku(r: Rand, cat: Catalog): number {
  const p = cat.products[popularProduct(r)]!;
  return p.firstSku + r.int(0, p.nSkus - 1);
}
