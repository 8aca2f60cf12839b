// automations_engine.member_can_select(table, row, user) answers "could this
// member SELECT this row?" from the catalog (the table-event trigger cannot
// SET ROLE). Checked against PostgreSQL itself: every row is also stored, and
// the member's real SELECT under RLS (as PostgREST runs it) must agree, for
// several policy shapes and several kinds of user.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser } from "../../shared/db/as_user.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let orgA: string, orgB: string;
const users: Record<string, TestUser> = {};

const COLUMNS = "id uuid primary key default gen_random_uuid(), org_id uuid, user_id uuid, secret boolean not null default false, note text";
const ORG = "org_id = (select public.get_user_org_id())";
// Each table: its policies (or RLS off).
const TABLES: Record<string, string> = {
  pe_org: `create policy p on pe_org for select to authenticated using (${ORG});`,
  pe_admin: `create policy p on pe_admin for select to authenticated using (${ORG} and (select public.is_admin()));`,
  pe_owner: "create policy p on pe_owner for select to authenticated using (user_id = (select auth.uid()));",
  // Permissive OR'ed (org members, or the row's own user), restrictive AND'ed (never secret rows).
  pe_mixed: `create policy p1 on pe_mixed for select to authenticated using (${ORG});
             create policy p2 on pe_mixed for all to authenticated using (pe_mixed.user_id = (select auth.uid()));
             create policy r on pe_mixed as restrictive for select to authenticated using (not secret);
             create policy ins on pe_mixed for insert to authenticated with check (true);
             create policy other on pe_mixed for select to anon using (true);`,
  pe_none: "",
  pe_off: "alter table pe_off disable row level security;",
  pe_off_nogrant: "alter table pe_off_nogrant disable row level security; revoke select on pe_off_nogrant from authenticated;",
};

beforeAll(async () => {
  t = await createTestDatabase();
  for (const [name, policies] of Object.entries(TABLES)) {
    await t.db.exec(`create table public.${name} (${COLUMNS}); alter table public.${name} enable row level security; ${policies}`);
  }
  orgA = await createOrg(t.db, "A");
  orgB = await createOrg(t.db, "B");
  users.admin = await createUser(t.db, orgA, "admin");
  users.member = await createUser(t.db, orgA, "member");
  users.guest = await createUser(t.db, orgA, "guest");
  users.other = await createUser(t.db, orgB, "member");
  users.suspended = await createUser(t.db, orgA, "owner");
  await t.db.query("update memberships set status = 'suspended' where user_id = $1", [users.suspended.userId]);
});
afterAll(() => t.drop());

describe("member_can_select agrees with RLS", () => {
  it("for org-scoped, admin-only, owner-only, restrictive + permissive, no-policy and RLS-off tables", async () => {
    const rows: Array<Record<string, unknown>> = [];
    for (const org of [orgA, orgB, null]) {
      for (const owner of [users.member!.authId, users.guest!.authId, null]) {
        for (const secret of [false, true]) rows.push({ org_id: org, user_id: owner, secret, note: "n" });
      }
    }
    let checked = 0;
    const disagreements: string[] = [];
    let visible = 0;
    for (const table of Object.keys(TABLES)) {
      await t.db.query(`delete from public.${table}`);
      const stored = await t.db.query<{ row: Record<string, unknown> }>(
        `insert into public.${table} (org_id, user_id, secret, note)
         select x.org_id, x.user_id, x.secret, x.note from jsonb_to_recordset($1::jsonb) as x(org_id uuid, user_id uuid, secret boolean, note text)
         returning to_jsonb(${table}.*) as row`,
        [JSON.stringify(rows)],
      );
      for (const [who, u] of Object.entries(users)) {
        const seen = new Set(
          (await asUser(t.db, u.claims, (tx) =>
            // A savepoint: "permission denied" (no grant) must not abort the transaction.
            tx.transaction((sp) => sp.query<{ id: string }>(`select id from public.${table}`)).catch(() => []))).map((r) => r.id),
        );
        for (const { row } of stored) {
          const [{ ok }] = (await t.db.query<{ ok: boolean }>(
            "select automations_engine.member_can_select($1::regclass, $2::jsonb, $3) as ok",
            [`public.${table}`, JSON.stringify(row), u.userId],
          )) as [{ ok: boolean }];
          checked++;
          if (ok) visible++;
          // A suspended member reads nothing through an automation (the run would fail anyway),
          // even where RLS is off; everywhere else the answers must be equal.
          const expected = who === "suspended" ? false : seen.has(String(row.id));
          if (ok !== expected) disagreements.push(`${table} ${who} ${JSON.stringify(row)}: function ${ok}, RLS ${expected}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBe(Object.keys(TABLES).length * 5 * 18);
    // Both answers occur (a function that always says no would pass the comparison on no-policy tables only).
    expect(visible).toBeGreaterThan(50);
    expect(visible).toBeLessThan(checked - 50);
  });

  it("restores the caller's claims, and a null row (INSERT's old, DELETE's new) is no obstacle", async () => {
    const claims = JSON.stringify({ sub: users.guest!.authId, role: "authenticated" });
    const [r] = await t.db.transaction(async (tx) => {
      await tx.query("select set_config('request.jwt.claims', $1, true)", [claims]);
      await tx.query("select automations_engine.member_can_select('public.pe_org'::regclass, '{}'::jsonb, $1)", [users.admin!.userId]);
      return tx.query<{ claims: string; nullrow: boolean }>(
        "select current_setting('request.jwt.claims') as claims, automations_engine.member_can_select('public.pe_none'::regclass, null, $1) as nullrow",
        [users.admin!.userId],
      );
    });
    expect(r).toEqual({ claims, nullrow: true });
  });
});
