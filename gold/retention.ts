/**
 * Gold's part of the retention policy (schemas/retention.ts): every Gold
 * table expires on Silver's cutoff, by its date column (the BigQuery
 * partition column), or, for a table without one, by the column the model
 * names in `expiresBy`. A Gold rebuild of an expired range then has nothing
 * to shrink: its Silver and its Gold rows went together.
 */
import type { RowRetention } from "../schemas/retention.js";
import type { GoldModel } from "./model.js";
import { GOLD_MODELS } from "./models/index.js";

export function goldRetentionOf(m: GoldModel): RowRetention {
  const column = m.bigquery.partitionBy?.column ?? m.expiresBy;
  if (!column) throw new Error(`gold.${m.name} has neither a partition column nor expiresBy: retention cannot tell a row's age`);
  const type = m.columns.find((c) => c.name === column)?.type;
  if (type !== "DATE" && type !== "TIMESTAMP") throw new Error(`gold.${m.name}: the retention column ${column} must be a DATE or TIMESTAMP, not ${type}`);
  return { table: `gold.${m.name}`, column, type, layer: "gold", partitioned: m.bigquery.partitionBy !== undefined };
}

export function goldRetention(models: readonly GoldModel[] = GOLD_MODELS): RowRetention[] {
  return models.map(goldRetentionOf);
}
