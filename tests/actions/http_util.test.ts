// actionFetch is the one place the HTTP layer's OutboundRequestError becomes
// the ActionError the engine classifies. For each kind of outbound failure,
// the same request through safeFetch and through actionFetch must fail with
// the same code, message and retry decision; only the class differs. No test
// here opens a connection: names go through an injected resolver and
// requests through an injected fetch.
import { describe, expect, it } from "vitest";
import { actionFetch } from "../../shared/actions/http_util.ts";
import { ActionError } from "../../shared/engine/action_contract.ts";
import { OutboundRequestError } from "../../shared/http/outbound_error.ts";
import { pinning } from "../../shared/http/pinned_fetch.ts";
import { safeFetch, type SafeFetchOptions } from "../../shared/http/safe_fetch.ts";
import type { Resolver } from "../../shared/http/ssrf.ts";
import { testSettings } from "./context.ts";

const resolve: Resolver = async (host) => {
  if (host === "public.test") return [{ address: "93.184.216.34", family: 4 }];
  if (host === "flaky.test") throw Object.assign(new Error("getaddrinfo EAI_AGAIN"), { code: "EAI_AGAIN" });
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
};
const strict = testSettings({ allowPrivateNetwork: false });
// Stand-ins for the network, marked as honouring the pinned addresses (they connect nowhere).
const refusedConnection = pinning(async () => {
  throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
});
const redirectTo = (location: string) => pinning(async () => new Response(null, { status: 302, headers: { location } }));
const bigBody = pinning(async () => new Response("x".repeat(200), { status: 200 }));

const cases: [string, string, Omit<SafeFetchOptions, "settings"> & { settings?: SafeFetchOptions["settings"] }, string, boolean][] = [
  ["a private address", "http://10.0.0.1/", { resolve }, "forbidden_address", false],
  ["a redirect to loopback", "https://public.test/", { resolve, fetch: redirectTo("http://127.0.0.1/") }, "forbidden_address", false],
  ["a non-http scheme", "ftp://public.test/", { resolve }, "invalid_url", false],
  ["a name that does not exist", "https://nowhere.test/", { resolve }, "dns_failed", false],
  ["a resolver hiccup", "https://flaky.test/", { resolve }, "dns_failed", true],
  ["a refused connection", "https://public.test/", { resolve, fetch: refusedConnection }, "network_error", true],
  ["a redirect loop", "https://public.test/", { resolve, fetch: redirectTo("https://public.test/again") }, "too_many_redirects", false],
  [
    "a body over the cap",
    "https://public.test/",
    { resolve, fetch: bigBody, settings: testSettings({ allowPrivateNetwork: false, webhook: { ...strict.webhook, maxResponseBytes: 100 } }) },
    "response_too_large",
    false,
  ],
];

const failureOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

describe("actionFetch", () => {
  it.each(cases)("reports %s as the same ActionError safeFetch's error describes", async (_what, url, opts, code, retryable) => {
    const full = { settings: strict, ...opts };
    const raw = await failureOf(safeFetch(url, {}, full));
    const mapped = await failureOf(actionFetch(url, {}, full));
    expect(raw).toBeInstanceOf(OutboundRequestError);
    expect(mapped).toBeInstanceOf(ActionError);
    const r = raw as OutboundRequestError;
    const m = mapped as ActionError;
    expect({ code: m.code, message: m.message, retryable: m.retryable }).toEqual({ code: r.code, message: r.message, retryable: r.retryable });
    expect(m).toMatchObject({ code, retryable, name: "ActionError" });
    expect(m.cause).toBeInstanceOf(OutboundRequestError);
  });

  it("passes a response through untouched", async () => {
    const fetch = pinning(async () => new Response("ok", { status: 503 }));
    const res = await actionFetch("https://public.test/", {}, { settings: strict, resolve, fetch });
    expect(res.status).toBe(503);
    expect(res.text()).toBe("ok");
  });
});
