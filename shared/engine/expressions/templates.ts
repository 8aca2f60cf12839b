// Resolves `{{ path }}` placeholders in an action config against the run
// context. Every string anywhere in the config (objects, arrays, nested) is a
// template; object keys are not. No code runs: a placeholder is a data path
// (template_path.ts), read with own-property lookups only.
//
// Value rules (see docs in the report / engine README):
// - A string that is exactly one placeholder ("{{ x }}", nothing around the
//   braces) becomes the value itself, keeping its JSON type; objects and
//   arrays are copied so an action cannot change the context it came from.
// - A placeholder inside longer text is stringified: strings as they are,
//   numbers and booleans via String(), null as "" (as Mustache/Handlebars do),
//   objects and arrays as JSON.
// - A missing path is a TemplateError, or with `{ missing: "empty" }` the
//   whole value becomes null and an embedded placeholder "".
// - Output budget: the placeholders of one config may produce at most
//   `maxOutput` characters in total, counted as the JSON length of each whole
//   value and the length of each embedded rendering. Counted before a value is
//   copied, so 1,000 copies of a 50 KB payload stop at the 21st (1 MiB), not
//   after 50 MB of copies.
import {
  isWholePlaceholder,
  MAX_PLACEHOLDERS,
  type Placeholder,
  scanTemplate,
  show,
  TemplateError,
  type TemplatePart,
} from "./template_scan.ts";
import { lookupPath } from "./template_path.ts";

export { MAX_PLACEHOLDERS, MAX_TEMPLATE_LENGTH, TemplateError } from "./template_scan.ts";
export type { TemplateErrorCode } from "./template_scan.ts";

/**
 * What templates (and conditions) can read; the engine builds it per step.
 * Only the fields the engine always fills are named; any other field of these
 * objects is readable too (e.g. run.attempt, steps.x.status).
 */
export interface TemplateContext {
  trigger: { type?: string | null; payload: unknown };
  /** Earlier steps, each under its name (if any) and its 0-based position as a string. */
  steps: Record<string, { output: unknown }>;
  run: { id: string };
  automation: { id: string; name?: string };
  org: { id: string };
}

export interface ResolveOptions {
  /** "error" (default): a missing path fails the step. "empty": it renders as null / "". */
  missing?: "error" | "empty";
  /** Most characters all placeholders of the config may produce together (default DEFAULT_TEMPLATE_OUTPUT). */
  maxOutput?: number;
  /**
   * Dry runs (shared/engine/dry_run.ts): a value for a placeholder that has
   * none yet (an earlier step's output). Returning undefined reads the context.
   */
  standIn?: (keys: readonly string[]) => unknown;
}

export interface TemplateProblem {
  /** Where in the config, JSONPath-like: `$.body.items[0]`. */
  path: string;
  message: string;
}

export interface TemplateReference {
  path: string;
  placeholder: string;
  /** The data path as keys, root first: ["steps", "fetch", "output", "id"]. */
  keys: string[];
  /** True when the placeholder is the whole string (its value keeps its JSON type). */
  whole: boolean;
}

/** Longest string an embedded substitution may produce: bounds memory per string. */
export const MAX_RESOLVED_LENGTH = 1_000_000;
/** Deepest nesting of objects/arrays walked in a config: bounds recursion. */
export const MAX_CONFIG_DEPTH = 64;
/** Default output budget of one config (1 MiB of JSON); operators set it with AUTOMATIONS_TEMPLATE_MAX_OUTPUT. */
export const DEFAULT_TEMPLATE_OUTPUT = 1_048_576;

/** Returns a copy of `config` with every placeholder resolved. Throws TemplateError. */
export function resolveTemplates(config: unknown, context: TemplateContext, options: ResolveOptions = {}): unknown {
  let count = 0;
  const budget = options.maxOutput ?? DEFAULT_TEMPLATE_OUTPUT;
  let produced = 0;
  let resolved = 0;
  const charge = (chars: number, path: string, p: Placeholder) => {
    produced += chars;
    resolved++;
    if (produced > budget) {
      throw new TemplateError(
        "template_limit",
        `the placeholders of this config would produce more than ${budget} characters (reached at ${path}, ` +
          `placeholder #${resolved}, ${show(p.source)}); reference smaller values, or fewer copies of a large one`,
        path,
        p.source,
      );
    }
  };
  return mapStrings(config, "$", 0, (text, path) => {
    const parts = scanTemplate(text, path);
    for (const p of parts) {
      if (typeof p !== "string" && ++count > MAX_PLACEHOLDERS) throw tooMany(path);
    }
    if (isWholePlaceholder(parts, text)) {
      const value = read(parts[0], context, options, path);
      charge(jsonLength(value), path, parts[0]);
      return value !== null && typeof value === "object" ? structuredClone(value) : value;
    }
    let out = "";
    for (const p of parts) {
      const piece = typeof p === "string" ? p : toText(read(p, context, options, path));
      if (out.length + piece.length > MAX_RESOLVED_LENGTH) {
        throw new TemplateError(
          "template_limit",
          `the string at ${path} would be longer than ${MAX_RESOLVED_LENGTH} characters once resolved; ` +
            `reference a smaller value or pass the object as a whole value ("{{ ... }}" alone)`,
          path,
        );
      }
      if (typeof p !== "string") charge(piece.length, path, p);
      out += piece;
    }
    return out;
  });
}

/**
 * Lists every placeholder in a config without resolving it, and every problem
 * found on the way (syntax, unknown root, limits). Used at save time.
 */
export function parseTemplates(value: unknown): { references: TemplateReference[]; problems: TemplateProblem[] } {
  const references: TemplateReference[] = [];
  const problems: TemplateProblem[] = [];
  try {
    mapStrings(value, "$", 0, (text, path) => {
      let parts: TemplatePart[];
      try {
        parts = scanTemplate(text, path);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        problems.push({ path, message: err.message });
        return text;
      }
      const whole = isWholePlaceholder(parts, text);
      for (const p of parts) {
        if (typeof p === "string") continue;
        if (references.length >= MAX_PLACEHOLDERS) throw tooMany(path);
        references.push({ path, placeholder: p.source, keys: p.keys, whole });
      }
      return text;
    });
  } catch (err) {
    // The placeholder count and depth limits stop the walk: past them the
    // config is rejected as a whole. Per-string problems were collected above.
    if (!(err instanceof TemplateError)) throw err;
    problems.push({ path: err.configPath, message: err.message });
  }
  return { references, problems };
}

/**
 * Save-time check of a config's templates. With `steps` (the names and
 * positions, as strings, of the steps that run before this action), a
 * reference to any other step is reported too.
 */
export function findTemplateErrors(config: unknown, options: { steps?: readonly string[] } = {}): TemplateProblem[] {
  const { references, problems } = parseTemplates(config);
  if (options.steps) {
    const known = new Set(options.steps);
    for (const ref of references) {
      const step = ref.keys[1];
      if (ref.keys[0] === "steps" && step !== undefined && !known.has(step)) {
        problems.push({ path: ref.path, message: `${show(ref.placeholder)}: no earlier step is named or numbered "${step}"` });
      }
    }
  }
  return problems;
}

function read(p: Placeholder, context: TemplateContext, options: ResolveOptions, configPath: string): unknown {
  const standIn = options.standIn?.(p.keys);
  if (standIn !== undefined) return standIn;
  const hit = lookupPath(context, p.keys);
  if (hit.found) return hit.value;
  if (options.missing === "empty") return null;
  const key = JSON.stringify(p.keys[hit.index]);
  const parent = hit.index === 0 ? "the context" : p.pathText.slice(0, p.ends[hit.index - 1]);
  const why = hit.why ? ` (${parent} is ${hit.why})` : "";
  throw new TemplateError(
    "template_missing",
    `${show(p.source)}: ${key} is not present in ${parent}${why}`,
    configPath,
    p.source,
  );
}

const bigintAsText = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** Characters of a whole value as JSON, what it weighs in the step's input. */
function jsonLength(value: unknown): number {
  return (JSON.stringify(value, bigintAsText) ?? "").length;
}

/** Embedded rendering. null/undefined → "" so "Hi {{x}}" never reads "Hi null". */
function toText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, bigintAsText) ?? "";
}

function tooMany(path: string): TemplateError {
  return new TemplateError(
    "template_limit",
    `too many placeholders: a config may hold at most ${MAX_PLACEHOLDERS} (limit reached at ${path})`,
    path,
  );
}

/**
 * Rebuilds `value` with every string passed through `fn`. New objects are made
 * with Object.fromEntries, which defines keys, so a "__proto__" key in the
 * config stays an ordinary key and never replaces a prototype.
 */
function mapStrings(value: unknown, path: string, depth: number, fn: (text: string, path: string) => unknown): unknown {
  if (typeof value === "string") return fn(value, path);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_CONFIG_DEPTH) {
    throw new TemplateError("template_limit", `the config is nested deeper than ${MAX_CONFIG_DEPTH} levels at ${path}`, path);
  }
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, `${path}[${i}]`, depth + 1, fn));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, mapStrings(v, `${path}${keyPath(k)}`, depth + 1, fn)]),
  );
}

function keyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
