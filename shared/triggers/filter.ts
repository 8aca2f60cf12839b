// Event trigger filters: data-only rules deciding whether an event starts a run.
//
// A filter is a JSON object in one of two forms:
//   1. A JsonLogic rule (json-logic-engine's default operators, no custom ones), evaluated over
//      the FilterContext below: {"==": [{"var": "record.status"}, "won"]}.
//   2. The "changed" shorthand, for table events only, for the most common wish:
//      {"changed": "status"}                     status differs between old_record and record
//      {"changed": "status", "to": "won"}        ... and is now "won"
//      {"changed": "status", "from": "open", "to": "won"}
//      Values compare as JSON (deep, type-exact). INSERT counts as a change from null and
//      DELETE as a change to null, so "status changed to won" also matches a deal inserted as won.
//      Anything more (several fields, "and amount > 1000") is written in JsonLogic.
// Rules run in a metered engine (filter_engine.ts): a filter that needs more than
// FILTER_BUDGET units of work on an event stops with an error.
import { z } from "zod";
import { runMetered } from "../engine/expressions/condition_budget.ts";
import { FILTER_BUDGET, getEngine } from "./filter_engine.ts";

export { FILTER_BUDGET } from "./filter_engine.ts";

export type Operation = "INSERT" | "UPDATE" | "DELETE";

/** What a filter sees. Table events fill record/old_record as a Supabase Database Webhook does. */
export interface FilterContext {
  record: Record<string, unknown> | null;
  old_record: Record<string, unknown> | null;
  payload: unknown;
  operation: Operation | null;
}

export const FILTER_CONTEXT_FIELDS = ["record", "old_record", "payload", "operation"] as const;

/** What a webhook trigger's filter sees: the parsed body and the captured headers. */
export interface WebhookFilterContext {
  payload: unknown;
  headers: Record<string, string>;
}

export type JsonLogicRule = Record<string, unknown>;
export interface ChangedFilter {
  changed: string;
  from?: unknown;
  to?: unknown;
}
export type Filter = JsonLogicRule | ChangedFilter;

export interface FilterProblem {
  /** Path inside the filter, e.g. ["and", 0, "==", 0, "var"]; empty for the filter itself. */
  path: (string | number)[];
  message: string;
}

/** A stored rule is an editor's input, not a program: keep it small. */
export const MAX_FILTER_CHARS = 16_384;

const SHORTHAND_KEYS = ["changed", "from", "to"];
// Their later arguments run with each element as the context: `var` there is not our context.
const ITERATORS = new Set(["map", "filter", "reduce", "some", "all", "none", "every", "eachKey"]);

export function isChangedFilter(filter: object): filter is ChangedFilter {
  return Object.hasOwn(filter, "changed");
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === "object" && "type" in err) {
    const { type, key } = err as { type: unknown; key?: unknown };
    return key === undefined ? String(type) : `${String(type)} "${String(key)}"`;
  }
  return JSON.stringify(err) ?? String(err);
}

type Path = (string | number)[];

function walkRule(node: unknown, path: Path, checkVars: boolean, out: FilterProblem[], roots: readonly string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walkRule(item, [...path, i], checkVars, out, roots));
    return;
  }
  if (node === null || typeof node !== "object") return;
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    out.push({ path, message: `a JsonLogic operation has exactly one key, the operator; got ${keys.length} (${keys.join(", ") || "none"}); wrap literal objects in {"preserve": ...}` });
    return;
  }
  const op = keys[0] as string;
  const args = (node as Record<string, unknown>)[op];
  const at = [...path, op];
  if (!Object.hasOwn(getEngine().methods, op)) {
    out.push({ path: at, message: `unknown JsonLogic operator "${op}"` });
    return;
  }
  if (op === "preserve") return; // its argument is data
  if (op === "var" && checkVars) {
    const name = Array.isArray(args) ? args[0] : args;
    const root = typeof name === "string" ? name.split(".")[0] : undefined;
    // A bare field name (`{"var": "status"}`) is the usual slip: it is always null here.
    if (root !== undefined && root !== "" && !root.startsWith("..") && !roots.includes(root)) {
      out.push({ path: at, message: `"${String(name)}" is not in the filter context (${roots.join(", ")}); did you mean "record.${String(name)}" or "payload.${String(name)}"?` });
    }
  }
  const list = Array.isArray(args) ? args : [args];
  list.forEach((arg, i) => {
    const argPath = Array.isArray(args) ? [...at, i] : at;
    walkRule(arg, argPath, checkVars && !(ITERATORS.has(op) && i > 0), out, roots);
  });
}

/**
 * Problems with a filter, empty when it is usable. `tableEvent` allows the changed shorthand;
 * `roots` are the context's fields (webhook filters see payload and headers only).
 */
export function filterProblems(filter: unknown, tableEvent: boolean, roots: readonly string[] = FILTER_CONTEXT_FIELDS): FilterProblem[] {
  if (filter === null || typeof filter !== "object" || Array.isArray(filter)) {
    return [{ path: [], message: "must be a JSON object: a JsonLogic rule or {\"changed\": \"<column>\", \"to\": ...}" }];
  }
  const size = JSON.stringify(filter).length;
  if (size > MAX_FILTER_CHARS) return [{ path: [], message: `is ${size} characters; the limit is ${MAX_FILTER_CHARS}` }];
  if (isChangedFilter(filter)) {
    const out: FilterProblem[] = [];
    if (!tableEvent) out.push({ path: ["changed"], message: "the changed shorthand applies to table events only; for application events write a JsonLogic rule over payload" });
    const column = (filter as { changed: unknown }).changed;
    if (typeof column !== "string" || column.length === 0 || column.length > 63) {
      out.push({ path: ["changed"], message: "must be a column name (1 to 63 characters)" });
    }
    for (const key of Object.keys(filter)) {
      if (!SHORTHAND_KEYS.includes(key)) out.push({ path: [], message: `unknown key "${key}" in the changed shorthand (allowed: ${SHORTHAND_KEYS.join(", ")})` });
    }
    return out;
  }
  const out: FilterProblem[] = [];
  walkRule(filter, [], true, out, roots);
  if (out.length > 0) return out;
  // Arity mistakes such as {"==": [1]} only show when run; an empty context finds them.
  try {
    const e = getEngine();
    runMetered(() => e.run(filter, { record: {}, old_record: {}, payload: {}, operation: "UPDATE" }), FILTER_BUDGET, "filter");
  } catch (err) {
    if (describe(err).startsWith("Invalid Arguments")) out.push({ path: [], message: "an operator has invalid arguments" });
  }
  return out;
}

/** zod schema for a filter in either form (event configs also check shorthand vs event kind). */
export const FilterSchema = z.record(z.string(), z.unknown()).superRefine((filter, ctx) => {
  for (const problem of filterProblems(filter, true)) {
    ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  }
});

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function matchesChanged(filter: ChangedFilter, ctx: FilterContext): boolean {
  const before = ctx.old_record?.[filter.changed] ?? null;
  const after = ctx.record?.[filter.changed] ?? null;
  if (jsonEqual(before, after)) return false;
  if (Object.hasOwn(filter, "from") && !jsonEqual(before, filter.from ?? null)) return false;
  if (Object.hasOwn(filter, "to") && !jsonEqual(after, filter.to ?? null)) return false;
  return true;
}

/**
 * True when the event passes the filter (JsonLogic truthiness: [], "", 0 and null fail).
 * Throws an Error saying why when a JsonLogic rule fails at run time (e.g. {"throw": ...},
 * or more work than FILTER_BUDGET); the caller decides whether that skips one automation
 * or fails the event.
 */
export function matchesFilter(filter: Filter, ctx: FilterContext | WebhookFilterContext): boolean {
  return evaluateFilter(filter, ctx).matched;
}

/** matchesFilter, with the units of work the evaluation spent (0 for the changed shorthand). */
export function evaluateFilter(filter: Filter, ctx: FilterContext | WebhookFilterContext): { matched: boolean; steps: number } {
  if (isChangedFilter(filter)) return { matched: "record" in ctx && matchesChanged(filter, ctx), steps: 0 };
  const e = getEngine();
  try {
    const { value, spent } = runMetered(() => e.run(filter, ctx), FILTER_BUDGET, "filter");
    return { matched: Boolean(e.truthy(value)), steps: spent };
  } catch (err) {
    throw new Error(`filter failed: ${describe(err)}`, { cause: err });
  }
}

/**
 * JsonLogic operators the SQL trigger evaluates (automations_engine.filter_check). Table-event
 * filters are held to this subset on the HTTP path too, so a table automation behaves the same
 * whether its events arrive by trigger or by Database Webhook.
 */
export const SQL_FILTER_OPERATORS: readonly string[] = [
  "var", "missing", "missing_some", "preserve", "if", "?:", "??", "and", "or", "!", "not", "!!",
  "==", "===", "!=", "!==", "<", "<=", ">", ">=", "in",
];
const COMPARISONS = new Set(["==", "===", "!=", "!==", "<", "<=", ">", ">="]);

/** Why the SQL evaluator would refuse this filter, or null when it can run it. */
export function sqlFilterProblem(filter: unknown, path = "filter"): string | null {
  if (Array.isArray(filter)) {
    for (const [i, item] of filter.entries()) {
      const p = sqlFilterProblem(item, `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (filter === null || typeof filter !== "object") return null;
  if (path === "filter" && isChangedFilter(filter)) return null;
  const keys = Object.keys(filter);
  if (keys.length === 0) return null;
  if (keys.length !== 1) return `${path}: a JsonLogic operation has exactly one key, the operator`;
  const op = keys[0]!;
  const args = (filter as Record<string, unknown>)[op];
  if (op === "preserve") return null;
  if (!SQL_FILTER_OPERATORS.includes(op)) return `${path}: operator "${op}" is not supported in filters of table events (they are evaluated in SQL)`;
  if (COMPARISONS.has(op) && Array.isArray(args) && args.length > 3) return `${path}.${op}: a comparison takes 2 or 3 arguments`;
  return sqlFilterProblem(args, `${path}.${op}`);
}
