// The client API under RLS, as supabase-js reaches it through PostgREST:
// run_automation() RPC, direct run inserts, run history reads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser } from "../../shared/db/as_user.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let member: TestUser;
let admin: TestUser;
let outsider: TestUser;
let auto: string;
let draft: string;
let paused: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const a = await createOrg(t.db, "A");
  const b = await createOrg(t.db, "B");
  member = await createUser(t.db, a, "member");
  admin = await createUser(t.db, a, "admin");
  outsider = await createUser(t.db, b, "owner");
  auto = await createAutomation(t.db, a, { actions: [{ type: "log" }] });
  draft = await createAutomation(t.db, a, { status: "draft" });
  paused = await createAutomation(t.db, a, { status: "paused" });
});
afterAll(() => t.drop());

const rpc = (u: TestUser, automationId: string, key: string | null = null) =>
  asUser(t.db, u.claims, (tx) =>
    tx.query<{ id: string }>("select public.run_automation($1, $2::jsonb, $3) as id", [automationId, '{"via":"rpc"}', key]),
  ).then((r) => r[0]!.id);

describe("run_automation()", () => {
  it("members and admins start runs of their org's automations; the same key returns the same run", async () => {
    const r1 = await rpc(member, auto, "k1");
    const r2 = await rpc(admin, auto, "k1");
    expect(r2).toBe(r1);
    const rows = await asUser(t.db, member.claims, (tx) =>
      tx.query<{ trigger_type: string; trigger_payload: unknown; status: string }>(
        "select trigger_type, trigger_payload, status from automation_runs where id = $1",
        [r1],
      ),
    );
    expect(rows).toEqual([{ trigger_type: "manual", trigger_payload: { via: "rpc" }, status: "pending" }]);
  });

  it("another org's automation is not found (404), as if it did not exist", async () => {
    await expect(rpc(outsider, auto)).rejects.toMatchObject({ code: "P0002", message: `automation ${auto} not found` });
  });

  it("draft automations may be test-run by hand; paused ones may not", async () => {
    await expect(rpc(member, draft)).resolves.toMatch(/^[0-9a-f-]{36}$/);
    await expect(rpc(member, paused)).rejects.toMatchObject({ code: "55000" });
  });

  it("anon cannot call it", async () => {
    await expect(
      asUser(t.db, { sub: "", role: "anon" }, (tx) => tx.query("select public.run_automation($1)", [auto])),
    ).rejects.toMatchObject({ code: "42501" });
  });
});

describe("run history under RLS", () => {
  it("a direct insert by a member becomes a manual run with the current snapshot", async () => {
    const [row] = await asUser(t.db, member.claims, (tx) =>
      tx.query<{ id: string }>(
        "insert into automation_runs (org_id, automation_id, trigger_payload) values ($1, $2, '{}') returning id",
        [member.orgId, auto],
      ),
    );
    const [r] = await t.db.query<{ trigger_type: string; version_id: string | null }>(
      "select trigger_type, version_id from automation_runs where id = $1",
      [row!.id],
    );
    expect(r!.trigger_type).toBe("manual");
    expect(r!.version_id).not.toBeNull();
  });

  it("members cannot write engine columns or step rows", async () => {
    const id = await rpc(member, auto);
    await expect(
      asUser(t.db, member.claims, (tx) => tx.query("update automation_runs set status = 'completed' where id = $1", [id])),
    ).rejects.toMatchObject({ code: "42501" });
    await expect(
      asUser(t.db, member.claims, (tx) =>
        tx.query(
          "insert into automation_run_steps (run_id, step_index, org_id, action_type, status, attempt, started_at) values ($1, 0, $2, 'x', 'completed', 1, now())",
          [id, member.orgId],
        ),
      ),
    ).rejects.toMatchObject({ code: "42501" });
    // ... but may annotate a run.
    const updated = await asUser(t.db, member.claims, (tx) =>
      tx.query("update automation_runs set metadata = '{\"note\":\"checked\"}' where id = $1 returning id", [id]),
    );
    expect(updated).toHaveLength(1);
  });

  it("steps and versions are visible to the org only", async () => {
    const mine = await asUser(t.db, member.claims, (tx) =>
      tx.query<{ n: number }>("select count(*)::int as n from automation_versions"),
    );
    const theirs = await asUser(t.db, outsider.claims, (tx) =>
      tx.query<{ n: number }>("select count(*)::int as n from automation_versions"),
    );
    expect(mine[0]!.n).toBeGreaterThan(0);
    expect(theirs[0]!.n).toBe(0);
  });
});
