// The edge functions under real Deno (the `deno` npm package), the way the
// Supabase Edge Runtime loads them: functions/<name>/index.ts with imports
// resolved from node_modules. A signed webhook goes in, a run comes out.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { freePort } from "../../scripts/pg_cluster.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";
import { SignJWT } from "jose";

const root = join(import.meta.dirname, "../..");
let t: TestDatabase;
const children: ChildProcess[] = [];

async function startFunction(name: string, env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const deno = spawn(
    join(root, "node_modules/.bin/deno"),
    ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", `functions/${name}/index.ts`],
    { cwd: root, env: { ...process.env, ...env, AUTOMATIONS_FUNCTION_PORT: String(port) }, stdio: "pipe" },
  );
  children.push(deno);
  let log = "";
  deno.stderr!.on("data", (d) => (log += d));
  deno.stdout!.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (deno.exitCode !== null) throw new Error(`deno exited: ${log}`);
    try {
      await fetch(url, { method: "OPTIONS" });
      return url;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`deno did not listen: ${log}`);
}

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  // Only the processes this file started, by their own PIDs.
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await t.drop();
});

const SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const env = () => ({
  SUPABASE_DB_URL: t.url,
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
  SUPABASE_JWT_SECRET: SECRET,
  SUPABASE_JWKS_URL: "",
  AUTOMATIONS_LOG_LEVEL: "error",
});

describe("functions under Deno", () => {
  it("automations-webhook accepts a signed delivery and enqueues a run", async () => {
    const org = await createOrg(t.db, "Deno");
    const id = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
    const [r] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [id]);
    const base = await startFunction("automations-webhook", env());
    const body = JSON.stringify({ hello: "deno" });
    const res = await fetch(`${base}/functions/v1/automations-webhook/${id}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signWebhook(r!.s, "msg_deno", body) },
      body,
    });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    const [run] = await t.db.query<{ trigger_payload: unknown }>("select trigger_payload from automation_runs where id = $1", [run_id]);
    expect(run!.trigger_payload).toEqual({ hello: "deno" });
    const bad = await fetch(`${base}/functions/v1/automations-webhook/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(bad.status).toBe(401);

    // Provider schemes verify with node:crypto, which Deno provides: a GitHub
    // delivery (hex) and a Shopify one (base64), with headers kept on the run.
    for (const [scheme, headers] of [
      ["github", { "x-hub-signature-256": "sha256=" + createHmac("sha256", "deno-provider-secret").update(body).digest("hex"), "x-github-event": "push" }],
      ["shopify", { "x-shopify-hmac-sha256": createHmac("sha256", "deno-provider-secret").update(body).digest("base64"), "x-shopify-topic": "orders/create" }],
    ] as const) {
      const hook = await createAutomation(t.db, org, { trigger_type: "webhook", trigger_config: { verify: { scheme } }, actions: [{ type: "log" }] });
      await t.db.query("select public.set_webhook_secret($1, 'deno-provider-secret')", [hook]);
      const ok = await fetch(`${base}/functions/v1/automations-webhook/${hook}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
      expect(ok.status, await ok.clone().text()).toBe(202);
      const [kept] = await t.db.query<{ h: Record<string, string> }>("select trigger_headers as h from automation_runs where id = $1", [((await ok.json()) as { run_id: string }).run_id]);
      expect(Object.keys(kept!.h)).toContain(scheme === "github" ? "x-github-event" : "x-shopify-topic");
      const tampered = await fetch(`${base}/functions/v1/automations-webhook/${hook}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: body + " " });
      expect(tampered.status).toBe(401);
    }
  });

  it("automations-run, -event, -schedule-tick and -worker answer over HTTP under Deno", async () => {
    const org = await createOrg(t.db, "Deno2");
    const user = await createUser(t.db, org, "member");
    const manual = await createAutomation(t.db, org, { trigger_type: "manual", actions: [{ type: "log" }] });
    await createAutomation(t.db, org, { trigger_type: "event", trigger_config: { event: "invoice.paid" }, actions: [{ type: "log" }] });
    const [run, event, tick, worker] = await Promise.all(
      ["automations-run", "automations-event", "automations-schedule-tick", "automations-worker"].map((f) => startFunction(f, env())),
    );
    const jwt = await new SignJWT({ sub: user.authId, role: "authenticated", aud: "authenticated" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    const r = await fetch(`${run}/functions/v1/automations-run`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: JSON.stringify({ automation_id: manual }),
    });
    expect(r.status).toBe(202);
    const service = { authorization: "Bearer service-key", "content-type": "application/json" };
    const e = await fetch(`${event}/functions/v1/automations-event`, {
      method: "POST",
      headers: service,
      body: JSON.stringify({ event: "invoice.paid", org_id: org, id: "evt_1", payload: { amount: 5 } }),
    });
    expect(e.status).toBeLessThan(300);
    expect((await fetch(`${tick}/functions/v1/automations-schedule-tick`, { method: "POST", headers: service, body: "{}" })).status).toBe(200);
    const w = await fetch(`${worker}/functions/v1/automations-worker`, { method: "POST", headers: service, body: "{}" });
    expect(w.status).toBe(200);
    const unauthorized = await fetch(`${worker}/functions/v1/automations-worker`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(unauthorized.status).toBe(401);
    const [{ n }] = (await t.db.query<{ n: number }>(
      "select count(*)::int as n from automation_runs where org_id = $1 and status = 'completed'",
      [org],
    )) as [{ n: number }];
    expect(n).toBe(2);
  });
});
