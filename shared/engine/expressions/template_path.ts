// The data-path grammar shared by templates (`{{ trigger.payload.x }}`) and
// condition `var`s, and the one function that reads a path out of the run
// context. Paths only read data: no calls, no expressions, only own data
// properties, never a getter, never the prototype chain.
//
//   path    := name ( "." name | "[" index "]" | "[" quoted "]" )*
//   name    := letters, digits, "_", "$", "-" (Unicode letters allowed)
//   index   := 0 | [1-9][0-9]*
//   quoted  := "..." or '...' (backslash escapes the quote and itself)
//
// `steps.0.output` and `steps[0].output` are the same path: every segment is
// a string key, and a canonical integer key indexes an array.

/** The only names a template path may start with (the run context's keys). */
export const ROOTS = ["trigger", "steps", "run", "automation", "org"] as const;
export type Root = (typeof ROOTS)[number];

/** Keys that lead to JavaScript internals rather than data: refused everywhere. */
const BLOCKED = new Set(["__proto__", "constructor", "prototype"]);

export interface PathSegment {
  key: string;
  /** Offset in the path text just after this segment, to quote the prefix in messages. */
  end: number;
}

export type PathParse =
  | { ok: true; segments: PathSegment[] }
  | { ok: false; reason: string };

const NAME = /[\p{L}\p{M}\p{N}_$-]+/uy;
const INDEX = /(?:0|[1-9][0-9]*)\]/y;
const CANONICAL_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** Parses a path (already trimmed). Returns a reason instead of throwing so each caller words its own error. */
export function parsePath(text: string): PathParse {
  if (text === "") return { ok: false, reason: "empty path" };
  const segments: PathSegment[] = [];
  let pos = 0;
  const fail = (reason: string): PathParse => ({ ok: false, reason });
  // What came before a problem, quoted; only its end if long, so a message stays readable.
  const before = (end: number) => `"${end > 60 ? `...${text.slice(end - 57, end)}` : text.slice(0, end)}"`;
  const name = (): string | undefined => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) return undefined;
    pos = NAME.lastIndex;
    return m[0];
  };

  const first = name();
  if (first === undefined) return fail(`a path starts with a name, not ${quoteChar(text, 0)}`);
  segments.push({ key: first, end: pos });
  while (pos < text.length) {
    const c = text[pos];
    if (c === ".") {
      pos++;
      const key = name();
      if (key === undefined) return fail(`expected a name after ${before(pos)}`);
      segments.push({ key, end: pos });
    } else if (c === "[") {
      const prefix = before(pos);
      const bracket = before(pos + 1);
      pos++;
      const quote = text[pos];
      if (quote === '"' || quote === "'") {
        const read = readQuoted(text, pos);
        if (typeof read === "string") return fail(`${read} after ${bracket}`);
        pos = read.next;
        if (text[pos] !== "]") return fail(`expected "]" after the quoted key in ${before(pos)}`);
        pos++;
        segments.push({ key: read.key, end: pos });
      } else {
        INDEX.lastIndex = pos;
        const m = INDEX.exec(text);
        if (!m) return fail(`expected a position like [0] or a quoted key like ["a b"] after ${prefix}`);
        pos = INDEX.lastIndex;
        segments.push({ key: m[0].slice(0, -1), end: pos });
      }
    } else {
      return fail(`unexpected ${quoteChar(text, pos)} after ${before(pos)}`);
    }
  }
  for (const s of segments) {
    if (BLOCKED.has(s.key)) return fail(`"${s.key}" cannot be used in a path (it names JavaScript internals, not data)`);
  }
  return { ok: true, segments };
}

function readQuoted(text: string, start: number): { key: string; next: number } | string {
  const quote = text[start];
  let key = "";
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === quote) return { key, next: i + 1 };
    if (c === "\\") {
      const n = text[i + 1];
      if (n !== quote && n !== "\\") return "only \\\\ and an escaped quote are allowed in a quoted key";
      key += n;
      i++;
    } else {
      key += c;
    }
  }
  return "unclosed quoted key";
}

function quoteChar(text: string, pos: number): string {
  const cp = text.codePointAt(pos);
  return cp === undefined ? "the end" : JSON.stringify(String.fromCodePoint(cp));
}

export function isRoot(key: string): key is Root {
  return (ROOTS as readonly string[]).includes(key);
}

export type Lookup =
  | { found: true; value: unknown }
  | { found: false; index: number; why?: string };

/**
 * Reads `keys` from `start`. Only own data properties of plain objects and
 * in-range canonical indexes of arrays count; a getter is never invoked and
 * nothing is read from a prototype. On a miss, `index` is the first key that
 * could not be read and `why` says what stood in the way, if not a plain absence.
 */
export function lookupPath(start: unknown, keys: readonly string[]): Lookup {
  let current = start;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (BLOCKED.has(key)) return { found: false, index: i, why: "that key is not allowed" };
    if (Array.isArray(current)) {
      if (!CANONICAL_INDEX.test(key)) return { found: false, index: i, why: "an array; use a position like [0]" };
      if (Number(key) >= current.length) {
        return { found: false, index: i, why: `an array of ${current.length} item${current.length === 1 ? "" : "s"}` };
      }
    } else if (current === null || typeof current !== "object") {
      return { found: false, index: i, why: describe(current) };
    }
    const desc = Object.getOwnPropertyDescriptor(current, key);
    if (!desc || !("value" in desc) || desc.value === undefined) return { found: false, index: i };
    current = desc.value;
  }
  return { found: true, value: current };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return `a ${typeof value}`;
}
