/**
 * The clickstream events of a session: page_view (landing, product,
 * category and other pages), search and add_to_cart. They are the bulk of
 * the traffic, so their payloads are serialised by hand; every piece spliced
 * in is JSON-safe by construction (ids, numbers, and reference lists checked
 * at load).
 *
 * Guarantee: a page_view's referrer is the page the session was last on (on
 * landing, an external site or none), as a full URL on the session's platform.
 */
import type { Session, World } from "./model.js";
import { popularProduct } from "./catalog.js";
import { CATEGORIES } from "./reference/catalog.js";
import { APP_BASE, EXTERNAL_REFERRERS, PLATFORM_WEB, SEARCH_TERMS, SORTS, TITLE_SUFFIX, UTM, WEB_BASE } from "./reference/clickstream.js";
import { CURRENCIES } from "./reference/countries.js";

export function pageView(w: World, s: Session, t: number, path: string, title: string | undefined, productId: string | undefined, query = ""): void {
  const url = urlFor(s, path) + query;
  let json = '{"url":"' + url + '","path":"' + path + '"';
  const ref = s.lastRef;
  if (ref !== undefined) json += ',"referrer":"' + (ref.charCodeAt(0) === 47 /* "/" */ ? urlFor(s, ref) : ref) + '"';
  if (title !== undefined) json += ',"title":"' + title + '"';
  if (productId !== undefined) json += ',"product_id":"' + productId + '"';
  s.lastRef = query === "" ? path : path + query; // no per-event string kept alive
  w.out.emitSession("page_view", s, json + "}", t);
}

export function productPage(w: World, s: Session, t: number, pi: number): void {
  const p = w.catalog.products[pi]!;
  s.lastProduct = pi;
  pageView(w, s, t, p.path, p.name + TITLE_SUFFIX, p.id);
}

/** A category page, the home page, the cart, the order history or the sale page. */
export function otherPage(w: World, s: Session, t: number): void {
  const r = w.r;
  const x = r.int(0, 9);
  if (x < 5) {
    const c = CATEGORIES[r.int(0, CATEGORIES.length - 1)]!;
    pageView(w, s, t, "/c/" + c.slug, c.title + TITLE_SUFFIX, undefined);
  } else if (x < 7) pageView(w, s, t, "/", "Example Shop", undefined);
  else if (x < 8 && s.cartSkus.length > 0) pageView(w, s, t, "/cart", "Your cart" + TITLE_SUFFIX, undefined);
  else if (x < 9 && s.userId !== undefined) pageView(w, s, t, "/account/orders", "Your orders" + TITLE_SUFFIX, undefined);
  else pageView(w, s, t, "/sale", "Sale" + TITLE_SUFFIX, undefined);
}

/** The first page of a session: on the web from a search engine or a campaign, in the apps the home screen. */
export function landing(w: World, s: Session, t: number): void {
  const r = w.r;
  if (s.platform === PLATFORM_WEB) {
    const x = r.float();
    s.lastRef = x < 0.55 ? r.pick(EXTERNAL_REFERRERS) : undefined;
    const query = r.chance(0.3) ? r.pick(UTM) : "";
    const y = r.int(0, 19);
    if (y < 7) return pageView(w, s, t, "/", "Example Shop", undefined, query);
    if (y < 12) {
      const c = CATEGORIES[r.int(0, CATEGORIES.length - 1)]!;
      return pageView(w, s, t, "/c/" + c.slug, c.title + TITLE_SUFFIX, undefined, query);
    }
    const pi = popularProduct(r);
    const p = w.catalog.products[pi]!;
    s.lastProduct = pi;
    return pageView(w, s, t, p.path, p.name + TITLE_SUFFIX, p.id, query);
  }
  pageView(w, s, t, "/", "Home", undefined);
}

/** A search; the query is now and then a card number typed into the box (see pans.ts). */
export function search(w: World, s: Session, t: number): void {
  const r = w.r;
  const pan = w.pans.take();
  const query = pan ?? r.pick(SEARCH_TERMS);
  const results = pan !== undefined || r.chance(0.08) ? 0 : Math.min(2000, 1 + Math.floor(r.exp(60)));
  // { query, results_count, filters? }
  let json = '{"query":"' + query + '","results_count":' + results;
  if (r.chance(0.3)) {
    json +=
      ',"filters":{"category":"' +
      CATEGORIES[r.int(0, CATEGORIES.length - 1)]!.slug +
      '","max_price_minor":' +
      r.int(1, 30) * 1000 +
      ',"in_stock":true,"sort":"' +
      r.pick(SORTS) +
      '"}';
  }
  w.out.emitSession("search", s, json + "}", t);
  s.lastRef = "/search";
  if (results > 0 && r.chance(0.6)) s.lastProduct = popularProduct(r);
}

/** Adds a SKU of the last product seen to the cart (opening one if needed), at today's price. */
export function addToCart(w: World, s: Session, t: number): void {
  const r = w.r;
  const cat = w.catalog;
  const p = cat.products[s.lastProduct]!;
  const sku = p.firstSku + r.int(0, p.nSkus - 1);
  const qty = r.chance(0.82) ? 1 : r.int(2, 3);
  const price = cat.prices[sku * 3 + s.cur]!;
  if (s.cartId === undefined) s.cartId = "cart_" + r.id12();
  const i = s.cartSkus.indexOf(sku);
  if (i >= 0) s.cartQtys[i] += qty;
  else {
    s.cartSkus.push(sku);
    s.cartQtys.push(qty);
    s.cartPrices.push(price);
  }
  const json =
    '{"cart_id":"' +
    s.cartId +
    '","product_id":"' +
    p.id +
    '","sku":"' +
    cat.skuCode[sku]! +
    '","quantity":' +
    qty +
    ',"unit_price_minor":' +
    price +
    ',"currency":"' +
    CURRENCIES[s.cur]! +
    '"}';
  w.out.emitSession("add_to_cart", s, json, t);
}

function urlFor(s: Session, path: string): string {
  return (s.platform === PLATFORM_WEB ? WEB_BASE : APP_BASE) + path;
}
