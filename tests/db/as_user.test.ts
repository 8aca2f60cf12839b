import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser } from "../../shared/db/as_user.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let a: TestUser;
let b: TestUser;

beforeAll(async () => {
  t = await createTestDatabase();
  a = await createUser(t.db, await createOrg(t.db, "A"), "member");
  b = await createUser(t.db, await createOrg(t.db, "B"), "admin");
});
afterAll(() => t.drop());

describe("asUser", () => {
  it("acts as the user the way PostgREST does", async () => {
    const [row] = await asUser(t.db, a.claims, (tx) =>
      tx.query<{ uid: string; role: string; org: string }>(
        "select auth.uid()::text as uid, current_user::text as role, public.get_user_org_id()::text as org",
      ),
    );
    expect(row).toEqual({ uid: a.authId, role: "authenticated", org: a.orgId });
  });

  it("lets RLS decide: each user sees only their own org", async () => {
    const seenByA = await asUser(t.db, a.claims, (tx) => tx.query<{ id: string }>("select id from organizations"));
    const seenByB = await asUser(t.db, b.claims, (tx) => tx.query<{ id: string }>("select id from organizations"));
    expect(seenByA.map((r) => r.id)).toEqual([a.orgId]);
    expect(seenByB.map((r) => r.id)).toEqual([b.orgId]);
  });

  it("ends the role with the transaction", async () => {
    await asUser(t.db, a.claims, async () => undefined);
    const [row] = await t.db.query<{ role: string }>("select current_user::text as role");
    expect(row!.role).toBe("postgres");
  });
});
