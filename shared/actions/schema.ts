// Zod helpers shared by the action config schemas.
//
// Configs are validated twice with the same schema: when the automation is
// saved (templates still unresolved) and at run time (after resolution). A
// value that is only a placeholder, e.g. `"{{trigger.payload.amount}}"`, keeps
// its JSON type when resolved, so at save time a number/boolean/object field
// must also accept such a string. `templated()` expresses exactly that, and
// `resolved()` lets execute() narrow the value back once templates are gone.
import { z } from "zod";
import { ActionError } from "../engine/action_contract.ts";

/**
 * A string that is exactly one template placeholder and nothing else, not even
 * whitespace: the only strings templates resolve to a non-string JSON value.
 */
export const PLACEHOLDER_RE = /^\{\{(?:(?!\}\}).)*\}\}$/s;
const CONTAINS_PLACEHOLDER_RE = /\{\{.*?\}\}/s;

export const placeholder = z
  .string()
  .regex(PLACEHOLDER_RE, "expected a {{...}} placeholder")
  .brand<"Placeholder">();
export type Placeholder = z.infer<typeof placeholder>;

/**
 * `schema`, or a whole-value placeholder that resolves to it at run time.
 * Not a z.union: a union reports "expected a placeholder" for `"abc"` where a
 * number was expected; this reports the schema's own problem.
 */
export function templated<T extends z.ZodType>(schema: T) {
  return z.unknown().transform((value, ctx): z.output<T> | Placeholder => {
    if (isPlaceholder(value)) return value;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: "custom", message: `${issue.message} (or a {{...}} placeholder)`, path: issue.path });
    }
    return z.NEVER;
  });
}

export function isPlaceholder(v: unknown): v is Placeholder {
  return typeof v === "string" && PLACEHOLDER_RE.test(v);
}

/** True when a string has a placeholder anywhere (`"Hi {{trigger.payload.name}}"`). */
export function hasPlaceholder(v: string): boolean {
  return CONTAINS_PLACEHOLDER_RE.test(v);
}

/**
 * A string that must satisfy `check` once resolved; strings that still
 * contain a placeholder are accepted because their final text is unknown.
 */
export function templatedString(check: (s: string) => boolean, message: string) {
  return z.string().refine((s) => hasPlaceholder(s) || check(s), { message });
}

/**
 * At run time templates are resolved, so a placeholder here means the engine
 * called execute() with an unresolved config: a bug, reported as such.
 */
export function resolved<T>(value: T, field: string): Exclude<T, Placeholder> {
  if (isPlaceholder(value)) {
    throw new ActionError(
      "unresolved_template",
      `${field} is still the placeholder ${JSON.stringify(value)}: templates must be resolved before the action runs`,
    );
  }
  return value as Exclude<T, Placeholder>;
}

/** Zod issues as `path: message` lines for users. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

/** Parse a config at run time; a mismatch is a non-retryable step error. */
export function parseConfig<C>(type: string, schema: z.ZodType<C>, config: unknown): C {
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    throw new ActionError("invalid_config", `invalid ${type} config: ${formatIssues(parsed.error).join("; ")}`);
  }
  return parsed.data;
}
