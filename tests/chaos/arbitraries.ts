// fast-check arbitraries shared by the fuzz suites: strings full of SQL
// metacharacters and encoding edge cases, JSON built from them, very deep
// JSON, random bytes. Not a test file.
import fc from "fast-check";

/** Fragments that break naive SQL, JSON, templates or text encodings. */
export const NASTY = [
  "'", "''", '"', ";", "--", "/*", "*/", "\\", "\\\\", "%", "_", "$1", "$$", "$tag$", "::jsonb", "::text",
  "'; drop table public.automation_runs; --", "' or '1'='1", "\") or 1=1 --", "E'\\x00'", "\\x00",
  "\u0000", "\ud800", "\udfff", "\u202e", "\ufeff", "\u2028", "😀", "a\u0301", "\r\n", "\t",
  "{{", "}}", "{{}}", "{{ trigger.payload.x }}", "{{trigger.payload}}", "{{steps.0.output}}", "{{steps..x}}",
  "{{__proto__}}", "{{constructor.prototype}}", "{{trigger.payload.a[0]}}", "{{{{x}}}}", "{{'; select 1; --}}",
  "__proto__", "constructor", "null", "undefined", "NaN", "-0", "1e309", "0x10", "true",
];

export const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.tuple(fc.string(), fc.constantFrom(...NASTY), fc.string()).map((p) => p.join("")) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(300), "é".repeat(5000)) },
);

/** JSON-able values whose strings (and keys) are nasty. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    nastyString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(nastyString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Text of JSON nested `depth` levels deep (arrays or objects). */
export function deepJson(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/**
 * JSON text kept as text: deep values are never built as objects in the test
 * itself (JSON.stringify, and fast-check printing a counterexample, would
 * overflow the stack first).
 */
export class RawJson {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `RawJson(${this.text.slice(0, 20)}… ${this.text.length} chars)`;
  }
}

/** JSON text of a value; RawJson as it is. */
export const jsonText = (v: unknown): string => (v instanceof RawJson ? v.text : (JSON.stringify(v) ?? "null"));

/** Deep JSON text, up to `max` levels (default 100,000). */
export const deepJsonTextUpTo = (max: number) =>
  fc
    .tuple(fc.constantFrom(...[65, 200, 1_000, 10_000, 100_000].filter((d) => d <= max)), fc.constantFrom<"array" | "object">("array", "object"))
    .map(([d, k]) => deepJson(d, k));
export const deepJsonText = deepJsonTextUpTo(100_000);

/** Request bodies: random bytes, nasty text, JSON (valid, truncated, deep), form-encoded. */
export const bodyBytes: fc.Arbitrary<Uint8Array<ArrayBuffer>> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => new Uint8Array(b)),
  nastyString.map((s) => new TextEncoder().encode(s)),
  nastyJson.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "")),
  nastyJson.map((v) => new TextEncoder().encode(JSON.stringify({ data: v }))),
  nastyJson.map((v) => new TextEncoder().encode((JSON.stringify(v) ?? "").slice(0, -1))),
  deepJsonText.map((s) => new TextEncoder().encode(s)),
  fc.dictionary(nastyString, nastyString, { maxKeys: 4 }).map((d) => new TextEncoder().encode(new URLSearchParams(d).toString())),
);

export const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "application/x-www-form-urlencoded", "text/plain", "", "application/json; charset=utf-16", "APPLICATION/JSON",
      "application/cloudevents+json", "multipart/form-data; boundary=x", "application/xml", "application/json;;;", "*/*",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)) },
);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Extra headers with valid names and printable ASCII values (what a Request can carry). */
export const oddHeaders = fc.dictionary(
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }).filter((s) => TOKEN.test(s) && !/^(content-type|host|content-length|transfer-encoding|connection)$/i.test(s)),
  fc.string({ unit: "grapheme-ascii", maxLength: 100 }).map((s) => s.replace(/[^\x20-\x7e]/g, "").trim()),
  { maxKeys: 4 },
);

/** PostgREST's HTTP status for a SQLSTATE (docs.postgrest.org, "HTTP Status Codes"). */
export function postgrestStatus(code: string): number {
  if (code.startsWith("08")) return 503;
  if (code === "23503" || code === "23505") return 409;
  if (code === "25006") return 405;
  if (code === "53400") return 500;
  if (code.startsWith("53")) return 503;
  if (code === "P0001") return 400;
  if (code === "42883" || code === "42P01") return 404;
  if (code === "42501") return 403;
  if (code === "42P17") return 500;
  if (["0L", "0P", "28"].some((c) => code.startsWith(c))) return 403;
  if (["09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX"].some((c) => code.startsWith(c))) return 500;
  return 400;
}
