/** Small hand-made events for unit tests of single steps (integration tests use the seeded generator). */
import type { RawMessage } from "../../transforms/types.js";

export function orderCreated(over: Record<string, unknown> = {}, payloadOver: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: "0b8e5a7e-4c1f-4d2a-9a3b-1c2d3e4f5a6b",
    event_type: "order_created",
    schema_version: 1,
    event_time: "2026-11-25T10:00:00Z",
    source: "order-service",
    user_id: "u-1",
    payload: {
      order_id: "o-1",
      cart_id: "c-1",
      items: [{ product_id: "p-1", sku: "sku-1", quantity: 2, unit_price_minor: 500 }],
      subtotal_minor: 1000,
      tax_minor: 100,
      shipping_minor: 0,
      total_minor: 1100,
      currency: "USD",
      customer: {
        email: "Ann@Example.com",
        phone: "+1 555 0100",
        name: "Ann Smith",
        shipping_address: { line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" },
      },
      ...payloadOver,
    },
    ...over,
  };
}

export function message(value: unknown): RawMessage {
  const data = typeof value === "string" ? value : JSON.stringify(value);
  return { data: Buffer.from(data), origin: "test", receivedAtMs: 0 };
}
