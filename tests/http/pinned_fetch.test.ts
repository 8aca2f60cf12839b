// DNS pinning: a request connects only to the addresses the SSRF check
// approved, never to a second answer of the resolver (DNS rebinding). No
// packet leaves loopback: "public" answers go only to the checker and to
// stand-ins that connect nowhere; real connections are to 127.0.0.1, under
// names that DNS is never asked about.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OutboundRequestError } from "../../shared/http/outbound_error.ts";
import { pinnedFetch, pinnedLookup, pinning, type PinnedInit } from "../../shared/http/pinned_fetch.ts";
import { safeFetch } from "../../shared/http/safe_fetch.ts";
import type { ResolvedAddress, Resolver } from "../../shared/http/ssrf.ts";
import { startServer, testSettings, type TestServer } from "../actions/context.ts";

const PUBLIC: ResolvedAddress = { address: "93.184.216.34", family: 4 };
const LOOPBACK: ResolvedAddress = { address: "127.0.0.1", family: 4 };

/** A hostile DNS server: public for the first question about a name, loopback after. */
function rebindingResolver() {
  const asked: string[] = [];
  const resolve: Resolver = async (host) => {
    asked.push(host);
    return [asked.filter((h) => h === host).length === 1 ? PUBLIC : LOOPBACK];
  };
  return { resolve, asked };
}

/** A network stand-in that honours pins and connects nowhere: it records what it would have dialed. */
function recordingTransport(answer: (url: string) => Response = () => new Response("ok")) {
  const sent: { url: string; pin: ResolvedAddress[] | null | undefined }[] = [];
  const fetch = pinning(async (input, init?: PinnedInit) => {
    sent.push({ url: String(input), pin: init?.pin });
    return answer(String(input));
  });
  return { fetch, sent };
}

const strict = testSettings({ allowPrivateNetwork: false });

describe("safeFetch against a rebinding resolver", () => {
  it("connects to the address it checked, not to the resolver's second answer", async () => {
    const { resolve, asked } = rebindingResolver();
    const { fetch, sent } = recordingTransport();
    const res = await safeFetch("https://rebind.test/hook", { method: "POST", body: "{}" }, { settings: strict, resolve, fetch });
    expect(res.status).toBe(200);
    // One question for one hop: the connection takes its address from the check, not from DNS.
    expect(asked).toEqual(["rebind.test"]);
    expect(sent).toEqual([{ url: "https://rebind.test/hook", pin: [PUBLIC] }]);
  });

  it("refuses the loopback answer when a redirect makes it ask again, before sending anything there", async () => {
    const { resolve, asked } = rebindingResolver();
    const { fetch, sent } = recordingTransport((url) =>
      url.endsWith("/a") ? new Response(null, { status: 307, headers: { location: "/b" } }) : new Response("reached loopback"),
    );
    const err = await safeFetch("https://rebind.test/a", {}, { settings: strict, resolve, fetch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundRequestError);
    expect((err as OutboundRequestError).message).toBe(
      "redirect from https://rebind.test: refusing to connect to rebind.test: rebind.test resolves to 127.0.0.1, a loopback address. " +
        "Outbound requests may only reach public addresses (an operator can set AUTOMATIONS_ALLOW_PRIVATE_NETWORK=true for local development)",
    );
    expect(asked).toEqual(["rebind.test", "rebind.test"]);
    expect(sent.map((s) => s.pin)).toEqual([[PUBLIC]]);
  });

  it("never sends through a fetch that cannot pin, whatever the caller passes", async () => {
    const server = await startServer((_req, res) => void res.end("from the pinned transport"));
    try {
      const plain = vi.fn(globalThis.fetch); // the runtime's fetch, as the actions carry it
      const res = await safeFetch(`${server.url}/x`, {}, { settings: testSettings(), fetch: plain });
      expect(res.text()).toBe("from the pinned transport");
      expect(plain).not.toHaveBeenCalled();
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("pinnedLookup", () => {
  const lookup = (host: string, options: object, pin = [PUBLIC]) =>
    new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) =>
      pinnedLookup("rebind.test", pin)(host, options as never, (err, address, family) =>
        resolve({ err, result: Array.isArray(address) ? address : [address, family] }),
      ),
    );

  it("answers the checked addresses and nothing else, without asking DNS", async () => {
    const both = [PUBLIC, { address: "2606:4700::1", family: 6 }];
    expect((await lookup("rebind.test", { all: true }, both)).result).toEqual(both);
    expect((await lookup("REBIND.test.", {}, both)).result).toEqual(["93.184.216.34", 4]);
    expect((await lookup("rebind.test", { family: 6, all: true }, both)).result).toEqual([both[1]]);
    expect((await lookup("rebind.test", { family: 6 })).err?.code).toBe("ENOTFOUND");
    expect((await lookup("other.test", { all: true })).err?.code).toBe("ENOTFOUND");
  });
});

describe("pinnedFetch on loopback", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      res.writeHead(req.url === "/204" ? 204 : 200, { "content-type": "application/json", "x-seen": "1" });
      res.end(req.url === "/204" ? undefined : JSON.stringify({ host: req.headers.host, body: req.body }));
    });
  });
  afterAll(() => server.close());
  const port = () => new URL(server.url).port;

  it("dials the pinned address under a name DNS cannot answer, keeping the name in Host", async () => {
    // .invalid never resolves: only the pin can have taken the request to 127.0.0.1.
    const res = await pinnedFetch(`http://pinned.invalid:${port()}/echo`, { method: "POST", body: "hi", pin: [LOOPBACK] } as PinnedInit);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-seen")).toBe("1");
    expect(await res.json()).toEqual({ host: `pinned.invalid:${port()}`, body: "hi" });
    const req = server.requests.at(-1)!;
    expect(req.headers["content-length"]).toBe("2");
    expect(req.headers["content-type"]).toBe("text/plain;charset=UTF-8");
    expect(req.headers["user-agent"]).toBe("supabase-automations/0.1");
  });

  it("fails like fetch when the pinned address refuses, and answers bodiless statuses", async () => {
    const refused = await pinnedFetch(`http://pinned.invalid:${port()}/`, { pin: [{ address: "127.0.0.2", family: 4 }] } as PinnedInit).then(
      () => null,
      (e: unknown) => e,
    );
    // The server listens on 127.0.0.1 only: the pin (127.0.0.2) was dialed, the name never resolved.
    expect(refused).toBeInstanceOf(TypeError);
    expect(((refused as Error).cause as { code?: string }).code).toBe("ECONNREFUSED");
    const empty = await pinnedFetch(`http://pinned.invalid:${port()}/204`, { pin: [LOOPBACK] } as PinnedInit);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });
});
