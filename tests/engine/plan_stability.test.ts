// The worker's statements keep their index plans when they were first
// planned on a small table. A backend caches the plans of a PL/pgSQL
// function's statements (claim_runs even forces one generic plan per
// backend). Planned while automation_runs held a few rows, the claim's
// lookup of the claimed ids became a sequential scan with hash joins over
// every automation and snapshot, and it stayed one as the table grew (the
// webhook bench: 2.9 ms per claim at 40,000 runs). The plans are read here
// the way PostgreSQL executes them: auto_explain, nested statements, sent to
// this connection as notices.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;
let automationId: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 2 });
  org = await createOrg(t.db, "Plans");
  automationId = await createAutomation(t.db, org, { actions: [{ type: "p" }] });
});
afterAll(() => t.drop());

/** One worker-like connection that receives the plan of every statement it runs. */
async function explainedConnection() {
  const plans: string[] = [];
  const sql = postgres(t.url, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  await sql`load 'auto_explain'`;
  await sql`set auto_explain.log_min_duration = 0`;
  await sql`set auto_explain.log_nested_statements = on`;
  await sql`set auto_explain.log_level = notice`;
  return { sql, plans };
}

/** Claims what is due and saves it: one completed, the rest failed (the one-by-one path). */
async function claimAndSave(sql: postgres.Sql) {
  const runs = await sql<{ id: string; attempt: number; claim_token: string }[]>`
    select id, attempt, claim_token from automations_engine.claim_runs('plans', 50, 60)`;
  const items = runs.map((r, i) => ({
    run_id: r.id,
    attempt: r.attempt,
    claim_token: r.claim_token,
    steps: [],
    outcome: i === 0 ? "completed" : "failed",
    error: "planned failure",
  }));
  const saved = await sql.unsafe<{ status: string }[]>(
    "select status from automations_engine.save_progress_many($1::text::jsonb)",
    [JSON.stringify(items)],
  );
  return { claimed: runs.length, saved: saved.map((s) => s.status) };
}

describe("plans of the worker's statements", () => {
  it("claim_runs and save_progress_many read automation_runs by index, also when first planned on a near-empty table", async () => {
    const { sql, plans } = await explainedConnection();
    try {
      // First claim and save while the table holds 3 runs: the plans are made now.
      for (let i = 0; i < 3; i++) await enqueueRun(t.db, { automationId, triggerType: "manual" });
      expect(await claimAndSave(sql)).toEqual({ claimed: 3, saved: ["completed", "failed", "failed"] });

      // The table grows (no ANALYZE, so nothing invalidates the cached plans).
      await t.db.query(
        `insert into automation_runs (org_id, automation_id, trigger_type, version_id, status, completed_at)
         select a.org_id, a.id, 'manual', a.current_version_id, 'completed', now()
           from automations a, generate_series(1, 5000) where a.id = $1`,
        [automationId],
      );
      for (let i = 0; i < 3; i++) await enqueueRun(t.db, { automationId, triggerType: "manual" });
      plans.length = 0;
      expect(await claimAndSave(sql)).toEqual({ claimed: 3, saved: ["completed", "failed", "failed"] });

      const engine = plans.filter((p) => /claim_token|run_count|array_agg/.test(p));
      expect(engine.length).toBeGreaterThan(0);
      const scans = engine.filter((p) => /Seq Scan on automation_runs|Seq Scan on automation_versions/.test(p));
      expect(scans).toEqual([]);
    } finally {
      await sql.end();
    }
  });

  it("enqueue, the reaper and retention read the run tables by index, also when first planned on a near-empty table", async () => {
    const { sql, plans } = await explainedConnection();
    const calls = async () => {
      await sql`select * from automations_engine.enqueue(${automationId}::uuid, 'manual', '{}'::jsonb, null, null, false)`;
      await sql`select automations_engine.release_expired_leases(500)`;
      await sql`select automations_engine.prune_runs(1000)`;
    };
    try {
      // Six calls while the tables are small: the first five plans are custom,
      // from the sixth PostgreSQL may settle on a generic one.
      for (let i = 0; i < 6; i++) await calls();
      await t.db.query(
        `with runs as (
           insert into automation_runs (org_id, automation_id, trigger_type, version_id, status, completed_at)
           select a.org_id, a.id, 'manual', a.current_version_id, 'completed', now()
             from automations a, generate_series(1, 5000) where a.id = $1
           returning id, org_id)
         insert into automation_run_steps (run_id, step_index, org_id, action_type, status, attempt, started_at, completed_at)
         select id, 0, org_id, 'p', 'completed', 1, now(), now() from runs`,
        [automationId],
      );
      plans.length = 0;
      await calls();
      const scans = plans.filter((p) => /Seq Scan on automation_run/.test(p));
      expect(plans.length).toBeGreaterThan(0);
      expect(scans).toEqual([]);
    } finally {
      await sql.end();
    }
  });

  it("webhook_enqueue_many reads automations, secrets and runs by index, also when first planned on small tables", async () => {
    const hook = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "p" }] });
    await t.db.query("select public.rotate_webhook_secret($1)", [hook]);
    const [{ r: rotatedAt } = { r: "" }] = await t.db.query<{ r: string }>(
      "select rotated_at::text as r from automations_engine.webhook_secrets where automation_id = $1",
      [hook],
    );
    const { sql, plans } = await explainedConnection();
    let n = 0;
    // Three new deliveries and a redelivery of the first (the duplicate lookup).
    const batch = () => {
      const keys = [1, 2, 3].map(() => `webhook:plan_${++n}`);
      const items = [...keys, keys[0]].map((k) => ({ automation_id: hook, rotated_at: rotatedAt, idempotency_key: k, payload: {} }));
      return sql.unsafe<{ created: boolean; stale: boolean }[]>(
        "select created, stale from automations_engine.webhook_enqueue_many($1::text::jsonb)",
        [JSON.stringify(items)],
      );
    };
    try {
      for (let i = 0; i < 3; i++) {
        expect((await batch()).map((r) => [r.created, r.stale])).toEqual([[true, false], [true, false], [true, false], [false, false]]);
      }
      // More than the default 1,000 automations per org: the operator raised it.
      await t.db.query("insert into automation_settings (org_id, max_automations) values ($1, 5000) on conflict (org_id) do update set max_automations = 5000", [org]);
      await t.db.query(
        `insert into automations (org_id, name, trigger_type, status)
         select $1, 'plan filler ' || g, 'manual', 'draft' from generate_series(1, 2000) g`,
        [org],
      );
      await t.db.query(
        `insert into automation_runs (org_id, automation_id, trigger_type, version_id, status, completed_at, idempotency_key)
         select a.org_id, a.id, 'webhook', a.current_version_id, 'completed', now(), 'webhook:filler_' || g
           from automations a, generate_series(1, 5000) g where a.id = $1`,
        [hook],
      );
      plans.length = 0;
      expect((await batch()).map((r) => r.created)).toEqual([true, true, true, false]);
      const engine = plans.filter((p) => /webhook_secrets|automation_runs/.test(p));
      expect(engine.length).toBeGreaterThan(0);
      expect(plans.filter((p) => /Seq Scan on (automation|webhook_secrets)/.test(p))).toEqual([]);
    } finally {
      await sql.end();
    }
  });
});
