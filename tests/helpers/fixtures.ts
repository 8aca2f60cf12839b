// Orgs, users and memberships for tests, written as the service (postgres).
import { randomUUID } from "node:crypto";
import type { Db } from "../../shared/db/types.ts";

export type Role = "owner" | "admin" | "member" | "guest";

export interface TestUser {
  authId: string;
  userId: string;
  orgId: string;
  role: Role;
  claims: { sub: string; role: "authenticated"; email: string };
}

export async function createOrg(db: Db, name = "Org"): Promise<string> {
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${randomUUID().slice(0, 8)}`;
  const [row] = await db.query<{ id: string }>(
    "insert into public.organizations (name, slug) values ($1, $2) returning id",
    [name, slug],
  );
  return row!.id;
}

export async function createUser(db: Db, orgId: string, role: Role = "member"): Promise<TestUser> {
  const email = `${role}-${randomUUID().slice(0, 8)}@example.test`;
  const [auth] = await db.query<{ id: string }>("insert into auth.users (email) values ($1) returning id", [email]);
  const [user] = await db.query<{ id: string }>(
    "insert into public.users (org_id, auth_id, email, full_name) values ($1, $2, $3, $4) returning id",
    [orgId, auth!.id, email, `Test ${role}`],
  );
  await db.query("insert into public.memberships (org_id, user_id, role) values ($1, $2, $3)", [
    orgId,
    user!.id,
    role,
  ]);
  return {
    authId: auth!.id,
    userId: user!.id,
    orgId,
    role,
    claims: { sub: auth!.id, role: "authenticated", email },
  };
}
