// Limits an operator sets per org (automation_settings; defaults in
// automations_engine.setting), the manual idempotency namespace, and the
// service check as an allowlist: a project's own API role is a user.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let orgA: string;
let orgB: string;
let member: TestUser;
let admin: TestUser;
const apiRole = `api_reader_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  t = await createTestDatabase();
  orgA = await createOrg(t.db, "Limits A");
  orgB = await createOrg(t.db, "Limits B");
  member = await createUser(t.db, orgA, "member");
  admin = await createUser(t.db, orgA, "admin");
  // A role a project adds for its own API, granted like authenticated.
  await t.db.exec(`create role ${apiRole} nologin; grant authenticated to ${apiRole};`);
});
afterAll(async () => {
  await t.db.exec(`drop owned by ${apiRole}; drop role ${apiRole};`).catch(() => {});
  await t.drop();
});

const as = <T>(u: TestUser, fn: (tx: Db) => Promise<T>) => asUser(t.db, u.claims, fn);
const rpc = async <T = unknown>(u: TestUser, sql: string, params: unknown[] = []) =>
  (await as(u, (tx) => tx.query<{ v: T }>(`select ${sql} as v`, params)))[0]!.v;
const steps = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ action_type: "log", action_config: { message: `step ${i}` } })));

describe("limits (automation_settings)", () => {
  it("steps per automation: 50 by default, the org's setting otherwise, through the table and the RPCs", async () => {
    const create = (u: TestUser, n: number) =>
      rpc<string>(u, "public.create_automation('steps', 'manual', '{}'::jsonb, $1::jsonb)", [steps(n)]);
    await expect(create(member, 51)).rejects.toMatchObject({ code: "54000", message: expect.stringMatching(/would have 51 actions; at most 50/) });
    const id = await create(member, 50);

    await t.db.query("insert into automation_settings (org_id, max_actions_per_automation) values ($1, 3)", [orgA]);
    // A plain insert that takes the automation over the limit, and one that stays under.
    const small = await create(member, 2);
    await expect(
      as(member, (tx) => tx.query("insert into automation_actions (org_id, automation_id, action_type, action_config, position) values ($1, $2, 'log', '{\"message\":\"x\"}', 5), ($1, $2, 'log', '{\"message\":\"y\"}', 6)", [orgA, small])),
    ).rejects.toMatchObject({ code: "54000" });
    await as(member, (tx) => tx.query("insert into automation_actions (org_id, automation_id, action_type, action_config, position) values ($1, $2, 'log', '{\"message\":\"x\"}', 5)", [orgA, small]));
    await expect(rpc(admin, "public.replace_automation_actions($1, $2::jsonb)", [id, steps(4)])).rejects.toMatchObject({ code: "54000" });
    expect(await rpc<number>(admin, "public.replace_automation_actions($1, $2::jsonb)", [id, steps(3)])).toBe(3);
    await t.db.query("delete from automation_settings where org_id = $1", [orgA]);
  });

  it("automations per org: the org's setting, through the table and create_automation", async () => {
    const org = await createOrg(t.db, "Few automations");
    const u = await createUser(t.db, org, "member");
    await t.db.query("insert into automation_settings (org_id, max_automations) values ($1, 2)", [org]);
    await rpc(u, "public.create_automation('one', 'manual')");
    await as(u, (tx) => tx.query("insert into automations (org_id, name, trigger_type) values ($1, 'two', 'manual')", [org]));
    await expect(rpc(u, "public.create_automation('three', 'manual')")).rejects.toMatchObject({
      code: "54000",
      message: expect.stringMatching(/would have 3 automations; at most 2 are allowed/),
    });
    await expect(as(u, (tx) => tx.query("insert into automations (org_id, name, trigger_type) values ($1, 'three', 'manual')", [org]))).rejects.toMatchObject({ code: "54000" });
    // Other orgs are not counted.
    await expect(createAutomation(t.db, orgB, { name: "B is fine" })).resolves.toBeTypeOf("string");
  });

  it("members read their org's limits; only the service writes them, and an admin cannot reset them by deleting the row", async () => {
    const org = await createOrg(t.db, "Settings");
    const owner = await createUser(t.db, org, "owner");
    await t.db.query("insert into automation_settings (org_id, chain_run_budget) values ($1, 5)", [org]);
    expect(await rpc(owner, "(select chain_run_budget from automation_settings)")).toBe(5);
    await expect(as(owner, (tx) => tx.query("update automation_settings set chain_run_budget = 1000000"))).rejects.toMatchObject({ code: "42501" });
    await expect(
      as(owner, (tx) => tx.query("insert into automation_settings (org_id, max_automations) values ($1, 99999)", [owner.orgId])),
    ).rejects.toMatchObject({ code: "42501" });
    await as(owner, (tx) => tx.query("delete from automation_settings"));
    expect((await t.db.query("select 1 from automation_settings where org_id = $1", [org])).length).toBe(1);
    // Retention columns stay the admins' (their row, no limits in it, may go).
    await t.db.query("update automation_settings set chain_run_budget = null where org_id = $1", [org]);
    await as(owner, (tx) => tx.query("update automation_settings set run_retention_days = 7"));
    await as(owner, (tx) => tx.query("delete from automation_settings"));
    expect((await t.db.query("select 1 from automation_settings where org_id = $1", [org])).length).toBe(0);
  });
});

describe("manual idempotency keys", () => {
  it("are stored as manual:<key>, so they never take a webhook delivery's key", async () => {
    const id = await createAutomation(t.db, orgA, { name: "keys", trigger_type: "webhook" });
    await t.db.query("update automations set status = 'active' where id = $1", [id]);
    const manual = await rpc<string>(member, "public.run_automation($1, '{}'::jsonb, 'msg_1')", [id]);
    expect((await t.db.query<{ k: string }>("select idempotency_key as k from automation_runs where id = $1", [manual]))[0]!.k).toBe("manual:msg_1");
    // The real delivery with webhook-id msg_1 still gets its own run.
    const delivery = await enqueueRun(t.db, { automationId: id, triggerType: "webhook", idempotencyKey: "webhook:msg_1" });
    expect(delivery.created).toBe(true);
    expect(await rpc<string>(member, "public.run_automation($1, '{}'::jsonb, 'msg_1')", [id])).toBe(manual);
    for (const key of ["webhook:msg_1", "Schedule:2026-01-01", "event:e1", "manual:x"]) {
      await expect(rpc(member, "public.run_automation($1, '{}'::jsonb, $2)", [id, key])).rejects.toMatchObject({ code: "22023" });
    }
  });
});

describe("caller_is_service() is an allowlist", () => {
  /** As PostgREST would act for a project role: role + the user's JWT claims. */
  const asApiRole = <T>(u: TestUser, fn: (tx: Db) => Promise<T>) =>
    t.db.transaction(async (tx) => {
      await tx.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [apiRole, JSON.stringify({ ...u.claims, role: apiRole })]);
      return fn(tx);
    });

  it("a custom API role acting for a member of A gets no access to B", async () => {
    const idB = await createAutomation(t.db, orgB, { name: "B's" });
    const idA = await createAutomation(t.db, orgA, { name: "A's" });
    // RLS still scopes it to A (policies are for authenticated, which it is granted).
    const seen = await asApiRole(member, (tx) => tx.query<{ id: string }>("select id from automations where id = any($1)", [[idA, idB]]));
    expect(seen.map((r) => r.id)).toEqual([idA]);
    // Before: the definer functions took it for the service and let it through.
    await expect(asApiRole(member, (tx) => tx.query("select public.run_automation($1)", [idB]))).rejects.toMatchObject({ code: "P0002" });
    await expect(asApiRole(member, (tx) => tx.query("select public.create_automation('x', 'manual', org_id => $1)", [orgB]))).rejects.toMatchObject({ code: "P0002" });
    await expect(asApiRole(member, (tx) => tx.query("select public.replace_automation_actions($1, '[]'::jsonb)", [idB]))).rejects.toMatchObject({ code: "P0002" });
    await expect(asApiRole(member, (tx) => tx.query("select public.rotate_webhook_secret($1)", [idB]))).rejects.toMatchObject({ code: "P0002" });
    expect((await t.db.query("select 1 from automation_runs where automation_id = $1", [idB])).length).toBe(0);
    // Inserting a run directly is checked as for any member (a paused automation does not run).
    const paused = await createAutomation(t.db, orgA, { name: "paused", status: "paused" });
    await expect(
      asApiRole(member, (tx) => tx.query("insert into automation_runs (org_id, automation_id) values ($1, $2)", [orgA, paused])),
    ).rejects.toMatchObject({ code: "55000" });
    // Its own org's automation works as for any member.
    await expect(asApiRole(member, (tx) => tx.query("select public.run_automation($1)", [idA]))).resolves.toHaveLength(1);
  });

  it("the service role and the owner's direct connection are the service", async () => {
    const check = (role: string | null) =>
      t.db.transaction(async (tx) => {
        if (role) await tx.query("select set_config('role', $1, true)", [role]);
        return (await tx.query<{ v: boolean }>("select automations_engine.caller_is_service() as v"))[0]!.v;
      });
    expect(await check(null)).toBe(true); // the direct (owner) connection
    expect(await check("service_role")).toBe(true);
    // authenticated, anon and API roles cannot even execute it; the definer
    // functions that ask it on their behalf are covered above.
  });
});
