// The client API (supabase-js .rpc) under RLS: create with actions
// atomically, replace actions, change status, retry from the failed step,
// cancel pending and running runs; other orgs get "not found".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionError } from "../../shared/engine/action_contract.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import { executeRun } from "../../shared/engine/execute_run.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { engineDeps, probeAction, runRow, stepRows } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let member: TestUser;
let admin: TestUser;
let outsider: TestUser;

beforeAll(async () => {
  t = await createTestDatabase();
  const a = await createOrg(t.db, "A");
  member = await createUser(t.db, a, "member");
  admin = await createUser(t.db, a, "admin");
  outsider = await createUser(t.db, await createOrg(t.db, "B"), "admin");
});
afterAll(() => t.drop());

const as = <T>(u: TestUser, fn: (tx: Db) => Promise<T>) => asUser(t.db, u.claims, fn);
const rpc = async <T = unknown>(u: TestUser, sql: string, params: unknown[]) =>
  (await as(u, (tx) => tx.query<{ v: T }>(`select ${sql} as v`, params)))[0]!.v;

const actions = [
  { action_type: "log", name: "first", action_config: { message: "one" } },
  { action_type: "log", name: "second", action_config: { message: "two" } },
];

async function create(u: TestUser, acts: unknown = actions, status = "active") {
  return rpc<string>(u, "public.create_automation($1, 'manual', '{}'::jsonb, $2::jsonb, $3::automation_status)", [
    "Made by rpc",
    JSON.stringify(acts),
    status,
  ]);
}

async function count(table: string) {
  return (await t.db.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]!.n;
}

describe("create_automation / replace_automation_actions / set_automation_status", () => {
  it("creates the automation and its ordered actions in the caller's org, with the caller as creator", async () => {
    const id = await create(member);
    const [a] = await t.db.query<{ org_id: string; creator_id: string }>("select org_id, creator_id from automations where id = $1", [id]);
    expect(a).toEqual({ org_id: member.orgId, creator_id: member.userId });
    const acts = await t.db.query<{ name: string; position: number }>(
      "select name, position from automation_actions where automation_id = $1 order by position",
      [id],
    );
    expect(acts).toEqual([{ name: "first", position: 0 }, { name: "second", position: 1 }]);
  });

  it("writes nothing when any part is invalid", async () => {
    const before = [await count("automations"), await count("automation_actions")];
    await expect(create(member, [{ action_type: "log" }, { nope: true }])).rejects.toMatchObject({ code: "22023" });
    await expect(create(member, { not: "an array" })).rejects.toMatchObject({ code: "22023" });
    // A duplicate step name violates the unique index: the automation row goes too.
    await expect(create(member, [{ action_type: "log", name: "x" }, { action_type: "log", name: "x" }])).rejects.toMatchObject({ code: "23505" });
    expect([await count("automations"), await count("automation_actions")]).toEqual(before);
  });

  it("replaces the action list atomically; a queued run keeps its snapshot", async () => {
    const id = await create(member);
    const run = await rpc<string>(member, "public.run_automation($1)", [id]);
    const n = await rpc<number>(admin, "public.replace_automation_actions($1, $2::jsonb)", [id, JSON.stringify([{ action_type: "log", action_config: { message: "new" } }])]);
    expect(n).toBe(1);
    const [snap] = await t.db.query<{ actions: unknown[] }>(
      "select v.actions from automation_runs r join automation_versions v on v.id = r.version_id where r.id = $1",
      [run],
    );
    expect(snap!.actions).toHaveLength(2);
    await expect(rpc(outsider, "public.replace_automation_actions($1, '[]'::jsonb)", [id])).rejects.toMatchObject({ code: "P0002" });
  });

  it("replacing deletes actions, so only admins may replace a non-empty list (as a plain DELETE); anyone may fill an empty one", async () => {
    const guest = await createUser(t.db, member.orgId, "guest");
    const id = await create(member);
    const list = JSON.stringify([{ action_type: "log", action_config: { message: "mine now" } }]);
    for (const u of [guest, member]) {
      await expect(rpc(u, "public.replace_automation_actions($1, $2::jsonb)", [id, list])).rejects.toMatchObject({
        code: "42501",
        message: expect.stringMatching(/only owners and admins can replace the actions/),
      });
      await expect(rpc(u, "public.replace_automation_actions($1, '[]'::jsonb)", [id])).rejects.toMatchObject({ code: "42501" });
    }
    const names = await t.db.query<{ name: string }>("select name from automation_actions where automation_id = $1 order by position", [id]);
    expect(names.map((r) => r.name)).toEqual(["first", "second"]);
    // A plain DELETE by the guest removes nothing either (RLS: admins only).
    await as(guest, (tx) => tx.query("delete from automation_actions where automation_id = $1", [id]));
    expect(await count("automation_actions where automation_id = '" + id + "'")).toBe(2);

    const empty = await create(guest, []);
    expect(await rpc<number>(guest, "public.replace_automation_actions($1, $2::jsonb)", [empty, list])).toBe(1);
    expect(await rpc<number>(admin, "public.replace_automation_actions($1, $2::jsonb)", [id, list])).toBe(1);
  });

  it("changes status under RLS; another org's automation is not found", async () => {
    const id = await create(member, actions, "draft");
    expect(await rpc(member, "public.set_automation_status($1, 'active')", [id])).toBe("active");
    await expect(rpc(outsider, "public.set_automation_status($1, 'paused')", [id])).rejects.toMatchObject({ code: "P0002" });
  });
});

describe("retry_run / cancel_run", () => {
  it("retries a failed run from its failed step; completed steps are not repeated", async () => {
    const id = await create(member, [
      { action_type: "probe", name: "ok" },
      { action_type: "flaky", name: "flaky" },
    ]);
    const calls: Parameters<typeof probeAction>[1] = [];
    let fail = true;
    const acts = [
      probeAction("probe", calls),
      probeAction("flaky", calls, () => {
        if (fail) throw new ActionError("bad", "400 from receiver");
        return { ok: true };
      }),
    ];
    const runId = await rpc<string>(member, "public.run_automation($1)", [id]);
    const claim = async () => (await claimRuns(t.db, "w", 100, 30)).find((r) => r.id === runId)!;
    expect(await executeRun(await claim(), engineDeps(t.db, acts))).toBe("failed");
    await expect(rpc(member, "public.retry_run($1)", [id])).rejects.toMatchObject({ code: "P0002" });
    await expect(rpc(outsider, "public.retry_run($1)", [runId])).rejects.toMatchObject({ code: "P0002" });
    fail = false;
    expect(await rpc(member, "public.retry_run($1)", [runId])).toBe(runId);
    await expect(rpc(member, "public.retry_run($1)", [runId])).rejects.toMatchObject({ code: "55000" });
    expect(await executeRun(await claim(), engineDeps(t.db, acts))).toBe("completed");
    expect(calls.map((c) => c.step)).toEqual([0, 1, 1]);
    expect((await stepRows(t.db, runId)).map((s) => s.status)).toEqual(["completed", "completed"]);
    const [a] = await t.db.query<{ run_count: number }>("select run_count from automations where id = $1", [id]);
    expect(a!.run_count).toBe(1);
  });

  it("cancels a pending run, and a running one whose worker is then fenced out", async () => {
    const id = await create(member, [{ action_type: "log" }]);
    const pending = await rpc<string>(member, "public.run_automation($1)", [id]);
    expect(await rpc(admin, "public.cancel_run($1, 'not needed')", [pending])).toBe("failed");
    expect(await runRow(t.db, pending)).toMatchObject({ status: "failed", error_message: `cancelled by ${admin.claims.email}: not needed` });
    await expect(rpc(member, "public.cancel_run($1)", [pending])).rejects.toMatchObject({ code: "55000" });

    const running = await rpc<string>(member, "public.run_automation($1)", [id]);
    const claimed = (await claimRuns(t.db, "w", 100, 30)).find((r) => r.id === running)!;
    await expect(rpc(outsider, "public.cancel_run($1)", [running])).rejects.toMatchObject({ code: "P0002" });
    expect(await rpc(member, "public.cancel_run($1)", [running])).toBe("failed");
    expect(await executeRun(claimed, engineDeps(t.db, []))).toBeNull();
    expect((await runRow(t.db, running)).error_message).toBe(`cancelled by ${member.claims.email}`);
  });
});
