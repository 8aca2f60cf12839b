// The engine event filters run in. It is our own instance, not the one for action
// conditions (shared/engine/expressions), so the two can evolve separately: filters keep
// json-logic-engine's default operators and its `var`. What they share is the work meter
// (condition_budget.ts): every operator call is charged, and a filter that needs more than
// FILTER_BUDGET units on an event stops with an error (the HTTP handler skips that
// automation and says why; the SQL evaluator has its own step budget with the same effect,
// automations_engine.filter_eval).
// Evaluation uses the interpreter only (engine.run with the optimiser off): engine.build
// would compile rules with eval, and the optimiser's shortcuts (inlined comparisons, `var`
// and `if`) would run without being metered.
import { defaultMethods, LogicEngine } from "json-logic-engine";
import { metered } from "../engine/expressions/condition_budget.ts";

/**
 * Units one filter evaluation may spend (operator calls plus the sizes of the arrays
 * and strings they take and return). Filters run per event and per candidate
 * automation, so this is a tenth of a condition's budget: real filters spend
 * a few units, `in` over a 10k-item payload array 20k, `some` over it 40k.
 */
export const FILTER_BUDGET = 100_000;

let engine: LogicEngine | undefined;

const COMPARE: Record<string, (a: never, b: never) => boolean> = {
  "==": (a, b) => a == b, // eslint-disable-line eqeqeq
  "===": (a, b) => a === b,
  "!=": (a, b) => a != b, // eslint-disable-line eqeqeq
  "!==": (a, b) => a !== b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

/** JavaScript's number coercion as json-logic-engine guards it: objects and NaN throw NaN. */
function numeric(v: unknown): number {
  if (Number.isNaN(v)) throw NaN;
  if (v && typeof v === "object") throw NaN;
  return +(v as number);
}

/**
 * A comparison as json-logic-engine's optimiser runs it, which the SQL evaluator
 * (automations_engine.filter_compare) follows: strict operators compare as they
 * are; loose ones compare two strings (or null) as strings, anything else as
 * numbers, throwing when a side is not a number. Three arguments are a chain
 * (a < b < c), and the third is evaluated only when the first pair holds.
 */
function comparator(op: string) {
  const f = COMPARE[op]!;
  const strict = op.length === 3;
  const one = (a: unknown, b: unknown): boolean => {
    if (strict || ((typeof a === "string" || a === null) && (typeof b === "string" || b === null))) return f(a as never, b as never);
    if (Number.isNaN(numeric(a))) throw NaN;
    if (Number.isNaN(numeric(b)) && a !== null) throw NaN;
    return f(+(a as number) as never, +(b as number) as never);
  };
  return {
    lazy: true,
    method: (args: unknown, data: unknown, above: unknown, e: LogicEngine) => {
      if (!Array.isArray(args) || args.length <= 1) throw { type: "Invalid Arguments" };
      let prev: unknown = e.run(args[0], data, { above });
      for (let i = 1; i < args.length; i++) {
        const next: unknown = e.run(args[i], data, { above });
        if (!one(prev, next)) return false;
        prev = next;
      }
      return true;
    },
  };
}

/** The filter engine, built on first use: no work at import time. */
export function getEngine(): LogicEngine {
  if (engine) return engine;
  const methods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(defaultMethods as unknown as Record<string, unknown>)) {
    methods[name] = metered(Object.hasOwn(COMPARE, name) ? comparator(name) : method);
  }
  engine = new LogicEngine(methods as ConstructorParameters<typeof LogicEngine>[0], { disableInterpretedOptimization: true, permissive: false });
  return engine;
}
