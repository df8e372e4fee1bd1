/**
 * What the shop sells: categories with their product nouns, price ranges and
 * variant axes (sizes, shoe sizes, colours). The catalog itself (400
 * products, their SKUs, prices and stock) is drawn from these per seed.
 */
import { assertJsonSafe } from "./json-safe.js";

export interface CategoryDef {
  slug: string;
  title: string;
  nouns: readonly string[];
  /** price range of its products, USD minor units */
  lo: number;
  hi: number;
  /** SKU suffixes; empty: one SKU per product */
  variants: readonly string[];
}

export const N_PRODUCTS = 400;

const SIZES = ["XS", "S", "M", "L", "XL"];
const SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44", "45"];
const COLORS = ["BLK", "WHT", "NVY", "GRN", "RED", "GRY", "BEI"];

export const CATEGORIES: readonly CategoryDef[] = [
  { slug: "womens-clothing", title: "Women's Clothing", nouns: ["Dress", "Blouse", "Cardigan", "Skirt", "Jumpsuit"], lo: 1999, hi: 14999, variants: SIZES },
  { slug: "mens-clothing", title: "Men's Clothing", nouns: ["T-Shirt", "Oxford Shirt", "Chinos", "Hoodie", "Jacket"], lo: 1499, hi: 19999, variants: SIZES },
  { slug: "shoes", title: "Shoes", nouns: ["Running Shoe", "Sneaker", "Chelsea Boot", "Loafer", "Sandal"], lo: 3999, hi: 17999, variants: SHOE_SIZES },
  {
    slug: "electronics",
    title: "Electronics",
    nouns: ["Wireless Earbuds", "USB-C Cable", "Power Bank", "Bluetooth Speaker", "Smartwatch Band"],
    lo: 999,
    hi: 29999,
    variants: COLORS,
  },
  {
    slug: "home",
    title: "Home & Kitchen",
    nouns: ["Linen Duvet Cover", "Ceramic Mug", "Scented Candle", "Throw Blanket", "Cast Iron Pan"],
    lo: 799,
    hi: 12999,
    variants: COLORS,
  },
  { slug: "beauty", title: "Beauty", nouns: ["Face Serum", "Lip Balm", "Shampoo Bar", "Sunscreen SPF 50", "Hand Cream"], lo: 499, hi: 5999, variants: [] },
  {
    slug: "sports",
    title: "Sports & Outdoors",
    nouns: ["Yoga Mat", "Water Bottle", "Resistance Bands", "Gym Bag", "Cycling Gloves"],
    lo: 999,
    hi: 8999,
    variants: COLORS,
  },
  { slug: "kids", title: "Kids & Toys", nouns: ["Plush Bear", "Wooden Puzzle", "Rain Jacket", "Building Blocks", "Backpack"], lo: 999, hi: 4999, variants: [] },
];
export const ADJECTIVES = ["Classic", "Organic", "Everyday", "Premium", "Slim Fit", "Vintage", "Eco", "Ultra", "Soft", "Essential", "Nordic", "Urban"];

assertJsonSafe(
  ADJECTIVES,
  SIZES,
  SHOE_SIZES,
  COLORS,
  CATEGORIES.map((c) => c.slug),
  CATEGORIES.map((c) => c.title),
  CATEGORIES.flatMap((c) => c.nouns),
);
