/**
 * The fields each CST node type the translator handles may carry. A rule reads
 * the fields it knows; one it does not know (WITH OFFSET, a FILTER clause, a
 * modifier) would be dropped silently, so `checkFields` refuses it by name.
 */
import type { N } from "./emitter.js";
import { Unsupported } from "./types.js";

/** Expression, query and type nodes, by type. */
const NODE_FIELDS: Record<string, string[]> = {
  identifier: ["text", "name"],
  parameter: ["text"],
  string_literal: ["text", "value"],
  number_literal: ["text", "value"],
  boolean_literal: ["valueKw", "value"],
  null_literal: ["nullKw", "value"],
  blob_literal: ["text", "value"],
  date_literal: ["dateKw", "string"],
  timestamp_literal: ["timestampKw", "string"],
  datetime_literal: ["datetimeKw", "string"],
  json_literal: ["jsonKw", "string"],
  numeric_literal: ["numericKw", "string"],
  interval_literal: ["intervalKw", "value", "unit"],
  interval_unit: ["unitKw"],
  default: ["defaultKw"],
  paren_expr: ["expr"],
  list_expr: ["items"],
  binary_expr: ["operator", "left", "right"],
  prefix_op_expr: ["operator", "expr"],
  between_expr: ["left", "betweenKw", "begin", "andKw", "end"],
  case_expr: ["caseKw", "expr", "clauses", "endKw"],
  case_when: ["whenKw", "condition", "thenKw", "result"],
  case_else: ["elseKw", "result"],
  func_call: ["name", "args", "over"],
  func_args: ["distinctKw", "args", "nullHandlingKw", "orderBy", "limit"],
  cast_expr: ["castKw", "args"],
  cast_arg: ["expr", "asKw", "dataType"],
  typed_expr: ["dataType", "expr"],
  struct_expr: ["expr"],
  array_expr: ["expr"],
  member_expr: ["object", "property"],
  array_subscript: ["expr"],
  array_subscript_specifier: ["specifierKw", "args"],
  extract_expr: ["extractKw", "args"],
  extract_from: ["unit", "fromKw", "expr"],
  all_columns: [],
  select_clause: ["selectKw", "modifiers", "columns"],
  select_distinct: ["distinctKw"],
  select_all: ["allKw"],
  from_clause: ["fromKw", "expr"],
  order_by_clause: ["orderByKw", "specifications"],
  sort_specification: ["expr", "direction"],
  sort_direction_asc: ["ascKw"],
  sort_direction_desc: ["descKw"],
  over_arg: ["overKw", "window"],
  join_expr: ["left", "operator", "right", "specification"],
  join_on_specification: ["onKw", "expr"],
  join_using_specification: ["usingKw", "expr"],
  alias: ["expr", "asKw", "alias"],
  unnest_expr: ["unnestKw", "expr"],
  compound_select_stmt: ["left", "operator", "right"],
  select_stmt: ["clauses"],
  except_columns: ["expr", "exceptKw", "columns"],
  replace_columns: ["expr", "replaceKw", "columns"],
  group_by_clause: ["groupByKw", "columns"],
  common_table_expr: ["table", "columns", "asKw", "expr"],
  data_type_name: ["name"],
  parametric_data_type: ["typeKw", "params"],
  generic_type_params: ["params"],
  array_type_param: ["dataType", "constraints"],
  struct_type_param: ["name", "dataType", "constraints"],
};

/** Refuses a node carrying a field its rule does not translate. */
export function checkFields(n: N, allowed: readonly string[] | undefined = NODE_FIELDS[n.type]): void {
  if (!allowed) return;
  for (const [k, v] of Object.entries(n)) {
    if (k === "type" || k === "range" || v === undefined || v === null || (Array.isArray(v) && v.length === 0) || allowed.includes(k)) continue;
    throw new Unsupported(
      `${k
        .replace(/Kw$/, "")
        .replace(/([a-z])([A-Z])/g, "$1 $2")
        .toUpperCase()} in ${n.type.replace(/_/g, " ")}`,
    );
  }
}
