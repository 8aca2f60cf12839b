// Tenant isolation, randomized: for many random (actor, target org, table,
// operation) tuples, what PostgreSQL allows (acting exactly as PostgREST
// does, inside a transaction that is always rolled back) must equal the
// model below. A mismatch is a finding, never a reason to bend the model.
// Part 2, what members learn through runs vs. what RLS lets them select:
// rls_random_runs.test.ts.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, type JwtClaims } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type Role } from "../helpers/fixtures.ts";

const TABLES = [
  "automations", "automation_actions", "automation_runs",
  "automation_run_steps", "automation_versions", "automation_settings",
] as const;
const OPS = ["select", "insert", "update", "delete", "move"] as const;
type Table = (typeof TABLES)[number];
type Op = (typeof OPS)[number];
type Who = "member" | "admin" | "none";

// THE MODEL (brief + the migrations' grants and policies). "member": any active
// member of the row's org (owner, admin, member, guest); "admin": owner or
// admin of the row's org; "none": no API user. Nobody crosses orgs; anon,
// suspended, invited and org-less users get nothing. Columns: runs take inserts
// of (org_id, automation_id, metadata, trigger_payload) and updates of metadata
// only; steps and versions are written by the engine alone (steps: admins may
// delete, the migration's explicit policy). "move" = set org_id of a row to
// another org: never.
const MODEL: Record<Table, Record<Op, Who>> = {
  automations: { select: "member", insert: "member", update: "member", delete: "admin", move: "none" },
  automation_actions: { select: "member", insert: "member", update: "member", delete: "admin", move: "none" },
  automation_runs: { select: "member", insert: "member", update: "member", delete: "admin", move: "none" },
  // delete: admins, of finished runs only (the fixture's run is completed).
  automation_run_steps: { select: "member", insert: "none", update: "none", delete: "admin", move: "none" },
  automation_versions: { select: "member", insert: "none", update: "none", delete: "none", move: "none" },
  automation_settings: { select: "member", insert: "admin", update: "admin", delete: "admin", move: "none" },
};

interface Actor { name: string; claims: JwtClaims; org: string | null; role: Role | null; active: boolean }
interface Rows { org: string; automation: string; action: string; run: string; version: string }

const KEY: Record<Table, (r: Rows) => [string, string]> = {
  automations: (r) => ["id = $1", r.automation],
  automation_actions: (r) => ["id = $1", r.action],
  automation_runs: (r) => ["id = $1", r.run],
  automation_run_steps: (r) => ["run_id = $1 and step_index = 0", r.run],
  automation_versions: (r) => ["id = $1", r.version],
  automation_settings: (r) => ["org_id = $1", r.org],
};
const INSERT: Record<Table, (r: Rows) => [string, unknown[]]> = {
  automations: (r) => ["insert into automations (org_id, name, trigger_type) values ($1, 'new', 'manual')", [r.org]],
  automation_actions: (r) => ["insert into automation_actions (org_id, automation_id, action_type) values ($1, $2, 'log')", [r.org, r.automation]],
  automation_runs: (r) => ["insert into automation_runs (org_id, automation_id, metadata) values ($1, $2, '{}')", [r.org, r.automation]],
  automation_run_steps: (r) => [
    "insert into automation_run_steps (run_id, step_index, org_id, action_type, status, attempt, started_at) values ($1, 9, $2, 'log', 'completed', 1, now())",
    [r.run, r.org],
  ],
  automation_versions: (r) => ["insert into automation_versions (org_id, automation_id, actions) values ($1, $2, '[]')", [r.org, r.automation]],
  automation_settings: (r) => ["insert into automation_settings (org_id, run_retention_days) values ($1, 7)", [r.org]],
};
const SET: Record<Table, string> = {
  automations: "name = 'renamed'",
  automation_actions: `action_config = '{"message": "changed"}'`,
  automation_runs: `metadata = '{"touched": true}'`,
  automation_run_steps: `output = '{"forged": true}'`,
  automation_versions: "actions = '[]'",
  automation_settings: "run_retention_days = 7",
};

let t: TestDatabase;
const orgs: Rows[] = [];
const actors: Actor[] = [];

const authUser = async (db: Db) => {
  const [u] = await db.query<{ id: string }>("insert into auth.users (email) values ('x-' || gen_random_uuid() || '@example.test') returning id");
  return u!.id;
};

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  for (const name of ["A", "B", "C"]) {
    const org = await createOrg(t.db, `RLS ${name}`);
    const automation = await createAutomation(t.db, org, { actions: [{ type: "log" }] });
    const [a] = await t.db.query<{ id: string; v: string }>(
      "select x.id, a.current_version_id v from automation_actions x join automations a on a.id = x.automation_id where a.id = $1",
      [automation],
    );
    const { runId } = await enqueueRun(t.db, { automationId: automation, triggerType: "manual" });
    // A finished run: admins may delete steps of finished runs only.
    await t.db.query("update automation_runs set status = 'completed', completed_at = now() where id = $1", [runId]);
    await t.db.query(
      "insert into automation_run_steps (run_id, step_index, org_id, action_type, status, attempt, started_at) values ($1, 0, $2, 'log', 'completed', 1, now())",
      [runId, org],
    );
    await t.db.query("insert into automation_settings (org_id) values ($1)", [org]);
    orgs.push({ org, automation, action: a!.id, run: runId, version: a!.v });
    for (const role of ["owner", "admin", "member", "guest"] as const) {
      const u = await createUser(t.db, org, role);
      actors.push({ name: `${role}@${name}`, claims: u.claims, org, role, active: true });
    }
    for (const status of ["suspended", "invited"] as const) {
      const u = await createUser(t.db, org, "admin");
      await t.db.query("update memberships set status = $2 where user_id = $1", [u.userId, status]);
      actors.push({ name: `${status}-admin@${name}`, claims: u.claims, org, role: "admin", active: false });
    }
    const off = await createUser(t.db, org, "owner");
    await t.db.query("update users set is_active = false where id = $1", [off.userId]);
    actors.push({ name: `inactive-owner@${name}`, claims: off.claims, org, role: "owner", active: false });
  }
  const orphan = await authUser(t.db);
  actors.push({ name: "no-org", claims: { sub: orphan, role: "authenticated" }, org: null, role: null, active: false });
  actors.push({ name: "anon", claims: { role: "anon" } as JwtClaims, org: null, role: null, active: false });
});
afterAll(() => t.drop());

function expected(actor: Actor, target: Rows, table: Table, op: Op): boolean {
  const who = MODEL[table][op];
  if (who === "none" || !actor.active || actor.org !== target.org) return false;
  return who === "member" || actor.role === "owner" || actor.role === "admin";
}

class Rollback extends Error {
  constructor(readonly allowed: boolean, readonly note: string) {
    super("rollback");
  }
}
const DENIED = new Set(["42501"]); // insufficient_privilege: missing grant or RLS WITH CHECK

/** What PostgreSQL allowed, plus a leak check on every select. */
async function attempt(actor: Actor, target: Rows, table: Table, op: Op): Promise<{ allowed: boolean; note: string }> {
  // "move" takes a row of the actor's own org (A for outsiders) to the target org.
  const source = op === "move" ? (orgs.find((o) => o.org === actor.org) ?? orgs[0]!) : target;
  const [where, key] = KEY[table](source);
  const one = async (tx: Db, sql: string, params: unknown[]) => (await tx.query<{ n: number }>(sql, params))[0]!.n;
  try {
    await t.db.transaction(async (tx) => {
      // The settings row is the org's primary key: make room for the insert.
      if (table === "automation_settings" && op === "insert") await tx.query("delete from automation_settings where org_id = $1", [target.org]);
      let allowed: boolean;
      let note = "";
      try {
        allowed = await asUser(tx, actor.claims, async (u) => {
          if (op === "select") {
            const leaked = await one(u, `select count(*)::int n from public.${table} where org_id is distinct from $1::uuid`, [actor.active ? actor.org : null]);
            if (leaked > 0) note = `LEAK: sees ${leaked} rows of other orgs`;
            return (await one(u, `select count(*)::int n from public.${table} where ${where}`, [key])) === 1;
          }
          if (op === "insert") {
            const [sql, params] = INSERT[table](target);
            await u.query(sql, params);
            return true;
          }
          const change = op === "delete" ? `delete from public.${table}` : `update public.${table} set ${op === "move" ? "org_id = $2" : SET[table]}`;
          const params = op === "move" ? [key, target.org] : [key];
          return (await one(u, `with x as (${change} where ${where} returning 1) select count(*)::int n from x`, params)) === 1;
        });
      } catch (e) {
        const code = (e as { code?: string }).code ?? "";
        if (!DENIED.has(code)) throw e;
        allowed = false;
        note = code;
      }
      throw new Rollback(allowed, note);
    });
  } catch (e) {
    if (e instanceof Rollback) return { allowed: e.allowed, note: e.note };
    throw e;
  }
  throw new Error("unreachable: the transaction always rolls back");
}

describe("tenant isolation (randomized)", () => {
  it("PostgreSQL allows exactly what the model allows, for 1,500 random (actor, org, table, operation) tuples", async () => {
    const mismatches: string[] = [];
    const seen = new Map<string, { allowed: number; denied: number }>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...actors), fc.constantFrom(...orgs), fc.boolean(), fc.constantFrom(...TABLES), fc.constantFrom(...OPS),
        async (actor, randomOrg, aimAtOwn, table, op) => {
          // Half the cases aim at the actor's own org (where "allowed" happens);
          // a move needs a different org than the row's own.
          const own = orgs.find((o) => o.org === actor.org) ?? orgs[0]!;
          const targetOrg = aimAtOwn ? own : randomOrg;
          const target = op === "move" && targetOrg === own ? orgs[(orgs.indexOf(own) + 1) % orgs.length]! : targetOrg;
          const want = expected(actor, target, table, op);
          const got = await attempt(actor, target, table, op);
          const k = `${table}.${op}`;
          const s = seen.get(k) ?? { allowed: 0, denied: 0 };
          s[got.allowed ? "allowed" : "denied"] += 1;
          seen.set(k, s);
          if (got.allowed !== want || got.note.startsWith("LEAK")) {
            const org = `org ${"ABC"[orgs.indexOf(target)]}`;
            mismatches.push(`${actor.name} ${op} ${table} of ${org}: model ${want ? "allows" : "denies"}, PostgreSQL ${got.allowed ? "allowed" : "denied"} ${got.note}`);
          }
        },
      ),
      { numRuns: 1500 },
    );
    console.log(`rls_random: ${[...seen].map(([k, v]) => `${k} ${v.allowed}/${v.denied}`).join(", ")} (allowed/denied)`);
    expect([...new Set(mismatches)]).toEqual([]);
    // Every table and operation was exercised, and both outcomes occurred.
    expect(seen.size).toBe(TABLES.length * OPS.length);
    expect([...seen.values()].some((v) => v.allowed > 0) && [...seen.values()].some((v) => v.denied > 0)).toBe(true);
  }, 120_000);
});
