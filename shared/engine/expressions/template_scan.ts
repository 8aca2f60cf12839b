// Splits one config string into literal text and placeholders, enforcing the
// syntax and the size limits. Kept apart from resolution so that save-time
// validation (no context) and run-time resolution parse exactly alike.
//
// Syntax decisions:
// - `{{ path }}`: whitespace inside the braces is ignored; the path grammar is in template_path.ts.
// - `\{{` is a literal `{{` (the backslash is dropped); `\\{{ x }}` is a literal `\`
//   followed by a placeholder (as in Handlebars). Other backslashes are literal.
//   In JSON a backslash is itself escaped: write "\\{{" to get a literal "{{".
// - An unclosed `{{` is an error rather than literal text: a typo there would
//   otherwise silently send `{{customer.name` to a customer.
// - A stray `}}` outside a placeholder is literal text.
import { isRoot, parsePath, ROOTS } from "./template_path.ts";

/** Longest string that may contain placeholders: bounds the scan. */
export const MAX_TEMPLATE_LENGTH = 100_000;
/** Most placeholders in one action config: bounds resolution work and output size. */
export const MAX_PLACEHOLDERS = 1_000;

export type TemplateErrorCode = "template_syntax" | "template_missing" | "template_limit";

/**
 * A template that cannot be parsed or resolved. Never retryable: the config or
 * the data has to change. `configPath` is where in the config (JSONPath-like,
 * `$.body.items[0]`) the offending string is; `placeholder` is as written.
 */
export class TemplateError extends Error {
  readonly code: TemplateErrorCode;
  readonly configPath: string;
  readonly placeholder: string | undefined;
  constructor(code: TemplateErrorCode, message: string, configPath = "$", placeholder?: string) {
    super(message);
    this.name = "TemplateError";
    this.code = code;
    this.configPath = configPath;
    this.placeholder = placeholder;
  }
}

export interface Placeholder {
  /** The placeholder exactly as written, braces included. */
  source: string;
  /** The trimmed path text, used to quote prefixes in messages. */
  pathText: string;
  keys: string[];
  /** Offsets in pathText after each key (see PathSegment.end). */
  ends: number[];
}

export type TemplatePart = string | Placeholder;

/** Quotes a placeholder for a message, cut short so a huge one cannot flood logs. */
export function show(source: string): string {
  return source.length > 120 ? `${source.slice(0, 117)}...` : source;
}

/**
 * Parses `text` into parts. Literal runs are merged; a string without
 * placeholders comes back as one literal part (or none when empty).
 * Throws TemplateError (code template_syntax or template_limit).
 */
export function scanTemplate(text: string, configPath = "$"): TemplatePart[] {
  if (!text.includes("{{")) return text === "" ? [] : [text];
  if (text.length > MAX_TEMPLATE_LENGTH) {
    throw new TemplateError(
      "template_limit",
      `a string with placeholders may be at most ${MAX_TEMPLATE_LENGTH} characters; this one has ${text.length}`,
      configPath,
    );
  }
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) {
      literal += text.slice(i);
      break;
    }
    if (open > i && text[open - 1] === "\\") {
      if (open - 1 > i && text[open - 2] === "\\") {
        literal += text.slice(i, open - 1); // `\\{{`: keep one backslash, then a placeholder
      } else {
        literal += text.slice(i, open - 1) + "{{"; // `\{{`: literal braces
        i = open + 2;
        continue;
      }
    } else {
      literal += text.slice(i, open);
    }
    const close = text.indexOf("}}", open + 2);
    if (close < 0) {
      throw new TemplateError(
        "template_syntax",
        `${show(text.slice(open, open + 40))}: unclosed placeholder; close it with }} or write \\{{ for literal braces`,
        configPath,
        text.slice(open),
      );
    }
    const source = text.slice(open, close + 2);
    parts.push(...(literal ? [literal] : []), parsePlaceholder(source, configPath));
    literal = "";
    i = close + 2;
  }
  if (literal) parts.push(literal);
  return parts;
}

function parsePlaceholder(source: string, configPath: string): Placeholder {
  const pathText = source.slice(2, -2).trim();
  const fail = (message: string) =>
    new TemplateError("template_syntax", `${show(source)}: ${message}`, configPath, source);
  if (pathText === "") throw fail("empty placeholder; write a path such as {{trigger.payload.id}}");
  const parsed = parsePath(pathText);
  if (!parsed.ok) {
    throw fail(`"${show(pathText)}" is not a valid path: ${parsed.reason}. Templates only read data ` +
      `(e.g. trigger.payload.items[0].name); they do not call functions or compute expressions`);
  }
  const root = parsed.segments[0]?.key ?? "";
  if (!isRoot(root)) {
    throw fail(`unknown root "${root}"; a path starts with ${ROOTS.join(", ")}`);
  }
  return {
    source,
    pathText,
    keys: parsed.segments.map((s) => s.key),
    ends: parsed.segments.map((s) => s.end),
  };
}

/** True when the whole string is one placeholder (no text or whitespace around the braces). */
export function isWholePlaceholder(parts: readonly TemplatePart[], text: string): parts is [Placeholder] {
  const only = parts[0];
  return parts.length === 1 && only !== undefined && typeof only !== "string" && only.source === text;
}
