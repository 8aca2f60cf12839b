// The connection half of the SSRF guard: an HTTP request that connects only to
// the addresses checkUrl() approved (DNS pinning). Without it the runtime's
// fetch resolves the name a second time when it connects, so a hostile DNS
// server answering a public address for the check and a private one a moment
// later (DNS rebinding) would get the request into the private network.
//
// Decision: node:http / node:https with a `lookup` that answers only the
// checked addresses, in Node (local runtime, tests) and Deno (edge functions)
// alike. What else was weighed:
// - Node's fetch with an undici Agent({ connect: { lookup } }): needs the
//   `undici` npm package, version-matched to the undici bundled in Node, and
//   does nothing under Deno.
// - Deno.createHttpClient({ proxy: { transport: "tcp", ... } }): Deno only, and
//   it writes proxy-style absolute request lines (GET http://host/path).
// - fetch to the IP literal with a Host header: breaks HTTPS (the certificate
//   is checked against the IP, SNI carries no name).
// Both runtimes call the lookup for names (checked with Deno 2.9.6, HTTP and
// HTTPS), keep the URL's host name for the Host header, TLS SNI and the
// certificate check, and never consult DNS for an IP literal.
//
// pinnedFetch is fetch-shaped for the subset safeFetch uses: a string or URL,
// method, headers, a string body, a signal, `redirect` ignored (it never
// follows redirects), plus `pin`. Failures reject like fetch: a TypeError
// whose `cause` carries the socket error's code (ECONNREFUSED, ...).
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { ResolvedAddress } from "./ssrf.ts";

/** Marks a fetch that honours `init.pin`: safeFetch sends through no other. */
export const PINS: unique symbol = Symbol.for("automations.pinned_fetch") as never;

export interface PinnedInit extends RequestInit {
  /** The only addresses the connection may use (checkUrl's); null or absent: ordinary DNS. */
  pin?: ResolvedAddress[] | null;
}

export type PinningFetch = typeof fetch & { [PINS]: true };

/** Declares that `fn` connects only to `init.pin` (test stand-ins that connect nowhere qualify). */
export function pinning(fn: (input: RequestInfo | URL, init?: PinnedInit) => Promise<Response>): PinningFetch {
  return Object.assign(fn as typeof fetch, { [PINS]: true as const });
}

export function isPinning(fn: unknown): fn is PinningFetch {
  return typeof fn === "function" && (fn as Partial<PinningFetch>)[PINS] === true;
}

const bare = (name: string) => name.replace(/\.$/, "").toLowerCase();

/**
 * A lookup for one connection to `hostname` that answers `pin` and nothing
 * else; it never asks DNS. Another name, or a family the pin lacks, is ENOTFOUND.
 */
export function pinnedLookup(hostname: string, pin: readonly ResolvedAddress[]): LookupFunction {
  return ((host: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === "function" ? options : callback) as (err: Error | null, a?: unknown, f?: number) => void;
    const opts = (typeof options === "object" && options !== null ? options : {}) as { family?: number | string; all?: boolean };
    const family = opts.family === 4 || opts.family === "IPv4" ? 4 : opts.family === 6 || opts.family === "IPv6" ? 6 : 0;
    const list = pin.filter((a) => family === 0 || a.family === family).map(({ address, family: f }) => ({ address, family: f }));
    queueMicrotask(() => {
      if (bare(host) !== bare(hostname) || list.length === 0) {
        cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (not the checked name or address family)`), { code: "ENOTFOUND" }));
      } else if (opts.all) {
        cb(null, list);
      } else {
        cb(null, list[0]!.address, list[0]!.family);
      }
    });
  }) as LookupFunction;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Keep-alive pools whose key includes the pin: a connection is reused only for
 * the same host, port and checked addresses, never for a request whose check
 * approved other addresses (or none).
 */
function pinAware<A extends new (o: http.AgentOptions) => http.Agent>(Base: A) {
  return new (class extends (Base as new (o: http.AgentOptions) => http.Agent) {
    override getName(options?: http.ClientRequestArgs & { pinKey?: string }): string {
      return `${super.getName(options)}|${options?.pinKey ?? "dns"}`;
    }
  })({ keepAlive: true });
}
const agents = { "http:": pinAware(http.Agent), "https:": pinAware(https.Agent) };

/** fetch over node:http(s) that connects only to `init.pin` when one is given. */
export const pinnedFetch: PinningFetch = pinning((input, init = {}) => {
  if (typeof input !== "string" && !(input instanceof URL)) return Promise.reject(new TypeError("pinnedFetch takes a URL"));
  const url = new URL(input);
  const method = (init.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = init.body;
  if (body !== undefined && body !== null && typeof body !== "string") return Promise.reject(new TypeError("pinnedFetch sends string bodies only"));
  if (typeof body === "string") {
    headers["content-type"] ??= "text/plain;charset=UTF-8"; // as fetch does
    headers["content-length"] = String(new TextEncoder().encode(body).byteLength);
  }
  headers.accept ??= "*/*";
  // fetch sends one ("node", "Deno/2.x"); some APIs refuse requests without it.
  headers["user-agent"] ??= "supabase-automations/0.1";
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const mod = url.protocol === "https:" ? https : http;
  const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
  const lookup = init.pin ? pinnedLookup(url.hostname, init.pin) : undefined;
  const pinKey = init.pin ? init.pin.map((a) => a.address).join(",") : undefined;

  return new Promise<Response>((resolve, reject) => {
    const fail = (e: unknown) => reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: e }));
    const options = { method, headers, signal, agent, pinKey, ...(lookup ? { lookup } : {}) };
    const req = mod.request(url, options, (res) => {
      const out = new Headers();
      try {
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      } catch (e) {
        res.destroy();
        return fail(e);
      }
      const status = res.statusCode ?? 0;
      if (method === "HEAD" || NULL_BODY_STATUSES.has(status)) {
        res.resume();
        return settle(() => new Response(null, { status, statusText: res.statusMessage, headers: out }));
      }
      let done = false;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          res.on("data", (chunk: Uint8Array) => {
            if (done) return; // cancelled by the reader (e.g. over the size cap)
            controller.enqueue(new Uint8Array(chunk));
            if ((controller.desiredSize ?? 1) <= 0) res.pause();
          });
          res.on("end", () => {
            if (done) return;
            done = true;
            controller.close();
          });
          const broken = (e?: unknown) => {
            if (done) return;
            done = true;
            controller.error(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: e ?? new Error("connection closed before the body was complete") }));
          };
          res.on("error", broken);
          res.on("close", () => broken());
        },
        pull() {
          res.resume();
        },
        cancel() {
          done = true;
          res.destroy();
        },
      });
      settle(() => new Response(stream, { status, statusText: res.statusMessage, headers: out }));
    });
    // A status Response refuses (e.g. > 599) is a broken answer, like fetch's.
    const settle = (make: () => Response) => {
      try {
        resolve(make());
      } catch (e) {
        req.destroy();
        fail(e);
      }
    };
    req.on("error", fail);
    req.end(body ?? undefined);
  });
});
