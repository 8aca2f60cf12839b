// Event filters: JsonLogic over {record, old_record, payload, operation} and the changed shorthand.
import { describe, expect, it } from "vitest";
import { FilterSchema, filterProblems, matchesFilter } from "../../shared/triggers/filter.ts";
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
