/**
 * How fresh each Silver and Gold table is, kept in memory and moved by every
 * committed batch, so a scrape never scans a table
 * (`ecom_table_freshness_seconds` = now - the time this returns).
 *
 *  - A Silver event table is as fresh as its newest `ingested_at`: the
 *    ingested_at of the latest batch that added rows to it.
 *  - A state table (silver.orders, ...) is as fresh as the latest batch that
 *    added events of the domain that feeds it (its `updated_at`).
 *  - A Gold table has absorbed the Silver of its source domains up to its
 *    oldest window still marked for refresh (ops.gold_dirty): it is as fresh
 *    as the newest of its sources, but no fresher than the batch of its
 *    oldest pending mark. So a table whose refresh lags or fails goes stale
 *    while Silver stays fresh. (Accurate to one batch: the marked batch's own
 *    rows are counted as absorbed.)
 *
 * The starting point (the store's newest ingested_at per table, the pending
 * marks) is read once by whoever builds the tracker; no IO here.
 */
import type { Domain } from "../../schemas/registry.js";
import type { BatchResult } from "../commit.js";

export interface FreshnessTables {
  /** Silver event table per domain (`silver.order_events`). */
  events: Readonly<Record<Domain, string>>;
  /** State tables and the domain that feeds each (`silver.orders` <- order). */
  state: Readonly<Record<string, Domain>>;
  /** Gold tables and the domains whose new rows change them. */
  gold: Readonly<Record<string, readonly Domain[]>>;
}

export class FreshnessTracker {
  /** Newest committed data per Silver event table and state table, epoch ms. */
  private readonly silver = new Map<string, number>();
  /** Per Gold table, the commit time of the batch of its oldest pending refresh mark (absent: none pending). */
  private pending = new Map<string, number>();

  constructor(
    readonly tables: FreshnessTables,
    initial: { silver?: ReadonlyMap<string, number>; goldPending?: ReadonlyMap<string, number> } = {},
  ) {
    for (const [t, ms] of initial.silver ?? []) this.silver.set(t, ms);
    if (initial.goldPending) this.pending = new Map(initial.goldPending);
  }

  /** A committed batch: the tables it added rows to are fresh as of its ingested_at. */
  observeBatch(r: Pick<BatchResult, "perDomain" | "ingestedAtMs">): void {
    for (const [domain, n] of Object.entries(r.perDomain) as [Domain, number | undefined][]) {
      if (!n) continue;
      this.bump(this.tables.events[domain], r.ingestedAtMs);
      for (const [table, from] of Object.entries(this.tables.state)) if (from === domain) this.bump(table, r.ingestedAtMs);
    }
  }

  /** The Gold tables with windows still marked, and the commit time of each one's oldest marked batch. */
  goldPending(pending: ReadonlyMap<string, number>): void {
    this.pending = new Map(pending);
  }

  /** Per table, the newest committed data it reflects, epoch ms; tables with no data yet are absent. */
  asOf(): Map<string, number> {
    const out = new Map(this.silver);
    for (const [table, domains] of Object.entries(this.tables.gold)) {
      let newest = -Infinity;
      for (const d of domains) newest = Math.max(newest, this.silver.get(this.tables.events[d]) ?? -Infinity);
      if (newest === -Infinity) continue;
      const marked = this.pending.get(table);
      out.set(table, marked === undefined ? newest : Math.min(newest, marked));
    }
    return out;
  }

  private bump(table: string, ms: number): void {
    if (ms > (this.silver.get(table) ?? -Infinity)) this.silver.set(table, ms);
  }
}
