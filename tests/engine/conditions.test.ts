// Conditions are pure: these tests need no database.
import { describe, expect, it } from "vitest";
import {
  CONDITION_BUDGET,
  ConditionError,
  ConditionSchema,
  evaluateCondition,
  MAX_RULE_DEPTH,
  MAX_RULE_NODES,
  OPERATORS,
  validateCondition,
} from "../../shared/engine/expressions/conditions.ts";
import type { TemplateContext } from "../../shared/engine/expressions/templates.ts";

const fetchStep = { output: { status: 200, body: { id: "abc" } }, status: "completed" };
const steps = Object.assign(Object.create(null) as Record<string, { output: unknown }>, { "0": fetchStep, fetch: fetchStep });
const ctx: TemplateContext = {
  trigger: {
    type: "event",
    payload: {
      status: "won",
      amount: 1200,
      nothing: null,
      empty: "",
      tags: ["vip", "eu"],
      none: [],
      obj: { a: 1 },
      bare: {},
      items: [{ name: "a", qty: 2 }, { name: "b", qty: 0 }],
      "key with spaces": "spaced",
      名前: "名",
    },
  },
  steps,
  run: { id: "run-1" },
  automation: { id: "auto-1", name: "Deal won" },
  org: { id: "org-1" },
};

const ev = (rule: unknown, c: TemplateContext = ctx) => evaluateCondition(rule, c);
const v = (path: string) => ({ var: path });

function conditionError(fn: () => unknown): ConditionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConditionError);
    return err as ConditionError;
  }
  throw new Error("expected a ConditionError");
}

describe("evaluateCondition", () => {
  it.each([
    [{ "==": [v("trigger.payload.status"), "won"] }, true],
    [{ "==": [v("trigger.payload.status"), "lost"] }, false],
    [{ "!=": [v("trigger.payload.status"), "lost"] }, true],
    [{ "===": [v("trigger.payload.amount"), "1200"] }, false],
    [{ "==": [v("trigger.payload.amount"), "1200"] }, true],
    [{ ">": [v("trigger.payload.amount"), 1000] }, true],
    [{ "<=": [1000, v("trigger.payload.amount"), 2000] }, true],
    [{ "==": [v("steps.0.output.status"), 200] }, true],
    [{ "==": [v("steps.fetch.output.body.id"), "abc"] }, true],
    [{ "==": [v("steps[0].output.body.id"), "abc"] }, true],
    [{ "==": [v("steps.0.status"), "completed"] }, true],
    [{ "==": [v('trigger.payload["key with spaces"]'), "spaced"] }, true],
    [{ "==": [v("trigger.payload.名前"), "名"] }, true],
    [{ "==": [v("trigger.payload.items[1].name"), "b"] }, true],
    [{ "==": [v("trigger.payload.items.1.name"), "b"] }, true],
    [{ "==": [v("trigger.type"), "event"] }, true],
    [{ "==": [v("automation.name"), "Deal won"] }, true],
    [{ and: [{ "==": [v("trigger.payload.status"), "won"] }, { ">": [v("trigger.payload.amount"), 5000] }] }, false],
    [{ or: [{ "==": [v("trigger.payload.status"), "lost"] }, { ">": [v("trigger.payload.amount"), 1000] }] }, true],
    [{ "!": { "==": [v("trigger.payload.status"), "won"] } }, false],
    [{ in: ["vip", v("trigger.payload.tags")] }, true],
    [{ in: ["on", v("trigger.payload.status")] }, true],
    [{ if: [{ ">": [v("trigger.payload.amount"), 5000] }, false, { "==": [v("org.id"), "org-1"] }] }, true],
    [{ "==": [{ cat: [v("trigger.payload.status"), "-", v("run.id")] }, "won-run-1"] }, true],
    [{ "==": [{ substr: [v("trigger.payload.status"), 0, 1] }, "w"] }, true],
    [{ ">": [{ "+": [v("trigger.payload.amount"), 1] }, 1200] }, true],
    [{ "==": [{ max: [1, 3, 2] }, 3] }, true],
    [{ "==": [{ length: v("trigger.payload.tags") }, 2] }, true],
    [{ "??": [v("trigger.payload.nothing"), true] }, true],
  ])("%j → %s", (rule, expected) => {
    expect(ev(rule)).toBe(expected);
  });

  it("treats a missing var as null (JsonLogic), not as an error", () => {
    expect(ev({ "==": [v("trigger.payload.nope"), null] })).toBe(true);
    expect(ev({ "==": [v("trigger.payload.nope.deeper.still"), null] })).toBe(true);
    expect(ev({ "==": [v("steps.later.output.status"), null] })).toBe(true);
    expect(ev({ "!": v("trigger.payload.nope") })).toBe(true);
    expect(ev(v("trigger.payload.nope"))).toBe(false);
    expect(ev({ "==": [{ var: ["trigger.payload.nope", "fallback"] }, "fallback"] })).toBe(true);
    expect(ev({ "==": [{ var: ["trigger.payload.status", "fallback"] }, "won"] })).toBe(true);
    expect(ev({ "==": [v("trigger.payload.tags.5"), null] })).toBe(true);
    expect(ev({ "==": [v("trigger.payload.status.length"), null] })).toBe(true);
  });

  it("reads only own data: inherited members are missing", () => {
    expect(ev({ "==": [v("trigger.payload.toString"), null] })).toBe(true);
    expect(ev({ "==": [v("trigger.payload.tags.length"), null] })).toBe(true);
    expect(ev({ "==": [v("trigger.payload.hasOwnProperty"), null] })).toBe(true);
  });

  it("supports missing and missing_some", () => {
    expect(ev({ missing: ["trigger.payload.status", "trigger.payload.amount"] })).toBe(false);
    expect(ev({ missing: ["trigger.payload.status", "trigger.payload.nope"] })).toBe(true);
    expect(ev({ missing: "trigger.payload.nothing" })).toBe(true); // null counts as missing
    expect(ev({ missing: "trigger.payload.empty" })).toBe(false); // "" does not
    expect(ev({ missing: [["trigger.payload.status", "trigger.payload.nope"]] })).toBe(true);
    expect(ev({ "!": { missing: { merge: ["trigger.payload.status", "trigger.payload.amount"] } } })).toBe(true);
    expect(ev({ missing_some: [1, ["trigger.payload.nope", "trigger.payload.status"]] })).toBe(false);
    expect(ev({ missing_some: [2, ["trigger.payload.nope", "trigger.payload.status"]] })).toBe(true);
  });

  it("iterates with the item as data", () => {
    expect(ev({ some: [v("trigger.payload.items"), { ">": [v("qty"), 1] }] })).toBe(true);
    expect(ev({ all: [v("trigger.payload.items"), { ">": [v("qty"), 1] }] })).toBe(false);
    expect(ev({ none: [v("trigger.payload.items"), { "==": [v("name"), "z"] }] })).toBe(true);
    expect(ev({ some: [v("trigger.payload.tags"), { "==": [{ var: "" }, "eu"] }] })).toBe(true);
    expect(ev({ "==": [{ length: { filter: [v("trigger.payload.items"), { ">": [v("qty"), 0] }] } }, 1] })).toBe(true);
    expect(ev({ in: ["b", { map: [v("trigger.payload.items"), v("name")] }] })).toBe(true);
    // Inside an iterator the context roots are not visible: the item is the data.
    expect(ev({ some: [v("trigger.payload.items"), { "==": [v("trigger.payload.status"), "won"] }] })).toBe(false);
  });

  it("uses JsonLogic truthiness for the result", () => {
    expect(ev(v("trigger.payload.tags"))).toBe(true);
    expect(ev(v("trigger.payload.none"))).toBe(false);
    expect(ev(v("trigger.payload.obj"))).toBe(true);
    expect(ev(v("trigger.payload.bare"))).toBe(false);
    expect(ev(v("trigger.payload.empty"))).toBe(false);
    expect(ev(v("trigger.payload.amount"))).toBe(true);
    expect(ev(v("steps"))).toBe(true); // a null-prototype object with keys
    expect(ev(true)).toBe(true);
    expect(ev(false)).toBe(false);
    expect(ev(null)).toBe(false);
    expect(ev("0")).toBe(true);
    expect(ev(0)).toBe(false);
  });

  it("sees only the five roots, whatever else the context object carries", () => {
    const c = { ...ctx, secret: "s3cret" } as TemplateContext;
    expect(ev({ "==": [{ var: { cat: ["sec", "ret"] } }, null] }, c)).toBe(true);
  });

  it("checks computed paths when they are read", () => {
    expect(ev({ "==": [{ var: { cat: ["trigger.payload.", "status"] } }, "won"] })).toBe(true);
    const err = conditionError(() => ev({ var: { cat: ["trigger.payload.", "constructor"] } }));
    expect(err.message).toContain('"constructor" cannot be used in a path');
    expect(conditionError(() => ev({ var: { cat: ["trigger.payload", "+1"] } })).message).toContain('unexpected "+"');
  });

  it("fails clearly when data does not fit an operator", () => {
    const err = conditionError(() => ev({ ">": [v("trigger.payload.status"), 5] }));
    expect(err.message).toBe(
      "the condition could not be evaluated: an arithmetic or comparison operator got a value that is not a number (compare strings with == or ===)",
    );
    expect(conditionError(() => ev({ substr: [v("trigger.payload.amount"), 1] })).message).toMatch(
      /^the condition could not be evaluated: invalid arguments \(/,
    );
    expect(err.code).toBe("condition_invalid");
  });

  it("refuses an invalid rule at evaluation too", () => {
    const err = conditionError(() => ev({ eval: ["process.exit()"] }));
    expect(err.message).toMatch(/^invalid condition: \$: unknown operator "eval"/);
  });

  it("stops a rule that would do too much work on the data", () => {
    const big = { ...ctx, trigger: { type: "event", payload: { xs: Array.from({ length: 20_000 }, (_, i) => i) } } };
    // Within the size limits, but rule-size² × payload-size work without a budget.
    const blowUp = {
      some: [{ merge: Array.from({ length: 300 }, () => v("trigger.payload.xs")) }, { "==": [{ var: "" }, -1] }],
    };
    expect(validateCondition(blowUp)).toEqual([]);
    const started = Date.now();
    const err = conditionError(() => ev(blowUp, big));
    expect(err.message).toBe(
      `the condition could not be evaluated: the condition needs more than ${CONDITION_BUDGET} steps of work on this data; simplify it or test less data`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    // An ordinary scan of the same data fits, and the budget is fresh for the next evaluation.
    expect(ev({ some: [v("trigger.payload.xs"), { "==": [{ var: "" }, 19_999] }] }, big)).toBe(true);
    expect(ev({ in: [19_999, v("trigger.payload.xs")] }, big)).toBe(true);
  });

  it("keeps working across many evaluations (one engine, fresh rule objects)", () => {
    for (let i = 0; i < 600; i++) expect(ev({ "==": [v("trigger.payload.amount"), i === 599 ? 1200 : i] })).toBe(i === 599);
  });
});

describe("validateCondition", () => {
  it("accepts valid rules", () => {
    for (const rule of [
      true,
      null,
      { "==": [v("trigger.payload.status"), "won"] },
      { some: [v("trigger.payload.items"), { "==": [{ var: "" }, 1] }] },
      { var: ["steps.0.output.status", 200] },
      { missing_some: [1, ["trigger.payload.a", "trigger.payload.b"]] },
      { var: { cat: ["trigger.payload.", v("trigger.payload.field")] } },
      Object.assign(Object.create(null) as object, { "==": [1, 1] }),
    ]) {
      expect(validateCondition(rule)).toEqual([]);
    }
  });

  it("refuses unknown and unsafe operators", () => {
    for (const op of ["eq", "reduce", "throw", "try", "val", "exists", "get", "keys", "pipe", "eachKey", "preserve",
      "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "log", "method"]) {
      expect(validateCondition({ [op]: [1, 2] })).toEqual([
        `$: unknown operator ${JSON.stringify(op)}; conditions may use ${OPERATORS.join(" ")}`,
      ]);
      expect(() => ev({ [op]: [1, 2] })).toThrow(ConditionError);
    }
    const proto = JSON.parse('{"__proto__": [1]}') as unknown;
    expect(validateCondition(proto)[0]).toMatch(/^\$: unknown operator "__proto__"/);
    expect(() => ev(proto)).toThrow(ConditionError);
  });

  it("reports where the problem is", () => {
    expect(validateCondition({ and: [true, { or: [false, { eq: [1, 1] }] }] })).toEqual([
      expect.stringMatching(/^\$\.and\[1\]\.or\[1\]: unknown operator "eq"/),
    ]);
    expect(validateCondition({ "==": [{ a: 1, b: 2 }, 1] })).toEqual([
      '$["=="][0]: an operation has exactly one key (the operator); found 2: "a", "b"',
    ]);
    expect(validateCondition({ "==": [{}, 1] })).toEqual(['$["=="][0]: an empty object is not an operation; write {"operator": [arguments]}']);
  });

  it("checks var paths", () => {
    expect(validateCondition(v("user.email"))).toEqual([
      '$.var: unknown root "user" in "user.email"; a path starts with trigger, steps, run, automation, org',
    ]);
    expect(validateCondition(v("constructor.constructor"))).toEqual([
      '$.var: "constructor.constructor" is not a valid path: "constructor" cannot be used in a path (it names JavaScript internals, not data)',
    ]);
    expect(validateCondition(v("trigger.payload.__proto__"))[0]).toContain('"__proto__" cannot be used');
    expect(validateCondition(v("trigger..payload"))[0]).toContain('expected a name after "trigger."');
    expect(validateCondition(v("../x"))[0]).toContain("a path starts with a name");
    expect(validateCondition(v(""))).toEqual(["$.var: an empty path (the current item) only makes sense inside map/filter/all/some/none"]);
    expect(validateCondition({ var: ["a", 1, 2] })[0]).toBe("$.var: var takes a path, or [path, default]");
    expect(validateCondition({ missing: ["trigger.payload.ok", "nope.x"] })).toEqual([
      '$.missing[1]: unknown root "nope" in "nope.x"; a path starts with trigger, steps, run, automation, org',
    ]);
    expect(validateCondition({ missing_some: [1] })).toEqual(["$.missing_some: missing_some takes [how many are needed, [paths]]"]);
    // Inside an iterator, paths are relative to the item: any root is fine, blocked keys are not.
    expect(validateCondition({ some: [v("trigger.payload.items"), { "==": [v("qty"), 1] }] })).toEqual([]);
    expect(validateCondition({ some: [v("trigger.payload.items"), v("qty.__proto__")] })[0]).toContain(
      '$.some[1].var: "qty.__proto__" is not a valid path',
    );
  });

  it("checks iterator shapes", () => {
    expect(validateCondition({ some: [v("trigger.payload.items")] })).toEqual(["$.some: some takes [array, rule applied to each item]"]);
  });

  it("bounds rule size and depth", () => {
    const wide = { and: Array.from({ length: MAX_RULE_NODES }, () => true) };
    expect(validateCondition(wide)).toEqual([`the rule has more than ${MAX_RULE_NODES} parts`]);
    let deep: unknown = true;
    for (let i = 0; i < MAX_RULE_DEPTH; i++) deep = { "!": [deep] };
    expect(validateCondition(deep)[0]).toMatch(/^the rule is nested deeper than 32 levels at /);
  });

  it("requires a rule and JSON data", () => {
    expect(validateCondition(undefined)).toEqual(["a condition needs a rule"]);
    expect(validateCondition({ "==": [new Date(), 1] })).toEqual(['$["=="][0]: not JSON data']);
    expect(validateCondition({ "==": [Number.NaN, 1] })).toEqual(['$["=="][0]: numbers must be finite']);
  });
});

describe("ConditionSchema", () => {
  it('defaults else to "skip"', () => {
    expect(ConditionSchema.parse({ if: { "==": [1, 1] } })).toEqual({ if: { "==": [1, 1] }, else: "skip" });
    expect(ConditionSchema.parse({ if: true, else: "stop" })).toEqual({ if: true, else: "stop" });
  });

  it("rejects bad shapes with clear messages", () => {
    const messages = (input: unknown) => ConditionSchema.safeParse(input).error?.issues.map((i) => i.message) ?? [];
    expect(messages({})).toEqual(['a condition needs an "if" rule']);
    expect(messages({ if: true, else: "ignore" })[0]).toMatch(/skip.*stop/);
    expect(messages({ if: true, then: "x" })[0]).toMatch(/then/);
    expect(messages({ if: { eq: [1, 1] } })).toEqual([
      expect.stringMatching(/^\$: unknown operator "eq"/),
    ]);
  });
});
