// automations-api through its handler on a real PostgreSQL: every request acts
// as the signed-in user, so RLS decides what exists; another org's ids are 404.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRuntime } from "../../local/runtime.ts";
import { freePort } from "../../scripts/pg_cluster.ts";
import { silentLogger } from "../../shared/logger.ts";
import { createApiHandler } from "../../shared/handlers/api.ts";
import type { Handler } from "../../shared/http/route.ts";
import { createAutomation, runRow } from "../helpers/automations.ts";
import { appDeps, functionRequest, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let alice: TestUser; // member of org A
let token: string;
let bobToken: string; // member of org B
let handler: Handler;
let kicks = 0;
let busy: string; // org A automation with many runs
let quiet: string; // org A automation with none

beforeAll(async () => {
  t = await createTestDatabase();
  const a = await createOrg(t.db, "Org A");
  const b = await createOrg(t.db, "Org B");
  alice = await createUser(t.db, a, "member");
  token = await userJwt(alice.claims);
  bobToken = await userJwt((await createUser(t.db, b, "member")).claims);
  busy = await createAutomation(t.db, a, { name: "Busy" });
  quiet = await createAutomation(t.db, a, { name: "Quiet", trigger_type: "webhook" });
  handler = createApiHandler(appDeps(t.db, { kick: () => void kicks++ }));
});
afterAll(async () => {
  await t.drop();
});

/** A run written as the service; `at` seconds before a fixed instant (ties on purpose). */
async function insertRun(automationId: string, status: string, at: number): Promise<string> {
  const [r] = await t.db.query<{ id: string }>(
    `insert into public.automation_runs (org_id, automation_id, status, trigger_type, created_at, started_at, completed_at, error_message)
     select a.org_id, a.id, $2::public.run_status, 'manual', timestamptz '2026-06-01 12:00:00.123456+00' - make_interval(secs => $3),
            case when $2 <> 'pending' then now() end, case when $2 in ('completed', 'failed') then now() end,
            case when $2 = 'failed' then 'the CRM is down' end
       from public.automations a where a.id = $1 returning id`,
    [automationId, status, at],
  );
  return r!.id;
}

const get = (suffix: string, tok: string | null = token) =>
  handler(functionRequest("automations-api", { method: "GET", token: tok ?? undefined, suffix }));
const post = (suffix: string, body?: unknown, tok: string | null = token) =>
  handler(functionRequest("automations-api", { method: "POST", token: tok ?? undefined, suffix, body }));
const bodyOf = async (res: Response) => (await res.json()) as any;

describe("automations-api", () => {
  const runIds: string[] = [];
  let failedRun: string;
  let pendingRun: string;

  beforeAll(async () => {
    // 130 runs of Busy: every 3rd failed, created_at with ties (pairs share a second).
    for (let i = 0; i < 130; i++) runIds.push(await insertRun(busy, i % 3 === 0 ? "failed" : "completed", Math.floor(i / 2)));
    failedRun = runIds[0]!;
    pendingRun = await insertRun(quiet, "pending", 1000);
    await t.db.query(
      `insert into public.automation_run_steps (run_id, step_index, org_id, action_type, name, status, attempt, input, output, error_message, started_at, completed_at)
       select $1, i, org_id, 'probe', 'step ' || i, case when i = 2 then 'failed' else 'completed' end::public.run_step_status, 1,
              jsonb_build_object('i', i), case when i < 2 then jsonb_build_object('ok', i) end,
              case when i = 2 then 'the CRM is down' end, now(), now()
         from public.automation_runs, generate_series(2, 0, -1) i where id = $1`,
      [failedRun],
    );
  });

  it("lists the org's automations with status and the failure share of the last 50 finished runs", async () => {
    const res = await get("/automations");
    expect(res.status).toBe(200);
    const { automations } = await bodyOf(res);
    expect(automations.map((a: any) => a.name)).toEqual(["Busy", "Quiet"]);
    const [b, q] = automations;
    // The newest 50 are i = 0..49, of which i % 3 === 0 are failed: 17.
    expect(b).toMatchObject({ id: busy, trigger_type: "manual", status: "active", recent_runs: 50, recent_failed: 17, failure_share: 17 / 50 });
    expect(b).toHaveProperty("run_count");
    expect(b).toHaveProperty("last_run_at");
    expect(q).toMatchObject({ id: quiet, trigger_type: "webhook", recent_runs: 0, recent_failed: 0, failure_share: null });
    // Org B sees none of them.
    expect((await bodyOf(await get("/automations", bobToken))).automations).toEqual([]);
  });

  it("answers one automation with its actions in position order; another org's id is 404", async () => {
    const org = (await t.db.query<{ org_id: string }>("select org_id from public.automations where id = $1", [busy]))[0]!.org_id;
    const id = await createAutomation(t.db, org, {
      name: "Two steps",
      trigger_type: "webhook",
      trigger_config: { verify: { scheme: "github" } },
      actions: [
        { type: "probe", name: "second", position: 5, config: { b: 2 } },
        { type: "probe", name: "first", position: 1, config: { a: "{{trigger.payload.x}}" }, condition: { if: { "==": [1, 1] } } },
      ],
    });
    const res = await get(`/automations/${id}`);
    expect(res.status).toBe(200);
    const a = await bodyOf(res);
    expect(a).toMatchObject({ id, name: "Two steps", trigger_type: "webhook", trigger_config: { verify: { scheme: "github" } }, status: "active" });
    expect(a.actions.map((x: any) => [x.position, x.name, x.action_type, x.action_config, x.condition])).toEqual([
      [1, "first", "probe", { a: "{{trigger.payload.x}}" }, { if: { "==": [1, 1] } }],
      [5, "second", "probe", { b: 2 }, null],
    ]);
    expect((await get(`/automations/${id}`, bobToken)).status).toBe(404);
    expect((await get(`/automations/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await post(`/automations/${id}`)).status).toBe(405);
    await t.db.query("delete from public.automations where id = $1", [id]);
  });

  it("pages runs by keyset, newest first, without duplicates or gaps", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/runs?automation_id=${busy}&limit=7${after ? `&after=${after}` : ""}`);
      expect(res.status).toBe(200);
      const page = await bodyOf(res);
      expect(page.runs.length).toBeLessThanOrEqual(7);
      seen.push(...page.runs.map((r: any) => r.id));
      after = page.next;
      pages++;
    } while (after);
    expect(seen.length).toBe(130);
    expect(pages).toBe(Math.ceil(130 / 7));
    expect(new Set(seen).size).toBe(130);
    expect(new Set(seen)).toEqual(new Set(runIds));
    // Newest first, ties broken by id descending: the same order SQL gives.
    const expected = await t.db.query<{ id: string }>(
      "select id from public.automation_runs where automation_id = $1 order by created_at desc, id desc",
      [busy],
    );
    expect(seen).toEqual(expected.map((r) => r.id));
  });

  it("filters runs by status; default limit 50; org-wide without automation_id", async () => {
    const failed = await bodyOf(await get(`/runs?status=failed&limit=100`));
    expect(failed.runs).toHaveLength(44); // i % 3 === 0 for i < 130
    expect(failed.runs.every((r: any) => r.status === "failed")).toBe(true);
    expect(failed.next).toBeNull();
    const all = await bodyOf(await get("/runs"));
    expect(all.runs).toHaveLength(50);
    expect(all.next).toEqual(expect.any(String));
    expect((await bodyOf(await get("/runs", bobToken))).runs).toEqual([]);
  });

  it("answers one run with its steps ordered by step_index", async () => {
    const res = await get(`/runs/${failedRun}`);
    expect(res.status).toBe(200);
    const run = await bodyOf(res);
    expect(run).toMatchObject({ id: failedRun, automation_id: busy, automation_name: "Busy", status: "failed", error_message: "the CRM is down" });
    expect(run.steps.map((s: any) => [s.step_index, s.status])).toEqual([[0, "completed"], [1, "completed"], [2, "failed"]]);
    expect(run.steps[2]).toMatchObject({ name: "step 2", input: { i: 2 }, output: null, error_message: "the CRM is down", attempt: 1 });
  });

  it("another org's run and automation ids are 404, and change nothing", async () => {
    for (const res of [
      await get(`/runs/${failedRun}`, bobToken),
      await post(`/runs/${failedRun}/retry`, undefined, bobToken),
      await post(`/runs/${pendingRun}/cancel`, undefined, bobToken),
      await post(`/automations/${busy}/status`, { status: "paused" }, bobToken),
      await get(`/runs/${crypto.randomUUID()}`),
      await get(`/runs/not-a-uuid`),
    ]) {
      expect(res.status).toBe(404);
      expect(await bodyOf(res)).toMatchObject({ error: { code: "not_found" } });
    }
    expect((await runRow(t.db, failedRun)).status).toBe("failed");
    expect((await runRow(t.db, pendingRun)).status).toBe("pending");
    const [a] = await t.db.query<{ status: string }>("select status::text as status from public.automations where id = $1", [busy]);
    expect(a!.status).toBe("active");
  });

  it("retries a failed run: back to pending, kicked, and a second retry is 409", async () => {
    const before = kicks;
    const res = await post(`/runs/${failedRun}/retry`);
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toMatchObject({ id: failedRun, status: "pending", error_message: null });
    expect((await runRow(t.db, failedRun)).status).toBe("pending");
    expect(kicks).toBe(before + 1);
    const again = await post(`/runs/${failedRun}/retry`);
    expect(again.status).toBe(409);
    expect((await bodyOf(again)).error.message).toMatch(/only failed runs can be retried/);
  });

  it("cancels a pending run with a reason; cancelling it again is 409", async () => {
    const res = await post(`/runs/${pendingRun}/cancel`, { reason: "wrong payload" });
    expect(res.status).toBe(200);
    const run = await bodyOf(res);
    expect(run).toMatchObject({ id: pendingRun, status: "failed", cancelled: true });
    expect(run.error_message).toMatch(/^cancelled by .*: wrong payload$/);
    expect((await post(`/runs/${pendingRun}/cancel`)).status).toBe(409);
  });

  it("pauses and activates an automation", async () => {
    const paused = await post(`/automations/${quiet}/status`, { status: "paused" });
    expect(paused.status).toBe(200);
    expect(await bodyOf(paused)).toEqual({ id: quiet, status: "paused" });
    const listed = (await bodyOf(await get("/automations"))).automations.find((a: any) => a.id === quiet);
    expect(listed.status).toBe("paused");
    expect(await bodyOf(await post(`/automations/${quiet}/status`, { status: "active" }))).toEqual({ id: quiet, status: "active" });
  });

  it("no token or an expired one is 401", async () => {
    expect((await get("/automations", null)).status).toBe(401);
    expect((await post(`/runs/${pendingRun}/cancel`, undefined, null)).status).toBe(401);
    expect((await get("/runs", await userJwt(alice.claims, { expiresInSec: -5 }))).status).toBe(401);
  });

  it("bad input is a 400 naming the problem", async () => {
    const cases: Array<[Promise<Response>, RegExp]> = [
      [get("/runs?limit=0"), /limit must be a whole number from 1 to 100/],
      [get("/runs?limit=101"), /limit must be/],
      [get("/runs?limit=ten"), /limit must be/],
      [get("/runs?status=cancelled"), /status must be one of/],
      [get("/runs?automation_id=42"), /automation_id must be a UUID/],
      [get("/runs?after=garbage"), /after must be the `next` cursor/],
      [get("/runs?page=2"), /unknown parameter "page"/],
      [post(`/automations/${quiet}/status`, { status: "archived" }), /status must be "active" or "paused"/],
      [post(`/automations/${quiet}/status`, "{not json"), /not valid JSON/],
      [post(`/automations/${quiet}/status`, {}), /status must be/],
    ];
    for (const [pending, message] of cases) {
      const res = await pending;
      expect(res.status).toBe(400);
      expect((await bodyOf(res)).error.message).toMatch(message);
    }
  });

  it("unknown paths are 404, wrong methods 405, preflight 204 with CORS", async () => {
    expect((await get("/nope")).status).toBe(404);
    expect((await get(`/runs/${pendingRun}/steps`)).status).toBe(404);
    expect((await get("")).status).toBe(404);
    const wrong = await post("/automations");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect((await get(`/runs/${pendingRun}/retry`)).status).toBe(405);
    const pre = await handler(functionRequest("automations-api", { method: "OPTIONS", suffix: "/runs" }));
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
  });

  it("the local runtime serves it at /functions/v1/automations-api/...", async () => {
    const rt = await startRuntime({
      root: join(import.meta.dirname, "../.."),
      logger: silentLogger,
      env: { DATABASE_URL: t.url, PORT: String(await freePort()), AUTOMATIONS_LOCAL_WORKER: "off" },
    });
    try {
      const tok = await userJwt(alice.claims, { secret: rt.keys.jwtSecret });
      const res = await fetch(`${rt.url}/functions/v1/automations-api/runs/${pendingRun}`, { headers: { authorization: `Bearer ${tok}` } });
      expect(res.status).toBe(200);
      expect(await bodyOf(res)).toMatchObject({ id: pendingRun, automation_id: quiet });
      const anon = await fetch(`${rt.url}/functions/v1/automations-api/automations`);
      expect(anon.status).toBe(401);
    } finally {
      await rt.stop();
    }
  });
});
