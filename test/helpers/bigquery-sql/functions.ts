/**
 * GoogleSQL function calls -> DuckDB. Each function the fake knows has a rule
 * that keeps GoogleSQL's meaning (NULL handling, units, time zone UTC, format
 * elements); a function, an argument form (DISTINCT, IGNORE NULLS, ORDER BY,
 * LIMIT, OVER, a time zone) or a date part without a rule is refused by name.
 *
 * Differences it bridges, among others: COUNTIF counts 0 over no rows (DuckDB's
 * count_if gives NULL over only NULLs), LEAST/GREATEST return NULL when any
 * argument is NULL, CONCAT is NULL when any argument is, REGEXP_REPLACE
 * replaces every match, TIMESTAMP_DIFF counts whole units (DuckDB date_sub,
 * not date_diff's boundaries), FORMAT_* elements %F and %T are expanded.
 */
import { type Emitter, type N, kw } from "./emitter.js";
import { sqlString } from "./literals.js";

interface Call {
  name: string;
  node: N;
  args: N[];
  distinct: boolean;
  nulls?: string;
  orderBy?: N;
  limit?: N;
  over?: N;
}

type Rule = (c: Call, e: Emitter) => string;

const TS_PARTS = ["MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"];

function arity(c: Call, e: Emitter, min: number, max = min): void {
  if (c.args.length < min || c.args.length > max) e.unsupported(`${c.name} with ${c.args.length} arguments`);
}

/** Refuses the argument forms a rule does not handle. */
function only(
  c: Call,
  e: Emitter,
  allowed: { distinct?: boolean; nulls?: boolean; orderBy?: boolean; limit?: boolean; over?: "never" | "allowed" | "required" },
): void {
  if (c.distinct && !allowed.distinct) e.unsupported(`${c.name}(DISTINCT ...)`);
  if (c.nulls && !allowed.nulls) e.unsupported(`${c.name}(... ${c.nulls})`);
  if (c.orderBy && !allowed.orderBy) e.unsupported(`${c.name}(... ORDER BY ...)`);
  if (c.limit && !allowed.limit) e.unsupported(`${c.name}(... LIMIT ...)`);
  const over = allowed.over ?? "never";
  if (c.over && over === "never") e.unsupported(`${c.name}(...) OVER (...)`);
  if (!c.over && over === "required") e.unsupported(`${c.name} without OVER`);
}

const over = (c: Call, e: Emitter) => (c.over ? ` ${e.emit(c.over)}` : "");
const arg = (c: Call, e: Emitter, i: number) => e.emit(c.args[i]!);
const args = (c: Call, e: Emitter) => c.args.map((a) => e.emit(a)).join(", ");

/** A date part written as a bare name (HOUR, DAY, ...). */
function part(c: Call, e: Emitter, i: number, allowed: readonly string[]): string {
  const a = c.args[i];
  const name = a?.type === "identifier" ? String(a.name).toUpperCase() : "";
  if (!allowed.includes(name)) e.unsupported(`${c.name} with date part ${name || (a ? e.text(a) : "none")}`);
  return name;
}

/** A time zone argument: only UTC keeps the meaning the fake's UTC session gives. */
function utcOnly(c: Call, e: Emitter, i: number): void {
  const a = c.args[i];
  if (a && !(a.type === "string_literal" && /^(utc|etc\/utc|\+00(:00)?|z)$/i.test(String(a.value)))) e.unsupported(`${c.name} with a time zone other than UTC`);
}

/** A FORMAT_/PARSE_ format string: a literal, its elements mapped to DuckDB strftime/strptime ones. */
function format(c: Call, e: Emitter, i: number, date: boolean): string {
  const a = c.args[i];
  if (a?.type !== "string_literal") return e.unsupported(`${c.name} with a format that is not a string literal`);
  const map: Record<string, string> = { F: "%Y-%m-%d", Y: "%Y", m: "%m", d: "%d", j: "%j", y: "%y", b: "%b", B: "%B", a: "%a", A: "%A", "%": "%%" };
  if (!date) Object.assign(map, { T: "%H:%M:%S", H: "%H", M: "%M", S: "%S", I: "%I", p: "%p", E6S: "%S.%f", E3S: "%S.%g", Z: "UTC", z: "+0000" });
  return sqlString(
    String(a.value).replace(/%(E\dS|.)/g, (m, el: string) => {
      const to = map[el];
      if (to === undefined) e.unsupported(`format element ${m} in ${c.name}`);
      return to;
    }),
  );
}

function nullIfAnyNull(c: Call, e: Emitter, fn: string): string {
  const xs = c.args.map((a) => e.emit(a));
  return `CASE WHEN ${xs.map((x) => `${x} IS NULL`).join(" OR ")} THEN NULL ELSE ${fn}(${xs.join(", ")}) END`;
}

const same =
  (duck: string, allowed: Parameters<typeof only>[2] = {}, min = 1, max = min): Rule =>
  (c, e) => {
    only(c, e, allowed);
    arity(c, e, min, max);
    const ordered = c.orderBy ? ` ${e.orderBy(c.orderBy)}` : "";
    return `${duck}(${c.distinct ? "DISTINCT " : ""}${args(c, e)}${ordered})${over(c, e)}`;
  };

const aggregate = (duck: string) => same(duck, { distinct: true, over: "allowed" });
const analytic = (duck: string, min = 0, max = min) => same(duck, { over: "required" }, min, max);

const RULES: Record<string, Rule> = {
  // Aggregates and analytic functions with the same meaning.
  COUNT: (c, e) => {
    only(c, e, { distinct: true, over: "allowed" });
    arity(c, e, 1);
    return `count(${c.distinct ? "DISTINCT " : ""}${arg(c, e, 0)})${over(c, e)}`;
  },
  SUM: aggregate("sum"),
  AVG: aggregate("avg"),
  MIN: aggregate("min"),
  MAX: aggregate("max"),
  ANY_VALUE: same("any_value", { over: "allowed" }),
  MAX_BY: same("arg_max", { over: "allowed" }, 2),
  MIN_BY: same("arg_min", { over: "allowed" }, 2),
  ROW_NUMBER: analytic("row_number"),
  RANK: analytic("rank"),
  DENSE_RANK: analytic("dense_rank"),
  PERCENT_RANK: analytic("percent_rank"),
  CUME_DIST: analytic("cume_dist"),
  NTILE: analytic("ntile", 1),
  LAG: analytic("lag", 1, 3),
  LEAD: analytic("lead", 1, 3),
  FIRST_VALUE: analytic("first_value", 1),
  LAST_VALUE: analytic("last_value", 1),
  COUNTIF: (c, e) => {
    only(c, e, { over: "allowed" });
    arity(c, e, 1);
    return `count(*) FILTER (WHERE ${arg(c, e, 0)})${over(c, e)}`;
  },
  LOGICAL_OR: same("bool_or", { over: "allowed" }),
  LOGICAL_AND: same("bool_and", { over: "allowed" }),
  ARRAY_AGG: (c, e) => {
    only(c, e, { distinct: true, nulls: true, orderBy: true, limit: true, over: "allowed" });
    arity(c, e, 1);
    if (c.nulls === "RESPECT NULLS") c.nulls = undefined;
    const x = arg(c, e, 0);
    let agg = `array_agg(${c.distinct ? "DISTINCT " : ""}${x}${c.orderBy ? ` ${e.orderBy(c.orderBy)}` : ""})`;
    if (c.nulls === "IGNORE NULLS") agg += ` FILTER (WHERE ${x} IS NOT NULL)`;
    if (c.limit) {
      if (c.over || c.limit.offset) e.unsupported("ARRAY_AGG(... LIMIT ...) with OVER or OFFSET");
      return `list_slice(${agg}, 1, ${e.emit(c.limit.count)})`;
    }
    return agg + over(c, e);
  },
  STRING_AGG: same("string_agg", { distinct: true, orderBy: true, over: "allowed" }, 1, 2),
  PERCENTILE_CONT: (c, e) => {
    only(c, e, { over: "required" });
    arity(c, e, 2);
    const w = c.over!.window as N;
    if (w.type !== "paren_expr" || w.expr.orderBy || w.expr.frame || w.expr.baseWindowName)
      e.unsupported("PERCENTILE_CONT over a window with ORDER BY or a frame");
    return `quantile_cont(${arg(c, e, 0)}, CAST(${arg(c, e, 1)} AS DOUBLE))${over(c, e)}`;
  },
  ARRAY: (c, e) => {
    only(c, e, {});
    if (c.args.length !== 1 || !["select_stmt", "compound_select_stmt"].includes(c.args[0]!.type))
      e.unsupported("ARRAY(...) of something other than a subquery");
    return `ARRAY(${e.query(c.args[0]!)})`;
  },
  ARRAY_LENGTH: same("len"),
  // NULL when any array is NULL; DuckDB's list_concat would skip it.
  ARRAY_CONCAT: (c, e) => (only(c, e, {}), arity(c, e, 1, 1000), nullIfAnyNull(c, e, "list_concat")),
  // Conditionals.
  IF: (c, e) => {
    only(c, e, {});
    arity(c, e, 3);
    return `CASE WHEN ${arg(c, e, 0)} THEN ${arg(c, e, 1)} ELSE ${arg(c, e, 2)} END`;
  },
  IFNULL: same("coalesce", {}, 2),
  COALESCE: same("coalesce", {}, 1, 1000),
  NULLIF: same("nullif", {}, 2),
  GREATEST: (c, e) => (only(c, e, {}), arity(c, e, 1, 1000), nullIfAnyNull(c, e, "greatest")),
  LEAST: (c, e) => (only(c, e, {}), arity(c, e, 1, 1000), nullIfAnyNull(c, e, "least")),
  // Numbers and strings.
  ABS: same("abs"),
  SAFE_DIVIDE: (c, e) => {
    only(c, e, {});
    arity(c, e, 2);
    return `CASE WHEN ${arg(c, e, 1)} = 0 THEN NULL ELSE ${arg(c, e, 0)} / ${arg(c, e, 1)} END`;
  },
  CONCAT: (c, e) => (only(c, e, {}), arity(c, e, 1, 1000), `(${c.args.map((a) => e.emit(a)).join(" || ")})`),
  LOWER: same("lower"),
  UPPER: same("upper"),
  LENGTH: same("length"),
  STARTS_WITH: same("starts_with", {}, 2),
  ENDS_WITH: same("ends_with", {}, 2),
  REPLACE: same("replace", {}, 3),
  REGEXP_CONTAINS: same("regexp_matches", {}, 2),
  // Without a capturing group both return every whole match.
  REGEXP_EXTRACT_ALL: same("regexp_extract_all", {}, 2),
  REGEXP_REPLACE: (c, e) => (only(c, e, {}), arity(c, e, 3), `regexp_replace(${args(c, e)}, 'g')`),
  TO_BASE64: same("to_base64"),
  FROM_BASE64: same("from_base64"),
  TO_HEX: (c, e) => (only(c, e, {}), arity(c, e, 1), `lower(hex(${arg(c, e, 0)}))`),
  GENERATE_UUID: (c, e) => (only(c, e, {}), arity(c, e, 0), "CAST(uuid() AS VARCHAR)"),
  // JSON.
  TO_JSON_STRING: (c, e) => (only(c, e, {}), arity(c, e, 1), `CAST(to_json(${arg(c, e, 0)}) AS VARCHAR)`),
  TO_JSON: same("to_json"),
  PARSE_JSON: same("json"),
  // Time, in UTC (the session's zone).
  CURRENT_TIMESTAMP: (c, e) => (only(c, e, {}), arity(c, e, 0), "current_timestamp"),
  CURRENT_DATE: (c, e) => (only(c, e, {}), arity(c, e, 0, 1), utcOnly(c, e, 0), "CAST(current_timestamp AS DATE)"),
  DATE: (c, e) => {
    only(c, e, {});
    arity(c, e, 1, 3);
    if (c.args.length === 3) return `make_date(${args(c, e)})`;
    utcOnly(c, e, 1);
    return `CAST(${arg(c, e, 0)} AS DATE)`;
  },
  TIMESTAMP: (c, e) => (only(c, e, {}), arity(c, e, 1, 2), utcOnly(c, e, 1), `CAST(${arg(c, e, 0)} AS TIMESTAMPTZ)`),
  TIMESTAMP_TRUNC: (c, e) => {
    only(c, e, {});
    arity(c, e, 2, 3);
    utcOnly(c, e, 2);
    const p = part(c, e, 1, [...TS_PARTS, "ISOWEEK", "MONTH", "QUARTER", "YEAR"]);
    return `date_trunc('${p === "ISOWEEK" ? "week" : p.toLowerCase()}', ${arg(c, e, 0)})`;
  },
  DATE_TRUNC: (c, e) => {
    only(c, e, {});
    arity(c, e, 2);
    const p = part(c, e, 1, ["DAY", "ISOWEEK", "MONTH", "QUARTER", "YEAR"]);
    return `CAST(date_trunc('${p === "ISOWEEK" ? "week" : p.toLowerCase()}', ${arg(c, e, 0)}) AS DATE)`;
  },
  TIMESTAMP_ADD: (c, e) => (only(c, e, {}), arity(c, e, 2), e.intervalUnit(c.args[1]!), `(${arg(c, e, 0)} + ${e.interval(c.args[1]!)})`),
  TIMESTAMP_SUB: (c, e) => (only(c, e, {}), arity(c, e, 2), e.intervalUnit(c.args[1]!), `(${arg(c, e, 0)} - ${e.interval(c.args[1]!)})`),
  DATE_ADD: (c, e) => {
    only(c, e, {});
    arity(c, e, 2);
    e.intervalUnit(c.args[1]!, ["DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]);
    return `CAST(${arg(c, e, 0)} + ${e.interval(c.args[1]!)} AS DATE)`;
  },
  DATE_SUB: (c, e) => {
    only(c, e, {});
    arity(c, e, 2);
    e.intervalUnit(c.args[1]!, ["DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]);
    return `CAST(${arg(c, e, 0)} - ${e.interval(c.args[1]!)} AS DATE)`;
  },
  TIMESTAMP_DIFF: (c, e) => {
    only(c, e, {});
    arity(c, e, 3);
    const p = part(c, e, 2, TS_PARTS);
    return `date_sub('${p.toLowerCase()}', ${arg(c, e, 1)}, ${arg(c, e, 0)})`;
  },
  DATE_DIFF: (c, e) => {
    only(c, e, {});
    arity(c, e, 3);
    const p = part(c, e, 2, ["DAY", "MONTH", "QUARTER", "YEAR"]);
    return `date_diff('${p.toLowerCase()}', ${arg(c, e, 1)}, ${arg(c, e, 0)})`;
  },
  FORMAT_TIMESTAMP: (c, e) => (only(c, e, {}), arity(c, e, 2, 3), utcOnly(c, e, 2), `strftime(${arg(c, e, 1)}, ${format(c, e, 0, false)})`),
  FORMAT_DATE: (c, e) => (only(c, e, {}), arity(c, e, 2), `strftime(${arg(c, e, 1)}, ${format(c, e, 0, true)})`),
  PARSE_TIMESTAMP: (c, e) => (only(c, e, {}), arity(c, e, 2, 3), utcOnly(c, e, 2), `CAST(strptime(${arg(c, e, 1)}, ${format(c, e, 0, false)}) AS TIMESTAMPTZ)`),
  PARSE_DATE: (c, e) => (only(c, e, {}), arity(c, e, 2), `CAST(strptime(${arg(c, e, 1)}, ${format(c, e, 0, true)}) AS DATE)`),
  UNIX_MICROS: same("epoch_us"),
  UNIX_MILLIS: (c, e) => (only(c, e, {}), arity(c, e, 1), `CAST(floor(epoch_us(${arg(c, e, 0)}) / 1000) AS BIGINT)`),
  UNIX_SECONDS: (c, e) => (only(c, e, {}), arity(c, e, 1), `CAST(floor(epoch_us(${arg(c, e, 0)}) / 1000000) AS BIGINT)`),
  UNIX_DATE: (c, e) => (only(c, e, {}), arity(c, e, 1), `date_diff('day', DATE '1970-01-01', ${arg(c, e, 0)})`),
  TIMESTAMP_MICROS: (c, e) => (only(c, e, {}), arity(c, e, 1), `make_timestamptz(CAST(${arg(c, e, 0)} AS BIGINT))`),
  TIMESTAMP_MILLIS: (c, e) => (only(c, e, {}), arity(c, e, 1), `make_timestamptz(CAST(${arg(c, e, 0)} AS BIGINT) * 1000)`),
  TIMESTAMP_SECONDS: (c, e) => (only(c, e, {}), arity(c, e, 1), `make_timestamptz(CAST(${arg(c, e, 0)} AS BIGINT) * 1000000)`),
};

export function translateCall(n: N, e: Emitter): string {
  if (n.name.type !== "identifier") return e.unsupported(`function ${e.text(n.name)}`);
  const name = String(n.name.name).toUpperCase();
  const rule = RULES[name];
  if (!rule) return e.unsupported(`function ${name}`);
  const fa = n.args?.expr as N | undefined;
  if (fa && fa.type !== "func_args") return e.unsupported(`${name} arguments ${e.text(fa)}`);
  if (n.filter || n.withinGroup || fa?.having) e.unsupported(`${name} with ${n.filter ? "FILTER" : n.withinGroup ? "WITHIN GROUP" : "HAVING MAX/MIN"}`);
  const call: Call = {
    name,
    node: n,
    args: ((fa?.args?.items ?? []) as N[]).filter((a) => a.type !== "empty"),
    distinct: Boolean(fa?.distinctKw),
    nulls: fa?.nullHandlingKw ? kw(fa.nullHandlingKw) : undefined,
    orderBy: fa?.orderBy,
    limit: fa?.limit,
    over: n.over,
  };
  if (call.args.some((a) => a.type === "named_arg")) e.unsupported(`named arguments in ${name}`);
  return rule(call, e);
}
