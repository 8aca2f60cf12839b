// The SSRF table: every address form the guard must refuse with
// AUTOMATIONS_ALLOW_PRIVATE_NETWORK off, and public ones it must allow. No
// test here opens a connection: names go through an injected resolver and
// redirects through an injected fetch.
import { describe, expect, it, vi } from "vitest";
import { OutboundRequestError } from "../../shared/http/outbound_error.ts";
import { pinning } from "../../shared/http/pinned_fetch.ts";
import { safeFetch } from "../../shared/http/safe_fetch.ts";
import { checkUrl, isForbiddenAddress, type Resolver } from "../../shared/http/ssrf.ts";
import { testSettings } from "./context.ts";

const DNS: Record<string, string[]> = {
  "public.test": ["93.184.216.34"],
  "v6.public.test": ["2606:4700::1"],
  "internal.test": ["10.1.2.3"],
  "mixed.test": ["93.184.216.34", "127.0.0.1"],
  "metadata.test": ["169.254.169.254"],
  "mapped.test": ["::ffff:192.168.0.10"],
};
const resolve: Resolver = async (host) => {
  const found = DNS[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};
const strict = { allowPrivateNetwork: false, resolve };

async function refusal(url: string): Promise<OutboundRequestError> {
  const err = await checkUrl(url, strict).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `${url} should be refused`).toBeInstanceOf(OutboundRequestError);
  return err as OutboundRequestError;
}

describe("isForbiddenAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fd00:ec2::254", "metadata"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["::ffff:127.0.0.1", "loopback address 127.0.0.1 in IPv4-mapped form"],
    ["::ffff:7f00:1", "IPv4-mapped"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:0:10.0.0.1", "IPv4-translated"],
    ["::7f00:1", "loopback address 127.0.0.1 in IPv4-compatible form"],
    // ipaddr.js reads ::a.b.c.d as mapped; either way it is judged as 127.0.0.1.
    ["::127.0.0.1", "loopback address 127.0.0.1"],
    ["::a00:1", "IPv4-compatible"],
    ["64:ff9b::10.0.0.1", "NAT64"],
    ["64:ff9b::7f00:1", "NAT64"],
    ["64:ff9b:1::1", "special-purpose"],
    ["2002:7f00:1::1", "6to4"],
    ["2002:a9fe:a9fe::", "metadata"],
    ["2001:db8::1", "reserved"],
    ["not-an-ip", "not an IP"],
    ["", "not an IP"],
  ])("refuses %s (%s)", (ip, reason) => {
    expect(isForbiddenAddress(ip)).toContain(reason);
  });

  it.each(["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1", "2a00:1450:4001::1", "::ffff:93.184.216.34", "64:ff9b::808:808", "2002:5db8:d822::1"])(
    "allows public %s",
    (ip) => {
      expect(isForbiddenAddress(ip)).toBeNull();
    },
  );
});

describe("checkUrl with the flag off", () => {
  it.each([
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[fd00:ec2::254]/",
    "http://[64:ff9b::a00:1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost:8080/",
    "http://internal.test/",
    "http://mixed.test/",
    "http://metadata.test/",
    "http://mapped.test/",
  ])("refuses %s", async (url) => {
    const err = await refusal(url);
    expect(err.code).toBe("forbidden_address");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("AUTOMATIONS_ALLOW_PRIVATE_NETWORK");
  });

  it("names the resolved address when a name points inside", async () => {
    expect((await refusal("https://internal.test/hook")).message).toContain("internal.test resolves to 10.1.2.3");
    // Refused if ANY address is private: the connection may pick any of them.
    expect((await refusal("https://mixed.test/")).message).toContain("127.0.0.1");
  });

  it("does not resolve localhost names", async () => {
    const spy = vi.fn(resolve);
    await expect(checkUrl("http://localhost:54321/", { allowPrivateNetwork: false, resolve: spy })).rejects.toThrow(/localhost/);
    expect(spy).not.toHaveBeenCalled();
  });

  it("allows public addresses and names, returning the address to connect to", async () => {
    expect((await checkUrl("https://93.184.216.34/x", strict)).address).toBe("93.184.216.34");
    expect((await checkUrl("https://[2606:4700::1]/", strict)).address).toBe("2606:4700::1");
    expect((await checkUrl("https://public.test/", strict)).address).toBe("93.184.216.34");
    expect((await checkUrl("https://v6.public.test/", strict)).address).toBe("2606:4700::1");
  });

  it("refuses non-http schemes and garbage", async () => {
    for (const url of ["file:///etc/passwd", "ftp://public.test/", "gopher://public.test/", "javascript:alert(1)"]) {
      expect((await refusal(url)).code).toBe("invalid_url");
    }
    expect((await refusal("not a url")).code).toBe("invalid_url");
  });

  it("reports names that do not resolve as not retryable", async () => {
    const err = await refusal("https://nowhere.test/");
    expect(err.code).toBe("dns_failed");
    expect(err.retryable).toBe(false);
  });

  it("skips every check with the flag on (local development)", async () => {
    const spy = vi.fn(resolve);
    const checked = await checkUrl("http://127.0.0.1:9/", { allowPrivateNetwork: true, resolve: spy });
    expect(checked.address).toBeNull();
    expect(spy).not.toHaveBeenCalled();
    await expect(checkUrl("file:///etc/passwd", { allowPrivateNetwork: true })).rejects.toThrow(/only http and https/);
  });
});

describe("safeFetch redirect checks with the flag off", () => {
  const settings = testSettings({ allowPrivateNetwork: false });

  function redirectingFetch(location: string) {
    return pinning(vi.fn(async () => new Response(null, { status: 302, headers: { location } })));
  }

  it.each(["http://10.0.0.1/", "http://127.0.0.1:8080/admin", "http://[::1]/", "http://169.254.169.254/latest", "http://internal.test/", "http://localhost/"])(
    "refuses a redirect to %s before sending anything there",
    async (location) => {
      const fetch = redirectingFetch(location);
      const err = await safeFetch("https://public.test/hook", { method: "POST", body: "{}" }, { settings, fetch, resolve }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OutboundRequestError);
      expect((err as OutboundRequestError).code).toBe("forbidden_address");
      expect((err as OutboundRequestError).message).toContain("redirect from https://public.test");
      expect(fetch).toHaveBeenCalledTimes(1);
    },
  );

  it("refuses a private first hop without calling fetch at all", async () => {
    const fetch = pinning(vi.fn(async () => new Response("never")));
    await expect(safeFetch("http://10.0.0.1/", {}, { settings, fetch, resolve })).rejects.toThrow(/private network/);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("follows a redirect to another public address", async () => {
    const fetch = pinning(vi.fn(async (url: string | URL | Request) =>
      String(url) === "https://public.test/a"
        ? new Response(null, { status: 307, headers: { location: "https://93.184.216.34/b" } })
        : new Response("done", { status: 200 }),
    ));
    const res = await safeFetch("https://public.test/a", { method: "POST", body: "{}" }, { settings, fetch, resolve });
    expect(res.text()).toBe("done");
    expect(res.url).toBe("https://93.184.216.34/b");
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
