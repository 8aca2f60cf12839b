// automations-schedule-tick through its handler: service credentials only,
// enqueues due fire times, a double tick makes one run, releases dead leases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../shared/db/types.ts";
import { createScheduleTickHandler } from "../../shared/handlers/schedule_tick.ts";
import type { Handler } from "../../shared/http/route.ts";
import { createAutomation } from "../helpers/automations.ts";
import { appDeps, functionRequest, TEST_AUTH, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let handler: Handler;
let org: string;
let kicks = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Tick");
  handler = createScheduleTickHandler(appDeps(t.db, { kick: () => kicks++ }));
});
afterAll(() => t.drop());

const tick = (token?: string, headers: Record<string, string> = {}) =>
  handler(functionRequest("automations-schedule-tick", { token, body: {}, headers }));

describe("automations-schedule-tick", () => {
  it("rejects missing credentials, a user JWT and a wrong key with 401 and does nothing", async () => {
    const user = await createUser(t.db, org, "owner");
    for (const res of [await tick(), await tick(await userJwt(user.claims)), await tick("nope"), await tick(undefined, { "x-automations-secret": "nope" })]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/credentials/);
    }
  });

  it("enqueues due fire times once, however often it is called in that minute", async () => {
    const id = await createAutomation(t.db, org, {
      trigger_type: "schedule",
      trigger_config: { cron: "* * * * *", timezone: "Europe/Berlin", missed: "all" },
    });
    expect((await tick(TEST_AUTH.serviceRoleKey)).status).toBe(200);
    await t.db.query("update automations_engine.schedule_state set since = now() - interval '5 minutes' where automation_id = $1", [id]);
    const k = kicks;
    const [a, b] = await Promise.all([tick(TEST_AUTH.serviceRoleKey), tick(undefined, { "x-automations-secret": TEST_AUTH.sharedSecret })]);
    const bodies = [(await a.json()) as { enqueued: number; duplicates: number }, (await b.json()) as { enqueued: number; duplicates: number }];
    const [{ n }] = (await t.db.query<{ n: number }>("select count(*)::int as n from automation_runs where automation_id = $1", [id])) as [{ n: number }];
    expect(n).toBe(5);
    expect(bodies[0]!.enqueued + bodies[1]!.enqueued).toBe(5);
    expect(kicks).toBeGreaterThan(k);
  });

  it("releases runs whose worker died", async () => {
    const id = await createAutomation(t.db, org, { actions: [{ type: "log" }] });
    await t.db.query(
      `insert into automation_runs (org_id, automation_id, status, attempt, started_at, lease_expires_at)
       values ($1, $2, 'running', 1, now(), now() - interval '1 minute')`,
      [org, id],
    );
    const body = (await (await tick(TEST_AUTH.serviceRoleKey)).json()) as { released_leases: number };
    expect(body.released_leases).toBe(1);
  });

  it("answers 200 with the automation that failed mid-tick (paused after the candidate list), the others enqueued", async () => {
    const orgB = await createOrg(t.db, "Tick B");
    const spec = { trigger_type: "schedule" as const, trigger_config: { cron: "* * * * *", timezone: "UTC", missed: "once" } };
    const [a, victim, b] = [await createAutomation(t.db, org, spec), await createAutomation(t.db, org, spec), await createAutomation(t.db, orgB, spec)];
    expect((await tick(TEST_AUTH.serviceRoleKey)).status).toBe(200);
    await t.db.query("update automations_engine.schedule_state set since = now() - interval '1 hour' where automation_id in ($1, $2, $3)", [a, victim, b]);
    const racing: Db = {
      ...t.db,
      async query<T>(text: string, params?: readonly unknown[]) {
        const rows = await t.db.query<T>(text, params);
        if (text.includes("schedule_candidates()")) await t.db.query("update automations set status = 'paused' where id = $1", [victim]);
        return rows;
      },
    };
    const res = await createScheduleTickHandler(appDeps(racing))(functionRequest("automations-schedule-tick", { token: TEST_AUTH.serviceRoleKey, body: {} }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { enqueued: number; failed: Array<{ automation_id: string; code: string; error: string }> };
    expect(body.failed).toEqual([{ automation_id: victim, code: "55000", error: expect.stringMatching(/is paused, not active/) }]);
    expect(body.enqueued).toBe(2);
    const runs = await t.db.query<{ automation_id: string }>(
      "select automation_id from automation_runs where automation_id in ($1, $2, $3) order by automation_id",
      [a, victim, b],
    );
    expect(runs.map((r) => r.automation_id)).toEqual([a, b].sort());
  });
});
