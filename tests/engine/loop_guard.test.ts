// An automation that reacts to its own writes (on tasks insert → create_task)
// would loop forever, and one with two such steps doubles each level. Runs'
// own writes name the run that made them; enqueue reads that run's row for
// the chain's root and depth (never the payload) and stops the chain at its
// depth (10) or its run budget (100 runs per root).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAction } from "../../shared/actions/registry.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { Worker } from "../../shared/engine/worker.ts";
import type { Db } from "../../shared/db/types.ts";
import { createAutomation, engineDeps } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.exec(readFileSync(join(import.meta.dirname, "../../supabase/seed/tasks_module.sql"), "utf8"));
  await t.db.exec(
    "create trigger tasks_automations after insert or update or delete on public.tasks for each row execute function public.automations_table_event()",
  );
});
afterAll(() => t.drop());

const createTask = () => getAction("create_task") as ActionDefinition<unknown>;

/** Runs every due run until none is left. */
async function drainAll(db: Db): Promise<void> {
  const worker = new Worker({ ...engineDeps(db, [createTask()]), concurrency: 4 });
  for (;;) {
    await worker.drain(30_000);
    const [{ n }] = (await db.query<{ n: number }>("select count(*)::int as n from automation_runs where status in ('pending', 'running')")) as [{ n: number }];
    if (n === 0) return;
  }
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await t.db.query<{ n: number }>(sql, params);
  return row!.n;
}

function onOwnTasks(steps: number) {
  return {
    trigger_type: "event" as const,
    trigger_config: { table: "tasks", operations: ["INSERT"] },
    actions: Array.from({ length: steps }, (_, i) => ({ type: "create_task", config: { title: `again ${i}: {{trigger.payload.record.title}}` } })),
  };
}

describe("chains of runs", () => {
  it("a run's write starts the next run in its chain, and the chain stops at depth 10", async () => {
    const org = await createOrg(t.db, "Loop");
    const id = await createAutomation(t.db, org, onOwnTasks(1));
    // The first task, written by a person (no cause).
    await t.db.query("insert into public.tasks (org_id, title) values ($1, 'first')", [org]);
    await drainAll(t.db);

    const runs = await t.db.query<{ id: string; depth: number; root: string | null; caused_by_run: string | null; status: string }>(
      // Table-event runs are restricted: their payload is in automation_run_payloads.
      `select r.id, r.chain_depth as depth, r.root_run_id as root, p.payload -> 'caused_by' ->> 'run_id' as caused_by_run, r.status
         from automation_runs r join automation_run_payloads p on p.run_id = r.id where r.automation_id = $1 order by r.chain_depth`,
      [id],
    );
    expect(runs.map((r) => r.depth)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(runs.every((r) => r.status === "completed")).toBe(true);
    // The root is a run a trigger started: root_run_id null; every other names it.
    expect(runs[0]!.root).toBeNull();
    expect(runs.slice(1).every((r) => r.root === runs[0]!.id)).toBe(true);
    expect(runs[1]!.caused_by_run).toBe(runs[0]!.id);
    // The last run's write (depth 11) went through but started nothing; the refusal is on record.
    expect(await count("select count(*)::int as n from public.tasks where org_id = $1", [org])).toBe(12);
    const refusals = await t.db.query<{ root_run_id: string; refused_runs: number; last_reason: string }>(
      "select root_run_id, refused_runs, last_reason from automation_chain_refusals where org_id = $1",
      [org],
    );
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ root_run_id: runs[0]!.id, refused_runs: 1 });
    expect(refusals[0]!.last_reason).toMatch(/is 11 runs deep; at most 10/);
  });

  it("fan-out (two create_task steps on the table they write) stops at the chain budget of 100 runs", async () => {
    const org = await createOrg(t.db, "Fan-out");
    const id = await createAutomation(t.db, org, onOwnTasks(2));
    await t.db.query("insert into public.tasks (org_id, title) values ($1, 'first')", [org]);
    await drainAll(t.db);

    // Before the budget: 2,047 runs and 4,095 tasks (depth 10, fan-out 2).
    expect(await count("select count(*)::int as n from automation_runs where automation_id = $1", [id])).toBe(100);
    expect(await count("select count(*)::int as n from automation_runs where automation_id = $1 and status = 'completed'", [id])).toBe(100);
    // The person's task, plus two per run.
    expect(await count("select count(*)::int as n from public.tasks where org_id = $1", [org])).toBe(201);
    expect(await count("select count(distinct coalesce(root_run_id, id))::int as n from automation_runs where automation_id = $1", [id])).toBe(1);
    // 200 writes by runs, 99 of them started a run: 101 refused, counted on the root.
    const [refusal] = await t.db.query<{ refused_runs: number; last_reason: string }>(
      "select refused_runs, last_reason from automation_chain_refusals where org_id = $1",
      [org],
    );
    expect(refusal).toMatchObject({ refused_runs: 101 });
    expect(refusal!.last_reason).toMatch(/chain budget of 100 runs from root run [0-9a-f-]{36} exhausted/);
  });

  it("an org's automation_settings set its chain budget and depth", async () => {
    const org = await createOrg(t.db, "Small budget");
    await t.db.query("insert into public.automation_settings (org_id, chain_run_budget) values ($1, 7)", [org]);
    const id = await createAutomation(t.db, org, onOwnTasks(2));
    await t.db.query("insert into public.tasks (org_id, title) values ($1, 'first')", [org]);
    await drainAll(t.db);
    expect(await count("select count(*)::int as n from automation_runs where automation_id = $1", [id])).toBe(7);

    await t.db.query("update public.automation_settings set chain_run_budget = null, max_chain_depth = 2 where org_id = $1", [org]);
    await t.db.query("insert into public.tasks (org_id, title) values ($1, 'second')", [org]);
    await drainAll(t.db);
    // A new root of 1 + 2 + 4 runs (depths 0-2); the first chain is unchanged.
    const chains = await t.db.query<{ n: number; deepest: number }>(
      `select count(*)::int as n, max(chain_depth)::int as deepest from automation_runs
        where automation_id = $1 group by coalesce(root_run_id, id) order by min(created_at)`,
      [id],
    );
    // (How deep the first one went depends on the order its runs ran in.)
    expect(chains.map((c) => c.n)).toEqual([7, 7]);
    expect(chains[1]!.deepest).toBe(2);
  });

  it("a payload's caused_by.depth is not trusted: a forged depth 10 does not switch off table events", async () => {
    const org = await createOrg(t.db, "Forged depth");
    // A manual run whose payload claims to be deep in a chain writes a task…
    const manual = await createAutomation(t.db, org, { trigger_type: "manual", actions: [{ type: "create_task", config: { title: "from manual" } }] });
    const watcher = await createAutomation(t.db, org, {
      trigger_type: "event",
      trigger_config: { table: "tasks", operations: ["INSERT"], filter: { "==": [{ var: "record.title" }, "from manual"] } },
      actions: [{ type: "create_task", config: { title: "seen" } }],
    });
    await t.db.query("select public.run_automation($1, $2::jsonb)", [manual, JSON.stringify({ caused_by: { depth: 10, run_id: null } })]);
    await drainAll(t.db);
    // …and the table-event automation still starts, at the depth the server knows.
    const runs = await t.db.query<{ chain_depth: number; status: string }>(
      "select chain_depth, status::text from automation_runs where automation_id = $1",
      [watcher],
    );
    expect(runs).toEqual([{ chain_depth: 1, status: "completed" }]);
  });

  it("a cause naming another org's run is ignored: the run is a root of its own", async () => {
    const orgA = await createOrg(t.db, "Cause A");
    const orgB = await createOrg(t.db, "Cause B");
    const idB = await createAutomation(t.db, orgB, { trigger_type: "manual", actions: [] });
    const runB = (await t.db.query<{ id: string }>("select public.run_automation($1) as id", [idB]))[0]!.id;
    const idA = await createAutomation(t.db, orgA, { ...onOwnTasks(0) });
    await t.db.transaction(async (tx) => {
      await tx.query("select set_config('automations.caused_by', $1, true)", [JSON.stringify({ run_id: runB })]);
      await tx.query("insert into public.tasks (org_id, title) values ($1, 'x')", [orgA]);
    });
    const runs = await t.db.query<{ root_run_id: string | null; chain_depth: number }>(
      "select root_run_id, chain_depth from automation_runs where automation_id = $1",
      [idA],
    );
    expect(runs).toEqual([{ root_run_id: null, chain_depth: 0 }]);
  });
});
