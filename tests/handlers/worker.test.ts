// automations-worker through its handler on a real PostgreSQL: only the
// service may call it; it drains due runs within its budget and reports.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { createWorkerHandler } from "../../shared/handlers/worker.ts";
import type { Handler } from "../../shared/http/route.ts";
import { createAutomation, probeAction, runRow } from "../helpers/automations.ts";
import { appDeps, functionRequest, TEST_AUTH, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;
let handler: Handler;
const calls: never[] = [];
const probe = probeAction("probe", calls);
const slow = probeAction("slow", [], () => new Promise((r) => setTimeout(() => r({ slept: 150 }), 150)));
// Runs until the worker aborts it (shutdown signal).
const hang = probeAction("hang", []);
hang.execute = (_c, ctx) =>
  new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted"))));

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Worker fn");
  handler = createWorkerHandler(appDeps(t.db, { actions: [probe, slow, hang] }));
});
afterAll(() => t.drop());
// Every drain takes whatever is due in the whole database: start each test empty.
beforeEach(async () => {
  await t.db.query("delete from public.automation_runs");
});

const asService = (init: { body?: unknown; suffix?: string } = {}) =>
  functionRequest("automations-worker", { token: TEST_AUTH.serviceRoleKey, ...init });

async function enqueue(type: string, n: number): Promise<string[]> {
  const id = await createAutomation(t.db, org, { actions: [{ type }] });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await enqueueRun(t.db, { automationId: id, triggerType: "manual" })).runId);
  return ids;
}

async function counts(): Promise<Record<string, number>> {
  const rows = await t.db.query<{ status: string; n: number }>(
    "select status::text as status, count(*)::int as n from public.automation_runs group by status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

type Report = { processed: number; completed: number; failed: number; requeued: number; lost: number; errors: number; duration_ms: number };

describe("automations-worker", () => {
  it("rejects callers that are not the service, running nothing", async () => {
    await enqueue("probe", 1);
    const user = await createUser(t.db, org, "owner");
    const attempts = [
      functionRequest("automations-worker"),
      functionRequest("automations-worker", { token: "wrong-key" }),
      functionRequest("automations-worker", { token: await userJwt(user.claims) }),
      functionRequest("automations-worker", { headers: { "x-automations-secret": "wrong" } }),
    ];
    for (const req of attempts) {
      const res = await handler(req);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    expect(await counts()).toEqual({ pending: 1 });
  });

  it("drains every due run and reports what it did (service key)", async () => {
    const before = calls.length;
    await enqueue("probe", 12);
    const res = await handler(asService({ body: { concurrency: 4 } }));
    expect(res.status).toBe(200);
    const report = (await res.json()) as Report;
    expect(report).toMatchObject({ processed: 12, completed: 12, failed: 0, requeued: 0, lost: 0, errors: 0 });
    expect(report.duration_ms).toBeGreaterThanOrEqual(0);
    expect(calls.length - before).toBe(12);
    expect(await counts()).toEqual({ completed: 12 });
  });

  it("accepts the shared secret, an empty body and options in the query string", async () => {
    await enqueue("probe", 2);
    const res = await handler(
      functionRequest("automations-worker", { headers: { "x-automations-secret": TEST_AUTH.sharedSecret }, suffix: "?concurrency=1" }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ processed: 2, completed: 2 });
  });

  it("reports nothing to do when the queue is empty", async () => {
    const res = await handler(asService());
    expect(await res.json()).toMatchObject({ processed: 0, completed: 0, failed: 0 });
  });

  it("stops claiming when the budget is spent and leaves the rest pending", async () => {
    await enqueue("slow", 20); // 150 ms each, one at a time: 3 s of work
    const started = Date.now();
    const res = await handler(asService({ body: { budget_ms: 300, concurrency: 1 } }));
    const elapsed = Date.now() - started;
    const report = (await res.json()) as Report;
    expect(report.processed).toBeGreaterThanOrEqual(1);
    expect(report.processed).toBeLessThan(20);
    expect(report.completed).toBe(report.processed);
    // Roughly the budget plus the run in flight; far from the 3 s a full drain takes.
    expect(elapsed).toBeLessThan(2000);
    expect((await counts()).pending).toBe(20 - report.processed);
  });

  it("claims at most max_runs per call (the CPU budget) and leaves the rest pending", async () => {
    await enqueue("probe", 7);
    const res = await handler(asService({ body: { max_runs: 3, concurrency: 2 } }));
    expect(await res.json()).toMatchObject({ processed: 3, completed: 3 });
    expect(await counts()).toEqual({ completed: 3, pending: 4 });
    const rest = await handler(asService({ suffix: "?max_runs=10" }));
    expect(await rest.json()).toMatchObject({ processed: 4, completed: 4 });
  });

  it("hands a run still in flight after the grace period back to the queue", async () => {
    const h = createWorkerHandler(appDeps(t.db, { actions: [hang] }), { graceMs: 100 });
    const [runId] = await enqueue("hang", 1);
    const res = await h(asService({ body: { budget_ms: 100 } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ processed: 1, requeued: 1, failed: 0 });
    expect(await runRow(t.db, runId!)).toMatchObject({ status: "pending", failed_attempts: 0 });
  });

  it("400 for options out of range or malformed, 405 for other methods", async () => {
    const cases: Array<[{ body?: unknown; suffix?: string }, RegExp]> = [
      [{ body: { budget_ms: 200_000 } }, /budget_ms is at most 140000/],
      [{ body: { budget_ms: "soon" } }, /budget_ms must be a number/],
      [{ body: { concurrency: 0 } }, /concurrency must be at least 1/],
      [{ body: { concurrency: 33 } }, /concurrency is at most 32/],
      [{ body: { max_runs: 0 } }, /max_runs must be at least 1/],
      [{ body: { max_runs: 1.5 } }, /max_runs must be a whole number/],
      [{ suffix: "?budget_ms=abc" }, /budget_ms must be a number/],
      [{ body: "{oops" }, /not valid JSON/],
      [{ body: [1] }, /must be a JSON object/],
    ];
    for (const [init, message] of cases) {
      const res = await handler(asService(init));
      expect(res.status, JSON.stringify(init)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    const get = await handler(functionRequest("automations-worker", { method: "GET", token: TEST_AUTH.serviceRoleKey }));
    expect(get.status).toBe(405);
  });
});
