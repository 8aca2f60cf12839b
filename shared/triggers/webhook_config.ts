// The webhook trigger's own settings beyond content_types / max_body_bytes:
//   verify   {"scheme": "<name>", ...options}: how deliveries are authenticated
//            (shared/triggers/verify); absent = standard (Standard Webhooks).
//   headers  request headers copied into trigger.headers, on top of the
//            scheme's event and id headers.
//   filter   a JsonLogic rule over {payload, headers}; a delivery it rejects
//            is answered 202 {"skipped": true} and starts no run.
// Checked by hand rather than with zod so each message says what is allowed,
// in the same words as the database (automations_engine.webhook_config_problems).
import { filterProblems, type FilterProblem } from "./filter.ts";
import type { Algorithm } from "./verify/common.ts";
import type { HmacOptions } from "./verify/hmac.ts";
import type { TokenOptions } from "./verify/token.ts";

export const VERIFY_SCHEMES = ["standard", "github", "stripe", "slack", "shopify", "twilio", "hmac", "token"] as const;
export type VerifySchemeName = (typeof VERIFY_SCHEMES)[number];

/** The option keys each scheme accepts (besides "scheme"). */
export const VERIFY_OPTIONS: Record<VerifySchemeName, readonly string[]> = {
  standard: [],
  github: [],
  stripe: ["tolerance_seconds"],
  slack: [],
  shopify: [],
  twilio: ["public_url"],
  hmac: ["header", "algorithm", "encoding", "prefix", "timestamp_header", "signed", "tolerance_seconds", "id_header"],
  token: ["header", "query", "id_header"],
};

export type VerifyConfig =
  | { scheme: "standard" | "github" | "slack" | "shopify" }
  | { scheme: "stripe"; tolerance_seconds?: number }
  | { scheme: "twilio"; public_url: string }
  | ({ scheme: "hmac" } & HmacOptions)
  | ({ scheme: "token" } & TokenOptions);

export const WEBHOOK_FILTER_ROOTS = ["payload", "headers"] as const;
export const MAX_CAPTURED_HEADERS = 20;
export const HEADER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const QUERY_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const HEADER_NAME_MSG = "must be a header name (letters, digits and - _ .)";
const ALGORITHMS: readonly Algorithm[] = ["sha1", "sha256", "sha512"];
const PLACEHOLDERS = ["body", "timestamp", "id"];

const quoted = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(", ");

/** How a wrong value reads in a message (as config.ts and json_shown render it). */
function shown(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function integerProblem(v: unknown, min: number, max: number): string | null {
  if (typeof v !== "number") return `must be a number, got ${shown(v)}`;
  if (!Number.isInteger(v)) return `must be an integer, got ${shown(v)}`;
  if (v < min) return `must be at least ${min}`;
  if (v > max) return `must be at most ${max}`;
  return null;
}

function signedProblem(t: string, o: Record<string, unknown>): string | null {
  if (t.length > 200) return "must be at most 200 characters";
  for (const m of t.matchAll(/\{([^{}]*)\}/g)) {
    if (!PLACEHOLDERS.includes(m[1]!)) return `unknown placeholder {${m[1]}} (allowed: {body}, {timestamp}, {id})`;
  }
  if (!t.includes("{body}")) return "must contain {body}";
  if (t.includes("{timestamp}") && o.timestamp_header === undefined) return "{timestamp} needs timestamp_header";
  if (t.includes("{id}") && o.id_header === undefined) return "{id} needs id_header";
  return null;
}

/** Problems of one option value, or null. */
function optionProblem(key: string, v: unknown, o: Record<string, unknown>): string | null {
  switch (key) {
    case "tolerance_seconds":
      return integerProblem(v, 1, 86400) ?? (o.scheme === "hmac" && o.timestamp_header === undefined ? "applies only with timestamp_header" : null);
    case "header":
    case "timestamp_header":
    case "id_header":
      return typeof v !== "string" ? `must be a string, got ${shown(v)}` : HEADER_NAME_RE.test(v) ? null : HEADER_NAME_MSG;
    case "query":
      return typeof v !== "string" ? `must be a string, got ${shown(v)}` : QUERY_NAME_RE.test(v) ? null : "must be a query parameter name (letters, digits and - _ .)";
    case "public_url":
      return typeof v !== "string" ? `must be a string, got ${shown(v)}` : /^https?:\/\/[^\s/?#]+\S*$/i.test(v) ? null : "must be an absolute http:// or https:// URL";
    case "algorithm":
      return typeof v === "string" && (ALGORITHMS as readonly string[]).includes(v) ? null : `must be one of ${quoted(ALGORITHMS)}; got ${shown(v)}`;
    case "encoding":
      return v === "hex" || v === "base64" ? null : `must be one of "hex", "base64"; got ${shown(v)}`;
    case "prefix":
      return typeof v !== "string" ? `must be a string, got ${shown(v)}` : v.length > 64 ? "must be at most 64 characters" : null;
    case "signed":
      return typeof v !== "string" ? `must be a string, got ${shown(v)}` : signedProblem(v, o);
  }
  return null;
}

export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

export function verifyProblems(v: unknown): ConfigProblem[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [{ path: ["verify"], message: `must be an object, got ${shown(v)}` }];
  const o = v as Record<string, unknown>;
  const scheme = o.scheme;
  if (scheme === undefined) return [{ path: ["verify", "scheme"], message: `is required (one of ${quoted(VERIFY_SCHEMES)})` }];
  if (typeof scheme !== "string" || !(VERIFY_SCHEMES as readonly string[]).includes(scheme)) {
    return [{ path: ["verify", "scheme"], message: `must be one of ${quoted(VERIFY_SCHEMES)}; got ${shown(scheme)}` }];
  }
  const allowed = VERIFY_OPTIONS[scheme as VerifySchemeName];
  const out: ConfigProblem[] = [];
  const unknown = Object.keys(o).filter((k) => k !== "scheme" && !allowed.includes(k));
  if (unknown.length > 0) {
    out.push({ path: ["verify"], message: `${unknown.map((k) => `unknown key "${k}"`).join(", ")} (allowed for ${scheme}: ${["scheme", ...allowed].join(", ")})` });
  }
  for (const key of allowed) {
    if (o[key] === undefined) continue;
    const p = optionProblem(key, o[key], o);
    if (p) out.push({ path: ["verify", key], message: p });
  }
  if (scheme === "twilio" && o.public_url === undefined) {
    out.push({ path: ["verify", "public_url"], message: "is required (the URL Twilio calls, exactly as configured in Twilio)" });
  }
  if (scheme === "hmac" && o.header === undefined) out.push({ path: ["verify", "header"], message: "is required (the header that carries the signature)" });
  if (scheme === "token" && (o.header === undefined) === (o.query === undefined)) {
    out.push({ path: ["verify"], message: `give exactly one of "header" or "query"` });
  }
  return out;
}

export function headersProblems(v: unknown): ConfigProblem[] {
  if (!Array.isArray(v)) return [{ path: ["headers"], message: `must be an array, got ${shown(v)}` }];
  if (v.length > MAX_CAPTURED_HEADERS) return [{ path: ["headers"], message: `must have at most ${MAX_CAPTURED_HEADERS} items` }];
  return v.flatMap((h, i) => (typeof h === "string" && HEADER_NAME_RE.test(h) ? [] : [{ path: ["headers", i], message: HEADER_NAME_MSG }]));
}

export function webhookFilterProblems(v: unknown): FilterProblem[] {
  return filterProblems(v, false, WEBHOOK_FILTER_ROOTS).map((p) => ({ path: ["filter", ...p.path], message: p.message }));
}
