// Fair claiming across orgs and flow control (max_concurrency per key,
// rate_limit, the org's max_running_runs), asserted by order and by what the
// database recorded, never by time. Real PostgreSQL, concurrent claimers on
// their own connections.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { saveProgress } from "../../shared/engine/sql/save_progress.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { addRuns as addRunsTo, claimRace as race, counts } from "../helpers/flow_control.ts";

let t: TestDatabase;
const orgs: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ max: 25 });
});
afterAll(() => t.drop());
// Each test's runs are gone before the next one claims (claims are global).
afterEach(async () => {
  await t.db.query("delete from automations where org_id = any ($1::uuid[])", [orgs.splice(0)]);
  await t.db.query("delete from automation_settings");
});

const addRuns = (_org: string, automationId: string, payloads: unknown[], ageSeconds = 60) =>
  addRunsTo(t.db, automationId, payloads, ageSeconds);
const claimRace = (n: number, limit: number, quiet = 3) => race(t.url, n, limit, quiet);

async function org(name: string) {
  const id = await createOrg(t.db, name);
  orgs.push(id);
  return id;
}

describe("fair claiming across orgs", () => {
  it("A's 1,000 due runs and B's 1: B's run is in the first claim of 16, and a claim of 1 takes it by the second call", async () => {
    const a = await org("Flood A");
    const b = await org("Quiet B");
    const fa = await createAutomation(t.db, a, { name: "flood" });
    const fb = await createAutomation(t.db, b, { name: "quiet" });
    await addRuns(a, fa, Array.from({ length: 1000 }, (_, i) => ({ i })), 120);
    await addRuns(b, fb, [{ i: 0 }], 1); // B's run is the newest of all
    const [bRun] = await t.db.query<{ id: string }>("select id from automation_runs where automation_id = $1", [fb]);

    const first = await claimRuns(t.db, "w", 16, 60);
    expect(first).toHaveLength(16);
    expect(first.map((r) => r.id)).toContain(bRun!.id);
    // Within an org, due order: A's 15 are its 15 oldest.
    const aOldest = await t.db.query<{ id: string }>(
      "select id from automation_runs where automation_id = $1 order by run_at, id limit 15", [fa]);
    expect(first.filter((r) => r.org_id === a).map((r) => r.id).sort()).toEqual(aOldest.map((r) => r.id).sort());

    // Claims of one: B's next run goes before A's next one, because A has 15 running.
    await addRuns(b, fb, [{ i: 1 }], 0);
    const one = await claimRuns(t.db, "w", 1, 60);
    expect(one.map((r) => r.org_id)).toEqual([b]);
  });

  it("with nothing running, the org whose first due run is older goes first; the other is next", async () => {
    const a = await org("A");
    const b = await org("B");
    const fa = await createAutomation(t.db, a);
    const fb = await createAutomation(t.db, b);
    await addRuns(a, fa, [{ i: 1 }, { i: 2 }, { i: 3 }], 30);
    await addRuns(b, fb, [{ i: 1 }], 10);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push(...(await claimRuns(t.db, "w", 1, 60)).map((r) => r.org_id));
    // A (older, 0 running), then B (0 running vs A's 1), then A's rest.
    expect(order).toEqual([a, b, a, a]);
  });

  it("one org's plain runs next to another org's limited ones: both are claimed, the limit holds", async () => {
    const p = await org("Plain only");
    const l = await org("Limited only");
    const fp = await createAutomation(t.db, p);
    const fl = await createAutomation(t.db, l);
    await t.db.query("update automations set max_concurrency = 2 where id = $1", [fl]);
    await addRuns(p, fp, Array.from({ length: 5 }, (_, i) => ({ i })), 120); // all older than l's
    await addRuns(l, fl, Array.from({ length: 5 }, (_, i) => ({ i })));
    // Round-robin: a claim of 2 takes one run of each org (turn 1 of both).
    const first = await claimRuns(t.db, "w", 2, 60);
    expect(first.map((r) => r.org_id).sort()).toEqual([p, l].sort());
    const rest = await claimRuns(t.db, "w", 16, 60);
    const by = (o: string) => [...first, ...rest].filter((r) => r.org_id === o).length;
    expect([by(p), by(l)]).toEqual([5, 2]);
  });
});

describe("concurrent claimers", () => {
  it("a claim skips the runs an uncommitted claim holds and still fills its batch", async () => {
    const a = await org("Two claimers");
    const fa = await createAutomation(t.db, a);
    await addRuns(a, fa, Array.from({ length: 40 }, (_, i) => ({ i })));
    const c1 = createPostgresDb(t.url, { max: 1 });
    try {
      await c1.transaction(async (tx) => {
        const first = await claimRuns(tx, "w1", 8, 60);
        const second = await claimRuns(t.db, "w2", 8, 60); // another connection, while the first is uncommitted
        expect([first.length, second.length]).toEqual([8, 8]);
        expect(new Set([...first, ...second].map((r) => r.id)).size).toBe(16);
      });
    } finally {
      await c1.close?.();
    }
  });
});

describe("max_concurrency", () => {
  it("is never exceeded under 20 concurrent claimers, and each key value has its own limit", async () => {
    const o = await org("Concurrency");
    const keyed = await createAutomation(t.db, o, { name: "per customer" });
    const plain = await createAutomation(t.db, o, { name: "whole automation" });
    await t.db.query("update automations set max_concurrency = 3, concurrency_key = '{{trigger.payload.customer}}' where id = $1", [keyed]);
    await t.db.query("update automations set max_concurrency = 2 where id = $1", [plain]);
    const customers = ["c1", "c2", "c3", "c4", "c5"];
    await addRuns(o, keyed, Array.from({ length: 200 }, (_, i) => ({ customer: customers[i % 5], i })));
    await addRuns(o, plain, Array.from({ length: 50 }, (_, i) => ({ i })));
    // Runs never finish here, so the running count only grows: its final
    // value bounds every value it had during the race.
    const got = await claimRace(20, 7);
    expect(new Set(got).size).toBe(got.length);
    const c = await counts(t.db, keyed);
    const running = c.filter((r) => r.status === "running");
    expect(running.map((r) => [r.flow_key, r.n])).toEqual(customers.map((k) => [`${keyed}:${k}`, 3]));
    const held = c.filter((r) => r.status === "pending");
    expect(held.reduce((s, r) => s + r.n, 0)).toBe(185);
    expect(held.every((r) => r.attempts === 0)).toBe(true); // held back: no attempt used
    expect(await counts(t.db, plain)).toEqual([
      { flow_key: plain, status: "pending", n: 48, attempts: 0 },
      { flow_key: plain, status: "running", n: 2, attempts: 2 },
    ]);

    // Finishing two of c1's runs frees exactly two of c1's slots.
    const c1 = await t.db.query<{ id: string; attempt: number; claim_token: string }>(
      "select id, attempt, claim_token from automation_runs where flow_key = $1 and status = 'running' limit 2", [`${keyed}:c1`]);
    for (const r of c1) await saveProgress(t.db, { runId: r.id, attempt: r.attempt, claimToken: r.claim_token, steps: [], outcome: "completed", leaseSeconds: 60 });
    const next = await claimRace(20, 7);
    expect(next).toHaveLength(2);
    const keys = await t.db.query<{ flow_key: string }>("select distinct flow_key from automation_runs where id = any ($1::uuid[])", [next]);
    expect(keys).toEqual([{ flow_key: `${keyed}:c1` }]);
  });

  it("applies to runs queued before it was set, and a run inserted by a client gets its key", async () => {
    const o = await org("Late limit");
    const id = await createAutomation(t.db, o);
    await addRuns(o, id, Array.from({ length: 10 }, (_, i) => ({ i })));
    await t.db.query(
      "insert into automation_runs (org_id, automation_id, trigger_payload) values ($1, $2, '{\"customer\": \"x\"}')", [o, id]);
    await t.db.query("update automations set max_concurrency = 1, concurrency_key = 'k-{{trigger.payload.customer}}' where id = $1", [id]);
    const keys = await t.db.query<{ flow_key: string }>(
      "select distinct flow_key from automation_runs where automation_id = $1 order by 1", [id]);
    expect(keys.map((k) => k.flow_key)).toEqual([`${id}:k-`, `${id}:k-x`]);
    expect(await claimRace(4, 16)).toHaveLength(2);
    // Removing the limit puts the rest back in the org's plain queue.
    await t.db.query("update automations set max_concurrency = null, concurrency_key = null where id = $1", [id]);
    expect(await claimRace(4, 16)).toHaveLength(9);
  });

  it("evaluates the key at enqueue from the trigger: nested paths, numbers, trigger.type, a missing path as ''", async () => {
    const row = await t.db.query<{ v: string }>(
      `select automations_engine.concurrency_value(k, 'webhook', '{"a": {"b": 7}, "s": "x y"}') as v
         from unnest(array['{{trigger.payload.a.b}}', '{{ trigger.payload.s }}/{{trigger.type}}', '{{trigger.payload.none}}']) k`);
    expect(row.map((r) => r.v)).toEqual(["7", "x y/webhook", ""]);
    const o = await org("Enqueue key");
    const id = await createAutomation(t.db, o);
    await t.db.query("update automations set max_concurrency = 1, concurrency_key = '{{trigger.payload.customer}}' where id = $1", [id]);
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual", payload: { customer: 42 } });
    const [r] = await t.db.query<{ flow_key: string }>("select flow_key from automation_runs where id = $1", [runId]);
    expect(r!.flow_key).toBe(`${id}:42`);
  });
});

describe("rate_limit", () => {
  it("never more than n starts in any window, counted from the start times in the database", async () => {
    const o = await org("Rate");
    const id = await createAutomation(t.db, o);
    await t.db.query(`update automations set rate_limit = '{"limit": 5, "period_seconds": 3600}' where id = $1`, [id]);
    await addRuns(o, id, Array.from({ length: 40 }, (_, i) => ({ i })));
    expect(await claimRace(20, 16)).toHaveLength(5);
    let c = await counts(t.db, id);
    expect(c.map((r) => [r.status, r.n, r.attempts])).toEqual([["pending", 35, 0], ["running", 5, 5]]);
    // Finished runs still count: the window is about starts.
    await t.db.query("update automation_runs set status = 'completed', completed_at = now() where automation_id = $1 and status = 'running'", [id]);
    expect(await claimRace(20, 16)).toHaveLength(0);
    // Once those starts are older than the period, n more may start.
    await t.db.query("update automation_runs set started_at = started_at - interval '3601 seconds' where automation_id = $1 and started_at is not null", [id]);
    expect(await claimRace(20, 16)).toHaveLength(5);
    // Every window of period_seconds, over the recorded start times, holds at most 5.
    const [w] = await t.db.query<{ worst: number }>(
      `select max((select count(*) from automation_runs y where y.automation_id = x.automation_id
                     and y.started_at >= x.started_at and y.started_at < x.started_at + interval '3600 seconds'))::int as worst
         from automation_runs x where x.automation_id = $1 and x.started_at is not null`, [id]);
    expect(w!.worst).toBe(5);
    c = await counts(t.db, id);
    expect(c.find((r) => r.status === "pending")).toMatchObject({ n: 30, attempts: 0 });
  });

  it("with runs finishing as they go, the recorded starts keep to 2 per 1-second window", async () => {
    const o = await org("Rate live");
    const id = await createAutomation(t.db, o);
    await t.db.query(`update automations set rate_limit = '{"limit": 2, "period_seconds": 1}' where id = $1`, [id]);
    await addRuns(o, id, Array.from({ length: 6 }, (_, i) => ({ i })));
    const claimers = Array.from({ length: 5 }, () => createPostgresDb(t.url, { max: 1 }));
    let done = 0;
    try {
      await Promise.all(claimers.map(async (db, w) => {
        while (done < 6) {
          const runs = await claimRuns(db, `w${w}`, 4, 60);
          for (const r of runs) {
            await saveProgress(db, { runId: r.id, attempt: r.attempt, claimToken: r.claim_token, steps: [], outcome: "completed", leaseSeconds: 60 });
            done++;
          }
          if (runs.length === 0) await new Promise((res) => setTimeout(res, 20));
        }
      }));
    } finally {
      await Promise.all(claimers.map((c) => c.close?.()));
    }
    const [w] = await t.db.query<{ worst: number; n: number }>(
      `select max((select count(*) from automation_runs y where y.automation_id = x.automation_id
                     and y.started_at >= x.started_at and y.started_at < x.started_at + interval '1 second'))::int as worst,
              count(*)::int as n
         from automation_runs x where x.automation_id = $1 and x.status = 'completed'`, [id]);
    expect(w).toEqual({ worst: 2, n: 6 });
  });
});

describe("automation_settings.max_running_runs", () => {
  it("caps an org's running runs under 20 concurrent claimers; other orgs are not held", async () => {
    const capped = await org("Capped");
    const free = await org("Free");
    await t.db.query("insert into automation_settings (org_id, max_running_runs) values ($1, 4)", [capped]);
    const a1 = await createAutomation(t.db, capped);
    const a2 = await createAutomation(t.db, capped);
    await t.db.query("update automations set max_concurrency = 3 where id = $1", [a2]);
    const b = await createAutomation(t.db, free);
    await addRuns(capped, a1, Array.from({ length: 30 }, (_, i) => ({ i })));
    await addRuns(capped, a2, Array.from({ length: 30 }, (_, i) => ({ i })));
    await addRuns(free, b, Array.from({ length: 30 }, (_, i) => ({ i })));
    await claimRace(20, 5);
    const [r] = await t.db.query<{ capped: number; free: number; a2: number; attempts: number }>(
      `select count(*) filter (where org_id = $1 and status = 'running')::int as capped,
              count(*) filter (where org_id = $2 and status = 'running')::int as free,
              count(*) filter (where automation_id = $3 and status = 'running')::int as a2,
              coalesce(sum(attempt) filter (where status = 'pending'), 0)::int as attempts
         from automation_runs where org_id in ($1, $2)`, [capped, free, a2]);
    expect(r).toEqual({ capped: 4, free: 30, a2: expect.any(Number), attempts: 0 });
    expect(r!.a2).toBeLessThanOrEqual(3);
  });
});
