// Event filters: JsonLogic over {record, old_record, payload, operation} and the changed shorthand.
import { describe, expect, it } from "vitest";
import { BudgetExceeded } from "../../shared/engine/expressions/condition_budget.ts";
import { evaluateFilter, FILTER_BUDGET, FilterSchema, filterProblems, matchesFilter } from "../../shared/triggers/filter.ts";
import type { FilterContext } from "../../shared/triggers/filter.ts";

const update = (old_record: Record<string, unknown>, record: Record<string, unknown>): FilterContext => ({ operation: "UPDATE", old_record, record, payload: null });
const insert = (record: Record<string, unknown>): FilterContext => ({ operation: "INSERT", old_record: null, record, payload: null });
const remove = (old_record: Record<string, unknown>): FilterContext => ({ operation: "DELETE", old_record, record: null, payload: null });
const appEvent = (payload: unknown): FilterContext => ({ operation: null, old_record: null, record: null, payload });

describe("JsonLogic filters", () => {
  const wonChange = {
    and: [
      { "==": [{ var: "record.status" }, "won"] },
      { "!=": [{ var: "old_record.status" }, "won"] },
    ],
  };

  it("expresses status changed to won", () => {
    expect(matchesFilter(wonChange, update({ status: "open" }, { status: "won" }))).toBe(true);
    expect(matchesFilter(wonChange, update({ status: "won" }, { status: "won" }))).toBe(false);
    expect(matchesFilter(wonChange, update({ status: "open" }, { status: "lost" }))).toBe(false);
    expect(matchesFilter(wonChange, insert({ status: "won" }))).toBe(true); // old_record is null
  });

  it("reads operation and payload", () => {
    expect(matchesFilter({ "===": [{ var: "operation" }, "DELETE"] }, remove({ id: 1 }))).toBe(true);
    const big = { ">": [{ var: "payload.amount" }, 1000] };
    expect(matchesFilter(big, appEvent({ amount: 1500 }))).toBe(true);
    expect(matchesFilter(big, appEvent({ amount: 10 }))).toBe(false);
    expect(matchesFilter(big, appEvent(null))).toBe(false);
    expect(matchesFilter({ in: ["vip", { var: "payload.tags" }] }, appEvent({ tags: ["vip", "eu"] }))).toBe(true);
  });

  it("uses JsonLogic truthiness", () => {
    expect(matchesFilter({ var: "payload.items" }, appEvent({ items: [] }))).toBe(false);
    expect(matchesFilter({ var: "payload.items" }, appEvent({ items: [1] }))).toBe(true);
    expect(matchesFilter({ var: "payload.name" }, appEvent({ name: "" }))).toBe(false);
  });

  it("throws a readable error when a rule fails at run time", () => {
    expect(() => matchesFilter({ throw: "nope" }, appEvent({}))).toThrow("filter failed: nope");
  });

  it("runs the same rule object many times (the engine caches plans per object)", () => {
    const rule = { "==": [{ var: "record.n" }, 2] };
    const hits = [1, 2, 3, 2].map((n) => matchesFilter(rule, insert({ n })));
    expect(hits).toEqual([false, true, false, true]);
  });
});

describe("the changed shorthand", () => {
  it("matches any change of the column", () => {
    const f = { changed: "status" };
    expect(matchesFilter(f, update({ status: "open" }, { status: "won" }))).toBe(true);
    expect(matchesFilter(f, update({ status: "open", amount: 1 }, { status: "open", amount: 2 }))).toBe(false);
  });

  it("checks to and from", () => {
    const toWon = { changed: "status", to: "won" };
    expect(matchesFilter(toWon, update({ status: "open" }, { status: "won" }))).toBe(true);
    expect(matchesFilter(toWon, update({ status: "won" }, { status: "won" }))).toBe(false);
    expect(matchesFilter(toWon, update({ status: "won" }, { status: "lost" }))).toBe(false);
    const openToWon = { changed: "status", from: "open", to: "won" };
    expect(matchesFilter(openToWon, update({ status: "open" }, { status: "won" }))).toBe(true);
    expect(matchesFilter(openToWon, update({ status: "draft" }, { status: "won" }))).toBe(false);
  });

  it("treats INSERT as a change from null and DELETE as a change to null", () => {
    expect(matchesFilter({ changed: "status", to: "won" }, insert({ status: "won" }))).toBe(true);
    expect(matchesFilter({ changed: "status", from: null }, insert({ status: "won" }))).toBe(true);
    expect(matchesFilter({ changed: "status" }, insert({ status: null }))).toBe(false);
    expect(matchesFilter({ changed: "status", to: null }, remove({ status: "won" }))).toBe(true);
  });

  it("compares JSON values deeply and type-exactly", () => {
    const f = { changed: "meta", to: { tier: "gold", tags: ["a"] } };
    expect(matchesFilter(f, update({ meta: { tier: "silver" } }, { meta: { tags: ["a"], tier: "gold" } }))).toBe(true);
    expect(matchesFilter({ changed: "meta" }, update({ meta: { a: [1, 2] } }, { meta: { a: [1, 2] } }))).toBe(false);
    expect(matchesFilter({ changed: "amount", to: 5 }, update({ amount: 4 }, { amount: "5" }))).toBe(false);
  });

  it("never matches an application event (no records)", () => {
    expect(matchesFilter({ changed: "status" }, appEvent({ status: "won" }))).toBe(false);
  });
});

describe("the work budget", () => {
  const n = 300;
  const items = Array.from({ length: n }, (_, i) => i);
  // Three nested scans of the payload: n³ comparisons (27 million here), a few hundred bytes of rule.
  const cubic = {
    some: [{ var: "payload.items" }, {
      some: [{ var: "../../payload.items" }, { some: [{ var: "../../../../payload.items" }, { "==": [{ var: "" }, -1] }] }],
    }],
  };

  /** The event context behind a proxy that counts reads of its fields: work the filter did, measured outside the meter. */
  function counted(payload: unknown) {
    const seen = { reads: 0 };
    const ctx = new Proxy({ record: null, old_record: null, payload, operation: null } as FilterContext, {
      get(target, key) {
        seen.reads++;
        return target[key as keyof FilterContext];
      },
    });
    return { ctx, seen };
  }

  it("stops a cubic filter once it has spent the budget, and says why", () => {
    expect(filterProblems(cubic, false)).toEqual([]); // valid, and small
    const { ctx, seen } = counted({ items });
    let err: unknown;
    try {
      matchesFilter(cubic, ctx);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe(`filter failed: the filter needs more than ${FILTER_BUDGET} steps of work on this data; simplify it or test less data`);
    const cause = (err as Error).cause as BudgetExceeded;
    expect(cause).toBeInstanceOf(BudgetExceeded);
    // Stopped just past the budget: at most one operator's charge (a var returning the 300 items) over it.
    expect(cause.spent).toBeGreaterThan(FILTER_BUDGET);
    expect(cause.spent).toBeLessThanOrEqual(FILTER_BUDGET + n + 1);
    // Each inner scan reads payload once: unbounded, 1 + n + n² = 90,301 reads; here a few hundred.
    expect(seen.reads).toBeLessThan(1_000);
  });

  it("cannot be caught by try: every metered call fails once the budget is gone", () => {
    const guarded = { try: [cubic, { try: [cubic, true] }] };
    expect(() => matchesFilter(guarded, appEvent({ items }))).toThrow(`needs more than ${FILTER_BUDGET} steps`);
  });

  it("charges ordinary filters little, and each evaluation starts with a fresh budget", () => {
    const simple = evaluateFilter({ "==": [{ var: "record.status" }, "won"] }, insert({ status: "won" }));
    expect(simple.matched).toBe(true);
    expect(simple.steps).toBeGreaterThan(0);
    expect(simple.steps).toBeLessThan(10);
    expect(evaluateFilter({ changed: "status" }, insert({ status: "won" }))).toEqual({ matched: true, steps: 0 });
    // One scan of 10,000 items fits, many times over the budget of one evaluation in total.
    const big = appEvent({ items: Array.from({ length: 10_000 }, (_, i) => i) });
    const scan = { some: [{ var: "payload.items" }, { "==": [{ var: "" }, 9_999] }] };
    let total = 0;
    for (let i = 0; i < 5; i++) {
      const r = evaluateFilter(scan, big);
      expect(r.matched).toBe(true);
      total += r.steps;
    }
    expect(total).toBeGreaterThan(FILTER_BUDGET);
    expect(total / 5).toBeLessThan(FILTER_BUDGET / 2);
  });
});

describe("filterProblems", () => {
  it("accepts good filters", () => {
    expect(filterProblems({ "==": [{ var: "record.status" }, "won"] }, true)).toEqual([]);
    expect(filterProblems({ changed: "status", from: "open", to: "won" }, true)).toEqual([]);
    expect(filterProblems({ some: [{ var: "payload.items" }, { ">": [{ var: "qty" }, 5] }] }, false)).toEqual([]); // var inside an iterator is the element
    expect(filterProblems({ "==": [{ var: ["record.missing", "x"] }, { preserve: { a: 1, b: 2 } }] }, true)).toEqual([]);
  });

  it.each([
    [[], [{ path: [], message: 'must be a JSON object: a JsonLogic rule or {"changed": "<column>", "to": ...}' }]],
    ["x", [{ path: [], message: 'must be a JSON object: a JsonLogic rule or {"changed": "<column>", "to": ...}' }]],
    [{}, [{ path: [], message: 'a JsonLogic operation has exactly one key, the operator; got 0 (none); wrap literal objects in {"preserve": ...}' }]],
    [{ foo: [1] }, [{ path: ["foo"], message: 'unknown JsonLogic operator "foo"' }]],
    [{ or: [true, { "=~": [1, 2] }] }, [{ path: ["or", 1, "=~"], message: 'unknown JsonLogic operator "=~"' }]],
    [{ "==": [{ var: "status" }, "won"] }, [{ path: ["==", 0, "var"], message: '"status" is not in the filter context (record, old_record, payload, operation); did you mean "record.status" or "payload.status"?' }]],
    [{ "==": [1] }, [{ path: [], message: "an operator has invalid arguments" }]],
    [{ changed: 5 }, [{ path: ["changed"], message: "must be a column name (1 to 63 characters)" }]],
    [{ changed: "status", into: "won" }, [{ path: [], message: 'unknown key "into" in the changed shorthand (allowed: changed, from, to)' }]],
  ])("reports %j", (filter, problems) => {
    expect(filterProblems(filter, true)).toEqual(problems);
  });

  it("keeps the shorthand to table events", () => {
    expect(filterProblems({ changed: "status" }, false)).toEqual([
      { path: ["changed"], message: "the changed shorthand applies to table events only; for application events write a JsonLogic rule over payload" },
    ]);
  });

  it("limits the size", () => {
    const huge = { in: [{ var: "payload.x" }, Array.from({ length: 5000 }, (_, i) => `value-${i}`)] };
    expect(filterProblems(huge, true)[0]?.message).toMatch(/^is \d+ characters; the limit is 16384$/);
  });
});

describe("FilterSchema", () => {
  it("is a zod schema carrying the same problems with paths", () => {
    expect(FilterSchema.safeParse({ "==": [{ var: "record.a" }, 1] }).success).toBe(true);
    const bad = FilterSchema.safeParse({ and: [{ nope: 1 }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path, i.message])).toEqual([[["and", 0, "nope"], 'unknown JsonLogic operator "nope"']]);
    expect(FilterSchema.safeParse([1]).success).toBe(false);
  });
});
