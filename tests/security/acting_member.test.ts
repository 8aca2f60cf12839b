// Issue 15, item 1: an automation gives no one more than RLS already gives
// them. A `payroll` table only admins may select or update, with the
// table-event trigger attached; a guest, a member and an admin of one org.
// Real PostgreSQL, real RLS (acting exactly as PostgREST does), the real worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAction } from "../../shared/actions/registry.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { engineDeps } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;
let admin: TestUser, member: TestUser, guest: TestUser, owner: TestUser;
let alice: string;

const PAYROLL = `
  create table public.payroll (
    id uuid primary key default gen_random_uuid(),
    org_id uuid not null references public.organizations (id),
    employee text not null,
    salary integer not null
  );
  alter table public.payroll enable row level security;
  create policy "admins read payroll" on public.payroll for select to authenticated
    using (org_id = (select public.get_user_org_id()) and (select public.is_admin()));
  create policy "admins update payroll" on public.payroll for update to authenticated
    using (org_id = (select public.get_user_org_id()) and (select public.is_admin()))
    with check (org_id = (select public.get_user_org_id()));
  create trigger payroll_automations after insert or update or delete on public.payroll
    for each row execute function public.automations_table_event();`;

const actions = ["update_field", "log"].map((a) => getAction(a) as ActionDefinition<unknown>);
const drain = () => new Worker({ ...engineDeps(t.db, actions), concurrency: 2 }).drain(10_000);

/** An automation inserted by a member (through the API, under RLS) with its actions. */
async function memberAutomation(u: TestUser, spec: { trigger_type: string; trigger_config?: unknown; steps: Array<{ type: string; config: unknown }> }) {
  return asUser(t.db, u.claims, async (tx) => {
    const [a] = await tx.query<{ id: string }>(
      `insert into automations (org_id, name, trigger_type, trigger_config, status) values ($1, $2, $3, $4::jsonb, 'active') returning id`,
      [org, `${u.role}'s automation`, spec.trigger_type, JSON.stringify(spec.trigger_config ?? {})],
    );
    for (const [i, s] of spec.steps.entries()) {
      await tx.query("insert into automation_actions (org_id, automation_id, action_type, action_config, position) values ($1, $2, $3, $4::jsonb, $5)", [
        org, a!.id, s.type, JSON.stringify(s.config), i,
      ]);
    }
    return a!.id;
  });
}

async function actingUser(id: string): Promise<string | null> {
  const [r] = await t.db.query<{ acting_user_id: string | null }>("select acting_user_id from automations where id = $1", [id]);
  return r!.acting_user_id;
}

const salary = async () =>
  ((await t.db.query<{ salary: number }>("select salary from payroll where id = $1", [alice]))[0]!).salary;

async function runManual(u: TestUser, automation: string) {
  const [r] = await asUser(t.db, u.claims, (tx) => tx.query<{ id: string }>("select public.run_automation($1) as id", [automation]));
  await drain();
  const [run] = await t.db.query<{ status: string; error_message: string | null }>("select status, error_message from automation_runs where id = $1", [r!.id]);
  return run!;
}

/** Everything a user can select from the automation tables, as one string. */
async function visibleText(db: Db, u: TestUser): Promise<string> {
  return asUser(db, u.claims, async (tx) => {
    const parts: unknown[] = [];
    for (const table of ["automation_runs", "automation_run_steps", "automation_run_payloads", "automation_versions", "automations"]) {
      parts.push(await tx.query(`select to_jsonb(x.*) as row from public.${table} x`));
    }
    return JSON.stringify(parts);
  });
}

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.exec(PAYROLL);
  org = await createOrg(t.db, "Payroll");
  admin = await createUser(t.db, org, "admin");
  member = await createUser(t.db, org, "member");
  guest = await createUser(t.db, org, "guest");
  owner = await createUser(t.db, org, "owner");
  [{ id: alice }] = (await t.db.query<{ id: string }>(
    "insert into payroll (org_id, employee, salary) values ($1, 'Alice', 200000) returning id",
    [org],
  )) as [{ id: string }];
});
afterAll(() => t.drop());

describe("who an automation acts as", () => {
  it("the member who inserts it, then whoever changes its trigger, status or actions; never a client-set value", async () => {
    const id = await memberAutomation(guest, { trigger_type: "manual", steps: [{ type: "log", config: { message: "hi" } }] });
    expect(await actingUser(id)).toBe(guest.userId);
    // A rename is not a change of what it does.
    await asUser(t.db, admin.claims, (tx) => tx.query("update automations set name = 'renamed' where id = $1", [id]));
    expect(await actingUser(id)).toBe(guest.userId);
    await asUser(t.db, admin.claims, (tx) => tx.query("update automation_actions set action_config = '{\"message\": \"x\"}' where automation_id = $1", [id]));
    expect(await actingUser(id)).toBe(admin.userId);
    await asUser(t.db, member.claims, (tx) => tx.query("update automations set status = 'paused' where id = $1", [id]));
    expect(await actingUser(id)).toBe(member.userId);
    // Not a client-writable column.
    await expect(
      asUser(t.db, guest.claims, (tx) => tx.query("update automations set acting_user_id = $2 where id = $1", [id, admin.userId])),
    ).rejects.toMatchObject({ code: "42501" });
    // The service's edits leave it unchanged.
    await t.db.query("update automations set trigger_config = '{}'::jsonb, status = 'active' where id = $1", [id]);
    expect(await actingUser(id)).toBe(member.userId);
  });
});

describe("table events carry only rows the acting member can read", () => {
  it("a guest's event automation on payroll: an admin's raise starts no run, and no member can read the salary anywhere", async () => {
    const id = await memberAutomation(guest, {
      trigger_type: "event",
      trigger_config: { table: "payroll", operations: ["UPDATE"] },
      steps: [{ type: "log", config: { message: "salary {{trigger.payload.record.salary}}" } }],
    });
    await asUser(t.db, admin.claims, (tx) => tx.query("update payroll set salary = 260000 where id = $1", [alice]));
    const runs = await t.db.query("select id from automation_runs where automation_id = $1", [id]);
    expect(runs).toHaveLength(0);
    await drain();
    for (const u of [guest, member]) expect(await visibleText(t.db, u)).not.toContain("260000");
    await t.db.query("delete from automations where id = $1", [id]);
  });

  it("an admin's event automation runs; others (the owner too) see the run but a redacted payload, result and no steps; the admin sees all", async () => {
    const id = await memberAutomation(admin, {
      trigger_type: "event",
      trigger_config: { table: "payroll", operations: ["UPDATE"] },
      steps: [{ type: "log", config: { message: "salary {{trigger.payload.record.salary}}" } }],
    });
    await asUser(t.db, admin.claims, (tx) => tx.query("update payroll set salary = 270000 where id = $1", [alice]));
    await drain();
    const [run] = await t.db.query<{ id: string; status: string; restricted: boolean; acting_user_id: string }>(
      "select id, status, restricted, acting_user_id from automation_runs where automation_id = $1", [id],
    );
    expect(run).toMatchObject({ status: "completed", restricted: true, acting_user_id: admin.userId });

    // The owner is not the acting member: a row hidden from them elsewhere must not show here either.
    for (const u of [guest, member, owner]) {
      const seen = await asUser(t.db, u.claims, async (tx) => ({
        run: await tx.query<{ trigger_payload: Record<string, unknown>; result: Record<string, unknown>; status: string }>(
          "select trigger_payload, result, status from automation_runs where id = $1", [run!.id]),
        payloads: await tx.query("select * from automation_run_payloads where run_id = $1", [run!.id]),
        steps: await tx.query("select * from automation_run_steps where run_id = $1", [run!.id]),
      }));
      expect(seen.run).toHaveLength(1);
      expect(seen.run[0]!.status).toBe("completed");
      expect(seen.run[0]!.trigger_payload).toMatchObject({ redacted: true, type: "UPDATE", table: "payroll" });
      expect(seen.run[0]!.result).toMatchObject({ redacted: true });
      expect(seen.payloads).toHaveLength(0);
      expect(seen.steps).toHaveLength(0);
      expect(await visibleText(t.db, u)).not.toContain("270000");
    }
    const adminView = await visibleText(t.db, admin);
    expect(adminView).toContain("270000");
    const [p] = await asUser(t.db, admin.claims, (tx) =>
      tx.query<{ payload: { record: { salary: number } } }>("select payload from automation_run_payloads where run_id = $1", [run!.id]));
    expect(p!.payload.record.salary).toBe(270000);
    await t.db.query("delete from automations where id = $1", [id]);
  });
});

describe("table events over HTTP (Database Webhooks) get the same check", () => {
  it("acting_member_can_read_event: a guest's automation may not carry a payroll row, an admin's may, the service's always", async () => {
    const spec = { trigger_type: "event", trigger_config: { table: "payroll" }, steps: [{ type: "log", config: {} }] };
    const guests = await memberAutomation(guest, spec);
    const admins = await memberAutomation(admin, spec);
    const [svc] = await t.db.query<{ id: string }>("insert into automations (org_id, name, trigger_type, trigger_config) values ($1, 's', 'event', '{\"table\": \"payroll\"}') returning id", [org]);
    const record = (await t.db.query<{ r: unknown }>("select to_jsonb(p.*) as r from payroll p where id = $1", [alice]))[0]!.r;
    const payload = JSON.stringify({ type: "UPDATE", table: "payroll", schema: "public", record, old_record: record });
    const can = async (id: string) =>
      (await t.db.query<{ ok: boolean }>("select automations_engine.acting_member_can_read_event($1, $2::jsonb) as ok", [id, payload]))[0]!.ok;
    expect([await can(guests), await can(admins), await can(svc!.id)]).toEqual([false, true, true]);
    await t.db.query("delete from automations where id = any($1)", [[guests, admins, svc!.id]]);
  });
});

describe("database actions run under RLS as the acting member", () => {
  it("a guest's update_field on payroll fails; an admin's edit makes it succeed; a guest's edit makes it fail again", async () => {
    await t.db.query("update payroll set salary = 200000 where id = $1", [alice]);
    const id = await memberAutomation(guest, {
      trigger_type: "manual",
      steps: [{ type: "update_field", config: { table: "payroll", id: alice, field: "salary", value: 1 } }],
    });
    const first = await runManual(guest, id);
    expect(first.status).toBe("failed");
    expect(first.error_message).toMatch(/may not update row .* of public\.payroll \(row-level security\)/);
    expect(await salary()).toBe(200000);

    await asUser(t.db, admin.claims, (tx) =>
      tx.query(`update automation_actions set action_config = jsonb_set(action_config, '{value}', '2') where automation_id = $1`, [id]));
    expect(await actingUser(id)).toBe(admin.userId);
    expect((await runManual(guest, id)).status).toBe("completed");
    expect(await salary()).toBe(2);

    await asUser(t.db, guest.claims, (tx) =>
      tx.query(`update automation_actions set action_config = jsonb_set(action_config, '{value}', '3') where automation_id = $1`, [id]));
    expect(await actingUser(id)).toBe(guest.userId);
    const again = await runManual(guest, id);
    expect(again.status).toBe("failed");
    expect(again.error_message).toMatch(/row-level security/);
    expect(await salary()).toBe(2);
  });

  it("a suspended, removed or deleted acting member fails the run with a clear error", async () => {
    const boss = await createUser(t.db, org, "admin");
    const id = await memberAutomation(boss, {
      trigger_type: "manual",
      steps: [{ type: "update_field", config: { table: "payroll", id: alice, field: "salary", value: 5 } }],
    });
    await t.db.query("update memberships set status = 'suspended' where user_id = $1", [boss.userId]);
    const suspended = await runManual(admin, id);
    expect(suspended.status).toBe("failed");
    expect(suspended.error_message).toContain(
      `automation admin's automation acts as ${boss.claims.email}, who is no longer an active member of this organization; an admin must edit or re-activate the automation`,
    );
    await t.db.query("delete from memberships where user_id = $1", [boss.userId]);
    expect((await runManual(admin, id)).error_message).toContain("no longer an active member");
    expect(await salary()).not.toBe(5);

    // A queued run of a user who is then deleted: the run still names them and fails;
    // the automation is paused rather than turned into a service automation.
    await t.db.query("update memberships set status = 'active' where user_id = $1", [boss.userId]).catch(() => {});
    const [queued] = await asUser(t.db, admin.claims, (tx) => tx.query<{ id: string }>("select public.run_automation($1) as id", [id]));
    await t.db.query("delete from users where id = $1", [boss.userId]);
    const [auto] = await t.db.query<{ status: string; acting_user_id: string | null }>("select status, acting_user_id from automations where id = $1", [id]);
    expect(auto).toEqual({ status: "paused", acting_user_id: null });
    await drain();
    const [run] = await t.db.query<{ status: string; error_message: string }>("select status, error_message from automation_runs where id = $1", [queued!.id]);
    expect(run!.status).toBe("failed");
    expect(run!.error_message).toContain("(deleted), who is no longer an active member");
    expect(await salary()).not.toBe(5);
  });

  it("an automation the service created (no acting member) runs its database actions as the service", async () => {
    const [a] = await t.db.query<{ id: string }>(
      "insert into automations (org_id, name, trigger_type, status) values ($1, 'ops', 'manual', 'active') returning id", [org]);
    await t.db.query("insert into automation_actions (org_id, automation_id, action_type, action_config) values ($1, $2, 'update_field', $3::jsonb)", [
      org, a!.id, JSON.stringify({ table: "payroll", id: alice, field: "salary", value: 7 }),
    ]);
    expect(await actingUser(a!.id)).toBeNull();
    const [r] = await t.db.query<{ id: string }>("select public.run_automation($1) as id", [a!.id]);
    await drain();
    const [run] = await t.db.query<{ status: string }>("select status from automation_runs where id = $1", [r!.id]);
    expect(run!.status).toBe("completed");
    expect(await salary()).toBe(7);
  });
});
