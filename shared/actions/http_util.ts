// What the HTTP-calling actions (webhook, send_email) share: safeFetch with
// its failures as step errors, turning a response into a small, storable
// output, and a non-2xx status into an ActionError with the right retry
// decision.
import { ActionError } from "../engine/action_contract.ts";
import { OutboundRequestError } from "../http/outbound_error.ts";
import { safeFetch, type SafeFetchInit, type SafeFetchOptions, type SafeResponse } from "../http/safe_fetch.ts";

/**
 * safeFetch for an action: the HTTP layer's OutboundRequestError (refused
 * address, bad URL, DNS, redirects, size, timeout, connection) becomes the
 * ActionError the engine classifies, with the same code, message and retry
 * decision. The one place the two error types meet.
 */
export async function actionFetch(input: string | URL, init: SafeFetchInit, opts: SafeFetchOptions): Promise<SafeResponse> {
  try {
    return await safeFetch(input, init, opts);
  } catch (e) {
    if (e instanceof OutboundRequestError) {
      throw new ActionError(e.code, e.message, { retryable: e.retryable, retryAfterMs: e.retryAfterMs, cause: e });
    }
    throw e;
  }
}

/** Response headers worth keeping in run history; the rest is noise. */
const KEPT_HEADERS = ["content-type", "location", "retry-after", "request-id", "x-request-id", "etag"];

export function selectHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = headers.get(name);
    if (v !== null) out[name] = v.length > 500 ? v.slice(0, 500) : v;
  }
  return out;
}

export function isJsonContentType(ct: string | null): boolean {
  if (!ct) return false;
  const mime = ct.split(";")[0]!.trim().toLowerCase();
  return mime === "application/json" || mime.endsWith("+json");
}

/** The body as JSON when the server says it is JSON (and it parses), else text; empty → null. */
export function parseBody(res: SafeResponse): unknown {
  const text = res.text();
  if (text === "") return null;
  if (isJsonContentType(res.headers.get("content-type"))) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // A server mislabelling text as JSON should not fail the step.
    }
  }
  return text;
}

/** Statuses where the same request may succeed later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Retry-After as milliseconds from `now` (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: Date): number | undefined {
  const v = headers.get("retry-after")?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

export function snippet(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** A non-2xx answer as a step error: status, a body excerpt, and whether to retry. */
export function statusError(who: string, res: SafeResponse, now: Date): ActionError {
  const body = snippet(res.text());
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  const retryable = isRetryableStatus(res.status);
  const hint = retryable ? "will retry" : "fix the request or the receiver; not retried";
  return new ActionError(
    "http_status",
    `${who} responded ${status}${body ? `: ${body}` : ""} (${hint})`,
    { retryable, retryAfterMs: retryable ? retryAfterMs(res.headers, now) : undefined },
  );
}

// Header names whose values are credentials: a dry run never prints them.
const CREDENTIAL_HEADER = /^(?:authorization|proxy-authorization|cookie)$|token|secret|password|passwd|api[-_]?key|signature|session|auth/i;

/** Header values that are credentials replaced by `mask` (a dry run shows the request without them). */
export function redactHeaders(headers: Record<string, string>, mask: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, CREDENTIAL_HEADER.test(k) ? mask : v]));
}

const SLOT = "dry-run-redacted-slot";

/** A URL with its password and credential-named query values masked; other text as given. */
export function redactUrl(url: string, mask: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  if (u.password) {
    u.password = SLOT;
    changed = true;
  }
  for (const key of [...u.searchParams.keys()]) {
    if (CREDENTIAL_HEADER.test(key) || /^(?:key|sig|code)$/i.test(key)) {
      u.searchParams.set(key, SLOT);
      changed = true;
    }
  }
  // URL encodes the mask's angle quotes; swap a plain word in, then the mask.
  return changed ? u.toString().replaceAll(SLOT, mask) : url;
}
