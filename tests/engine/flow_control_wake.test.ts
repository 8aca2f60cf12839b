// Flow control and the things that wake or free workers: a backlog held back
// by a limit is not work (kick_worker's has_claimable_runs, the enqueue
// NOTIFY rule), and a killed worker's slot is freed by the liveness rule
// (heartbeat older than the worker's timeout), not only by its lease.
// Asserted on what the database says and which NOTIFY arrived, never by time.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { releaseExpiredLeases } from "../../shared/engine/sql/leases.ts";
import { workerHeartbeat } from "../../shared/engine/sql/workers.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { addRuns, claimRace, counts } from "../helpers/flow_control.ts";

let t: TestDatabase;
const orgs: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ max: 12 });
});
afterAll(() => t.drop());
afterEach(async () => {
  await t.db.query("delete from automations where org_id = any ($1::uuid[])", [orgs.splice(0)]);
  await t.db.query("delete from automation_settings");
  await t.db.query("delete from automations_engine.workers");
});

async function org(name: string) {
  const id = await createOrg(t.db, name);
  orgs.push(id);
  return id;
}

const claimable = async () =>
  (await t.db.query<{ ok: boolean }>("select automations_engine.has_claimable_runs() as ok"))[0]!.ok;

/** The ids NOTIFY automation_runs carried while `fn` ran (waits until one arrives, at most 2 s). */
async function notified(fn: () => Promise<unknown>): Promise<string[]> {
  const woken: string[] = [];
  const listener = createPostgresDb(t.url, { max: 1 });
  const unlisten = await listener.listen!("automation_runs", (id) => woken.push(id));
  try {
    await fn();
    // A NOTIFY is delivered after its commit; an enqueue that does not
    // notify sends nothing, so the wait ends at 2 s. Only the ids count.
    for (let i = 0; i < 100 && woken.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    return woken;
  } finally {
    await unlisten();
    await listener.close?.();
  }
}

describe("a held-back backlog is not work", () => {
  it("has_claimable_runs (kick_worker's check): false while every due run is held back, true for one that is not", async () => {
    const o = await org("Held");
    const rated = await createAutomation(t.db, o, { name: "rated" });
    const single = await createAutomation(t.db, o, { name: "one at a time" });
    await t.db.query(`update automations set rate_limit = '{"limit": 1, "period_seconds": 3600}' where id = $1`, [rated]);
    await t.db.query("update automations set max_concurrency = 1 where id = $1", [single]);
    expect(await claimable()).toBe(false);
    await addRuns(t.db, rated, Array.from({ length: 20 }, (_, i) => ({ i })));
    await addRuns(t.db, single, Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(await claimable()).toBe(true);
    expect(await claimRuns(t.db, "w", 16, 60)).toHaveLength(2); // one of each; the rest held back, due
    expect(await claimable()).toBe(false);

    // An org at its max_running_runs: its plain backlog is held back too.
    const capped = await org("Capped");
    await t.db.query("insert into automation_settings (org_id, max_running_runs) values ($1, 2)", [capped]);
    const bulk = await createAutomation(t.db, capped, { name: "bulk" });
    await addRuns(t.db, bulk, Array.from({ length: 30 }, (_, i) => ({ i })));
    expect(await claimable()).toBe(true);
    expect(await claimRuns(t.db, "w", 16, 60)).toHaveLength(2);
    expect(await claimable()).toBe(false);

    // One run of another org, due after all of them: work again.
    const other = await org("Other");
    await addRuns(t.db, await createAutomation(t.db, other), [{ i: 0 }], 1);
    expect(await claimable()).toBe(true);
    const took = await claimRuns(t.db, "w", 16, 60);
    expect(took.map((r) => r.org_id)).toEqual([other]);
    expect(await claimable()).toBe(false);
  });

  it("a backlog of held-back runs does not suppress the NOTIFY for a run without limits", async () => {
    const o = await org("Wake");
    const held = await createAutomation(t.db, o);
    const plain = await createAutomation(t.db, o);
    await t.db.query(`update automations set rate_limit = '{"limit": 1, "period_seconds": 3600}' where id = $1`, [held]);
    await addRuns(t.db, held, Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(await claimRuns(t.db, "w", 16, 60)).toHaveLength(1); // the window is full now; 19 held, due
    let runId = "";
    expect(await notified(async () => ({ runId } = await enqueueRun(t.db, { automationId: plain, triggerType: "manual" })))).toEqual([runId]);
  });

  it("an org at its max_running_runs with a due backlog does not suppress the NOTIFY for another org's run", async () => {
    const capped = await org("Capped wake");
    await t.db.query("insert into automation_settings (org_id, max_running_runs) values ($1, 1)", [capped]);
    await addRuns(t.db, await createAutomation(t.db, capped), Array.from({ length: 10 }, (_, i) => ({ i })));
    expect(await claimRuns(t.db, "w", 16, 60)).toHaveLength(1); // at its cap; 9 due, held back
    const other = await createAutomation(t.db, await org("Quiet"));
    let runId = "";
    expect(await notified(async () => ({ runId } = await enqueueRun(t.db, { automationId: other, triggerType: "manual" })))).toEqual([runId]);
    // Cap lifted: the backlog is claimable, a worker is busy with it or was
    // woken for it, so the rule saves the NOTIFY again.
    await t.db.query("update automation_settings set max_running_runs = null where org_id = $1", [capped]);
    expect(await notified(() => enqueueRun(t.db, { automationId: other, triggerType: "manual" }))).toEqual([]);
  });
});

describe("a killed worker's slot", () => {
  // The worker beats with a 2 s timeout; its heartbeat is then aged past it
  // (what SIGKILL leaves behind). Its runs' leases have NOT expired: the
  // liveness rule alone frees the slots.
  async function killedWorker(id: string) {
    expect(await workerHeartbeat(t.db, id, { kind: "loop", timeoutSeconds: 2, host: null, pid: null })).toBe("registered");
    return async () => {
      await t.db.query("update automations_engine.workers set heartbeat_at = now() - interval '1 minute' where worker_id = $1", [id]);
      expect(await releaseExpiredLeases(t.db)).toBeGreaterThan(0);
    };
  }

  it("max_concurrency: the dead worker's run goes back to the queue and one run takes its slot, never two", async () => {
    const o = await org("Crash");
    const id = await createAutomation(t.db, o);
    await t.db.query("update automations set max_concurrency = 1 where id = $1", [id]);
    await addRuns(t.db, id, [{ i: 1 }, { i: 2 }]);
    const kill = await killedWorker("dead-worker");
    const dead = await claimRuns(t.db, "dead-worker", 5, 60);
    expect(dead).toHaveLength(1);
    expect(await claimRace(t.url, 10, 5)).toHaveLength(0); // its slot is taken
    await kill();
    const [lease] = await t.db.query<{ future: boolean }>(
      "select lease_expires_at is null and status = 'pending' as future from automation_runs where id = $1", [dead[0]!.id]);
    expect(lease!.future).toBe(true);
    expect(await claimRace(t.url, 10, 5)).toHaveLength(1);
    expect((await counts(t.db, id)).find((r) => r.status === "running")?.n).toBe(1);
  });

  it("max_running_runs: the org's slots held by the dead worker are freed, and the cap still holds", async () => {
    const capped = await org("Capped crash");
    await t.db.query("insert into automation_settings (org_id, max_running_runs) values ($1, 3)", [capped]);
    const id = await createAutomation(t.db, capped);
    await addRuns(t.db, id, Array.from({ length: 10 }, (_, i) => ({ i })));
    const kill = await killedWorker("dead-worker-2");
    expect(await claimRuns(t.db, "dead-worker-2", 2, 60)).toHaveLength(2);
    expect(await claimRace(t.url, 10, 5)).toHaveLength(1); // 3 running: the cap
    await kill();
    expect(await claimRace(t.url, 10, 5)).toHaveLength(2);
    const [r] = await t.db.query<{ n: number }>(
      "select count(*)::int as n from automation_runs where org_id = $1 and status = 'running'", [capped]);
    expect(r!.n).toBe(3);
  });
});
