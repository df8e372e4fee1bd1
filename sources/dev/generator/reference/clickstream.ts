/**
 * What a browsing session is made of: platforms and their user agents, the
 * storefront's URLs and page titles, where visitors come from (referrers,
 * campaign parameters), what they search for, and how they sign in.
 */
import { cumulative } from "../random.js";
import { assertJsonSafe } from "./json-safe.js";

/** Platforms by index: PLATFORM_SOURCES and USER_AGENTS follow this order. */
export const PLATFORM_WEB = 0;
export const PLATFORM_SOURCES = ["web", "ios", "android"];
export const PLATFORM_CUM = cumulative([55, 25, 20]);
/** Per platform. The apps' agents start "ExampleShop/<app version> ". */
export const USER_AGENTS: readonly (readonly string[])[] = [
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
  ],
  [
    "ExampleShop/5.12.3 (iPhone15,2; iOS 17.4.1; Scale/3.00)",
    "ExampleShop/5.12.3 (iPhone14,7; iOS 17.3; Scale/3.00)",
    "ExampleShop/5.12.2 (iPhone13,1; iOS 16.7.5; Scale/3.00)",
    "ExampleShop/5.11.0 (iPad13,4; iPadOS 17.4; Scale/2.00)",
  ],
  [
    "ExampleShop/5.12.1 (Linux; Android 14; Pixel 8 Build/UQ1A)",
    "ExampleShop/5.12.1 (Linux; Android 14; SM-S921B Build/UP1A)",
    "ExampleShop/5.12.0 (Linux; Android 13; SM-A546B Build/TP1A)",
    "ExampleShop/5.10.4 (Linux; Android 12; Redmi Note 11 Build/SKQ1)",
  ],
];
export const WEB_APP_VERSION = "2025.4.2";

export const WEB_BASE = "https://shop.example.com";
export const APP_BASE = "exampleshop://app";
export const TITLE_SUFFIX = " | Example Shop";
/** Drawn uniformly: Google, listed twice, refers twice as often. */
export const EXTERNAL_REFERRERS = ["https://www.google.com/", "https://www.google.com/", "https://www.bing.com/", "https://www.facebook.com/", "https://www.instagram.com/", "https://duckduckgo.com/"];
export const UTM = ["?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale", "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", "?utm_source=instagram&utm_medium=social", "?gclid=Cj0KCQjw"];
/** Several languages and a typo ("runnning shoes"), as real search logs have. */
export const SEARCH_TERMS = [
  "running shoes", "black dress", "wireless earbuds", "gift for dad", "linen shirt", "usb c cable", "yoga mat",
  "rain jacket kids", "cast iron pan", "scented candle", "chelsea boots", "hoodie", "power bank 20000",
  "sunscreen", "water bottle", "sale", "summer dress", "laufschuhe", "robe noire", "zapatillas", "regenjas",
  "bluetooth speaker", "mens chinos", "duvet cover double", "face serum vitamin c", "wooden puzzle", "sneakers white",
  "cardigan", "gym bag", "lip balm", "throw blanket", "smartwatch band", "runnning shoes", "earbuds noise cancelling",
];
export const SORTS = ["relevance", "price_asc", "price_desc", "newest"];

export const LOGIN_METHODS = ["password", "oauth", "sso"];
export const LOGIN_METHOD_CUM = cumulative([70, 25, 5]);
/** Signing in to check out: no SSO there. */
export const CHECKOUT_LOGIN_METHODS = ["password", "password", "oauth"];

assertJsonSafe(EXTERNAL_REFERRERS, UTM, SEARCH_TERMS, SORTS, [WEB_BASE, APP_BASE, TITLE_SUFFIX, WEB_APP_VERSION], PLATFORM_SOURCES);
