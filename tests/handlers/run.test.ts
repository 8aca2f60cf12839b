// automations-run through its handler on a real PostgreSQL: the request acts
// as the signed-in user, so RLS decides which automations they may run.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "../../shared/engine/worker.ts";
import { createRunHandler } from "../../shared/handlers/run.ts";
import type { Handler } from "../../shared/http/route.ts";
import { createAutomation, engineDeps, probeAction, runRow } from "../helpers/automations.ts";
import { anonKeyJwt, appDeps, functionRequest, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let alice: TestUser; // member of org A
let bob: TestUser; // member of org B
let token: string;
let active: string;
let handler: Handler;
const drains: Promise<unknown>[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  const a = await createOrg(t.db, "Org A");
  const b = await createOrg(t.db, "Org B");
  alice = await createUser(t.db, a, "member");
  bob = await createUser(t.db, b, "member");
  token = await userJwt(alice.claims);
  active = await createAutomation(t.db, a, { actions: [{ type: "probe", name: "first" }] });
  handler = createRunHandler(appDeps(t.db));
});
// Each test that starts a worker registers only its own actions: let that
// worker finish its drain before the next test enqueues, or it may claim the
// next test's run and fail it with "unknown action type".
afterEach(async () => {
  await Promise.allSettled(drains.splice(0));
});
afterAll(async () => {
  await Promise.allSettled(drains);
  await t.drop();
});

const run = (body: unknown, tok: string | null = token) =>
  handler(functionRequest("automations-run", { token: tok ?? undefined, body }));

async function runCount(): Promise<number> {
  const [r] = await t.db.query<{ n: number }>("select count(*)::int as n from public.automation_runs");
  return r!.n;
}

describe("automations-run", () => {
  it("a member runs their org's automation: 202 {run_id} and a pending manual run", async () => {
    const res = await run({ automation_id: active, payload: { deal: 42 } });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    const [row] = await t.db.query<{ status: string; trigger_type: string; trigger_payload: unknown; org_id: string }>(
      "select status, trigger_type, trigger_payload, org_id from public.automation_runs where id = $1",
      [run_id],
    );
    expect(row).toEqual({ status: "pending", trigger_type: "manual", trigger_payload: { deal: 42 }, org_id: alice.orgId });
  });

  it("kicks execution once the run is committed", async () => {
    let kicks = 0;
    const h = createRunHandler(appDeps(t.db, { kick: () => void kicks++ }));
    const res = await h(functionRequest("automations-run", { token, body: { automation_id: active } }));
    expect(res.status).toBe(202);
    expect(kicks).toBe(1);
  });

  it("the same idempotency_key returns the same run", async () => {
    const body = { automation_id: active, idempotency_key: "button-click-1" };
    const first = (await (await run(body)).json()) as { run_id: string };
    const before = await runCount();
    const again = (await (await run(body)).json()) as { run_id: string };
    expect(again.run_id).toBe(first.run_id);
    expect(await runCount()).toBe(before);
  });

  it("another org's automation and an unknown id are both 404, and write nothing", async () => {
    const before = await runCount();
    const other = await run({ automation_id: active }, await userJwt(bob.claims));
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await run({ automation_id: crypto.randomUUID() })).status).toBe(404);
    expect(await runCount()).toBe(before);
  });

  it("paused and archived automations answer 409 with the reason; drafts may be test-run", async () => {
    for (const status of ["paused", "archived"] as const) {
      const id = await createAutomation(t.db, alice.orgId, { status });
      const res = await run({ automation_id: id });
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ error: { code: "conflict", message: expect.stringContaining(`is ${status}`) } });
    }
    const draft = await createAutomation(t.db, alice.orgId, { status: "draft" });
    expect((await run({ automation_id: draft })).status).toBe(202);
  });

  it("401 for the anon key, a missing token and an expired one", async () => {
    const anon = await run({ automation_id: active }, await anonKeyJwt());
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ error: { code: "unauthorized", message: "sign in first: the anon key is not a user" } });
    expect((await run({ automation_id: active }, null)).status).toBe(401);
    const expired = await run({ automation_id: active }, await userJwt(alice.claims, { expiresInSec: -5 }));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/token expired at/);
  });

  it("a bad body is a 400 naming the first problem, and writes nothing", async () => {
    const before = await runCount();
    const cases: Array<[unknown, RegExp]> = [
      ["{not json", /not valid JSON/],
      [{}, /automation_id is required/],
      [{ automation_id: "42" }, /automation_id must be a UUID/],
      [{ automation_id: active, wait: -1 }, /wait must be/],
      [{ automation_id: active, idempotency_key: "x".repeat(249) }, /longer than 248/],
      // Trigger prefixes are the engine's: a manual key may not take a webhook's, schedule's or event's.
      [{ automation_id: active, idempotency_key: "webhook:msg_1" }, /starts with a trigger prefix/],
      [{ automation_id: active, idempotency_key: "schedule:2026-01-01T00:00:00Z" }, /starts with a trigger prefix/],
      [{ automation_id: active, idempotency_key: "event:evt_1" }, /starts with a trigger prefix/],
      [{ automation_id: active, idempotency_key: "manual:x" }, /starts with a trigger prefix/],
      [{ automation_id: active, automationId: active }, /unknown field "automationId"/],
      [[active], /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await run(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(await runCount()).toBe(before);
  });

  it("405 for other methods, with CORS headers on the error too", async () => {
    const res = await handler(functionRequest("automations-run", { method: "GET", token }));
    expect(res.status).toBe(405);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers the CORS preflight without a token", async () => {
    const res = await handler(
      functionRequest("automations-run", {
        method: "OPTIONS",
        headers: { origin: "https://app.example.test", "access-control-request-method": "POST" },
      }),
    );
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, x-client-info, apikey, content-type");
    const ok = await run({ automation_id: active });
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("with wait, answers 200 with the finished run and its steps once a worker has run it", async () => {
    const calls: never[] = [];
    const probe = probeAction("probe", calls);
    const worker = new Worker({ ...engineDeps(t.db, [probe]), concurrency: 2 });
    const h = createRunHandler(appDeps(t.db, { actions: [probe], kick: () => void drains.push(worker.drain(10_000)) }));
    const res = await h(functionRequest("automations-run", { token, body: { automation_id: active, payload: { n: 1 }, wait: true } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({ status: "completed", error_message: null, started_at: expect.any(String), completed_at: expect.any(String) });
    expect(body.steps).toEqual([
      {
        step_index: 0,
        name: "first",
        action_type: "probe",
        status: "completed",
        output: { echo: {} },
        error_message: null,
        started_at: expect.any(String),
        completed_at: expect.any(String),
      },
    ]);
    expect((await runRow(t.db, body.run_id)).status).toBe("completed");
  });

  it("with wait, a failed run is 200 too, with its error", async () => {
    const boom = probeAction("boom", [], () => {
      throw new Error("the CRM is down");
    });
    const id = await createAutomation(t.db, alice.orgId, { max_attempts: 1, actions: [{ type: "boom" }] });
    const worker = new Worker(engineDeps(t.db, [boom]));
    const h = createRunHandler(appDeps(t.db, { kick: () => void drains.push(worker.drain(10_000)) }));
    const res = await h(functionRequest("automations-run", { token, body: { automation_id: id, wait: 10_000 } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.status).toBe("failed");
    expect(body.error_message).toMatch(/the CRM is down/);
    expect(body.steps[0]).toMatchObject({ status: "failed", error_message: expect.stringMatching(/the CRM is down/) });
  });

  it("with wait, a run nobody executes in time is 202 {run_id, status}", async () => {
    const started = Date.now();
    const res = await run({ automation_id: active, wait: 150 });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ run_id: expect.any(String), status: "pending" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
