// How the console is served: by the local runtime (deep links, content types,
// CSP, the Host guard, the demo sign-in's rules) and by `npm run console` for
// a hosted project, here with the local runtime standing in for the project.
import { createServer, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleServer } from "../../local/console_server.ts";
import { DEMO } from "../../local/demo.ts";
import type { Runtime } from "../../local/runtime.ts";
import { freePort } from "../../scripts/pg_cluster.ts";
import { signJwt, userJwt } from "../helpers/app_deps.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";
import { launchBrowser, ROOT, startConsoleRuntime, watchErrors, type Browser } from "./support.ts";

let t: TestDatabase;
let rt: Runtime;
let browser: Browser;
let token: string;
let user: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  t = await createTestDatabase();
  const org = await createOrg(t.db, "Hosted Org");
  user = await createUser(t.db, org, "member");
  token = await userJwt(user.claims);
  await createAutomation(t.db, org, { name: "Hosted automation", trigger_type: "manual" });
  rt = await startConsoleRuntime(t.url, { demo: true }); // DATABASE_URL + --demo: the demo sign-in exists
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  await t?.drop();
});

/** A raw request with a chosen Host header (fetch would not let us set it). */
function rawGet(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the local runtime serves the console", () => {
  it("answers /, /automations/<id> and /runs/<id> with the page, assets with their types, config.json", async () => {
    for (const path of ["/", `/automations/${DEMO.webhookAutomationId}`, `/runs/${crypto.randomUUID()}`, "/runs/x/"]) {
      const res = await fetch(`${rt.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self'; style-src 'self'.*frame-ancestors 'none'/);
      const html = await res.text();
      expect(html).toContain('<script type="module" src="/assets/main.js">');
      // config.json's content, in the page so the script need not wait for it.
      expect(html).toContain(`<meta name="automations-console-config" content="{&quot;url&quot;:null,&quot;anonKey&quot;:&quot;${rt.keys.anonKey}&quot;,&quot;signIn&quot;:&quot;demo&quot;}">`);
    }
    const js = await fetch(`${rt.url}/assets/main.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${rt.url}/assets/console.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
    const cfg = await fetch(`${rt.url}/config.json`);
    expect(await cfg.json()).toEqual({ url: null, anonKey: rt.keys.anonKey, signIn: "demo" });
    for (const path of ["/assets/nope.js", "/assets/..%2Findex.html", "/assets/.hidden", "/automations/a/b"]) {
      expect((await fetch(`${rt.url}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${rt.url}/`, { method: "POST" })).status).toBe(405);
  });

  it("keeps the Host guard on the page", async () => {
    expect(await rawGet(`${rt.url}/`, "rebind.example")).toBe(403);
    expect(await rawGet(`${rt.url}/config.json`, "rebind.example")).toBe(403);
    expect(await rawGet(`${rt.url}/`, new URL(rt.url).host)).toBe(200);
  });

  it("gives the demo user's token to the page's own origin only, by POST", async () => {
    const ok = await fetch(`${rt.url}/_local/demo-session`, { method: "POST", headers: { origin: rt.url } });
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    const me = await fetch(`${rt.url}/functions/v1/automations-api/automations`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(((await me.json()) as { automations: Array<{ id: string }> }).automations.map((a) => a.id)).toContain(DEMO.webhookAutomationId);
    const foreign = await fetch(`${rt.url}/_local/demo-session`, { method: "POST", headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect((await fetch(`${rt.url}/_local/demo-session`)).status).toBe(405);
  });

  it("signs in with the demo button and shows the demo org's automations", async () => {
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${rt.url}/`);
    await page.getByRole("button", { name: "Sign in as the demo user" }).click();
    await page.getByRole("link", { name: "New lead: task + email" }).waitFor();
    expect(await page.getByRole("link", { name: "Hosted automation" }).count()).toBe(0); // another org's
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("npm run console (the local runtime stands in for the hosted project)", () => {
  it("serves the page on loopback with the project in config.json; the page calls the project directly", async () => {
    const c = await startConsoleServer({ url: `${rt.url}/`, anonKey: "anon-key-of-the-project", port: await freePort(), root: ROOT, build: false });
    try {
      expect(await (await fetch(`${c.url}/config.json`)).json()).toEqual({ url: rt.url, anonKey: "anon-key-of-the-project", signIn: "password" });
      const page = await fetch(`${c.url}/runs/${crypto.randomUUID()}`);
      expect(page.headers.get("content-security-policy")).toContain(`connect-src 'self' ${rt.url};`);
      expect((await fetch(`${c.url}/functions/v1/automations-api/automations`)).status).toBe(404); // nothing is proxied
      expect(await rawGet(`${c.url}/`, "rebind.example")).toBe(403);

      const tab = await browser.context.newPage();
      const errors = watchErrors(tab);
      await tab.goto(`${c.url}/`);
      await tab.getByLabel("Email").waitFor();
      expect(await tab.getByLabel("Password").count()).toBe(1);
      expect(await tab.getByRole("button", { name: "Sign in as the demo user" }).count()).toBe(0);
      await tab.goto(`${c.url}/#access_token=${token}`);
      await tab.getByRole("link", { name: "Hosted automation" }).waitFor().catch((e: Error) => {
        throw new Error(`${e.message}\npage: ${errors.join("\n")}`);
      });
      expect(tab.url()).toBe(`${c.url}/`);
      expect(errors).toEqual([]);
      await tab.close();
    } finally {
      await c.close();
    }
  });

  it("signs in with email and password through supabase-js (Supabase Auth's token endpoint on loopback)", async () => {
    // The project: /auth/v1/token as GoTrue answers it (password grant), and
    // /functions/v1/* passed to the local runtime. No GoTrue runs here; this
    // stands in for it with its documented request and answer.
    const seen: string[] = [];
    const project = createServer((req, res) => {
      const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "access-control-allow-methods": "GET, POST, OPTIONS" };
      if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", async () => {
        if (req.url?.startsWith("/auth/v1/token")) {
          seen.push(`${req.url} apikey=${req.headers.apikey}`);
          const { email, password } = JSON.parse(body) as { email: string; password: string };
          if (email !== user.claims.email || password !== "correct horse") {
            return res.writeHead(400, { ...cors, "content-type": "application/json" }).end(JSON.stringify({ code: 400, error_code: "invalid_credentials", msg: "Invalid login credentials" }));
          }
          const access = await signJwt(user.claims);
          return res.writeHead(200, { ...cors, "content-type": "application/json" }).end(
            JSON.stringify({
              access_token: access, token_type: "bearer", expires_in: 3600, expires_at: Math.floor(Date.now() / 1000) + 3600, refresh_token: "r1",
              user: { id: user.authId, aud: "authenticated", role: "authenticated", email, app_metadata: {}, user_metadata: {}, created_at: new Date().toISOString() },
            }),
          );
        }
        const r = await fetch(`${rt.url}${req.url}`, { method: req.method, headers: { authorization: String(req.headers.authorization ?? "") } });
        res.writeHead(r.status, { ...cors, "content-type": "application/json" }).end(await r.text());
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => project.listen(port, "127.0.0.1", r));
    const c = await startConsoleServer({ url: `http://127.0.0.1:${port}`, anonKey: "the-anon-key", port: await freePort(), root: ROOT, build: false });
    try {
      const tab = await browser.context.newPage();
      const errors = watchErrors(tab);
      await tab.goto(`${c.url}/automations/${crypto.randomUUID()}`);
      await tab.getByLabel("Email").fill(user.claims.email);
      await tab.getByLabel("Password").fill("wrong");
      await tab.getByRole("button", { name: "Sign in", exact: true }).click();
      await tab.getByText("Could not sign in: Invalid login credentials").waitFor();
      await tab.getByLabel("Password").fill("correct horse");
      await tab.getByLabel("Password").press("Enter");
      await tab.getByRole("heading", { name: "Automation not found", level: 1 }).waitFor();
      await tab.getByRole("link", { name: "Back to the automations" }).click();
      await tab.getByRole("link", { name: "Hosted automation" }).waitFor();
      expect(seen).toEqual(["/auth/v1/token?grant_type=password apikey=the-anon-key", "/auth/v1/token?grant_type=password apikey=the-anon-key"]);
      expect(errors.filter((e) => !/status of (400|404) /.test(e))).toEqual([]);
      await tab.close();
    } finally {
      await c.close();
      await new Promise<void>((r) => { project.close(() => r()); project.closeAllConnections(); });
    }
  });

  it("refuses a bad --url or a missing --anon-key, saying what is wrong", async () => {
    const base = { anonKey: "k", port: await freePort(), root: ROOT, build: false };
    await expect(startConsoleServer({ ...base, url: "ftp://x" })).rejects.toThrow(/--url must be http\(s\)/);
    await expect(startConsoleServer({ ...base, url: "not a url" })).rejects.toThrow(/is not a URL/);
    await expect(startConsoleServer({ ...base, url: "https://x.supabase.co", anonKey: " " })).rejects.toThrow(/--anon-key is required/);
    await expect(startConsoleServer({ ...base, url: "https://x.supabase.co", host: "0.0.0.0" })).rejects.toThrow(/loopback only/);
  });
});
