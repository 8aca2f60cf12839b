// The schedule tick against real PostgreSQL: due fire times become runs,
// overlapping ticks never fire twice, missed-run policies, bad configs skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";
import { silentLogger, type LogFields } from "../../shared/logger.ts";
import { tickSchedules } from "../../shared/triggers/schedule_tick.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 10 });
  org = await createOrg(t.db, "Sched");
});
afterAll(() => t.drop());

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

async function runsOf(id: string) {
  return t.db.query<{ key: string; payload: { scheduled_at: string } }>(
    "select idempotency_key as key, trigger_payload as payload from automation_runs where automation_id = $1 order by idempotency_key",
    [id],
  );
}

async function schedule(cron: string, missed: string, status = "active") {
  const id = await createAutomation(t.db, org, {
    trigger_type: "schedule",
    trigger_config: { cron, timezone: "UTC", missed },
    status: status as "active",
  });
  // Pretend the tick first saw it an hour ago.
  await tickSchedules(t.db, new Date(), silentLogger);
  await t.db.query("update automations_engine.schedule_state set since = now() - interval '1 hour' where automation_id = $1", [id]);
  return id;
}

describe("tickSchedules", () => {
  it("does not fire for the time before it first saw the automation", async () => {
    const id = await createAutomation(t.db, org, { trigger_type: "schedule", trigger_config: { cron: "* * * * *" } });
    await tickSchedules(t.db, new Date(), silentLogger);
    expect(await runsOf(id)).toHaveLength(0);
  });

  it("skip: only the latest fire time, and only if recent", async () => {
    const id = await schedule("*/5 * * * *", "skip");
    const now = minutes(0);
    await tickSchedules(t.db, now, silentLogger);
    const runs = await runsOf(id);
    // Within the last 2 minutes there is a */5 fire time only sometimes.
    const recent = Math.floor(now.getTime() / 300_000) * 300_000;
    expect(runs).toHaveLength(now.getTime() - recent <= 120_000 ? 1 : 0);
  });

  it("all: every missed fire time up to the cap, each once; a later tick adds only new ones", async () => {
    const id = await schedule("* * * * *", "all");
    await tickSchedules(t.db, new Date(), silentLogger);
    const first = await runsOf(id);
    expect(first).toHaveLength(60); // the hour since it was first seen, capped at 100
    expect(first[0]!.key).toMatch(/^schedule:\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    await tickSchedules(t.db, minutes(3), silentLogger);
    expect((await runsOf(id)).length).toBeGreaterThanOrEqual(62);
    expect((await runsOf(id)).length).toBeLessThanOrEqual(63);
  });

  it("once: a single run for a long gap", async () => {
    const id = await schedule("* * * * *", "once");
    await tickSchedules(t.db, new Date(), silentLogger);
    expect(await runsOf(id)).toHaveLength(1);
  });

  it("three schedulers ticking the same minute fire each time once", async () => {
    const id = await schedule("* * * * *", "all");
    const dbs = [0, 1, 2].map(() => createPostgresDb(t.url, { max: 1 }));
    const now = new Date();
    const results = await Promise.all(dbs.map((db) => tickSchedules(db, now, silentLogger)));
    await Promise.all(dbs.map((d) => d.close?.()));
    const runs = await runsOf(id);
    expect(runs).toHaveLength(60);
    expect(new Set(runs.map((r) => r.key)).size).toBe(60);
    // Each fire time was created by exactly one of the three ticks.
    expect(results.reduce((n, r) => n + r.enqueued, 0)).toBe(60);
  });

  it("paused automations do not fire, and do not catch up when reactivated", async () => {
    const id = await schedule("* * * * *", "all");
    await t.db.query("update automations set status = 'paused' where id = $1", [id]);
    await tickSchedules(t.db, new Date(), silentLogger);
    expect(await runsOf(id)).toHaveLength(0);
    await t.db.query("update automations set status = 'active' where id = $1", [id]);
    await tickSchedules(t.db, new Date(), silentLogger);
    expect(await runsOf(id)).toHaveLength(0);
    await tickSchedules(t.db, minutes(2), silentLogger);
    expect((await runsOf(id)).length).toBeGreaterThanOrEqual(1);
  });

  it("skips an automation whose stored trigger_config is invalid and says why", async () => {
    const id = await schedule("* * * * *", "all");
    // Written around save-time validation (triggers off), as a restore or a manual fix might.
    await t.db.transaction(async (tx) => {
      await tx.query("set local session_replication_role = replica");
      await tx.query("update automations set trigger_config = '{\"cron\": \"61 * * * *\"}' where id = $1", [id]);
    });
    const r = await tickSchedules(t.db, new Date(), silentLogger);
    expect(r.invalid).toContainEqual(expect.objectContaining({ automation_id: id }));
    expect(await runsOf(id)).toHaveLength(0);
  });

  it("one automation paused between the candidate list and its enqueue fails alone: the others, in every org, get their runs", async () => {
    const orgB = await createOrg(t.db, "Sched B");
    const spec = { trigger_type: "schedule" as const, trigger_config: { cron: "* * * * *", timezone: "UTC", missed: "once" } };
    const a1 = await createAutomation(t.db, org, spec);
    const victim = await createAutomation(t.db, org, spec);
    const b1 = await createAutomation(t.db, orgB, spec);
    const gone = await createAutomation(t.db, orgB, spec);
    await tickSchedules(t.db, new Date(), silentLogger);
    await t.db.query("update automations_engine.schedule_state set since = now() - interval '1 hour'");
    // The real database; a member pauses one automation and deletes another
    // right after the tick has listed the candidates, before their enqueue.
    const racing: Db = {
      ...t.db,
      async query<T>(text: string, params?: readonly unknown[]) {
        const rows = await t.db.query<T>(text, params);
        if (text.includes("schedule_candidates()")) {
          await t.db.query("update automations set status = 'paused' where id = $1", [victim]);
          await t.db.query("delete from automations where id = $1", [gone]);
        }
        return rows;
      },
    };
    const warnings: Array<[string, LogFields | undefined]> = [];
    const r = await tickSchedules(racing, new Date(), { ...silentLogger, warn: (m, f) => warnings.push([m, f]) });
    expect(r.failed).toEqual(
      expect.arrayContaining([
        { automation_id: victim, code: "55000", error: expect.stringContaining("is paused, not active") },
        { automation_id: gone, code: "P0002", error: expect.stringContaining("not found") },
      ]),
    );
    expect(r.failed).toHaveLength(2);
    expect(warnings.filter(([, f]) => f?.automation_id === victim || f?.automation_id === gone)).toHaveLength(2);
    expect(await runsOf(a1)).toHaveLength(1);
    expect(await runsOf(b1)).toHaveLength(1);
    expect(await runsOf(victim)).toHaveLength(0);
    // The next tick sees it paused: no failure, no run.
    const next = await tickSchedules(t.db, new Date(), silentLogger);
    expect(next.failed).toEqual([]);
    expect(await runsOf(victim)).toHaveLength(0);
  });
});
