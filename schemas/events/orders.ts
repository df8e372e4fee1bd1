/** Order lifecycle payloads, version 1 (source order-service). */
import { z } from "zod";
import { envelope } from "../envelope.js";
import { country, currency, nonEmpty, nonNegativeMinor, orderSource } from "../common.js";

export const orderItem = z.looseObject({
  product_id: nonEmpty,
  sku: nonEmpty,
  quantity: z.number().int().positive(),
  unit_price_minor: nonNegativeMinor,
});

export const shippingAddress = z.looseObject({
  line1: nonEmpty,
  city: nonEmpty,
  postal_code: nonEmpty,
  country,
});

export const orderCustomer = z.looseObject({
  email: z.string().min(3),
  phone: z.string().optional(),
  name: z.string().optional(),
  shipping_address: shippingAddress.optional(),
});

export const orderCreatedV1 = envelope(
  "order_created",
  orderSource,
  z.looseObject({
    order_id: nonEmpty,
    cart_id: nonEmpty.optional(),
    items: z.array(orderItem).min(1),
    subtotal_minor: nonNegativeMinor,
    tax_minor: nonNegativeMinor,
    shipping_minor: nonNegativeMinor,
    total_minor: nonNegativeMinor,
    currency,
    customer: orderCustomer,
  }),
);

export const orderConfirmedV1 = envelope("order_confirmed", orderSource, z.looseObject({ order_id: nonEmpty }));

export const orderShippedV1 = envelope("order_shipped", orderSource, z.looseObject({ order_id: nonEmpty, carrier: nonEmpty, tracking_number: nonEmpty }));

export const orderDeliveredV1 = envelope("order_delivered", orderSource, z.looseObject({ order_id: nonEmpty }));

export const orderCancelledV1 = envelope("order_cancelled", orderSource, z.looseObject({ order_id: nonEmpty, reason: z.string() }));
