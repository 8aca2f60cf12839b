// A work budget for one rule evaluation (action conditions, event filters).
// Bounding the rule's size is not enough: `{"map": [{"merge": [a, a, ... 500
// times]}, <500-node body>]}` over a large payload array does rule-size² ×
// payload-size work on a worker that other tenants share. So every operator
// call is metered: 1 per call plus the length of the arrays and strings it
// takes (eager operators) and returns. Evaluation is synchronous, so one
// module-level meter is never shared by two evaluations at once.

/**
 * Units one condition evaluation may spend. Real conditions spend tens to a few
 * thousand; `some` over a 100k-item array spends ~300k. Measured on the dev
 * container: ~0.3 s per 100k items, ~0.7 s to hit the cap, well inside a run's lease.
 */
export const CONDITION_BUDGET = 1_000_000;

export class BudgetExceeded extends Error {
  /** The budget that was exceeded, in units. */
  readonly limit: number;
  /** Units spent when evaluation stopped (just past the limit). */
  readonly spent: number;
  constructor(limit: number, spent: number, what: string) {
    super(`the ${what} needs more than ${limit} steps of work on this data; simplify it or test less data`);
    this.name = "BudgetExceeded";
    this.limit = limit;
    this.spent = spent;
  }
}

let limit = CONDITION_BUDGET;
let remaining = CONDITION_BUDGET;
let what = "condition";

export interface Metered<T> {
  value: T;
  /** Units the evaluation spent (operator calls plus sizes, see above). */
  spent: number;
}

/**
 * Runs `fn` with a fresh budget of `units` and reports what it spent. Throws
 * BudgetExceeded (naming `subject`, "the condition needs more than ...") as
 * soon as the budget is gone. Once it is gone every metered call throws again,
 * so an operator that catches errors (a filter's `try`) cannot carry on.
 */
export function runMetered<T>(fn: () => T, units = CONDITION_BUDGET, subject = "condition"): Metered<T> {
  limit = remaining = units;
  what = subject;
  try {
    const value = fn();
    if (remaining < 0) throw exceeded();
    return { value, spent: limit - remaining };
  } finally {
    limit = remaining = CONDITION_BUDGET;
    what = "condition";
  }
}

/** Runs `fn` with a fresh budget (conditions: CONDITION_BUDGET). */
export function withBudget<T>(fn: () => T, units = CONDITION_BUDGET, subject = "condition"): T {
  return runMetered(fn, units, subject).value;
}

function exceeded(): BudgetExceeded {
  return new BudgetExceeded(limit, limit - remaining, what);
}

function spend(units: number): void {
  remaining -= units;
  if (remaining < 0) throw exceeded();
}

/**
 * Strings cost per 16 characters (copying them is cheap next to evaluating a
 * rule); arrays per item, looking one level in because operators take their
 * arguments as an array (merge's arrays, in's haystack).
 */
function size(value: unknown, nested = true): number {
  if (typeof value === "string") return value.length >> 4;
  if (!Array.isArray(value)) return 0;
  let n = value.length;
  if (nested) for (const item of value) n += size(item, false);
  return n;
}

type Fn = (args: unknown, data: unknown, above: unknown, engine: unknown) => unknown;

/**
 * Wraps one json-logic-engine method (a function, or `{ method, lazy, ... }`)
 * so each call is charged. Lazy methods get their arguments as raw rule JSON
 * (evaluated, and charged, by the nested calls), so only their result counts.
 * The wrappers drop the library's compile and optimiser hints; rules are only
 * interpreted (engines using them set disableInterpretedOptimization).
 */
export function metered(method: unknown): unknown {
  if (typeof method === "function") {
    const fn = method as Fn;
    return { lazy: false, method: meter(fn, false), deterministic: false };
  }
  const m = method as { method: Fn; lazy?: boolean };
  return { lazy: m.lazy === true, method: meter(m.method, m.lazy === true), deterministic: false };
}

function meter(fn: Fn, lazy: boolean): Fn {
  return (args, data, above, engine) => {
    spend(1 + (lazy ? 0 : size(args)));
    const result = fn(args, data, above, engine);
    spend(size(result));
    return result;
  };
}
