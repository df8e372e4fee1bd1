/**
 * How orders are paid and unpaid: payment methods and gateways, card brands,
 * the failure codes and messages each method can return, why orders are
 * cancelled and refunded, and the well-known test card numbers the generator
 * plants in free text so the card-number scrubber has something to find.
 */
import { assertJsonSafe } from "./json-safe.js";

export type PaymentMethod = "card" | "wallet" | "bank_transfer" | "cod";
export type Gateway = "stripe" | "adyen" | "paypal" | "braintree" | "offline";

/** Drawn uniformly: visa 3 in 6, mastercard 2 in 6, amex 1 in 6. */
export const CARD_BRANDS = ["visa", "visa", "visa", "mastercard", "mastercard", "amex"];

/** [failure_code, failure_message]; an entry listed twice is twice as likely. */
export type Failure = readonly [string, string];
export const CARD_FAILURES: readonly Failure[] = [
  ["card_declined", "Your card was declined."],
  ["card_declined", "Your card was declined."],
  ["insufficient_funds", "Your card has insufficient funds."],
  ["insufficient_funds", "Your card has insufficient funds."],
  ["expired_card", "Your card has expired."],
  ["incorrect_cvc", "Your card's security code is incorrect."],
  ["do_not_honor", "The issuer declined the transaction (do not honor)."],
  ["processing_error", "An error occurred while processing your card. Try again in a little bit."],
  ["authentication_required", "3-D Secure authentication failed."],
];
export const WALLET_FAILURES: readonly Failure[] = [
  ["payer_action_required", "The payer did not approve the payment."],
  ["instrument_declined", "The funding instrument presented was declined."],
];
export const BANK_FAILURES: readonly Failure[] = [["transfer_expired", "The bank transfer was not received in time."]];

export const CANCEL_REASONS = ["customer_request", "customer_request", "customer_request", "out_of_stock", "fraud_suspected", "address_unverifiable"];
export const REFUND_REASONS = ["return", "return", "damaged_item", "not_as_described", "late_delivery"];

/** Luhn-valid well-known test card numbers, injected rarely into free text. */
export const TEST_PANS = [
  "4111111111111111",
  "4242424242424242",
  "5555555555554444",
  "5105105105105100",
  "378282246310005",
  "6011111111111117",
  "4000056655665556",
];

assertJsonSafe(TEST_PANS);
