// create_task on real PostgreSQL with the tasks module's table from
// supabase/seed/tasks_module.sql (and first without it).
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTaskAction } from "../../shared/actions/create_task.ts";
import { ActionError, type ActionContext } from "../../shared/engine/action_contract.ts";
import { asUser } from "../../shared/db/as_user.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";
import { makeContext } from "./context.ts";

let t: TestDatabase;
let a: TestUser;
let b: TestUser;
let automationId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  a = await createUser(t.db, await createOrg(t.db, "A"));
  b = await createUser(t.db, await createOrg(t.db, "B"));
  const [row] = await t.db.query<{ id: string }>(
    "insert into public.automations (org_id, creator_id, name, trigger_type) values ($1, $2, 'Follow up', 'manual') returning id",
    [a.orgId, a.userId],
  );
  automationId = row!.id;
});
afterAll(() => t.drop());

const ctxA = (overrides: Partial<ActionContext> = {}) => makeContext({ db: t.db, orgId: a.orgId, automationId, ...overrides });

async function create(raw: Record<string, unknown>, ctx = ctxA()) {
  return createTaskAction.execute(createTaskAction.schema.parse(raw), ctx);
}

async function failure(raw: Record<string, unknown>, ctx = ctxA()): Promise<ActionError> {
  const err = await create(raw, ctx).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActionError);
  return err as ActionError;
}

const countTasks = async () => (await t.db.query<{ n: number }>("select count(*)::int as n from public.tasks"))[0]!.n;

describe("create_task without the tasks module", () => {
  it("fails clearly and is not retried", async () => {
    const err = await failure({ title: "Call back" });
    expect(err.message).toBe("table public.tasks does not exist: install the tasks module (see docs)");
    expect(err.retryable).toBe(false);
  });
});

describe("create_task with the tasks module", () => {
  beforeAll(async () => {
    await t.db.exec(readFileSync(new URL("../../supabase/seed/tasks_module.sql", import.meta.url), "utf8"));
  });

  it("creates a task in the run's org with the table's defaults", async () => {
    const ctx = ctxA();
    const res = await create({ title: "Call back" }, ctx);
    const out = res.output as Record<string, unknown>;
    expect(out).toMatchObject({ title: "Call back", status: "todo", priority: "medium", assignee_id: null, due_at: null });
    const [row] = await t.db.query<Record<string, unknown>>("select * from public.tasks where id = $1", [out.task_id]);
    expect(row).toMatchObject({ org_id: a.orgId, creator_id: a.userId, title: "Call back", status: "todo" });
    expect(row!.metadata).toEqual({
      automation: { automation_id: automationId, run_id: ctx.runId, step_index: 0, idempotency_key: ctx.idempotencyKey },
    });
  });

  it("sets description, assignee, due date and priority", async () => {
    const res = await create({
      title: "Send contract",
      description: "Before Friday",
      assignee_id: a.userId,
      due_at: "2026-03-01T09:00:00Z",
      priority: "urgent",
    });
    expect(res.output).toMatchObject({
      title: "Send contract",
      description: "Before Friday",
      assignee_id: a.userId,
      due_at: "2026-03-01", // the Skene module stores due_at as a date
      priority: "urgent",
    });
  });

  it("creates the task once when the same step is retried", async () => {
    const ctx = ctxA();
    const first = (await create({ title: "Only once" }, ctx)).output as { task_id: string };
    const again = (await create({ title: "Only once" }, { ...ctx, attempt: 2 })).output as { task_id: string; reused?: boolean };
    expect(again.task_id).toBe(first.task_id);
    expect(again.reused).toBe(true);
    const [row] = await t.db.query<{ n: number }>("select count(*)::int as n from public.tasks where title = 'Only once'");
    expect(row!.n).toBe(1);
  });

  it("refuses an assignee from another org, or one that does not exist, and writes nothing", async () => {
    const before = await countTasks();
    const err = await failure({ title: "x", assignee_id: b.userId });
    expect(err).toMatchObject({ code: "invalid_assignee", retryable: false });
    expect(err.message).toBe(`assignee_id ${b.userId} is not a user of this organization`);
    expect((await failure({ title: "x", assignee_id: randomUUID() })).code).toBe("invalid_assignee");
    expect(await countTasks()).toBe(before);
  });

  it("leaves the task unassigned when the assignee resolves to null", async () => {
    const res = await create({ title: "Nobody yet", assignee_id: null });
    expect(res.output).toMatchObject({ assignee_id: null });
  });

  it("reports values the table rejects as not retryable", async () => {
    const config = { title: "x", due_at: "2026-02-30" };
    const err = await createTaskAction.execute(config, ctxA()).then(
      () => null,
      (e: unknown) => e as ActionError,
    );
    expect(err).toMatchObject({ code: "invalid_value", retryable: false });
    expect(err!.message).toMatch(/^cannot create task: /);
  });

  it("creates tasks that RLS shows to their org only", async () => {
    const res = await create({ title: "Visible to A" });
    const { task_id } = res.output as { task_id: string };
    const seenByA = await asUser(t.db, a.claims, (tx) => tx.query("select id from public.tasks where id = $1", [task_id]));
    const seenByB = await asUser(t.db, b.claims, (tx) => tx.query("select id from public.tasks where id = $1", [task_id]));
    expect(seenByA).toHaveLength(1);
    expect(seenByB).toHaveLength(0);
  });

  it("validates the config at save time", () => {
    const problems = (raw: unknown) => createTaskAction.schema.safeParse(raw).error?.issues.map((i) => i.path.join(".")) ?? [];
    expect(problems({ title: "ok", priority: "high", due_at: "2026-03-01" })).toEqual([]);
    expect(problems({ title: "   " })).toEqual(["title"]);
    expect(problems({ title: "x", priority: "critical" })).toEqual(["priority"]);
    expect(problems({ title: "x", due_at: "next week" })).toEqual(["due_at"]);
    expect(problems({ title: "x", status: "done" })).toEqual([""]);
  });
});
