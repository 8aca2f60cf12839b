// Retention: 200,000 old runs (with steps) across two orgs with different
// settings are pruned in bounded batches while new runs keep being enqueued,
// claimed and completed. Exactly the expired terminal runs go; pending,
// running, recent runs and org B's longer-kept history stay; steps follow.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { pruneRuns, pruneRunsBatch } from "../../shared/engine/sql/retention.ts";
import { saveProgress } from "../../shared/engine/sql/save_progress.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

const TOTAL = Number(process.env.RETENTION_TEST_RUNS ?? 200_000);
// The model: org A has no settings row (defaults 30 / 90 days), org B keeps longer.
const KEEP = { a: { completed: 30, failed: 90 }, b: { completed: 120, failed: 365 } };

let t: TestDatabase;
let orgA: string;
let orgB: string;
let autoA: string;
let autoB: string;

const one = async (db: Db, text: string, params: unknown[] = []) =>
  ((await db.query<{ n: number }>(text, params))[0]?.n ?? 0) as number;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  orgA = await createOrg(t.db, "Retention A");
  orgB = await createOrg(t.db, "Retention B");
  await t.db.query(
    "insert into automation_settings (org_id, run_retention_days, failed_run_retention_days) values ($1, $2, $3)",
    [orgB, KEEP.b.completed, KEEP.b.failed],
  );
  autoA = await createAutomation(t.db, orgA, { actions: [{ type: "log" }] });
  autoB = await createAutomation(t.db, orgB, { actions: [{ type: "log" }] });

  // Run i: org by parity, age i % 400 days (+12 h, so no run sits on a cutoff),
  // status by i % 10: 0 pending (delayed, not yet due), 1 running, 2-4 failed,
  // the rest completed. metadata.expect is the model's verdict, written now.
  // Bulk fixture load with triggers and FK checks off (session_replication_role
  // = replica, 5x faster); the rows are consistent by construction.
  const started = Date.now();
  await t.db.transaction(async (tx) => {
    await tx.exec("set local session_replication_role = replica");
    await tx.query(
      `insert into automation_runs (org_id, automation_id, version_id, status, trigger_type, created_at, started_at,
                                    completed_at, run_at, lease_expires_at, attempt, metadata)
       select org, auto, ver, st::run_status, 'webhook', ts, ts, case when st in ('completed', 'failed') then ts end,
              case when st = 'pending' then now() + interval '10 days' else ts end,
              case when st = 'running' then now() + interval '1 hour' end, 1,
              jsonb_build_object('bulk', true, 'expect',
                case when (st = 'completed' and age >= keep_c) or (st = 'failed' and age >= keep_f) then 'gone' else 'keep' end)
         from (select i, age, st, now() - make_interval(days => age, hours => 12) ts,
                      case when i % 2 = 0 then $1::uuid else $2::uuid end org,
                      case when i % 2 = 0 then $3::uuid else $4::uuid end auto,
                      (select current_version_id from automations where id = case when i % 2 = 0 then $3::uuid else $4::uuid end) ver,
                      case when i % 2 = 0 then $5::int else $7::int end keep_c,
                      case when i % 2 = 0 then $6::int else $8::int end keep_f
                 from (select i, i % 400 age,
                              case i % 10 when 0 then 'pending' when 1 then 'running' when 2 then 'failed'
                                          when 3 then 'failed' when 4 then 'failed' else 'completed' end st
                         from generate_series(1, $9::int) i) g) x`,
      [orgA, orgB, autoA, autoB, KEEP.a.completed, KEEP.a.failed, KEEP.b.completed, KEEP.b.failed, TOTAL],
    );
    // Steps: one per started run, a second for about every third.
    await tx.query(
      `insert into automation_run_steps (run_id, step_index, org_id, action_type, status, attempt, started_at, completed_at)
       select r.id, s, r.org_id, 'log', 'completed', 1, r.started_at, r.completed_at
         from automation_runs r cross join generate_series(0, 1) s
        where r.status <> 'pending' and (s = 0 or get_byte(uuid_send(r.id), 0) % 3 = 0)`,
    );
  });
  await t.db.exec("analyze automation_runs; analyze automation_run_steps");
  console.log(`retention: inserted ${TOTAL} runs with steps in ${Date.now() - started} ms`);
}, 120_000);
afterAll(() => t.drop());

const counts = async () => {
  const [r] = await t.db.query<Record<string, number>>(
    `select count(*) filter (where metadata->>'expect' = 'gone')::int gone,
            count(*) filter (where metadata->>'expect' = 'keep')::int keep,
            count(*) filter (where metadata->>'expect' = 'keep' and status in ('pending', 'running'))::int keep_active,
            count(*) filter (where org_id = $1 and metadata->>'expect' = 'keep' and status = 'completed'
                               and completed_at < now() - interval '30 days')::int b_older_than_a_keeps,
            (select count(*)::int from automation_run_steps st join automation_runs x on x.id = st.run_id
              where x.metadata->>'expect' = 'gone') gone_steps,
            (select count(*)::int from automation_run_steps st join automation_runs x on x.id = st.run_id
              where x.metadata->>'expect' = 'keep') keep_steps
       from automation_runs where metadata ? 'bulk'`,
    [orgB],
  );
  return r!;
};

describe("retention", () => {
  it("prunes exactly the expired terminal runs in bounded batches while new runs keep flowing", async () => {
    const before = await counts();
    expect(before.gone).toBeGreaterThan(TOTAL / 3);
    expect(before.keep_active).toBe(Math.floor(TOTAL / 10) * 2);
    expect(before.b_older_than_a_keeps).toBeGreaterThan(0);

    // Live traffic on its own pool: enqueue, claim, complete, as fast as it
    // can; 2 s alone first (baseline on this machine), then during pruning.
    const live = createPostgresDb(t.url, { max: 2 });
    let phase = "baseline" as "baseline" | "pruning" | "done";
    const lat = { baseline: [] as number[], enqueue: [] as number[], claim: [] as number[], complete: [] as number[] };
    const timed = async <T>(into: number[], fn: () => Promise<T>) => {
      const s = performance.now();
      const r = await fn();
      into.push(performance.now() - s);
      return r;
    };
    let enqueued = 0;
    const traffic = (async () => {
      for (let i = 0; phase !== "done"; i++) {
        const during = phase === "pruning";
        await timed(during ? lat.enqueue : lat.baseline, () =>
          enqueueRun(live, { automationId: i % 2 ? autoA : autoB, triggerType: "webhook", payload: { live: true } }));
        enqueued += 1;
        const claimed = await timed(during ? lat.claim : [], () => claimRuns(live, "retention-test", 5, 30));
        for (const run of claimed) {
          await timed(during ? lat.complete : [], () =>
            saveProgress(live, { runId: run.id, attempt: run.attempt, claimToken: run.claim_token, steps: [], outcome: "completed", leaseSeconds: 30 }));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 2000));
    phase = "pruning";

    const batchMs: number[] = [];
    let last = performance.now();
    const totals = await pruneRuns(t.db, {
      batchSize: 2000,
      timeBudgetMs: 90_000,
      onBatch: () => {
        const now = performance.now();
        batchMs.push(now - last);
        last = now;
      },
    });
    phase = "done";
    await traffic;
    await live.close?.();

    const max = (xs: number[]) => Math.round(Math.max(0, ...xs));
    const p = (xs: number[], q: number) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? 0);
    console.log(
      `retention: ${totals.deletedRuns} runs + ${totals.deletedSteps} steps in ${totals.batches} batches of 2000, ` +
        `${totals.elapsedMs} ms (${Math.round((totals.deletedRuns / totals.elapsedMs) * 1000)} runs/s), batch max ${max(batchMs)} ms; ` +
        `enqueue latency before pruning: median ${p(lat.baseline, 0.5)} ms, max ${max(lat.baseline)} ms (${lat.baseline.length}); ` +
        `during: median ${p(lat.enqueue, 0.5)} ms, p99 ${p(lat.enqueue, 0.99)} ms, max ${max(lat.enqueue)} ms (${lat.enqueue.length}); ` +
        `claim max ${max(lat.claim)} ms, complete max ${max(lat.complete)} ms`,
    );

    expect(totals.done).toBe(true);
    expect(totals.deletedRuns).toBe(before.gone);
    expect(totals.deletedSteps).toBe(before.gone_steps);
    const after = await counts();
    expect(after).toEqual({ ...before, gone: 0, gone_steps: 0 });
    // The live runs all exist, and nothing outlives its run.
    expect(await one(t.db, "select count(*)::int n from automation_runs where trigger_payload ? 'live'")).toBe(enqueued);
    expect(await one(t.db, "select count(*)::int n from automation_run_steps st where not exists (select 1 from automation_runs r where r.id = st.run_id)")).toBe(0);
    // Bounded: no enqueue waited behind a batch.
    expect(lat.enqueue.length).toBeGreaterThan(10);
    expect(Math.max(...lat.enqueue)).toBeLessThan(2000);
    expect(Math.max(...lat.claim)).toBeLessThan(2000);
    // Callable repeatedly: nothing left to do.
    expect(await pruneRunsBatch(t.db, 1000)).toEqual({ deleted_runs: 0, deleted_steps: 0, deleted_versions: 0, more: false });
  }, 120_000);

  it("deletes snapshots only when not current, unreferenced and superseded over an hour ago", async () => {
    const org = await createOrg(t.db, "Versions");
    const auto = await createAutomation(t.db, org, { actions: [{ type: "log", config: { message: "v0" } }] });
    const versions: string[] = [];
    const current = async () =>
      (await t.db.query<{ v: string }>("select current_version_id v from automations where id = $1", [auto]))[0]!.v;
    versions.push(await current());
    for (const v of [1, 2, 3]) {
      await t.db.query("update automation_actions set action_config = $2::jsonb where automation_id = $1", [auto, JSON.stringify({ message: `v${v}` })]);
      versions.push(await current());
    }
    const [v0, v1, v2, v3] = versions as [string, string, string, string];
    // v0..v2 superseded 3, 2, 1 days ago; v3 current. v3 superseded v2 "now": keep v2 (grace).
    await t.db.query(
      `update automation_versions set created_at = now() - make_interval(days => 4 - x.i::int)
         from unnest($1::uuid[]) with ordinality x(id, i) where automation_versions.id = x.id`,
      [[v0, v1, v2]],
    );
    // v1 is referenced by a delayed run; v0 only by an expired one.
    await t.db.query(
      `insert into automation_runs (org_id, automation_id, version_id, status, created_at, completed_at, run_at)
       values ($1, $2, $3, 'completed', now() - interval '100 days', now() - interval '100 days', now()),
              ($1, $2, $4, 'pending', now(), null, now() + interval '5 days')`,
      [org, auto, v0, v1],
    );
    const r = await pruneRuns(t.db, { batchSize: 100 });
    expect(r).toMatchObject({ deletedRuns: 1, deletedVersions: 1, done: true });
    const left = await t.db.query<{ id: string }>("select id from automation_versions where automation_id = $1", [auto]);
    expect(left.map((x) => x.id).sort()).toEqual([v1, v2, v3].sort());
  });

  it("runs as a job: the procedure commits batch by batch; cron install explains what is missing", async () => {
    await t.db.query(
      `insert into automation_runs (org_id, automation_id, status, created_at, completed_at, metadata)
       select $1, $2, 'failed', now() - interval '200 days', now() - interval '200 days', '{"job": true}'
         from generate_series(1, 2500)`,
      [orgA, autoA],
    );
    await t.db.exec("call automations_engine.prune_runs_job(1000)");
    expect(await one(t.db, "select count(*)::int n from automation_runs where metadata ? 'job'")).toBe(0);
    // Not inside a transaction: COMMIT there is refused, and says so.
    await expect(t.db.transaction((tx) => tx.exec("call automations_engine.prune_runs_job(10)"))).rejects.toThrow(/transaction termination/);
    const [msg] = await t.db.query<{ m: string }>("select automations_engine.install_retention_cron() m");
    expect(msg!.m).toMatch(/pg_cron is not enabled/);
  });

  it("validates settings and batch sizes", async () => {
    await expect(t.db.query("insert into automation_settings (org_id, run_retention_days) values ($1, 0)", [orgA])).rejects.toMatchObject({ code: "23514" });
    await expect(t.db.query("update automation_settings set failed_run_retention_days = 3651 where org_id = $1", [orgB])).rejects.toMatchObject({ code: "23514" });
    await expect(pruneRunsBatch(t.db, 0)).rejects.toMatchObject({ code: "22023" });
  });
});
