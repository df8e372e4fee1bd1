/**
 * What a Gold model is: one table of schema `gold`, its grain and meaning, its
 * columns, the SELECT that computes its rows for a set of refresh windows, and
 * the rules that find the windows a batch of new Silver rows touches. The same
 * definition compiles for DuckDB (run here) and BigQuery (production).
 */
import type { Domain } from "../schemas/registry.js";
import { EVENT_TABLES, qualified } from "../schemas/silver.js";
import type { GoldDialect, GoldType } from "./dialect/types.js";
import type { Grain, WindowFilter } from "./windows.js";

export interface GoldColumn {
  name: string;
  type: GoldType;
  description: string;
}

/** What a model's SELECT is compiled with. */
export interface ModelContext {
  d: GoldDialect;
  /** The windows to compute (every window for a full rebuild). */
  w: WindowFilter;
  /** SQL expression: the newest event_time seen in Silver (the clock that "not yet abandoned" is measured on). */
  newest: string;
}

/** The new Silver rows a dirty rule looks at. */
export interface FreshRows {
  /** Predicate selecting the new rows of a Silver event table (optionally qualified by an alias). */
  rows(alias?: string): string;
  /** SQL expression: newest event_time before the new rows (NULL when unknown). */
  prevNewest: string;
  /** SQL expression: newest event_time including the new rows. */
  newest: string;
}

export interface DirtyRule {
  /** Which domains' new rows can trigger the rule; `any` = every batch with new rows. */
  on: readonly Domain[] | "any";
  /** A query with one column, `window_key`: the windows (key texts) to recompute. */
  sql(d: GoldDialect, fresh: FreshRows): string;
}

export interface GoldModel {
  /** Table name in schema (dataset) `gold`. */
  name: string;
  /** One row per ... */
  grain: string;
  /** The exact meaning, as analysts read it. */
  description: string;
  columns: GoldColumn[];
  /** The refresh window: its grain and the column of this table that names it. */
  window: { grain: Grain; column: string };
  /** BigQuery layout. `partitionBy` is a DATE/TIMESTAMP column (none for small key-grained tables). */
  bigquery: { partitionBy?: { column: string; unit: "DAY" | "HOUR" }; clusterBy: string[] };
  /** For a table without a partition: the DATE/TIMESTAMP column whose age expires a row (gold/retention.ts). */
  expiresBy?: string;
  /** The rows of the windows in `ctx.w`, columns in the order of `columns`. */
  select(ctx: ModelContext): string;
  /** The windows a batch's new rows touch, including the ones it changes indirectly. */
  dirty: DirtyRule[];
}

/** Silver event tables by domain, as the models name them. */
export const SILVER = {
  clickstream: qualified(EVENT_TABLES.clickstream),
  order: qualified(EVENT_TABLES.order),
  payment: qualified(EVENT_TABLES.payment),
  inventory: qualified(EVENT_TABLES.inventory),
  customer: qualified(EVENT_TABLES.customer),
} as const satisfies Record<Domain, string>;

/** The newest event_time in Silver, over every event table. */
export function newestEventTimeSql(): string {
  const parts = Object.values(SILVER).map((t) => `SELECT MAX(event_time) AS t FROM ${t}`);
  return `(SELECT MAX(t) FROM (${parts.join(" UNION ALL ")}) AS newest)`;
}

/** Columns in table order, for INSERT lists. */
export function columnList(m: GoldModel): string {
  return m.columns.map((c) => c.name).join(", ");
}

export const col = (name: string, type: GoldType, description: string): GoldColumn => ({ name, type, description });
