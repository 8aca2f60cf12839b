// AUTOMATIONS_LOCAL_WORKER=off: the local runtime runs no worker, tick or
// retention loop of its own; only calls to the functions do work, as on hosted
// Supabase. The same setup with the loops on is the control: there the loops
// do all three by themselves.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/pg_cluster.ts";
import { localWorkerEnabled, startRuntime, type Runtime } from "../../local/runtime.ts";
import { silentLogger } from "../../shared/logger.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { until } from "../helpers/hosted.ts";

const root = join(import.meta.dirname, "../..");
let t: TestDatabase | null = null;
let rt: Runtime | null = null;

afterEach(async () => {
  await rt?.stop();
  await t?.drop();
  rt = t = null;
});

/** A queued manual run, a schedule automation the tick has not seen, a completed run past retention. */
async function setUp(db: TestDatabase["db"]) {
  const org = await createOrg(db);
  const manual = await createAutomation(db, org, { actions: [{ type: "log", config: { message: "hi" } }] });
  const schedule = await createAutomation(db, org, {
    trigger_type: "schedule",
    trigger_config: { cron: "0 0 1 1 *" },
    actions: [{ type: "log", config: { message: "new year" } }],
  });
  const [queued] = await db.query<{ id: string }>("select public.run_automation($1) as id", [manual]);
  const [old] = await db.query<{ id: string }>("select public.run_automation($1) as id", [manual]);
  await db.query(
    `update public.automation_runs set status = 'completed', started_at = now() - interval '41 days',
            completed_at = now() - interval '40 days' where id = $1`,
    [old!.id],
  );
  return { queued: queued!.id, old: old!.id, schedule };
}

async function observe(db: TestDatabase["db"], ids: { queued: string; old: string; schedule: string }) {
  const [r] = await db.query<{ queued: string; old: number; seen: number }>(
    `select (select status::text from public.automation_runs where id = $1) as queued,
            (select count(*)::int from public.automation_runs where id = $2) as old,
            (select count(*)::int from automations_engine.schedule_state where automation_id = $3) as seen`,
    [ids.queued, ids.old, ids.schedule],
  );
  return r!;
}

async function start(url: string, localWorker: string): Promise<Runtime> {
  return startRuntime({
    root,
    logger: silentLogger,
    tickSeconds: 1,
    env: { DATABASE_URL: url, PORT: String(await freePort()), AUTOMATIONS_LOCAL_WORKER: localWorker },
  });
}

describe("AUTOMATIONS_LOCAL_WORKER", () => {
  it("on (the default): the runtime's loops run the queue, tick the schedules and prune old runs", async () => {
    t = await createTestDatabase();
    const ids = await setUp(t.db);
    rt = await start(t.url, "on");
    await until("the loops to do their work", async () => {
      const o = await observe(t!.db, ids);
      return o.queued === "completed" && o.old === 0 && o.seen === 1;
    });
  });

  it("off: nothing happens by itself; the worker and tick functions do the work when called", async () => {
    t = await createTestDatabase();
    const ids = await setUp(t.db);
    rt = await start(t.url, "off");
    // Longer than the loops need above (the worker wakes on NOTIFY, the tick runs every second).
    await new Promise((r) => setTimeout(r, 2500));
    expect(await observe(t.db, ids)).toEqual({ queued: "pending", old: 1, seen: 0 });

    const call = (fn: string) =>
      fetch(`${rt!.url}/functions/v1/${fn}`, {
        method: "POST",
        headers: { authorization: `Bearer ${rt!.keys.serviceRoleKey}`, "content-type": "application/json" },
        body: "{}",
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const worker = await call("automations-worker");
    expect(worker).toMatchObject({ status: 200, body: { processed: 1, completed: 1 } });
    const tick = await call("automations-schedule-tick");
    expect(tick.status).toBe(200);
    expect(await observe(t.db, ids)).toEqual({ queued: "completed", old: 1, seen: 1 });
  });

  it("accepts on/off and refuses anything else with a clear message", () => {
    expect(localWorkerEnabled({})).toBe(true);
    expect(localWorkerEnabled({ AUTOMATIONS_LOCAL_WORKER: "OFF" })).toBe(false);
    expect(() => localWorkerEnabled({ AUTOMATIONS_LOCAL_WORKER: "no" })).toThrow(
      'AUTOMATIONS_LOCAL_WORKER must be "on" or "off", not "no"',
    );
  });
});
