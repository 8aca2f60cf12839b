// The local runtime's DNS-rebinding guard, over real HTTP on loopback: a
// request whose Host is not a loopback name (or one the operator allowed) is
// refused with 403 and a JSON error on every path, before any handler runs.
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowedHosts, checkHost, hostName } from "../../local/host_guard.ts";
import { createFunctionsServer, listen } from "../../local/server.ts";

let calls = 0;
const server = createFunctionsServer(
  { echo: async () => (calls++, Response.json({ ok: true })) },
  async (req) => (new URL(req.url).pathname === "/_local/query" ? (calls++, Response.json({ rows: [] })) : null),
);
let port = 0;

beforeAll(async () => {
  await listen(server, 0, "127.0.0.1");
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A request with the Host header we choose (fetch does not allow setting it). */
function send(path: string, host: string | null): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (host !== null) headers.host = host;
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers, setHost: host !== null, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end('{"sql":"select 1"}');
  });
}

describe("Host guard", () => {
  it.each(["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])("answers Host %s with and without the port", async (h) => {
    expect((await send("/functions/v1/echo", h)).status).toBe(200);
    expect((await send("/functions/v1/echo", `${h}:${port}`)).status).toBe(200);
  });

  it.each([
    "rebind.example",
    "rebind.example:54321",
    "127.0.0.1.rebind.example",
    "localhost.rebind.example:80",
    "user@localhost",
    "localhost:port",
    "[::2]",
    "0.0.0.0",
  ])("refuses Host %s with 403 and says why, on functions and /_local/query alike", async (h) => {
    const before = calls;
    for (const path of ["/functions/v1/echo", "/_local/query", "/"]) {
      const res = await send(path, h);
      expect(res.status).toBe(403);
      const body = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("host_not_allowed");
      expect(body.error.message).toContain(`Host ${JSON.stringify(h)} is not an address of this local runtime`);
      expect(body.error.message).toMatch(/DNS rebinding.*AUTOMATIONS_ALLOWED_HOSTS/);
    }
    expect(calls).toBe(before);
  });

  it("refuses an HTTP/1.0 request without a Host header", () => {
    expect(checkHost(undefined, ["localhost"])).toMatchObject({ status: 403, body: expect.stringContaining("no Host header") });
  });

  it("parses host[:port] strictly", () => {
    expect(hostName("LocalHost:54321")).toBe("localhost");
    expect(hostName("[::1]:1")).toBe("[::1]");
    expect(hostName("::1")).toBeNull();
    expect(hostName("a b")).toBeNull();
    expect(hostName("localhost:123456")).toBeNull();
  });
});

describe("allowedHosts", () => {
  it("loopback names by default", () => {
    expect(allowedHosts({}).sort()).toEqual(["127.0.0.1", "[::1]", "localhost"]);
  });

  it("adds the address the operator told it to listen on, and AUTOMATIONS_ALLOWED_HOSTS", () => {
    expect(allowedHosts({ HOST: "192.168.1.5" })).toContain("192.168.1.5");
    expect(allowedHosts({ HOST: "fd00::5" })).toContain("[fd00::5]");
    const named = allowedHosts({ AUTOMATIONS_ALLOWED_HOSTS: "automations, Dev.Example " });
    expect(named).toEqual(expect.arrayContaining(["automations", "dev.example"]));
    expect(checkHost("dev.example:54321", named)).toBeNull();
    expect(checkHost("other.example", named)).not.toBeNull();
  });

  it("HOST=0.0.0.0 adds this machine's own addresses, not the wildcard itself", () => {
    const hosts = allowedHosts({ HOST: "0.0.0.0" });
    const mine = Object.values(networkInterfaces()).flat().map((i) => i!.address);
    for (const a of mine) expect(hosts).toContain(a.includes(":") ? `[${a.toLowerCase()}]` : a);
    expect(hosts).not.toContain("0.0.0.0");
  });
});
