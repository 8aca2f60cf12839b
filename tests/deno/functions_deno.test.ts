// The edge functions under real Deno (the `deno` npm package), the way the
// Supabase Edge Runtime loads them: functions/<name>/index.ts with imports
// resolved from node_modules. A signed webhook goes in, a run comes out.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { freePort } from "../../scripts/pg_cluster.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

const root = join(import.meta.dirname, "../..");
let t: TestDatabase;
let deno: ChildProcess | null = null;
let base = "";

async function startFunction(name: string, env: Record<string, string>): Promise<string> {
  const port = await freePort();
  deno = spawn(
    join(root, "node_modules/.bin/deno"),
    ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", `functions/${name}/index.ts`],
    { cwd: root, env: { ...process.env, ...env, AUTOMATIONS_FUNCTION_PORT: String(port) }, stdio: "pipe" },
  );
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
  if (deno && deno.exitCode === null) deno.kill("SIGTERM");
  await t.drop();
});

describe("functions under Deno", () => {
  it("automations-webhook accepts a signed delivery and enqueues a run", async () => {
    const org = await createOrg(t.db, "Deno");
    const id = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
    const [r] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [id]);
    base = await startFunction("automations-webhook", {
      SUPABASE_DB_URL: t.url,
      SUPABASE_SERVICE_ROLE_KEY: "k",
      SUPABASE_URL: "http://127.0.0.1:1",
      AUTOMATIONS_LOG_LEVEL: "error",
    });
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
  });
});
