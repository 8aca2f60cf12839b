// fetch for user-chosen URLs: SSRF check on the URL and on every redirect
// hop, one deadline for the whole exchange (all hops and the body), and a cap
// on the response size. Every failure is an OutboundRequestError whose
// `retryable` flag tells the caller whether trying again can help (the
// actions pass it on to the engine as an ActionError: actions/http_util.ts).
//
// DNS rebinding: each hop connects only to the addresses its check approved
// (pinned_fetch.ts), never to a second answer of the resolver. A fetch passed
// in options is used only if it is marked as honouring those pins
// (pinning(): test stand-ins); any other, such as the runtime's global fetch
// the actions carry, is replaced by pinnedFetch, so no caller can turn the
// pinning off by accident.
//
// Redirects: a cross-origin hop drops every header the caller set except
// content-type (when the body is sent again) and user-agent. API keys live in
// headers of any name (x-api-key, apikey, private-token, ...), so an
// allowlist of credential names would always miss one.
import type { Settings } from "../settings.ts";
import { OutboundRequestError } from "./outbound_error.ts";
import { isPinning, pinnedFetch, type PinnedInit } from "./pinned_fetch.ts";
import { checkUrl, type Resolver } from "./ssrf.ts";

export interface SafeFetchInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  /** A string, so it can be sent again on 307/308 redirects. */
  body?: string;
}

export interface SafeFetchOptions {
  settings: Settings;
  /** Used only when marked with pinning() (see above); otherwise pinnedFetch sends. */
  fetch?: typeof fetch;
  resolve?: Resolver;
  /** Shutdown / lease-lost signal from the engine. */
  signal?: AbortSignal;
  /** Deadline for the whole exchange; default settings.webhook.defaultTimeoutMs, capped at maxTimeoutMs. */
  timeoutMs?: number;
}

export interface SafeResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The final URL after redirects. */
  url: string;
  redirects: number;
  body: Uint8Array;
  text(): string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** The caller's headers that may follow a redirect to another origin: they describe, not authorise. */
const CROSS_ORIGIN_HEADERS = ["content-type", "user-agent"];

export async function safeFetch(
  input: string | URL,
  init: SafeFetchInit,
  opts: SafeFetchOptions,
): Promise<SafeResponse> {
  const limits = opts.settings.webhook;
  const timeoutMs = Math.min(opts.timeoutMs ?? limits.defaultTimeoutMs, limits.maxTimeoutMs);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const send = isPinning(opts.fetch) ? opts.fetch : pinnedFetch;
  const check = { allowPrivateNetwork: opts.settings.allowPrivateNetwork, resolve: opts.resolve };

  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  let headers = new Headers(init.headers);
  let { url, addresses } = await checkUrl(input, check);

  for (let redirects = 0; ; redirects++) {
    let res: Response;
    try {
      const request: PinnedInit = { method, headers, body, redirect: "manual", signal, pin: addresses };
      res = await send(url.toString(), request);
    } catch (e) {
      throw transportError(e, url, timeout, opts.signal, timeoutMs);
    }
    const location = res.headers.get("location");
    if (!REDIRECT_STATUSES.has(res.status) || location === null) {
      let bytes: Uint8Array;
      try {
        bytes = await readCapped(res, limits.maxResponseBytes);
      } catch (e) {
        throw e instanceof OutboundRequestError ? e : transportError(e, url, timeout, opts.signal, timeoutMs);
      }
      return {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
        url: url.toString(),
        redirects,
        body: bytes,
        text: () => new TextDecoder().decode(bytes),
      };
    }

    await res.body?.cancel().catch(() => {});
    if (redirects >= limits.maxRedirects) {
      throw new OutboundRequestError("too_many_redirects", `stopped after ${limits.maxRedirects} redirects (last from ${url.origin})`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new OutboundRequestError("invalid_redirect", `${url.origin} redirected to an invalid URL ${JSON.stringify(location)}`);
    }
    // The redirect target is checked exactly like the first URL, before any
    // packet is sent to it, and its connection is pinned the same way.
    let nextAddresses: typeof addresses;
    try {
      ({ url: next, addresses: nextAddresses } = await checkUrl(next, check));
    } catch (e) {
      if (e instanceof OutboundRequestError) {
        throw new OutboundRequestError(e.code, `redirect from ${url.origin}: ${e.message}`, { retryable: e.retryable, cause: e });
      }
      throw e;
    }
    // Same method rewriting as the Fetch standard.
    if ((res.status === 303 && method !== "HEAD") || ((res.status === 301 || res.status === 302) && method === "POST")) {
      method = "GET";
      body = undefined;
      headers.delete("content-type");
      headers.delete("content-length");
    }
    if (next.origin !== url.origin) {
      const kept = new Headers();
      for (const h of CROSS_ORIGIN_HEADERS) {
        const v = headers.get(h);
        if (v !== null && (h !== "content-type" || body !== undefined)) kept.set(h, v);
      }
      headers = kept;
    }
    url = next;
    addresses = nextAddresses;
  }
}

function tooLarge(max: number): OutboundRequestError {
  return new OutboundRequestError(
    "response_too_large",
    `response larger than ${max} bytes; the receiver should answer with a smaller body`,
  );
}

async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge(max);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function transportError(
  e: unknown,
  url: URL,
  timeout: AbortSignal,
  external: AbortSignal | undefined,
  timeoutMs: number,
): OutboundRequestError {
  if (e instanceof OutboundRequestError) return e;
  if (timeout.aborted) {
    return new OutboundRequestError("timeout", `${url.origin} did not answer within ${timeoutMs} ms`, { retryable: true, cause: e });
  }
  if (external?.aborted) {
    return new OutboundRequestError("aborted", `request to ${url.origin} was aborted (worker shutting down or lease lost)`, {
      retryable: true,
      cause: e,
    });
  }
  // Node puts the socket error (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
  return new OutboundRequestError("network_error", `request to ${url.origin} failed: ${detail}`, { retryable: true, cause: e });
}
