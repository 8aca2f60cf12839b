// fetch for user-chosen URLs: SSRF check on the URL and on every redirect
// hop, one deadline for the whole exchange (all hops and the body), and a cap
// on the response size. Every failure is an OutboundRequestError whose
// `retryable` flag tells the caller whether trying again can help (the
// actions pass it on to the engine as an ActionError: actions/http_util.ts).
//
// Known limitation: DNS rebinding. checkUrl() resolves the name and the
// runtime's fetch resolves it again when it connects, so a hostile DNS server
// answering a public address first and a private one second gets through.
// Closing that gap needs connecting to the checked address ourselves (an
// undici dispatcher with a pinned lookup, or Deno.connect), which is not
// portable across Node and Deno; short DNS TTLs make it an attack that needs
// a hostile authoritative server. Deployments that must rule it out should
// also block private ranges at the network level (egress firewall).
import type { Settings } from "../settings.ts";
import { OutboundRequestError } from "./outbound_error.ts";
import { checkUrl, type Resolver } from "./ssrf.ts";

export interface SafeFetchInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  /** A string, so it can be sent again on 307/308 redirects. */
  body?: string;
}

export interface SafeFetchOptions {
  settings: Settings;
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
// Credentials meant for one origin must not follow a redirect to another.
const ORIGIN_BOUND_HEADERS = ["authorization", "cookie", "proxy-authorization"];

export async function safeFetch(
  input: string | URL,
  init: SafeFetchInit,
  opts: SafeFetchOptions,
): Promise<SafeResponse> {
  const limits = opts.settings.webhook;
  const timeoutMs = Math.min(opts.timeoutMs ?? limits.defaultTimeoutMs, limits.maxTimeoutMs);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const check = { allowPrivateNetwork: opts.settings.allowPrivateNetwork, resolve: opts.resolve };

  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers);
  let url = (await checkUrl(input, check)).url;

  for (let redirects = 0; ; redirects++) {
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, body, redirect: "manual", signal });
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
    // packet is sent to it.
    try {
      next = (await checkUrl(next, check)).url;
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
    if (next.origin !== url.origin) for (const h of ORIGIN_BOUND_HEADERS) headers.delete(h);
    url = next;
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
