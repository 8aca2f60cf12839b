// Data-only conditions on actions: JsonLogic rules evaluated with
// json-logic-engine over the same context templates read. A condition that is
// false skips the step ("skip", the default) or ends the run as completed
// ("stop"); the engine decides what to do with the boolean.
//
// Safety: the engine holds only the allowlisted operators (condition_check.ts),
// never compiles rules to functions (`build` is not used), and reads data with
// our own `var`/`missing`/`missing_some`, which use the template path grammar
// and own-property lookups. Unlike a template, a missing `var` is null (the
// JsonLogic rule), so `{"==": [{"var": "trigger.payload.x"}, null]}` tests absence.
import { defaultMethods, LogicEngine } from "json-logic-engine";
import { z } from "zod";
import { BudgetExceeded, metered, withBudget } from "./condition_budget.ts";
import { checkRule, OPERATORS } from "./condition_check.ts";
import { lookupPath, parsePath } from "./template_path.ts";
import type { TemplateContext } from "./templates.ts";

export { CONDITION_BUDGET } from "./condition_budget.ts";
export { MAX_RULE_DEPTH, MAX_RULE_NODES, OPERATORS } from "./condition_check.ts";

/** A rule that is invalid or that could not be evaluated on this data. Not retryable. */
export class ConditionError extends Error {
  readonly code = "condition_invalid";
  constructor(message: string) {
    super(message);
    this.name = "ConditionError";
  }
}

/**
 * Thrown by evaluateCondition when the rule reads a path the caller marked
 * unknown (a dry run's earlier step outputs): the outcome cannot be known.
 */
export class UnknownValueRead extends Error {
  constructor(readonly path: string) {
    super(`the condition reads ${path}, which is unknown until a real run`);
    this.name = "UnknownValueRead";
  }
}

export interface EvaluateOptions {
  /** Paths (as keys from the root) that have no value yet; reading one throws UnknownValueRead. */
  isUnknown?: (keys: readonly string[]) => boolean;
}

/** Set for the length of one (synchronous) evaluation, with the root data it applies to. */
let unknownCheck: { root: unknown; isUnknown: (keys: readonly string[]) => boolean } | undefined;

/** Save-time check: the problems with a rule, each with its location; empty when usable. */
export function validateCondition(rule: unknown): string[] {
  return checkRule(rule);
}

/** The `condition` stored on an action. `else` says what a false condition does. */
export const ConditionSchema = z.strictObject({
  if: z
    .custom<unknown>((v) => v !== undefined, { message: 'a condition needs an "if" rule' })
    .superRefine((rule, ctx) => {
      for (const message of checkRule(rule)) ctx.addIssue({ code: "custom", message });
    }),
  else: z.enum(["skip", "stop"]).default("skip"),
});
export type Condition = z.infer<typeof ConditionSchema>;

/** Evaluates `rule` against the context; JsonLogic truthiness ([] and {} are false). Throws ConditionError. */
export function evaluateCondition(rule: unknown, context: TemplateContext, options: EvaluateOptions = {}): boolean {
  const problems = checkRule(rule);
  if (problems.length > 0) throw new ConditionError(`invalid condition: ${problems.join("; ")}`);
  // Only the five roots are visible, whatever else the caller's object carries.
  const data = { trigger: context.trigger, steps: context.steps, run: context.run, automation: context.automation, org: context.org };
  let result: unknown;
  try {
    const e = engine();
    unknownCheck = options.isUnknown ? { root: data, isUnknown: options.isUnknown } : undefined;
    result = withBudget(() => e.run(rule, data));
  } catch (err) {
    if (err instanceof UnknownValueRead) throw err;
    throw new ConditionError(`the condition could not be evaluated: ${explain(err)}`);
  } finally {
    unknownCheck = undefined;
  }
  return truthy(result);
}

let instance: LogicEngine | undefined;

/** Built on first use: no work at import time, one instance per process after. */
function engine(): LogicEngine {
  if (instance) return instance;
  const library = defaultMethods as unknown as Record<string, unknown>;
  const ours: Record<string, (args: unknown, data: unknown) => unknown> = {
    var: readVar,
    missing,
    missing_some: (args, data) => {
      const [need, paths] = Array.isArray(args) ? args : [];
      const list = Array.isArray(paths) ? paths : [paths];
      const absent = missing(list, data);
      return list.length - absent.length >= Number(need) ? [] : absent;
    },
  };
  // Only allowlisted operators exist in this engine, each metered (condition_budget.ts).
  const methods: Record<string, unknown> = {};
  for (const op of OPERATORS) methods[op] = metered(ours[op] ?? library[op]);
  // The interpreted optimizer caches per rule object; rules come fresh from the
  // database each time, so it would only churn. Plain interpretation it is.
  const e = new LogicEngine(methods, { disableInterpretedOptimization: true, permissive: false });
  e.truthy = truthy; // the default reads value.constructor.name, which throws on null-prototype objects
  instance = e;
  return e;
}

/** `{"var": path}` or `{"var": [path, default]}`; an empty path is the current data (the item in an iterator). */
function readVar(args: unknown, data: unknown): unknown {
  const [path, fallback] = Array.isArray(args) ? args : [args];
  const hit = read(path, data);
  if (hit.found && typeof hit.value !== "function") return hit.value;
  return fallback === undefined ? null : fallback;
}

/** The paths that are absent or null, like json-logic-js (which also counts "" as missing; we do not). */
function missing(args: unknown, data: unknown): unknown[] {
  const list = Array.isArray(args) ? (Array.isArray(args[0]) ? (args[0] as unknown[]) : args) : [args];
  return list.filter((path) => {
    const hit = read(path, data);
    return !hit.found || hit.value === null;
  });
}

function read(path: unknown, data: unknown): { found: boolean; value?: unknown } {
  if (path === null || path === undefined || path === "") return { found: true, value: data };
  if (typeof path === "number" && Number.isInteger(path) && path >= 0) path = String(path);
  if (typeof path !== "string") throw new ConditionError(`a path must be a string, not ${JSON.stringify(path)}`);
  const parsed = parsePath(path);
  if (!parsed.ok) throw new ConditionError(`"${path.slice(0, 120)}" is not a valid path: ${parsed.reason}`);
  const keys = parsed.segments.map((s) => s.key);
  // Only paths read from the root: inside map/filter a var reads the current item.
  if (unknownCheck && data === unknownCheck.root && unknownCheck.isUnknown(keys)) throw new UnknownValueRead(keys.join("."));
  return lookupPath(data, keys);
}

/** JsonLogic truthiness: falsy values, empty arrays and empty plain objects are false. */
function truthy(value: unknown): boolean {
  if (!value) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return Object.keys(value).length > 0;
  }
  return true;
}

/** The library throws NaN and plain objects; turn them into something a user can act on. */
function explain(err: unknown): string {
  if (err instanceof ConditionError || err instanceof BudgetExceeded) return err.message;
  if (typeof err === "number" && Number.isNaN(err)) {
    return "an arithmetic or comparison operator got a value that is not a number (compare strings with == or ===)";
  }
  if (err && typeof err === "object" && "type" in err) {
    const e = err as { type: unknown; key?: unknown };
    return e.key === undefined ? String(e.type) : `${String(e.type)} ${JSON.stringify(e.key)}`;
  }
  if (err instanceof Error) return `invalid arguments (${err.message})`;
  return String(err);
}
