/** Payment payloads, version 1 (source payment-service or gateway:<name>). */
import { z } from "zod";
import { envelope } from "../envelope.js";
import { currency, nonEmpty, nonNegativeMinor, paymentSource } from "../common.js";

const money = { amount_minor: nonNegativeMinor, currency };

export const paymentMethod = z.enum(["card", "wallet", "bank_transfer", "cod"]);

export const paymentInitiatedV1 = envelope(
  "payment_initiated",
  paymentSource,
  z.looseObject({
    payment_id: nonEmpty,
    order_id: nonEmpty,
    ...money,
    method: paymentMethod,
    gateway: nonEmpty,
    card: z
      .looseObject({
        brand: z.string().optional(),
        last4: z
          .string()
          .regex(/^\d{4}$/, "must be 4 digits")
          .optional(),
        token: z.string().optional(),
      })
      .optional(),
  }),
);

export const paymentSuccessV1 = envelope(
  "payment_success",
  paymentSource,
  z.looseObject({ payment_id: nonEmpty, order_id: nonEmpty, ...money, gateway: nonEmpty, gateway_txn_id: nonEmpty }),
);

export const paymentFailureV1 = envelope(
  "payment_failure",
  paymentSource,
  z.looseObject({
    payment_id: nonEmpty,
    order_id: nonEmpty,
    ...money,
    gateway: nonEmpty,
    failure_code: nonEmpty,
    failure_message: z.string().optional(),
  }),
);

export const paymentRefundV1 = envelope(
  "payment_refund",
  paymentSource,
  z.looseObject({
    refund_id: nonEmpty,
    payment_id: nonEmpty,
    order_id: nonEmpty,
    ...money,
    reason: z.string().optional(),
  }),
);
