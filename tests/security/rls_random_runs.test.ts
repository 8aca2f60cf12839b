// The randomized RLS model check, part 2 (part 1: rls_random.test.ts): what a
// member can learn through runs is a subset of what RLS lets them select.
// Random members create and edit event automations (which copy the row into
// their steps) and update_field automations (whose output holds the previous
// value) on `rr_notes`, whose rows are readable by the org, by admins only, or
// by their owner only; random writes give every row fresh marker values; the
// real worker runs everything. Then, for every user, every marker found in
// what they can select from the run tables (payloads, results, errors, step
// inputs and outputs) must belong to a note their own SELECT returns.
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAction } from "../../shared/actions/registry.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { engineDeps } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

const NOTES = `
  create table public.rr_notes (
    id uuid primary key default gen_random_uuid(),
    org_id uuid not null references public.organizations (id),
    owner uuid,
    level text not null check (level in ('org', 'admin', 'own')),
    value text not null
  );
  alter table public.rr_notes enable row level security;
  create policy "read" on public.rr_notes for select to authenticated
    using (org_id = (select public.get_user_org_id())
           and (level = 'org' or (level = 'admin' and (select public.is_admin())) or (level = 'own' and owner = (select auth.uid()))));
  create policy "write" on public.rr_notes for update to authenticated
    using (org_id = (select public.get_user_org_id()) and (level = 'org' or (select public.is_admin())))
    with check (org_id = (select public.get_user_org_id()));
  create trigger rr_notes_automations after insert or update on public.rr_notes
    for each row execute function public.automations_table_event();`;

const RUN_TABLES = ["automation_runs", "automation_run_steps", "automation_run_payloads"];
const MARKER = /M-[0-9a-f]{12}/g;

let t: TestDatabase;
const actions = ["update_field", "log"].map((a) => getAction(a) as ActionDefinition<unknown>);

type Op =
  | { kind: "event"; actor: number; ops: string[] }
  | { kind: "update_field"; actor: number; note: number }
  | { kind: "edit"; actor: number; automation: number }
  | { kind: "write"; note: number }
  | { kind: "run"; actor: number; automation: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("event" as const), actor: fc.nat(4), ops: fc.subarray(["INSERT", "UPDATE"], { minLength: 1 }) }),
  fc.record({ kind: fc.constant("update_field" as const), actor: fc.nat(4), note: fc.nat(5) }),
  fc.record({ kind: fc.constant("edit" as const), actor: fc.nat(4), automation: fc.nat(20) }),
  fc.record({ kind: fc.constant("write" as const), note: fc.nat(5) }),
  fc.record({ kind: fc.constant("run" as const), actor: fc.nat(4), automation: fc.nat(20) }),
);

const marker = () => `M-${randomUUID().replaceAll("-", "").slice(0, 12)}`;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  await t.db.exec(NOTES);
});
afterAll(() => t.drop());

describe("what members learn through runs (randomized)", () => {
  it("never exceeds what RLS lets them select from the source table", async () => {
    let learnedTotal = 0;
    let learnedByNonAdmins = 0;
    let scenarios = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 8, maxLength: 16 }), async (ops) => {
        scenarios++;
        const org = await createOrg(t.db, "Runs");
        const users: TestUser[] = [];
        for (const role of ["owner", "admin", "member", "guest", "guest"] as const) users.push(await createUser(t.db, org, role));
        // Six notes: each level, owned by the member or a guest.
        const notes: string[] = [];
        for (const [level, owner] of [["org", 2], ["admin", 2], ["own", 2], ["own", 3], ["admin", 4], ["org", 4]] as const) {
          const [n] = await t.db.query<{ id: string }>(
            "insert into rr_notes (org_id, owner, level, value) values ($1, $2, $3, $4) returning id",
            [org, users[owner]!.authId, level, marker()],
          );
          notes.push(n!.id);
        }
        const automations: string[] = [];
        const pick = <T>(xs: T[], i: number) => xs[i % xs.length];

        // Always at least one admin's event automation and a write after it, so every scenario carries data.
        const all: Op[] = [{ kind: "event", actor: 1, ops: ["UPDATE"] }, ...ops, { kind: "write", note: 1 }];
        for (const op of all) {
          if (op.kind === "write") {
            await t.db.query("update rr_notes set value = $2 where id = $1", [pick(notes, op.note), marker()]);
            continue;
          }
          const u = users[op.actor]!;
          if (op.kind === "event" || op.kind === "update_field") {
            const steps = op.kind === "event"
              ? [{ action_type: "log", action_config: { message: "saw {{trigger.payload.record.value}}", data: "{{trigger.payload}}" } }]
              : [{ action_type: "update_field", action_config: { table: "rr_notes", id: pick(notes, op.note), field: "value", value: `W-${automations.length}` } }];
            automations.push(await asUser(t.db, u.claims, async (tx) => {
              const [a] = await tx.query<{ id: string }>(
                "insert into automations (org_id, name, trigger_type, trigger_config, status) values ($1, 'r', $2, $3::jsonb, 'active') returning id",
                [org, op.kind === "event" ? "event" : "manual", JSON.stringify(op.kind === "event" ? { table: "rr_notes", operations: op.ops } : {})],
              );
              await tx.query("insert into automation_actions (org_id, automation_id, action_type, action_config) select $1, $2, x.action_type, x.action_config from jsonb_to_recordset($3::jsonb) x(action_type text, action_config jsonb)", [
                org, a!.id, JSON.stringify(steps),
              ]);
              return a!.id;
            }));
          } else if (automations.length > 0) {
            const a = pick(automations, op.automation)!;
            if (op.kind === "edit") {
              // Becomes the acting member: touch the actions (any member may).
              await asUser(t.db, u.claims, (tx) => tx.query("update automation_actions set metadata = jsonb_build_object('edited', gen_random_uuid()) where automation_id = $1", [a]));
            } else {
              await asUser(t.db, u.claims, (tx) => tx.query("select public.run_automation($1)", [a]));
            }
          }
        }
        await new Worker({ ...engineDeps(t.db, actions), concurrency: 2 }).drain(20_000);

        // Every marker value any note of this org ever had, by note: the trigger
        // payloads (service view) hold them all, plus the current values.
        const owners = new Map<string, string>();
        const history = await t.db.query<{ id: string; v: string }>(
          `select n.id::text, n.value v from rr_notes n where n.org_id = $1
           union select p.payload -> 'record' ->> 'id', p.payload -> 'old_record' ->> 'value' from automation_run_payloads p where p.org_id = $1
           union select p.payload -> 'record' ->> 'id', p.payload -> 'record' ->> 'value' from automation_run_payloads p where p.org_id = $1
           union select s.output ->> 'id', s.output ->> 'previous' from automation_run_steps s where s.org_id = $1 and s.action_type = 'update_field'`,
          [org],
        );
        for (const h of history) for (const m of (h.v ?? "").match(MARKER) ?? []) owners.set(m, h.id);

        for (const u of users) {
          const { text, readable } = await asUser(t.db, u.claims, async (tx) => {
            const parts: unknown[] = [];
            for (const table of RUN_TABLES) parts.push(await tx.query(`select to_jsonb(x.*) as row from public.${table} x`));
            const rows = await tx.query<{ id: string }>("select id from rr_notes");
            return { text: JSON.stringify(parts), readable: new Set(rows.map((r) => r.id)) };
          });
          const learned = new Set(text.match(MARKER) ?? []);
          for (const m of learned) {
            const note = owners.get(m);
            expect(note, `${u.role} learned ${m} through runs, which belongs to no note`).toBeDefined();
            expect(readable.has(note!), `${u.role} learned ${m} of note ${note} through runs, but RLS hides that note from them`).toBe(true);
          }
          learnedTotal += learned.size;
          if (u.role !== "owner" && u.role !== "admin") learnedByNonAdmins += learned.size;
        }
      }),
      { numRuns: 6 },
    );
    // Not vacuous: runs did carry row values to people entitled to them.
    expect(scenarios).toBe(6);
    expect(learnedTotal).toBeGreaterThan(0);
    console.log(`rls_random_runs: ${learnedTotal} markers learned through runs (${learnedByNonAdmins} by members and guests), all readable under RLS`);
  }, 180_000);
});
