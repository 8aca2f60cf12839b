// An automation that reacts to its own writes (on tasks insert → create_task)
// would loop forever. Runs' own writes carry their cause to the event
// trigger, and the chain stops at a fixed depth.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAction } from "../../shared/actions/registry.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { createAutomation, engineDeps } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.exec(readFileSync(join(import.meta.dirname, "../../supabase/seed/tasks_module.sql"), "utf8"));
  await t.db.exec(
    "create trigger tasks_automations after insert or update or delete on public.tasks for each row execute function public.automations_table_event()",
  );
  org = await createOrg(t.db, "Loop");
});
afterAll(() => t.drop());

describe("loop guard", () => {
  it("a run's write starts the next run with caused_by, and the chain stops at depth 10", async () => {
    const id = await createAutomation(t.db, org, {
      trigger_type: "event",
      trigger_config: { table: "tasks", operations: ["INSERT"] },
      actions: [{ type: "create_task", config: { title: "again: {{trigger.payload.record.title}}" } }],
    });
    // The first task, written by a person (no cause).
    await t.db.query("insert into public.tasks (org_id, title) values ($1, 'first')", [org]);
    const createTask = getAction("create_task") as ActionDefinition<unknown>;
    const worker = new Worker({ ...engineDeps(t.db, [createTask]), concurrency: 2 });
    for (let i = 0; i < 15; i++) await worker.drain(10_000);

    const runs = await t.db.query<{ depth: number | null; caused_by_run: string | null; status: string }>(
      // Table-event runs are restricted: their payload is in automation_run_payloads.
      `select (p.payload -> 'caused_by' ->> 'depth')::int as depth, p.payload -> 'caused_by' ->> 'run_id' as caused_by_run, r.status
         from automation_runs r join automation_run_payloads p on p.run_id = r.id where r.automation_id = $1 order by r.created_at`,
      [id],
    );
    expect(runs.map((r) => r.depth)).toEqual([null, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(runs.every((r) => r.status === "completed")).toBe(true);
    expect(runs[1]!.caused_by_run).not.toBeNull();
    // The last run's write (depth 11) went through but started nothing.
    const [{ n }] = (await t.db.query<{ n: number }>("select count(*)::int as n from public.tasks where org_id = $1", [org])) as [{ n: number }];
    expect(n).toBe(12);
  });
});
