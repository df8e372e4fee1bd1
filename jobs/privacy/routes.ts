/**
 * The privacy queue over a running instance's HTTP port: `ecom privacy
 * requests list` asks it while `ecom start` holds the data dir. The query
 * port refuses ops.privacy_requests (it holds sealed identifiers); this
 * route answers the listing only, with no identifier, destination or free
 * text. The runner passes these routes to `serveInstance`, beside Gold's.
 */
import type { Engine } from "../../pipelines/local/engine.js";
import type { Routes } from "../../pipelines/local/instance.js";
import { requestRows } from "./requests.js";

const STATUSES = new Set(["pending", "done", "failed"]);

export function privacyRoutes(engine: Engine): Routes {
  return {
    "POST /privacy/requests": async (body) => {
      const filter = (body.trim() ? JSON.parse(body) : {}) as { status?: unknown };
      if (filter.status !== undefined && !STATUSES.has(String(filter.status))) {
        return { status: 400, body: `status must be one of: ${[...STATUSES].join(", ")}\n` };
      }
      const reader = await engine.store.reader();
      try {
        // A connection of its own: never inside the batch transaction of the store's main one.
        const rows = await requestRows(reader, { status: filter.status as "pending" | undefined }, Date.now());
        return { type: "application/json", body: JSON.stringify(rows) };
      } finally {
        reader.close();
      }
    },
  };
}
