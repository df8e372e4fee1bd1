/** Customers: the profiles in the stream match syntheticCustomer, which CRM exports are built from. */
import { describe, expect, it } from "vitest";
import { syntheticCustomer } from "../../../../sources/dev/generator/index.js";
import type { Obj } from "./contract.js";
import { opts, parsedValid, take } from "./traffic.js";

describe("customers", () => {
  const events = parsedValid(take(opts({ ratePerSecond: 50 }), 30_000));

  it("order_created customers of registered users match syntheticCustomer until they update their profile", () => {
    const updated = new Set<string>();
    let checked = 0;
    for (const e of events) {
      if (e.event_type === "profile_update" && e.user_id) updated.add(e.user_id);
      if (e.event_type === "order_created" && e.user_id && !updated.has(e.user_id)) {
        const idx = Number(e.user_id.slice(4)) - 100_000;
        expect((e.payload.customer as Obj).email).toBe(syntheticCustomer(42, idx).email);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
