/**
 * Incremental refresh == full rebuild == the independent figures, after an
 * input that is shuffled, duplicated, late-arriving, ingested in batches of
 * uneven sizes, with a crash between a Silver commit and its Gold refresh,
 * a replay of that batch, and batches committed while the refresh was off.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goldOf, registerGold } from "../../gold/register.js";
import { Engine } from "../../pipelines/local/engine.js";
import type { FaultPoint } from "../../pipelines/commit.js";
import type { GeneratedMessage } from "../../sources/dev/generator/index.js";
import { type Row, expectedGold, generate } from "./expected.js";
import { expectSameGold, expectSameRows, goldSnapshot, ingest, shuffled, tempDir } from "./helpers.js";

/** The input, disordered: local shuffles, 15% of the early events held back to the end, 5% extra re-sends. */
function disorder(messages: readonly GeneratedMessage[]): GeneratedMessage[] {
  const half = Math.floor(messages.length / 2);
  const late = new Set(shuffled([...messages.keys()].slice(0, half), 1).slice(0, Math.floor(messages.length * 0.15)));
  const onTime = messages.filter((_, i) => !late.has(i));
  const locallyShuffled: GeneratedMessage[] = [];
  for (let i = 0; i < onTime.length; i += 400) locallyShuffled.push(...shuffled(onTime.slice(i, i + 400), 100 + i));
  const lateOnes = shuffled(
    messages.filter((_, i) => late.has(i)),
    2,
  );
  // Payments first among the late ones: success/failure arrive before their payment_initiated.
  lateOnes.sort((a, b) => Number(b.data.includes('"payment_success"')) - Number(a.data.includes('"payment_success"')));
  const resends = shuffled(messages, 3).slice(0, Math.floor(messages.length * 0.05));
  const all = [...locallyShuffled, ...lateOnes];
  for (const [k, m] of resends.entries()) all.splice(Math.floor((k * 7919) % all.length), 0, m);
  return all;
}

const SIZES = [2_500, 1, 4_000, 700, 3_300, 5_000, 1_200, 2_000];

describe("Gold incremental refresh equals a full rebuild", () => {
  let dir: string;
  let expected: Record<string, Row[]>;
  let incremental: Record<string, Row[]>;
  let rebuilt: Record<string, Row[]>;
  let pendingAfter = -1;
  let crashed = false;
  const windowsPerRefresh: number[] = [];

  beforeAll(async () => {
    const { messages, events } = generate(20_000, 77);
    expected = expectedGold(events);
    const input = disorder(messages);
    const batches: GeneratedMessage[][] = [];
    for (let i = 0, k = 0; i < input.length; k++) {
      const n = SIZES[k % SIZES.length]!;
      batches.push(input.slice(i, i + n));
      i += n;
    }
    dir = tempDir("incremental");
    let commits = 0;
    const crashAt = 4;
    const fault = (p: FaultPoint) => {
      if (p === "after_commit" && ++commits === crashAt) throw new Error("simulated crash after the Silver commit");
    };
    let engine = await Engine.open(dir, { fault });
    await registerGold(engine);
    for (let b = 0; b < batches.length; b++) {
      // Batches 6..7 commit with the refresh off: their marks wait for the next refresh.
      goldOf(engine)!.refreshAfterCommit = !(b === 6 || b === 7);
      try {
        await ingest(engine, batches[b]!);
      } catch (err) {
        expect((err as Error).message).toMatch(/simulated crash/);
        crashed = true;
        // Process restart: the open refreshes the windows the crashed batch marked; the source redelivers the batch.
        engine.close();
        engine = await Engine.open(dir);
        await registerGold(engine);
        await ingest(engine, batches[b]!);
      }
      const last = goldOf(engine)!.lastRefresh;
      if (last) windowsPerRefresh.push(Object.values(last.windows).reduce((s, n) => s + n, 0));
    }
    pendingAfter = await goldOf(engine)!.gold.pending();
    incremental = await goldSnapshot(engine.store);
    await goldOf(engine)!.gold.rebuild();
    rebuilt = await goldSnapshot(engine.store);
    engine.close();
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("went through the crash and the replay", () => {
    expect(crashed).toBe(true);
  });

  it("leaves no window dirty", () => {
    expect(pendingAfter).toBe(0);
  });

  it("incremental Gold equals the full rebuild, table by table", () => {
    expectSameGold(incremental, rebuilt);
  });

  it("and both equal the figures computed from the events", () => {
    expectSameGold(incremental, expected);
  });

  it("refreshes recompute windows, not history: a batch's refresh touches far fewer windows than the tables hold", () => {
    const total = Object.values(rebuilt).reduce((s, rows) => s + rows.length, 0);
    expect(windowsPerRefresh.length).toBeGreaterThan(0);
    expect(Math.min(...windowsPerRefresh)).toBeLessThan(total / 4);
  });
});

/**
 * Each late batch here changes Gold windows that no event of the batch falls
 * in; only the model's cross-window dirty rules can find them. Each kind runs
 * on its own copy of the same on-time base, so no other batch can mask a
 * missing rule (dropping any of those rules from a model makes its case fail).
 */
describe("Gold cross-window dependencies: a late batch that changes other windows", () => {
  type Item = { m: GeneratedMessage; e: Record<string, any> };
  const base = tempDir("cross-base");
  const dirs: string[] = [base];
  let onTime: Item[] = [];
  const late: Record<string, Item[]> = {};

  beforeAll(async () => {
    const { messages } = generate(24_000, 4242);
    const valid: Item[] = messages.filter((m) => m.kind === "valid").map((m) => ({ m, e: JSON.parse(m.data) }));
    const t = (x: Item) => Date.parse(x.e.event_time);
    const day = (x: Item) => (x.e.event_time as string).slice(0, 10);
    const days = [...new Set(valid.map(day))].sort();
    expect(days.length).toBeGreaterThanOrEqual(2);
    const [day1, day2] = [days[0]!, days[1]!];
    const cut = Math.max(...valid.map(t)) - 10 * 60_000;
    const taken = new Set<Item>();
    const take = (pick: (x: Item) => boolean, limit = Infinity) => {
      const out = valid.filter((x) => !taken.has(x) && t(x) < cut && pick(x)).slice(0, limit);
      for (const x of out) taken.add(x);
      return out;
    };
    const groupDays = (key: (x: Item) => string | undefined) => {
      const m = new Map<string, Set<string>>();
      for (const x of valid) {
        const k = key(x);
        if (k) (m.get(k) ?? m.set(k, new Set()).get(k)!).add(day(x));
      }
      return m;
    };
    const CLICK = ["page_view", "search", "add_to_cart"];
    // A session that runs past midnight gets its day-1 events last: its first day moves.
    const sessionDays = groupDays((x) => (CLICK.includes(x.e.event_type) ? x.e.session_id : undefined));
    late.session_start = take((x) => CLICK.includes(x.e.event_type) && day(x) === day1 && sessionDays.get(x.e.session_id)!.size > 1);
    // A customer active on both days gets all their day-1 activity last: their first day moves from day 2 to day 1.
    const ACTIVITY = [...CLICK, "login", "profile_update", "order_created"];
    const userDays = groupDays((x) => (ACTIVITY.includes(x.e.event_type) ? x.e.user_id : undefined));
    const twoDayUsers = new Set(
      [...userDays]
        .filter(([, d]) => d.has(day1) && d.has(day2))
        .map(([u]) => u)
        .slice(0, 40),
    );
    late.first_activity = take((x) => ACTIVITY.includes(x.e.event_type) && twoDayUsers.has(x.e.user_id) && day(x) === day1);
    // payment_success of orders that came from a cart: the cart's session turns paid, on the session's date.
    const cartOrders = new Set(valid.filter((x) => x.e.event_type === "order_created" && x.e.payload.cart_id).map((x) => x.e.payload.order_id));
    late.payment_success = take((x) => x.e.event_type === "payment_success" && cartOrders.has(x.e.payload.order_id), 40);
    late.order_created = take((x) => x.e.event_type === "order_created" && Boolean(x.e.payload.cart_id) && day(x) === day1, 40);
    // payment_initiated from a producer whose clock ran 65 minutes behind: its method changes outcome rows in another hour.
    late.payment_initiated = take((x) => x.e.event_type === "payment_initiated", 40).map((x) => {
      const e = { ...x.e, event_time: new Date(t(x) - 65 * 60_000).toISOString() };
      return { e, m: { ...x.m, data: JSON.stringify(e) } };
    });
    onTime = valid.filter((x) => !taken.has(x) && t(x) < cut);
    // Only the clock moves: later stock updates make carts that went quiet abandoned.
    late.clock = valid.filter((x) => t(x) >= cut && x.e.event_type === "stock_update");

    const engine = await Engine.open(base);
    await registerGold(engine);
    for (let i = 0; i < onTime.length; i += 5_000)
      await ingest(
        engine,
        onTime.slice(i, i + 5_000).map((x) => x.m),
      );
    engine.close();
  });

  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  for (const kind of ["clock", "session_start", "first_activity", "payment_success", "payment_initiated", "order_created"]) {
    it(`late ${kind}: incremental equals rebuild and the independent figures`, async () => {
      const batch = late[kind]!;
      expect(batch.length, `late ${kind} events`).toBeGreaterThan(0);
      const dir = tempDir(`cross-${kind}`);
      dirs.push(dir);
      fs.cpSync(base, dir, { recursive: true });
      const engine = await Engine.open(dir);
      try {
        await registerGold(engine);
        await ingest(
          engine,
          batch.map((x) => x.m),
        );
        const incremental = await goldSnapshot(engine.store);
        await goldOf(engine)!.gold.rebuild();
        expectSameGold(incremental, await goldSnapshot(engine.store));
        const input = [...onTime, ...batch];
        const expected = expectedGold(
          input.map((x) => ({
            event_id: x.e.event_id,
            event_type: x.e.event_type,
            t: Date.parse(x.e.event_time),
            user_id: x.e.user_id,
            session_id: x.e.session_id,
            p: x.e.payload,
          })),
        );
        expectSameGold(incremental, expected);
      } finally {
        engine.close();
      }
    });
  }
});

describe("Gold refresh cadence for long-running streams", () => {
  it("with coarseRefreshEveryMs, minute and key tables refresh every batch, day/hour tables on the cadence, and flush() catches up", async () => {
    const { messages, events } = generate(6_000, 8);
    const dir = tempDir("cadence");
    const engine = await Engine.open(dir);
    try {
      await registerGold(engine, { coarseRefreshEveryMs: 3_600_000 });
      await ingest(engine, messages.slice(0, 1_000)); // the first refresh after open is due
      await ingest(engine, messages.slice(1_000));
      const expected = expectedGold(events);
      const before = await goldSnapshot(engine.store);
      expectSameRows("revenue_by_minute", before.revenue_by_minute!, expected.revenue_by_minute!);
      expectSameRows("inventory_levels", before.inventory_levels!, expected.inventory_levels!);
      expect(before.daily_revenue).not.toEqual(expected.daily_revenue);
      expect(await goldOf(engine)!.gold.pending()).toBeGreaterThan(0);
      await goldOf(engine)!.flush();
      expectSameGold(await goldSnapshot(engine.store), expected);
    } finally {
      engine.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
