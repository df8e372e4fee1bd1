/**
 * Retention on the DuckDB store: what rows are older than the cutoffs
 * (a plan, read-only SQL, so a dry run can ask a running instance), and
 * deleting exactly those in one transaction.
 *
 * Besides the tables of the policy (schemas/retention.ts, gold/retention.ts)
 * it drops exactly-once bookkeeping that can no longer matter: the dedupe
 * claims (ops.seen_events) and manifests (ops.batches) of batches committed
 * before the Bronze cutoff whose Bronze files all lie before it too. Such a
 * batch's events are in no layer any more (Bronze is the longest kept) and
 * cannot come back by redelivery (Pub/Sub keeps a message 7 days); a
 * producer re-sending one creates an event older than every cutoff, which
 * the next run deletes again. Claims of events still in Bronze stay, so a
 * Bronze replay into the same data dir still finds them all duplicates. The
 * newest manifest always stays: it carries the batch sequence.
 */
import { type Cutoffs, type RowRetention, expiredPredicate } from "../../schemas/retention.js";

export interface RowsPlan {
  /** schema.table */
  target: string;
  column: string;
  rows: number;
  /** Oldest and newest value of the column among the rows that go (text), null when none. */
  oldest: string | null;
  newest: string | null;
}

export type QueryFn = (sql: string) => Promise<Record<string, unknown>[]>;

const BATCHES_GONE = (c: Cutoffs) => `SELECT batch_id FROM ops.batches
  WHERE bronze_state = 'done' AND committed_at < TIMESTAMP '${c.bronze} 00:00:00'
    AND batch_id < (SELECT max(batch_id) FROM ops.batches)
    AND coalesce(list_max(list_transform(CAST(bronze_files AS VARCHAR[]), f -> regexp_extract(f, 'dt=(\\d{4}-\\d{2}-\\d{2})', 1))), '') < '${c.bronze}'`;

/** The bookkeeping targets: [target, column, FROM ... WHERE ...]. */
function bookkeeping(c: Cutoffs): [string, string, string][] {
  return [
    ["ops.seen_events", "batch_id", `ops.seen_events WHERE batch_id IN (${BATCHES_GONE(c)})`],
    ["ops.batches", "committed_at", `ops.batches WHERE batch_id IN (${BATCHES_GONE(c)})`],
  ];
}

async function existingTables(query: QueryFn): Promise<Set<string>> {
  const rows = await query(`SELECT schema_name || '.' || table_name AS t FROM duckdb_tables()`);
  return new Set(rows.map((r) => r.t as string));
}

function source(targets: readonly RowRetention[], c: Cutoffs, have: Set<string>): [string, string, string][] {
  return [
    ...targets.filter((t) => have.has(t.table)).map((t): [string, string, string] => [t.table, t.column, `${t.table} WHERE ${expiredPredicate(t, c)}`]),
    ...bookkeeping(c),
  ];
}

/** What would go, per table (read-only statements only). */
export async function planRows(query: QueryFn, targets: readonly RowRetention[], c: Cutoffs): Promise<RowsPlan[]> {
  const have = await existingTables(query);
  const out: RowsPlan[] = [];
  for (const [target, column, from] of source(targets, c, have)) {
    const r = (await query(`SELECT count(*) AS n, CAST(min(${column}) AS VARCHAR) AS lo, CAST(max(${column}) AS VARCHAR) AS hi FROM ${from}`))[0]!;
    out.push({ target, column, rows: Number(r.n), oldest: (r.lo as string | null) ?? null, newest: (r.hi as string | null) ?? null });
  }
  return out;
}

export interface RowDeleter {
  query: QueryFn;
  /** Runs a statement, returns the rows it changed. */
  change(sql: string): Promise<number>;
}

/**
 * Deletes what `planRows` lists, in one transaction: the plan is taken
 * inside it, so the counts returned are the rows deleted. The claims go
 * before the manifests they are found by.
 */
export async function deleteRows(db: RowDeleter, targets: readonly RowRetention[], c: Cutoffs): Promise<RowsPlan[]> {
  await db.change("BEGIN TRANSACTION");
  try {
    const plan = await planRows(db.query, targets, c);
    const have = await existingTables(db.query);
    const sources = source(targets, c, have);
    for (let i = 0; i < sources.length; i++) {
      const deleted = await db.change(`DELETE FROM ${sources[i]![2]}`);
      if (deleted !== plan[i]!.rows) throw new Error(`retention: ${plan[i]!.target} deleted ${deleted} rows, planned ${plan[i]!.rows}; rolled back`);
    }
    await db.change("COMMIT");
    return plan;
  } catch (err) {
    await db.change("ROLLBACK").catch(() => 0);
    throw err;
  }
}
