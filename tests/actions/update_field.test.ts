// update_field on real PostgreSQL: typed values, org scoping, forbidden
// tables and columns, and SQL metacharacters in every user-supplied part.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionError } from "../../shared/engine/action_contract.ts";
import { updateFieldAction } from "../../shared/actions/update_field.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";
import { makeContext } from "./context.ts";

let t: TestDatabase;
let a: TestUser;
let b: TestUser;
let taskA: string;
let taskB: string;
let dealA: string;
const ODD_TABLE = `odd"name; drop table public.tasks; --`;
const ODD_COLUMN = `we"ird'); --`;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.exec(readFileSync(new URL("../../supabase/seed/tasks_module.sql", import.meta.url), "utf8"));
  await t.db.exec(`
    create table public.deals (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references public.organizations (id) on delete cascade,
      name text, amount integer, score numeric, won boolean, tags text[], data jsonb,
      closes_at timestamptz, stage public.task_status, owner_id uuid references public.users (id),
      partner_org_id uuid references public.organizations (id),
      doubled integer generated always as (amount * 2) stored,
      created_at timestamptz not null default now(), updated_at timestamptz not null default now());
    create table public.global_settings (id integer primary key, value text);
    create view public.deal_names as select id, org_id, name from public.deals;
    create table public."odd""name; drop table public.tasks; --" (
      id uuid primary key default gen_random_uuid(), org_id uuid not null, "we""ird'); --" text);
  `);
  a = await createUser(t.db, await createOrg(t.db, "A"));
  b = await createUser(t.db, await createOrg(t.db, "B"));
  const ins = async (org: string) =>
    (await t.db.query<{ id: string }>("insert into public.tasks (org_id, title) values ($1, 'original') returning id", [org]))[0]!.id;
  taskA = await ins(a.orgId);
  taskB = await ins(b.orgId);
  dealA = (await t.db.query<{ id: string }>("insert into public.deals (org_id, name, amount) values ($1, 'd', 1) returning id", [a.orgId]))[0]!.id;
});
afterAll(() => t.drop());

const ctxA = () => makeContext({ db: t.db, orgId: a.orgId });

async function set(table: string, id: unknown, field: string, value: unknown, ctx = ctxA()) {
  return updateFieldAction.execute(updateFieldAction.schema.parse({ table, id, field, value }), ctx);
}

async function refused(table: string, id: unknown, field: string, value: unknown): Promise<ActionError> {
  // Bypass save-time validation: the run-time checks must hold on their own.
  const err = await updateFieldAction.execute({ table, id, field, value } as never, ctxA()).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActionError);
  expect((err as ActionError).retryable).toBe(false);
  return err as ActionError;
}

const column = async (table: string, field: string, id: string) =>
  (await t.db.query<{ v: unknown }>(`select to_jsonb(${field}) as v from public.${table} where id = $1`, [id]))[0]!.v;

describe("update_field sets typed values", () => {
  it("sets text and returns the new and previous values; the trigger bumps updated_at", async () => {
    const [before] = await t.db.query<{ updated_at: Date }>("select updated_at from public.tasks where id = $1", [taskA]);
    const res = await set("tasks", taskA, "title", "renamed");
    expect(res.output).toEqual({ table: "tasks", id: taskA, field: "title", value: "renamed", previous: "original" });
    expect(await column("tasks", "title", taskA)).toBe("renamed");
    const [after] = await t.db.query<{ updated_at: Date }>("select updated_at from public.tasks where id = $1", [taskA]);
    expect(after!.updated_at.getTime()).toBeGreaterThanOrEqual(before!.updated_at.getTime());
  });

  it.each([
    ["amount", 42, 42],
    ["amount", "43", 43],
    ["score", 1.25, 1.25],
    ["won", true, true],
    ["tags", ["a", "b,c"], ["a", "b,c"]],
    ["data", { nested: [1, { x: null }] }, { nested: [1, { x: null }] }],
    ["data", "just a string", "just a string"],
    ["stage", "in_review", "in_review"],
    ["name", null, null],
  ])("sets deals.%s to %j", async (field, value, stored) => {
    const res = await set("public.deals", dealA, field, value);
    expect(res.output).toMatchObject({ value: stored });
    expect(await column("deals", field, dealA)).toEqual(stored);
  });

  it("sets timestamps and enums with the column's own parsing", async () => {
    await set("deals", dealA, "closes_at", "2026-03-01T09:00:00+02:00");
    const [row] = await t.db.query<{ closes_at: Date }>("select closes_at from public.deals where id = $1", [dealA]);
    expect(row!.closes_at.toISOString()).toBe("2026-03-01T07:00:00.000Z");
    await set("tasks", taskA, "status", "done");
    expect(await column("tasks", "status", taskA)).toBe("done");
  });

  it("refuses values the column type rejects, without retry", async () => {
    for (const [field, value] of [["status", "finished"], ["priority", 3]] as const) {
      const err = await refused("tasks", taskA, field, value);
      expect(err.code).toBe("invalid_value");
      expect(err.message).toContain(`cannot set public.tasks.${field}`);
    }
    expect((await refused("deals", dealA, "amount", "lots")).code).toBe("invalid_value");
    expect((await refused("tasks", taskA, "title", null)).code).toBe("invalid_value"); // not null
  });
});

describe("update_field stays inside the run's org", () => {
  it("cannot reach another org's row, and leaves it unchanged", async () => {
    const err = await refused("tasks", taskB, "title", "hijacked");
    expect(err.code).toBe("not_found");
    expect(err.message).toBe(`row ${taskB} not found in tasks for this organization`);
    expect(await column("tasks", "title", taskB)).toBe("original");
  });

  it("reports a missing row and a malformed id clearly", async () => {
    expect((await refused("tasks", "00000000-0000-4000-8000-000000000000", "title", "x")).code).toBe("not_found");
    expect((await refused("tasks", "abc", "title", "x")).message).toMatch(/id "abc" is not a uuid/);
  });

  it("refuses a foreign key pointing at another org's row", async () => {
    const err = await refused("tasks", taskA, "assignee_id", b.userId);
    expect(err.code).toBe("cross_org_reference");
    expect(await column("tasks", "assignee_id", taskA)).toBeNull();
    await set("tasks", taskA, "assignee_id", a.userId);
    expect(await column("tasks", "assignee_id", taskA)).toBe(a.userId);
    await set("tasks", taskA, "assignee_id", null);
    expect(await column("tasks", "assignee_id", taskA)).toBeNull();
    expect((await refused("deals", dealA, "partner_org_id", b.orgId)).code).toBe("cross_org_reference");
    await set("deals", dealA, "partner_org_id", a.orgId);
  });
});

describe("update_field refuses what it must never touch", () => {
  it.each(["id", "org_id", "created_at", "updated_at"])("refuses column %s", async (field) => {
    const err = await refused("tasks", taskA, field, a.orgId);
    expect(err.code).toBe("forbidden");
  });

  it("refuses generated columns", async () => {
    expect((await refused("deals", dealA, "doubled", 4)).message).toMatch(/generated/);
  });

  it.each([
    "organizations",
    "users",
    "memberships",
    "public.users",
    "automations",
    "automation_actions",
    "automation_runs",
    "automation_run_steps",
    "automation_anything_new",
    "Automations",
    "auth.users",
    "pg_catalog.pg_authid",
  ])("refuses table %s", async (table) => {
    expect((await refused(table, a.userId, "email", "x@evil.test")).code).toBe("forbidden");
  });

  it("refuses unknown tables, views, tables without org_id and unknown columns", async () => {
    expect((await refused("nope", taskA, "title", "x")).code).toBe("unknown_table");
    expect((await refused("deal_names", dealA, "name", "x")).code).toBe("unknown_table");
    expect((await refused("global_settings", 1, "value", "x")).code).toBe("not_org_scoped");
    const err = await refused("tasks", taskA, "nope", "x");
    expect(err.code).toBe("unknown_column");
    expect(err.message).toContain("columns: project_id, assignee_id");
  });
});

describe("update_field and SQL metacharacters", () => {
  it("treats injection attempts in table and field as unknown names", async () => {
    expect((await refused(`tasks"; drop table deals; --`, taskA, "title", "x")).code).toBe("unknown_table");
    expect((await refused(`tasks; drop table public.deals; --`, taskA, "title", "x")).code).toBe("unknown_table");
    expect((await refused(`public.tasks" set title = 'x'; --`, taskA, "title", "x")).code).toBe("unknown_table");
    expect((await refused("tasks", taskA, `title" = 'x', "status`, "x")).code).toBe("unknown_column");
    expect((await refused("tasks", taskA, "title = 'x' --", "x")).code).toBe("unknown_column");
    const [row] = await t.db.query<{ n: number }>("select count(*)::int as n from pg_tables where tablename in ('tasks', 'deals')");
    expect(row!.n).toBe(2);
  });

  it("binds values: a value full of SQL is stored as text", async () => {
    const value = `x'); drop table public.tasks; -- "{{}}" \\ $1`;
    await set("tasks", taskA, "description", value);
    expect(await column("tasks", "description", taskA)).toBe(value);
  });

  it("quotes catalog names correctly, even ones full of quotes", async () => {
    const [row] = await t.db.query<{ id: string }>(`insert into public."odd""name; drop table public.tasks; --" (org_id) values ($1) returning id`, [a.orgId]);
    const res = await set(ODD_TABLE, row!.id, ODD_COLUMN, "fine");
    expect(res.output).toMatchObject({ value: "fine", previous: null });
    const [tasks] = await t.db.query<{ n: number }>("select count(*)::int as n from public.tasks");
    expect(tasks!.n).toBeGreaterThan(0);
  });
});
