/**
 * The state tables' merge rules (schemas/state.ts) compiled to SQL, for
 * DuckDB (INSERT ... ON CONFLICT DO UPDATE) and BigQuery (MERGE): one
 * statement folds a batch's new events (`source`: rows of the domain's
 * event table, each event once) into the stored rows, a second recomputes
 * the anomaly flag of the keys it touched. Both run inside the batch's
 * transaction. Only the SQL spelling differs between the dialects; the
 * rules, and so the meaning, are the declaration's.
 */
import type { Condition, StateColumnRule, StateRules } from "../schemas/state.js";
import { qualified } from "../schemas/table.js";

export type StateDialect = "duckdb" | "bigquery";

const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(", ");

function typeFilter(rule: { types?: readonly string[]; exceptTypes?: readonly string[] }): string | undefined {
  if (rule.types) return `event_type IN (${list(rule.types)})`;
  if (rule.exceptTypes) return `event_type NOT IN (${list(rule.exceptTypes)})`;
  return undefined;
}

/** An aggregate over the events that match `filter` (all when undefined). */
function agg(d: StateDialect, fn: "max" | "min" | "sum", expr: string, filter: string | undefined): string {
  if (!filter) return `${fn}(${expr})`;
  return d === "duckdb" ? `${fn}(${expr}) FILTER (WHERE ${filter})` : `${fn.toUpperCase()}(IF(${filter}, ${expr}, NULL))`;
}

function caseOfType(rules: StateRules, pick: (l: { status: string; rank: number }) => string): string {
  const arms = Object.entries(rules.lifecycle ?? {}).map(([type, l]) => `WHEN '${type}' THEN ${pick(l!)}`);
  return `CASE event_type ${arms.join(" ")} END`;
}

/** The winning event's `value`: latest event_time, then lifecycle rank, then event_id. */
function winnerOf(d: StateDialect, rules: StateRules, value: string): string {
  const order = rules.lifecycle ? ["event_time", caseOfType(rules, (l) => String(l.rank)), "event_id"] : ["event_time", "event_id"];
  if (d === "duckdb") return `arg_max(${value}, (${order.join(", ")}))`;
  // A struct so a NULL value is still an element (ARRAY_AGG refuses NULL elements).
  return `ARRAY_AGG(STRUCT(${value} AS v) ORDER BY ${order.map((o) => `${o} DESC`).join(", ")} LIMIT 1)[OFFSET(0)].v`;
}

function incomingExpr(d: StateDialect, rules: StateRules, rule: StateColumnRule): string {
  switch (rule.kind) {
    case "winner":
      return winnerOf(
        d,
        rules,
        rule.value === "status" ? caseOfType(rules, (l) => `'${l.status}'`) : rule.value === "event_id" ? "event_id" : rule.value.column,
      );
    case "latest_time":
      return "max(event_time)";
    case "first":
      return agg(d, "max", rule.column, typeFilter(rule));
    case "earliest_time":
      return agg(d, "min", "event_time", typeFilter(rule));
    case "sum":
      return `coalesce(${agg(d, "sum", rule.column, typeFilter(rule))}, 0)`;
    case "anomaly":
      return d === "duckdb" ? "NULL" : "CAST(NULL AS STRING)";
    case "merged_at":
      return d === "duckdb" ? "now()::TIMESTAMP" : "CURRENT_TIMESTAMP()";
  }
}

/** The batch's new events folded per key: one incoming row per key, in the table's column order. */
function incomingSelect(d: StateDialect, rules: StateRules, source: string): string {
  const cols = rules.table.columns.map((c) => {
    if (rules.key.includes(c.name)) return c.name;
    const rule = rules.columns[c.name];
    if (!rule) throw new Error(`state table ${qualified(rules.table)}: no merge rule for column ${c.name}`);
    return `${incomingExpr(d, rules, rule)} AS ${c.name}`;
  });
  const where = rules.types ? `\nWHERE event_type IN (${list(rules.types)})` : "";
  return `SELECT\n  ${cols.join(",\n  ")}\nFROM ${source}${where}\nGROUP BY ${rules.key.join(", ")}`;
}

function columnOf(rules: StateRules, kind: StateColumnRule["kind"], value?: string): string {
  const found = Object.entries(rules.columns).find(([, r]) => r.kind === kind && (value === undefined || (r.kind === "winner" && r.value === value)));
  if (!found) throw new Error(`state table ${qualified(rules.table)} has no ${kind} column`);
  return found[0];
}

/** True when the incoming row `n` wins over the stored row `t`. */
function newerWins(rules: StateRules, n: string, t: string): string {
  const time = columnOf(rules, "latest_time");
  const id = columnOf(rules, "winner", "event_id");
  const tie = `${n}.${id} > ${t}.${id}`;
  if (!rules.lifecycle) return `(${n}.${time} > ${t}.${time} OR (${n}.${time} = ${t}.${time} AND ${tie}))`;
  const status = columnOf(rules, "winner", "status");
  const rank = (side: string) =>
    `CASE ${side}.${status} ${Object.values(rules.lifecycle!)
      .map((l) => `WHEN '${l!.status}' THEN ${l!.rank}`)
      .join(" ")} END`;
  return `(${n}.${time} > ${t}.${time} OR (${n}.${time} = ${t}.${time} AND (${rank(n)} > ${rank(t)} OR (${rank(n)} = ${rank(t)} AND ${tie}))))`;
}

/** The merged value of a column: the stored `t` and the incoming `n`. */
function combine(d: StateDialect, rules: StateRules, name: string, n: string, t: string): string {
  const rule = rules.columns[name]!;
  const [N, T] = [`${n}.${name}`, `${t}.${name}`];
  switch (rule.kind) {
    case "winner":
      return `CASE WHEN ${newerWins(rules, n, t)} THEN ${N} ELSE ${T} END`;
    case "latest_time":
      return d === "duckdb" ? `greatest(${T}, ${N})` : `GREATEST(${T}, ${N})`;
    case "first":
      return `coalesce(${T}, ${N})`;
    case "earliest_time":
      return `CASE WHEN ${T} IS NULL THEN ${N} WHEN ${N} IS NULL THEN ${T} ELSE least(${T}, ${N}) END`;
    case "sum":
      return `${T} + ${N}`;
    case "anomaly":
      return T;
    case "merged_at":
      return N;
  }
}

/** The statement that folds the batch's new events (`source`) into the state table. */
export function mergeStateSql(d: StateDialect, rules: StateRules, source: string, target = qualified(rules.table)): string {
  const cols = rules.table.columns.map((c) => c.name).filter((c) => !rules.key.includes(c));
  if (d === "duckdb") {
    const set = cols.map((c) => `  ${c} = ${combine(d, rules, c, "EXCLUDED", "t")}`);
    return `INSERT INTO ${target} AS t\n${incomingSelect(d, rules, source)}\nON CONFLICT (${rules.key.join(", ")}) DO UPDATE SET\n${set.join(",\n")}`;
  }
  const all = rules.table.columns.map((c) => c.name);
  const on = rules.key.map((k) => `T.${k} = N.${k}`).join(" AND ");
  const set = cols.map((c) => `  ${c} = ${combine(d, rules, c, "N", "T")}`);
  return (
    `MERGE ${target} T\nUSING (\n${incomingSelect(d, rules, source)}\n) N\nON ${on}\n` +
    `WHEN MATCHED THEN UPDATE SET\n${set.join(",\n")}\n` +
    `WHEN NOT MATCHED THEN INSERT (${all.join(", ")}) VALUES (${all.map((c) => `N.${c}`).join(", ")})`
  );
}

function condition(c: Condition): string {
  return c
    .map((clause) => {
      if (clause[1] === "set") return `${clause[0]} IS NOT NULL`;
      if (clause[1] === "unset_or_<") return `(${clause[2]} IS NULL OR ${clause[0]} < ${clause[2]})`;
      return `${clause[0]} ${clause[1]} ${clause[2]}`;
    })
    .join(" AND ");
}

/** The statement that recomputes the anomaly flag of the keys the batch touched; undefined for a table without flags. */
export function flagStateSql(d: StateDialect, rules: StateRules, source: string, target = qualified(rules.table)): string | undefined {
  if (!rules.anomalies?.length) return undefined;
  const arms = rules.anomalies.map((a) => `WHEN ${condition(a.when)} THEN '${a.flag}'`).join("\n    ");
  const keys = rules.key.length === 1 ? rules.key[0] : `(${rules.key.join(", ")})`;
  const nothing = d === "duckdb" ? "NULL" : "CAST(NULL AS STRING)";
  return `UPDATE ${target} SET ${columnOf(rules, "anomaly")} = CASE\n    ${arms}\n    ELSE ${nothing} END\nWHERE ${keys} IN (SELECT DISTINCT ${rules.key.join(", ")} FROM ${source})`;
}
