// Static checks for JsonLogic condition rules, run when an automation is saved
// and again before every evaluation. The operator set is an allowlist: the
// engine is built with only these methods, and a rule naming anything else
// is refused here before the library sees it (the library looks operators up
// with `in`, so names like "constructor" would otherwise reach Object).
import { isRoot, parsePath, ROOTS } from "./template_path.ts";

/**
 * The operators a condition may use: JsonLogic's comparison, logic,
 * arithmetic, string and array operations. Left out on purpose:
 * - `reduce`: an accumulator that grows each step makes work quadratic in the payload;
 * - `throw`, `try`: errors as control flow; a condition either holds or fails clearly;
 * - `val`, `exists`, `get`, `keys`, `pipe`, `eachKey`, `preserve`, `every`, `not`: extensions
 *   (some climb to outer scopes with `../`) that add surface but no needed power.
 * `var`, `missing` and `missing_some` are ours (conditions.ts), reading paths
 * with the template grammar and own-property lookups.
 */
export const OPERATORS = [
  "==", "===", "!=", "!==", "<", "<=", ">", ">=",
  "!", "!!", "and", "or", "if", "?:", "??",
  "+", "-", "*", "/", "%", "max", "min",
  "cat", "substr", "in",
  "merge", "length", "map", "filter", "all", "some", "none",
  "var", "missing", "missing_some",
] as const;

/** Operators whose second argument runs once per array item, with the item as data. */
export const ITERATORS = new Set(["map", "filter", "all", "some", "none"]);

const ALLOWED = new Set<string>(OPERATORS);
const PATH_OPERATORS = new Set(["var", "missing", "missing_some"]);

/** Bounds on a rule's size, so a stored condition cannot make evaluation expensive. */
export const MAX_RULE_NODES = 1_000;
export const MAX_RULE_DEPTH = 32;

type Scope = "context" | "item";

interface State {
  nodes: number;
  problems: string[];
}

/** Problems with a rule, each naming where it is (`$.and[1]`); empty when the rule is usable. */
export function checkRule(rule: unknown): string[] {
  if (rule === undefined) return ["a condition needs a rule"];
  const state: State = { nodes: 0, problems: [] };
  try {
    visit(rule, "context", "$", 0, state);
  } catch (err) {
    if (!(err instanceof LimitReached)) throw err;
    state.problems.push(err.message);
  }
  return state.problems;
}

class LimitReached extends Error {}

function visit(node: unknown, scope: Scope, at: string, depth: number, state: State): void {
  if (++state.nodes > MAX_RULE_NODES) throw new LimitReached(`the rule has more than ${MAX_RULE_NODES} parts`);
  if (depth > MAX_RULE_DEPTH) throw new LimitReached(`the rule is nested deeper than ${MAX_RULE_DEPTH} levels at ${at}`);
  if (node === null || typeof node === "boolean" || typeof node === "string") return;
  if (typeof node === "number") {
    if (!Number.isFinite(node)) state.problems.push(`${at}: numbers must be finite`);
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((item, i) => visit(item, scope, `${at}[${i}]`, depth + 1, state));
    return;
  }
  if (typeof node !== "object" || ![Object.prototype, null].includes(Object.getPrototypeOf(node) as object | null)) {
    state.problems.push(`${at}: not JSON data`);
    return;
  }
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    state.problems.push(keys.length === 0
      ? `${at}: an empty object is not an operation; write {"operator": [arguments]}`
      : `${at}: an operation has exactly one key (the operator); found ${keys.length}: ${keys.map((k) => JSON.stringify(k)).join(", ")}`);
    return;
  }
  const op = keys[0] as string;
  const args: unknown = (node as Record<string, unknown>)[op];
  const here = `${at}${/^[A-Za-z_$][\w$]*$/.test(op) ? `.${op}` : `[${JSON.stringify(op)}]`}`;
  if (!ALLOWED.has(op)) {
    state.problems.push(`${at}: unknown operator ${JSON.stringify(op)}; conditions may use ${OPERATORS.join(" ")}`);
    return;
  }
  if (ITERATORS.has(op)) {
    if (!Array.isArray(args) || args.length !== 2) {
      state.problems.push(`${here}: ${op} takes [array, rule applied to each item]`);
      return;
    }
    visit(args[0], scope, `${here}[0]`, depth + 1, state);
    visit(args[1], "item", `${here}[1]`, depth + 1, state);
    return;
  }
  if (PATH_OPERATORS.has(op)) {
    checkPathArgs(op, args, scope, here, depth, state);
    return;
  }
  visit(args, scope, here, depth + 1, state);
}

/** Literal paths are checked now; computed ones (an operation) are checked as rules, and again when read. */
function checkPathArgs(op: string, args: unknown, scope: Scope, here: string, depth: number, state: State): void {
  const list = Array.isArray(args) ? args : [args];
  const at = (i: number) => (Array.isArray(args) ? `${here}[${i}]` : here);
  const paths = (value: unknown, where: string) =>
    Array.isArray(value)
      ? value.forEach((p, j) => checkLiteralPath(p, scope, `${where}[${j}]`, depth + 2, state))
      : checkLiteralPath(value, scope, where, depth + 1, state);
  if (op === "var") {
    if (list.length > 2) state.problems.push(`${here}: var takes a path, or [path, default]`);
    if (list.length > 0) checkLiteralPath(list[0], scope, at(0), depth + 1, state);
    if (list.length > 1) visit(list[1], scope, at(1), depth + 1, state);
  } else if (op === "missing") {
    // Like json-logic-js: {"missing": [[paths]]} (e.g. from merge) or {"missing": [path, ...]}.
    if (Array.isArray(list[0])) paths(list[0], at(0));
    else list.forEach((p, i) => checkLiteralPath(p, scope, at(i), depth + 1, state));
  } else {
    if (!Array.isArray(args) || args.length !== 2) {
      state.problems.push(`${here}: missing_some takes [how many are needed, [paths]]`);
      return;
    }
    visit(args[0], scope, at(0), depth + 1, state);
    paths(args[1], at(1));
  }
}

function checkLiteralPath(path: unknown, scope: Scope, at: string, depth: number, state: State): void {
  if (typeof path === "number" && Number.isInteger(path) && path >= 0) path = String(path);
  if (path === null) path = "";
  if (typeof path !== "string") return visit(path, scope, at, depth, state);
  if (path === "") {
    if (scope === "context") state.problems.push(`${at}: an empty path (the current item) only makes sense inside ${[...ITERATORS].join("/")}`);
    return;
  }
  const parsed = parsePath(path);
  if (!parsed.ok) {
    state.problems.push(`${at}: "${path.slice(0, 120)}" is not a valid path: ${parsed.reason}`);
    return;
  }
  const root = parsed.segments[0]?.key ?? "";
  if (scope === "context" && !isRoot(root)) {
    state.problems.push(`${at}: unknown root "${root}" in "${path.slice(0, 120)}"; a path starts with ${ROOTS.join(", ")}`);
  }
}
