// The webhook action against real HTTP servers on 127.0.0.1 (settings allow
// loopback here; the SSRF refusals are in ssrf.test.ts and at the end).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ActionError, type ActionContext } from "../../shared/engine/action_contract.ts";
import { webhookAction } from "../../shared/actions/webhook.ts";
import { pinning } from "../../shared/http/pinned_fetch.ts";
import { json, makeContext, startServer, testSettings, type TestServer } from "./context.ts";

let server: TestServer;
let other: TestServer;
const hanging = new Set<() => void>();

beforeAll(async () => {
  server = await startServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    switch (path) {
      case "/json":
        return json(res, 201, { ok: true, echo: req.body ? JSON.parse(req.body) : null }, { "x-request-id": "req_1", "x-noise": "n" });
      case "/text":
        res.writeHead(200, { "content-type": "text/plain" });
        return void res.end("plain answer");
      case "/empty":
        res.writeHead(204);
        return void res.end();
      case "/hang":
        // Never answers; released in afterEach.
        return void hanging.add(() => res.destroy());
      case "/slow-body":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first part ");
        return void hanging.add(() => res.destroy());
      case "/big":
        res.writeHead(200, { "content-type": "text/plain", "content-length": String(100 * 1024) });
        return void res.end("x".repeat(100 * 1024));
      case "/big-chunked":
        res.writeHead(200, { "content-type": "text/plain" });
        for (let i = 0; i < 100; i++) res.write("y".repeat(1024));
        return void res.end();
      case "/redirect":
        res.writeHead(302, { location: "/json" });
        return void res.end();
      case "/redirect-307":
        res.writeHead(307, { location: "/json" });
        return void res.end();
      case "/redirect-303":
        res.writeHead(303, { location: "/json" });
        return void res.end();
      case "/loop":
        res.writeHead(302, { location: "/loop" });
        return void res.end();
      case "/cross-origin":
        res.writeHead(307, { location: `${other.url}/json` });
        return void res.end();
      default: {
        const status = Number(path.slice(1));
        const headers: Record<string, string> = status === 429 || status === 503 ? { "retry-after": "7" } : {};
        return json(res, status || 404, { error: `status ${status}`, detail: "z".repeat(500) }, headers);
      }
    }
  });
  other = await startServer((_req, res) => json(res, 200, { other: true }));
});
afterEach(() => {
  for (const release of hanging) release();
  hanging.clear();
});
afterAll(async () => {
  await server.close();
  await other.close();
});

async function run(raw: Record<string, unknown>, ctx: ActionContext = makeContext()) {
  return webhookAction.execute(webhookAction.schema.parse(raw), ctx);
}

async function failure(raw: Record<string, unknown>, ctx?: ActionContext): Promise<ActionError> {
  const err = await run(raw, ctx).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ActionError);
  return err as ActionError;
}

const lastRequest = (s: TestServer = server) => s.requests[s.requests.length - 1]!;

describe("webhook action", () => {
  it("sends method, headers and a JSON body, and returns status, selected headers and parsed JSON", async () => {
    const ctx = makeContext();
    const res = await run({ url: `${server.url}/json`, headers: { "X-Custom": "yes" }, body: { a: 1, list: [true, null] } }, ctx);
    const req = lastRequest();
    expect(req.method).toBe("POST");
    expect(req.headers["x-custom"]).toBe("yes");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["idempotency-key"]).toBe(ctx.idempotencyKey);
    expect(req.headers["webhook-id"]).toBe(ctx.idempotencyKey);
    expect(req.headers["user-agent"]).toMatch(/supabase-automations/);
    expect(JSON.parse(req.body)).toEqual({ a: 1, list: [true, null] });
    expect(res.output).toEqual({
      status: 201,
      headers: { "content-type": "application/json", "x-request-id": "req_1" },
      body: { ok: true, echo: { a: 1, list: [true, null] } },
    });
    expect(res.waitUntil).toBeUndefined();
  });

  it("sets x-automations-cause last: configured headers can neither forge nor remove it", async () => {
    await run({ url: `${server.url}/json`, headers: { "X-Automations-Cause": "forged.value" }, body: {} }, makeContext({ runCause: "signed.value" }));
    expect(lastRequest().headers["x-automations-cause"]).toBe("signed.value");
    // No signed value (a runtime without a secret): a configured one is dropped, not sent.
    await run({ url: `${server.url}/json`, headers: { "x-automations-cause": "forged.value" }, body: {} }, makeContext());
    expect(lastRequest().headers["x-automations-cause"]).toBeUndefined();
  });

  it("keeps an Idempotency-Key the user set", async () => {
    await run({ url: `${server.url}/json`, headers: { "Idempotency-Key": "mine" }, body: {} });
    expect(lastRequest().headers["idempotency-key"]).toBe("mine");
  });

  it("sends GET (any case) without a body and returns text bodies as text", async () => {
    const res = await run({ url: `${server.url}/text?q=1`, method: "get" });
    expect(lastRequest().method).toBe("GET");
    expect(lastRequest().url).toBe("/text?q=1");
    expect(res.output).toMatchObject({ status: 200, body: "plain answer" });
  });

  it("sends a string body raw when the user sets a non-JSON content-type", async () => {
    await run({ url: `${server.url}/text`, method: "PUT", headers: { "content-type": "text/plain" }, body: "raw text" });
    expect(lastRequest().method).toBe("PUT");
    expect(lastRequest().body).toBe("raw text");
  });

  it("returns null for an empty body", async () => {
    const res = await run({ url: `${server.url}/empty`, method: "DELETE" });
    expect(res.output).toMatchObject({ status: 204, body: null });
  });

  it("fails a hanging request at its timeout, as retryable", async () => {
    const started = Date.now();
    const err = await failure({ url: `${server.url}/hang`, timeout_ms: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toMatchObject({ code: "timeout", retryable: true });
    expect(err.message).toContain("300 ms");
  });

  it("applies the deadline to the body too", async () => {
    const err = await failure({ url: `${server.url}/slow-body`, timeout_ms: 300 });
    expect(err).toMatchObject({ code: "timeout", retryable: true });
  });

  it("caps timeout_ms at the operator's maximum", async () => {
    const ctx = makeContext({ settings: testSettings({ webhook: { ...testSettings().webhook, maxTimeoutMs: 250 } }) });
    const started = Date.now();
    const err = await failure({ url: `${server.url}/hang`, timeout_ms: 60_000 }, ctx);
    expect(err.code).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("stops reading a response larger than the cap (declared or streamed)", async () => {
    for (const path of ["/big", "/big-chunked"]) {
      const err = await failure({ url: `${server.url}${path}`, method: "GET" });
      expect(err).toMatchObject({ code: "response_too_large", retryable: false });
      expect(err.message).toContain(`larger than ${64 * 1024} bytes`);
    }
  });

  it.each([400, 401, 403, 404, 409, 422])("fails %i without retry, with the status and a body excerpt", async (status) => {
    const err = await failure({ url: `${server.url}/${status}`, body: {} });
    expect(err.retryable).toBe(false);
    expect(err.code).toBe("http_status");
    expect(err.message).toContain(`responded ${status}`);
    expect(err.message).toContain(`status ${status}`);
    expect(err.message.length).toBeLessThan(400);
  });

  it.each([408, 429, 500, 502, 503])("fails %i as retryable", async (status) => {
    const err = await failure({ url: `${server.url}/${status}`, body: {} });
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`responded ${status}`);
    if (status === 429 || status === 503) expect(err.retryAfterMs).toBe(7000);
  });

  it("treats a refused connection as retryable", async () => {
    const closed = await startServer(() => {});
    const url = closed.url;
    await closed.close();
    const err = await failure({ url: `${url}/json`, body: {} });
    expect(err).toMatchObject({ code: "network_error", retryable: true });
    expect(err.message).toContain("ECONNREFUSED");
  });

  it("treats an abort from the engine (shutdown) as retryable", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await failure({ url: `${server.url}/hang` }, makeContext({ signal: controller.signal }));
    expect(err).toMatchObject({ code: "aborted", retryable: true });
  });
});

describe("webhook redirects", () => {
  it("follows a redirect and reports where it ended", async () => {
    const res = await run({ url: `${server.url}/redirect`, method: "GET" });
    expect(res.output).toMatchObject({ status: 201, url: `${server.url}/json`, redirects: 1 });
  });

  it("keeps method and body on 307 and switches to GET on 303", async () => {
    await run({ url: `${server.url}/redirect-307`, body: { keep: 1 } });
    expect(lastRequest()).toMatchObject({ method: "POST", url: "/json", body: '{"keep":1}' });
    await run({ url: `${server.url}/redirect-303`, body: { drop: 1 } });
    expect(lastRequest()).toMatchObject({ method: "GET", url: "/json", body: "" });
  });

  it("stops a redirect loop at the limit", async () => {
    const err = await failure({ url: `${server.url}/loop`, method: "GET" });
    expect(err).toMatchObject({ code: "too_many_redirects", retryable: false });
  });

  it("sends none of the caller's headers to another origin (x-api-key included), only content-type and user-agent", async () => {
    const secrets = { authorization: "Bearer secret", "x-api-key": "key_live_123", cookie: "session=1", "x-keep": "1" };
    await run({ url: `${server.url}/cross-origin`, headers: secrets, body: { n: 1 } });
    // The first origin got them (so this test can fail) ...
    const first = server.requests.at(-1)!;
    expect(first.url).toBe("/cross-origin");
    expect(first.headers["x-api-key"]).toBe("key_live_123");
    // ... the second, 127.0.0.1 on another port, gets the 307's body and nothing of the caller's but what describes it.
    const req = lastRequest(other);
    expect(req).toMatchObject({ method: "POST", url: "/json", body: '{"n":1}' });
    for (const name of ["authorization", "x-api-key", "cookie", "x-keep", "idempotency-key", "webhook-id"]) expect(req.headers[name], name).toBeUndefined();
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe(first.headers["user-agent"]);
  });

  it("keeps the caller's headers on a redirect within the same origin", async () => {
    await run({ url: `${server.url}/redirect-307`, headers: { "x-api-key": "key_live_123" }, body: {} });
    expect(lastRequest()).toMatchObject({ url: "/json", headers: { "x-api-key": "key_live_123", "idempotency-key": expect.any(String) } });
  });

  it("re-checks every redirect target with the flag off, before connecting", async () => {
    const fetch = pinning(vi.fn(async () => new Response(null, { status: 302, headers: { location: "http://10.0.0.1/internal" } })));
    const ctx = makeContext({ fetch, settings: testSettings({ allowPrivateNetwork: false }) });
    const err = await failure({ url: "https://93.184.216.34/hook", body: {} }, ctx);
    expect(err.code).toBe("forbidden_address");
    expect(err.message).toMatch(/redirect from https:\/\/93\.184\.216\.34: refusing to connect to 10\.0\.0\.1/);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("refuses the loopback test server itself with the flag off", async () => {
    const ctx = makeContext({ settings: testSettings({ allowPrivateNetwork: false }) });
    const before = server.requests.length;
    const err = await failure({ url: `${server.url}/json`, body: {} }, ctx);
    expect(err.code).toBe("forbidden_address");
    expect(server.requests.length).toBe(before);
  });
});

describe("webhook config", () => {
  const problems = (raw: unknown) => webhookAction.schema.safeParse(raw).error?.issues.map((i) => i.message) ?? [];

  it("accepts placeholders where the value is not a string yet", () => {
    expect(problems({ url: "{{trigger.payload.url}}", timeout_ms: "{{trigger.payload.t}}", headers: "{{steps.0.output.h}}" })).toEqual([]);
    expect(problems({ url: "https://api.example.com/{{trigger.payload.id}}", method: "{{trigger.payload.m}}" })).toEqual([]);
  });

  it("refuses bad URLs, methods, header names, GET bodies and unknown keys", () => {
    expect(problems({ url: "ftp://x" })[0]).toMatch(/http/);
    expect(problems({ url: "https://x.test", method: "TRACE" })[0]).toMatch(/expected one of/);
    expect(problems({ url: "https://x.test", headers: { "bad header": "v" } })[0]).toMatch(/header name/);
    expect(problems({ url: "https://x.test", method: "GET", body: { a: 1 } })[0]).toMatch(/GET request cannot have a body/);
    expect(problems({ url: "https://x.test", timout_ms: 5 })[0]).toMatch(/Unrecognized key/);
    expect(problems({ url: "https://x.test", timeout_ms: "5" })[0]).toMatch(/expected number/);
  });
});
