// DNS pinning under real Deno (the edge functions' runtime): pinnedFetch's
// node:http lookup must be honoured there too. Deno connects to a loopback
// server under a name DNS cannot answer (.invalid), so only the pin can take
// it there; a pin to an address where nothing listens is refused.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../actions/context.ts";

const root = join(import.meta.dirname, "../..");
let server: TestServer;

beforeAll(async () => {
  server = await startServer((req, res) => void res.end(JSON.stringify({ host: req.headers.host, body: req.body })));
});
afterAll(() => server.close());

function denoEval(code: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // Only the process this test starts, ended by its own handle if it hangs.
    const child = spawn(join(root, "node_modules/.bin/deno"), ["eval", "--ext=ts", code], { cwd: root, stdio: "pipe" });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const guard = setTimeout(() => child.kill("SIGTERM"), 60_000);
    child.on("close", (status) => {
      clearTimeout(guard);
      resolve({ code: status, out });
    });
  });
}

describe("pinnedFetch under Deno", () => {
  it("connects to the pinned address, keeps the name in Host, and never asks DNS", async () => {
    const port = new URL(server.url).port;
    const module = `file://${join(root, "shared/http/pinned_fetch.ts")}`;
    const { code, out } = await denoEval(`
      import { pinnedFetch } from "${module}";
      const url = (p: string) => "http://pinned.invalid:${port}" + p;
      const ok = await pinnedFetch(url("/a"), { method: "POST", body: "from deno", pin: [{ address: "127.0.0.1", family: 4 }] } as RequestInit);
      const refused = await pinnedFetch(url("/b"), { pin: [{ address: "127.0.0.2", family: 4 }] } as RequestInit)
        .then((r) => "answered " + r.status, (e) => String(e?.cause?.code ?? e));
      console.log(JSON.stringify({ status: ok.status, body: await ok.json(), refused }));
    `);
    expect(code, out).toBe(0);
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
      status: 200,
      body: { host: `pinned.invalid:${port}`, body: "from deno" },
      refused: "ECONNREFUSED",
    });
    expect(server.requests.map((r) => r.url)).toEqual(["/a"]);
  });
});
