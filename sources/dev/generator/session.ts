/**
 * The session (clickstream) state machine. A session lands (or, in the warm
 * start's first half hour, is entered mid-way), then browses click by click:
 * product and category pages, searches, add-to-carts, sign-ins and profile
 * edits, until it leaves or checks out. Checkout goes through phases, one
 * event per step: the checkout page, a sign-in when needed, order_created,
 * and the confirmation page.
 *
 * Guarantees: a session's clickstream and customer events have
 * non-decreasing event times (a mobile event may arrive late, never before
 * the session's previous one); every order_created from a session carries a
 * cart that had an add_to_cart in the same session; a session has at most
 * one step on the agenda at a time.
 */
import type { Session, World } from "./model.js";
import { checkoutLogin, login, profileUpdate } from "./accounts.js";
import { popularProduct } from "./catalog.js";
import { addToCart, landing, otherPage, pageView, productPage, search } from "./clickstream.js";
import type { ContextJson } from "./context.js";
import type { Profile } from "./customers.js";
import { unreachable } from "./exhaustive.js";
import { createOrder, newOrder } from "./orders.js";
import { PLATFORM_CUM, PLATFORM_SOURCES, PLATFORM_WEB, TITLE_SUFFIX } from "./reference/clickstream.js";
import { COUNTRIES, COUNTRY_CUM } from "./reference/countries.js";
import { SEC } from "./time.js";

/** A new session (warm: one already under way when the stream starts) and its first event. */
export function startSession(w: World, warm: boolean): void {
  const r = w.r;
  const platform = r.weighted(PLATFORM_CUM);
  const registered = r.chance(warm ? 0.5 : 0.45);
  let profile: Profile | undefined;
  let country: number;
  if (registered) {
    profile = w.customers.registered();
    country = profile.country;
  } else {
    country = r.weighted(COUNTRY_CUM);
  }
  const bounce = !warm && r.chance(0.3);
  const id = r.uuid();
  const anon = r.uuid();
  const s = openSession(w, id, anon, profile, platform, country, w.contexts.draw(r, platform, country));
  s.steps = warm ? r.int(2, 8) : 0;
  s.lastTime = w.clock;
  s.maxSteps = bounce ? 1 : s.steps + 2 + Math.min(60, Math.floor(r.exp(7)));
  if (warm) {
    // entered mid-session: already browsing (its earlier events predate the stream)
    s.userId = profile?.userId;
    s.lastProduct = popularProduct(r);
    s.lastRef = w.catalog.products[s.lastProduct]!.path;
    browse(w, s, w.clock);
  } else if (profile !== undefined && r.chance(0.3)) {
    login(w, s, w.clock, r.chance(0.92));
  } else {
    s.userId = profile?.userId;
    landing(w, s, w.clock);
  }
  continueSession(w, s);
}

/** The session's next step, due now. */
export function sessionStep(w: World, s: Session): void {
  const r = w.r;
  const t = sessionTime(w, s);
  switch (s.phase) {
    case "login_retry": {
      const ok = r.chance(0.8);
      s.phase = "browse";
      login(w, s, t, ok);
      break;
    }
    case "checkout_login":
      s.phase = "place_order";
      checkoutLogin(w, s, t);
      break;
    case "place_order":
      s.phase = "confirmation_page";
      placeOrder(w, s);
      break;
    case "confirmation_page":
      pageView(w, s, t, "/checkout/confirmation", "Thank you for your order", undefined);
      endSession(w, s);
      return;
    case "browse":
      browse(w, s, t);
      break;
    default:
      return unreachable(s.phase, "session phase");
  }
  continueSession(w, s);
}

/** One browsing click; the odds depend on the cart, the last product seen and whether signed in. */
function browse(w: World, s: Session, t: number): void {
  const r = w.r;
  const hasCart = s.cartSkus.length > 0;
  const x = r.float() * 100;
  let acc = hasCart ? 4 + Math.min(3, s.cartSkus.length) : 0;
  if (x < acc) return checkout(w, s, t);
  if (x < (acc += s.lastProduct >= 0 ? 13 : 0)) return addToCart(w, s, t);
  if (x < (acc += 17)) return search(w, s, t);
  if (x < (acc += s.userId === undefined && !s.triedLogin ? 2 : 0)) {
    if (s.profile === undefined) s.profile = w.customers.registered();
    return login(w, s, t, r.chance(0.92));
  }
  if (x < (acc += s.userId !== undefined ? 1 : 0)) return profileUpdate(w, s, t);
  if (x < (acc += 12)) return otherPage(w, s, t);
  return productPage(w, s, t, popularProduct(r));
}

/** The checkout page; 30 % abandon there, the others sign in first or go straight to the order. */
function checkout(w: World, s: Session, t: number): void {
  const r = w.r;
  pageView(w, s, t, "/checkout", "Checkout" + TITLE_SUFFIX, undefined);
  if (r.chance(0.3)) {
    s.phase = "browse"; // abandoned at checkout; the session ends
    s.maxSteps = s.steps;
    return;
  }
  if (s.userId === undefined && r.chance(0.5)) s.phase = "checkout_login";
  else s.phase = "place_order";
}

function placeOrder(w: World, s: Session): void {
  const customer = s.profile ?? w.customers.guest(s.country);
  const o = newOrder(w, s.userId, s.cur, s.country, s.cartSkus, s.cartQtys, s.cartPrices);
  createOrder(w, o, s.cartId, customer, s.id);
  s.cartId = undefined;
  s.cartSkus.length = s.cartQtys.length = s.cartPrices.length = 0; // the order copied them
  if (w.r.chance(0.3)) {
    s.phase = "browse"; // no confirmation page view: the session ends here
    s.maxSteps = s.steps + 1;
  }
}

/** event time of a session event: mobile apps sometimes deliver late (buffered offline) */
function sessionTime(w: World, s: Session): number {
  let t = w.clock;
  if (s.platform !== PLATFORM_WEB && w.r.chance(0.03)) t = Math.max(s.lastTime, t - 500 - w.r.float() * 90 * SEC);
  if (t < s.lastTime) t = s.lastTime;
  s.lastTime = t;
  return t;
}

/** Schedules the next step after a think time, or ends a session that has browsed enough. */
function continueSession(w: World, s: Session): void {
  s.steps++;
  if (s.phase === "browse" && s.steps >= s.maxSteps) return endSession(w, s);
  const think = (1500 + Math.min(120 * SEC, w.r.exp(9 * SEC))) * w.thinkScale;
  w.agenda.push(w.clock + think, (s.nextClick ??= { kind: "next_click", session: s }));
}

function endSession(w: World, s: Session): void {
  s.profile = undefined;
  s.lastRef = undefined;
  if (w.sessionPool.length < 4096) w.sessionPool.push(s);
}

/** A recycled session object (or a new one), reset for a new session. */
function openSession(w: World, id: string, anon: string, profile: Profile | undefined, platform: number, country: number, ctx: ContextJson): Session {
  let s = w.sessionPool.pop();
  if (s === undefined) {
    s = {
      id,
      anon,
      profile,
      userId: undefined,
      platform,
      source: "",
      ctxIp: ctx.ip,
      ctxRest: ctx.rest,
      tail: "",
      tailUser: null,
      country,
      cur: 0,
      cartId: undefined,
      cartSkus: [],
      cartQtys: [],
      cartPrices: [],
      steps: 0,
      maxSteps: 0,
      lastRef: undefined,
      lastProduct: -1,
      lastTime: 0,
      phase: "browse",
      triedLogin: false,
      nextClick: undefined,
    };
  } else {
    s.id = id;
    s.anon = anon;
    s.profile = profile;
    s.userId = undefined;
    s.platform = platform;
    s.ctxIp = ctx.ip;
    s.ctxRest = ctx.rest;
    s.tail = "";
    s.tailUser = null;
    s.country = country;
    s.cartId = undefined;
    s.cartSkus.length = s.cartQtys.length = s.cartPrices.length = 0;
    s.lastRef = undefined;
    s.lastProduct = -1;
    s.phase = "browse";
    s.triedLogin = false;
  }
  s.source = PLATFORM_SOURCES[platform]!;
  s.cur = COUNTRIES[country]!.cur;
  return s;
}
