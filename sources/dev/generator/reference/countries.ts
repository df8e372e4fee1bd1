/**
 * Where customers live and what follows from it: currency, locale, VAT/sales
 * tax, the postal-code and street conventions, the carriers that deliver
 * there and the warehouses that ship there; plus the shop's currencies and
 * their shipping fees. Countries, currencies and warehouses are referred to by
 * index everywhere else (stock and price tables are indexed by them).
 */
import { cumulative } from "../random.js";
import { assertJsonSafe } from "./json-safe.js";

/** Index 0, 1, 2: prices are stored per SKU in this order. */
export const CURRENCIES = ["USD", "EUR", "GBP"] as const;
/** How often a price change is in each currency. */
export const CURRENCY_CUM = cumulative([50, 35, 15]);
/** Exchange rate from USD, for the catalog's base prices. */
export const FX = [1, 0.92, 0.79];
export const FREE_SHIPPING_FROM = [5000, 4900, 4000];
export const SHIPPING_FEE = [599, 495, 399];
export const EXPRESS_FEE = [1499, 1295, 999];

export const WAREHOUSES = ["wh-us-east-1", "wh-us-west-2", "wh-uk-1", "wh-eu-central-1"];

export type Carrier = "UPS" | "FedEx" | "DHL" | "Royal Mail" | "Colissimo" | "PostNL";
/** UPS shipper numbers, the fixed part of a 1Z tracking number. */
export const UPS_SHIPPERS = ["9F27WA", "X74E1R", "V2W3RY", "A8K40E", "H6Y21W"];

export interface CountryInfo {
  code: string;
  /** index into CURRENCIES */
  cur: number;
  locale: string;
  tax: number;
  /** relative share of customers */
  weight: number;
  /** "12 Main Street" rather than "Hauptstraße 12" */
  numberFirst: boolean;
  /** city and the first characters of its postal codes */
  cities: readonly (readonly [string, string])[];
  streets: readonly string[];
  /** drawn uniformly, so a carrier listed twice is twice as likely */
  carriers: readonly Carrier[];
  /** indexes into WAREHOUSES */
  warehouses: readonly number[];
}

export const COUNTRIES: readonly CountryInfo[] = [
  {
    code: "US", cur: 0, locale: "en-US", tax: 0.0725, weight: 45, numberFirst: true,
    cities: [["San Francisco", "941"], ["New York", "100"], ["Austin", "787"], ["Chicago", "606"], ["Seattle", "981"], ["Denver", "802"], ["Boston", "021"], ["Atlanta", "303"]],
    streets: ["Main Street", "Oak Avenue", "Market Street", "Maple Drive", "Sunset Boulevard", "Elm Street", "Cedar Lane"],
    carriers: ["UPS", "UPS", "FedEx", "DHL"], warehouses: [0, 1],
  },
  {
    code: "GB", cur: 2, locale: "en-GB", tax: 0.2, weight: 20, numberFirst: true,
    cities: [["London", "SW1A"], ["Manchester", "M1"], ["Birmingham", "B1"], ["Leeds", "LS1"], ["Glasgow", "G2"], ["Bristol", "BS1"], ["Edinburgh", "EH1"]],
    streets: ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Queen's Road"],
    carriers: ["Royal Mail", "Royal Mail", "DHL"], warehouses: [2],
  },
  {
    code: "DE", cur: 1, locale: "de-DE", tax: 0.19, weight: 12, numberFirst: false,
    cities: [["Berlin", "10"], ["München", "80"], ["Hamburg", "20"], ["Köln", "50"], ["Frankfurt am Main", "60"]],
    streets: ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Lindenallee"],
    carriers: ["DHL"], warehouses: [3],
  },
  {
    code: "FR", cur: 1, locale: "fr-FR", tax: 0.2, weight: 10, numberFirst: true,
    cities: [["Paris", "750"], ["Lyon", "690"], ["Marseille", "130"], ["Toulouse", "310"], ["Bordeaux", "330"]],
    streets: ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue du Commerce", "place Bellecour"],
    carriers: ["Colissimo", "Colissimo", "DHL"], warehouses: [3],
  },
  {
    code: "NL", cur: 1, locale: "nl-NL", tax: 0.21, weight: 5, numberFirst: false,
    cities: [["Amsterdam", "10"], ["Rotterdam", "30"], ["Utrecht", "35"], ["Den Haag", "25"]],
    streets: ["Keizersgracht", "Damrak", "Prinsengracht", "Stationsweg"],
    carriers: ["PostNL", "PostNL", "DHL"], warehouses: [3],
  },
  {
    code: "ES", cur: 1, locale: "es-ES", tax: 0.21, weight: 4, numberFirst: false,
    cities: [["Madrid", "280"], ["Barcelona", "080"], ["Valencia", "460"], ["Sevilla", "410"]],
    streets: ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida Diagonal"],
    carriers: ["DHL"], warehouses: [3],
  },
  {
    code: "IE", cur: 1, locale: "en-IE", tax: 0.23, weight: 2, numberFirst: true,
    cities: [["Dublin", "D02"], ["Cork", "T12"], ["Galway", "H91"]],
    streets: ["O'Connell Street", "Grafton Street", "Main Street", "Shop Street"],
    carriers: ["DHL"], warehouses: [3],
  },
  {
    code: "IT", cur: 1, locale: "it-IT", tax: 0.22, weight: 2, numberFirst: false,
    cities: [["Roma", "001"], ["Milano", "201"], ["Torino", "101"], ["Napoli", "801"]],
    streets: ["Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele II", "Via Dante"],
    carriers: ["DHL"], warehouses: [3],
  },
];
export const COUNTRY_CUM = cumulative(COUNTRIES.map((c) => c.weight));

assertJsonSafe(CURRENCIES, WAREHOUSES);
