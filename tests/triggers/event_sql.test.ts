// The SQL path of event automations: public.automations_table_event() on an app table
// (`deals`, created here as a user would), matching, filters, tenant isolation, and the
// run committed or rolled back with the business write.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import { createAutomation, withoutConfigValidation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";

let t: TestDatabase;

const DEALS = [
  `create table public.deals (id uuid primary key default gen_random_uuid(),
     org_id uuid not null references public.organizations (id) on delete cascade,
     name text not null default 'Deal', status text not null default 'open', amount numeric not null default 0)`,
  "alter table public.deals enable row level security",
  `create policy "Org members can manage deals" on public.deals for all to authenticated
     using (org_id = (select public.get_user_org_id())) with check (org_id = (select public.get_user_org_id()))`,
  "grant select, insert, update, delete on public.deals to authenticated",
  `create trigger deals_automations after insert or update or delete on public.deals
     for each row execute function public.automations_table_event()`,
];

beforeAll(async () => {
  t = await createTestDatabase();
  for (const stmt of DEALS) await t.db.query(stmt);
});
afterAll(() => t.drop());

const event = (db: Db, org: string, trigger_config: unknown, status: "active" | "paused" | "draft" | "archived" = "active") =>
  createAutomation(db, org, { trigger_type: "event", trigger_config, status, actions: [{ type: "log" }] });

async function insertDeal(db: Db, org: string, fields: { status?: string; amount?: number } = {}): Promise<string> {
  const sql = "insert into public.deals (org_id, status, amount) values ($1, $2, $3) returning id";
  return (await db.query<{ id: string }>(sql, [org, fields.status ?? "open", fields.amount ?? 0]))[0]!.id;
}

/** automation id -> list of run payload types, for one org. */
async function runsOf(org: string): Promise<Record<string, string[]>> {
  const rows = await t.db.query<{ automation_id: string; type: string }>(
    "select automation_id, trigger_payload ->> 'type' as type from public.automation_runs where org_id = $1 order by created_at, id",
    [org],
  );
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.automation_id] ??= []).push(r.type);
  return out;
}

describe("automations_table_event()", () => {
  it("starts the active automations of the row's org that name the table and the operation", async () => {
    const org = await createOrg(t.db, "Match");
    const other = await createOrg(t.db, "Other");
    const a = {
      insert: await event(t.db, org, { table: "deals", operations: ["INSERT"] }),
      update: await event(t.db, org, { table: "deals", operations: ["UPDATE"] }),
      remove: await event(t.db, org, { table: "deals", operations: ["DELETE"] }),
      all: await event(t.db, org, { table: "deals" }),
      qualified: await event(t.db, org, { table: "public.deals", operations: ["INSERT"] }),
    };
    const never = [
      await event(t.db, org, { table: "deals" }, "paused"),
      await event(t.db, org, { table: "deals" }, "draft"),
      await event(t.db, org, { table: "deals" }, "archived"),
      await event(t.db, org, { table: "sales.deals" }),
      await event(t.db, org, { table: "other" }),
      await event(t.db, org, { event: "deals" }),
      // A config save-time validation would refuse: written with triggers off, like legacy rows.
      await t.db.transaction(async (tx) => {
        await tx.query("set local session_replication_role = replica");
        return createAutomation(tx, org, { trigger_type: "webhook", trigger_config: { table: "deals" } });
      }),
    ];
    await event(t.db, other, { table: "deals" });

    const deal = await insertDeal(t.db, org);
    await t.db.query("update public.deals set amount = 10 where id = $1", [deal]);
    await t.db.query("delete from public.deals where id = $1", [deal]);

    const runs = await runsOf(org);
    expect(runs).toEqual({ [a.insert]: ["INSERT"], [a.update]: ["UPDATE"], [a.remove]: ["DELETE"], [a.all]: ["INSERT", "UPDATE", "DELETE"], [a.qualified]: ["INSERT"] });
    for (const id of never) expect(runs[id]).toBeUndefined();
    expect(await runsOf(other)).toEqual({}); // its automation on "deals" never sees org's rows
  });

  it("gives runs the Database Webhook payload and the automation's snapshot", async () => {
    const org = await createOrg(t.db, "Payload");
    const auto = await event(t.db, org, { table: "deals" });
    const deal = await insertDeal(t.db, org, { status: "open", amount: 5 });
    await t.db.query("update public.deals set status = 'won' where id = $1", [deal]);
    // Restricted runs: the payload is in automation_run_payloads.
    const sql = `select r.trigger_type, p.payload as trigger_payload, r.version_id, r.status
                   from public.automation_runs r join public.automation_run_payloads p on p.run_id = r.id
                  where r.automation_id = $1 order by r.created_at`;
    const rows = await t.db.query<{ trigger_type: string; trigger_payload: any; version_id: string | null; status: string }>(sql, [auto]);
    const row = { id: deal, org_id: org, name: "Deal", status: "open", amount: 5 };
    expect(rows.map((r) => r.trigger_payload)).toEqual([
      { type: "INSERT", table: "deals", schema: "public", record: row, old_record: null },
      { type: "UPDATE", table: "deals", schema: "public", record: { ...row, status: "won" }, old_record: row },
    ]);
    expect(rows.every((r) => r.trigger_type === "event" && r.status === "pending" && r.version_id)).toBe(true);
  });

  it('"status changed to won" fires on the update to won (and an insert as won), not on other writes', async () => {
    const org = await createOrg(t.db, "Won");
    const won = await event(t.db, org, { table: "deals", filter: { changed: "status", to: "won" } });
    const big = await event(t.db, org, { table: "deals", operations: ["UPDATE"], filter: { and: [{ "==": [{ var: "record.status" }, "won"] }, { ">": [{ var: "record.amount" }, 1000] }] } });
    const deal = await insertDeal(t.db, org, { status: "open", amount: 500 });
    await t.db.query("update public.deals set amount = 600 where id = $1", [deal]);
    await t.db.query("update public.deals set status = 'won', amount = 2000 where id = $1", [deal]);
    await t.db.query("update public.deals set amount = 3000 where id = $1", [deal]);
    await t.db.query("update public.deals set status = 'lost' where id = $1", [deal]);
    await insertDeal(t.db, org, { status: "won" });
    expect(await runsOf(org)).toEqual({ [won]: ["UPDATE", "INSERT"], [big]: ["UPDATE", "UPDATE"] });
  });

  it("commits the run with the business write and leaves nothing when that transaction rolls back", async () => {
    const org = await createOrg(t.db, "Tx");
    const auto = await event(t.db, org, { table: "deals" });
    await expect(
      t.db.transaction(async (tx) => {
        await insertDeal(tx, org);
        expect((await tx.query("select 1 from public.automation_runs where automation_id = $1", [auto])).length).toBe(1);
        throw new Error("business rule says no");
      }),
    ).rejects.toThrow("business rule says no");
    expect(await t.db.query("select 1 from public.deals where org_id = $1", [org])).toHaveLength(0);
    expect(await runsOf(org)).toEqual({});
    await t.db.transaction((tx) => insertDeal(tx, org));
    expect(await runsOf(org)).toEqual({ [auto]: ["INSERT"] });
  });

  it("enqueues for a member writing as authenticated under RLS, who still cannot touch the engine", async () => {
    const org = await createOrg(t.db, "Member");
    const member = await createUser(t.db, org, "member");
    const auto = await event(t.db, org, { table: "deals", filter: { "==": [{ var: "operation" }, "INSERT"] } });
    await asUser(t.db, member.claims, (tx) => insertDeal(tx, org));
    expect(await runsOf(org)).toEqual({ [auto]: ["INSERT"] });
    for (const sql of ["select automations_engine.filter_matches('{}', '{}')", "select automations_engine.match_event_automations($1, 'public', 'deals', 'INSERT', null)"]) {
      await expect(asUser(t.db, member.claims, (tx) => tx.query(sql, sql.includes("$1") ? [org] : []))).rejects.toMatchObject({ code: "42501" });
    }
  });

  it("a failing filter skips only its automation with a WARNING; the business write succeeds", async () => {
    const org = await createOrg(t.db, "Broken");
    const fine = await event(t.db, org, { table: "deals" });
    // Save-time validation refuses these now; rows saved before it (or around
    // it) must still never block a business write.
    const unsupported = await withoutConfigValidation(t.db, () => event(t.db, org, { table: "deals", filter: { "+": [1, 2] } }));
    const sqlOnly = await withoutConfigValidation(t.db, () =>
      event(t.db, org, { table: "deals", filter: { or: [true, { substr: ["abc", 1] }] } }),
    );
    const notices: postgres.Notice[] = [];
    const sql = postgres(t.url, { max: 1, onnotice: (n) => notices.push(n) });
    await sql`insert into public.deals (org_id) values (${org})`.finally(() => sql.end());
    expect(await t.db.query("select 1 from public.deals where org_id = $1", [org])).toHaveLength(1);
    expect(await runsOf(org)).toEqual({ [fine]: ["INSERT"] });
    const warnings = notices.filter((n) => n.severity === "WARNING").map((n) => n.message);
    expect(warnings).toHaveLength(2);
    expect(warnings).toContainEqual(expect.stringContaining(`automation ${unsupported} was not started by INSERT on public.deals`));
    expect(warnings.join("\n")).toContain('operator "+" is not supported');
    expect(warnings).toContainEqual(expect.stringContaining(`automation ${sqlOnly} was not started`));
  });

  it("a filter over its work budget on this row skips its automation with a WARNING; small rows still match", async () => {
    await t.db.query("create table public.lists (id serial primary key, org_id uuid not null, tags jsonb not null)");
    await t.db.query("create trigger lists_automations after insert on public.lists for each row execute function public.automations_table_event()");
    const org = await createOrg(t.db, "Budget");
    const plain = await event(t.db, org, { table: "lists" });
    // 300 scans of the same column: 12 KB, valid, and saved through SQL like any client's.
    const scans = { or: Array.from({ length: 300 }, () => ({ in: ["wanted", { var: "record.tags" }] })) };
    const bomb = await event(t.db, org, { table: "lists", filter: scans });
    const insert = async (tags: unknown[]) => {
      const notices: postgres.Notice[] = [];
      const sql = postgres(t.url, { max: 1, onnotice: (n) => notices.push(n) });
      await sql`insert into public.lists (org_id, tags) values (${org}, ${sql.json(tags as postgres.JSONValue)})`.finally(() => sql.end());
      return notices.filter((n) => n.severity === "WARNING").map((n) => n.message);
    };
    const big = Array.from({ length: 10_000 }, (_, i) => `tag-${i}`);
    expect(await insert(big)).toEqual([
      `automation ${bomb} was not started by INSERT on public.lists: its trigger_config.filter failed: ` +
        "the filter needs more than 20000 steps of work on this row; simplify it or test less data",
    ]);
    expect(await runsOf(org)).toEqual({ [plain]: ["INSERT"] });
    expect(await t.db.query("select 1 from public.lists where org_id = $1", [org])).toHaveLength(1); // the write went through
    // The same filter over a small row is evaluated as usual.
    expect(await insert(["a", "wanted"])).toEqual([]);
    expect(await insert(["a", "b"])).toEqual([]);
    expect(await runsOf(org)).toEqual({ [plain]: ["INSERT", "INSERT", "INSERT"], [bomb]: ["INSERT"] });
  });

  it("needs the tenant column: a clear error without it, the trigger argument names another, a null org is no event", async () => {
    await t.db.query("create table public.notes (id serial primary key, body text)");
    await t.db.query("create trigger notes_automations after insert on public.notes for each row execute function public.automations_table_event()");
    const message = 'automations: public.notes has no "org_id" column, so its events cannot be matched to an organization';
    await expect(t.db.query("insert into public.notes (body) values ('x')")).rejects.toMatchObject({ code: "42703", message });

    const org = await createOrg(t.db, "Tenant");
    const auto = await event(t.db, org, { table: "tickets" });
    await t.db.query("create table public.tickets (id serial primary key, tenant_id uuid)");
    await t.db.query("create trigger tickets_automations after insert on public.tickets for each row execute function public.automations_table_event('tenant_id')");
    await t.db.query("insert into public.tickets (tenant_id) values ($1), (null)", [org]);
    expect(await runsOf(org)).toEqual({ [auto]: ["INSERT"] });

    await t.db.query("create trigger tickets_before before insert on public.tickets for each row execute function public.automations_table_event('tenant_id')");
    await expect(t.db.query("insert into public.tickets (tenant_id) values ($1)", [org])).rejects.toMatchObject({ code: "39P01" });
  });

  it("matches with an index probe on (org_id, table), whatever the number of automations", async () => {
    const org = await createOrg(t.db, "Plan");
    // More than the default 1,000 automations per org: the operator raised it.
    await t.db.query("insert into public.automation_settings (org_id, max_automations) values ($1, 5000)", [org]);
    await t.db.query(
      `insert into public.automations (org_id, name, trigger_type, trigger_config, status)
       select $1, 'bulk ' || i, 'event', jsonb_build_object('table', 'table_' || (i % 200)), 'active'
         from generate_series(1, 4000) i`,
      [org],
    );
    await t.db.query("analyze public.automations");
    const plan = await t.db.query<{ "QUERY PLAN": string }>(
      `explain select a.id from public.automations a
        where a.org_id = $1 and a.trigger_type = 'event' and a.status = 'active'
          and (a.trigger_config ->> 'table') = any (array['public.deals', 'deals'])`,
      [org],
    );
    const text = plan.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toContain("automations_event_table_idx");
    expect(text).toMatch(/Index Cond: \(\(org_id = .*trigger_config ->> 'table'/s);
  });
});

describe("automations_engine.filter_matches()", () => {
  const deal = { status: "won", amount: 1500, name: "Acme", tags: ["vip", 7], owner: null, meta: { stage: { n: 2 } } };
  const ctx = { record: deal, old_record: { ...deal, status: "open" }, payload: null, operation: "UPDATE" };
  const v = (path: unknown) => ({ var: path });
  // [filter, expected] over ctx; each row is one behaviour of json-logic-engine the SQL copies.
  const cases: Array<[unknown, boolean]> = [
    [{ changed: "status" }, true], [{ changed: "status", from: "open", to: "won" }, true], [{ changed: "status", to: "lost" }, false],
    [{ changed: "amount" }, false], [{ changed: "nope" }, false],
    [{ "==": [v("record.status"), "won"] }, true], [{ "!=": [v("record.status"), "lost"] }, true],
    [{ "==": [v("record.amount"), "1500"] }, true], [{ "===": [v("record.amount"), "1500"] }, false], // loose vs strict
    [{ "==": [v("record.owner"), null] }, true], [{ "==": [v("record.owner"), 0] }, true], // null meets a number as 0
    [{ "==": [v("record.status"), 1] }, false], [{ "!": { "==": [v("record.status"), 1] } }, false], // "won" is NaN: a throw fails the rule
    [{ ">": [v("record.amount"), 1000] }, true], [{ "<=": [0, v("record.amount"), 1500] }, true], [{ "<": [0, v("record.amount"), 1500] }, false],
    [{ "<": ["a", v("record.status"), "z"] }, true], [{ "<": ["10", "9"] }, true], // strings compare as text
    [{ ">": [v("record.meta"), 1] }, false], // objects throw
    [{ in: [v("record.status"), ["won", "lost"]] }, true], [{ in: [7, v("record.tags")] }, true], [{ in: ["7", v("record.tags")] }, false],
    [{ in: ["cm", v("record.name")] }, true], [{ in: [15, "a1500"] }, true], // String(15) is a substring
    [{ in: ["x", v("record.amount")] }, false], // .includes is not a function: throws
    [{ and: [true, v("record.tags")] }, true], [{ and: [] }, false], [{ or: [0, "", v("record.name")] }, true],
    [{ if: [v("record.owner"), false, { "==": [v("operation"), "UPDATE"] }, true, false] }, true], [{ "?:": [false, true, false] }, false],
    [{ "??": [v("record.owner"), v("record.name")] }, true], [{ "!": [v("record.owner")] }, true], [{ "!!": [[]] }, false],
    [{ "!!": v("record.meta.stage.n") }, true], [{ "==": [v("record.tags.1"), 7] }, true], [{ "==": [v("record.name.length"), 4] }, true],
    [{ "==": [v(["record.nope", "dflt"]), "dflt"] }, true], [{ "==": [v(["record.owner", "dflt"]), null] }, true], // null is found, not defaulted
    [{ missing: ["record.status", "record.nope"] }, true], [{ missing: ["record.status", "old_record.name"] }, false],
    [{ missing_some: [1, ["record.nope", "record.name"]] }, false], [{ "==": [{ preserve: { a: 1 } }, 1] }, false],
    [{ "==": [" 12 ", 12] }, true], [{ "==": ["0x10", 16] }, true], [{ "==": ["1e400", "Infinity"] }, false], // two strings: text
    [{ "==": ["1e400", 1e308] }, false], [{ ">": ["1e400", 1e308] }, true], [{}, false],
  ];

  it.each(cases)("%j -> %s", async (filter, expected) => {
    const sql = "select automations_engine.filter_matches($1::jsonb, $2::jsonb) as m";
    expect((await t.db.query<{ m: boolean }>(sql, [JSON.stringify(filter), JSON.stringify(ctx)]))[0]!.m).toBe(expected);
  });

  it("no filter matches everything; an unsupported operator or shape raises 22023 with the reason", async () => {
    const m = (f: string) => t.db.query<{ m: boolean }>("select automations_engine.filter_matches($1::jsonb, '{}') as m", [f]);
    expect((await m("null"))[0]!.m).toBe(true);
    await expect(m('{"and": [{"+": [1, 2]}]}')).rejects.toMatchObject({ code: "22023", message: expect.stringContaining('filter.and[0]: operator "+" is not supported') });
    await expect(m('{"==": [1, 2], "!=": [1, 2]}')).rejects.toMatchObject({ code: "22023" });
    await expect(m('{"<": [1, 2, 3, 4]}')).rejects.toMatchObject({ code: "22023", message: expect.stringContaining("2 or 3 arguments") });
    await expect(m('"won"')).rejects.toMatchObject({ code: "22023" });
  });

  it("counts its work in steps and stops once they are spent (filter_eval's budget)", async () => {
    const row = { record: { status: "won", tags: Array.from({ length: 10_000 }, (_, i) => `tag-${i}`) } };
    const left = async (filter: unknown, budget = 20_000) =>
      (await t.db.query<{ b: number; r: unknown }>("select (s).budget as b, (s).result as r from automations_engine.filter_eval($1::jsonb, $2::jsonb, $3) s", [
        JSON.stringify(filter), JSON.stringify(row), budget,
      ]))[0]!;
    // == (1) + var (1; what it reads costs 1 per 16 bytes, nothing for "won") + "won" (1).
    expect(await left({ "==": [v("record.status"), "won"] })).toEqual({ b: 20_000 - 3, r: true });
    // One scan of the 10,000 tags: the items, and the column's size read by var.
    const scan = await left({ in: ["tag-9999", v("record.tags")] });
    expect(scan.r).toBe(true);
    expect(20_000 - scan.b).toBeGreaterThan(10_000);
    expect(20_000 - scan.b).toBeLessThan(20_000);
    // 300 scans would be 300 times that; the evaluation stops within one scan past the budget.
    const many = await left({ or: Array.from({ length: 300 }, () => ({ in: ["absent", v("record.tags")] })) });
    expect(many.r).toBeNull();
    expect(many.b).toBeLessThan(0);
    expect(many.b).toBeGreaterThan(-(20_000 - scan.b));
    await expect(
      t.db.query("select automations_engine.filter_matches($1::jsonb, $2::jsonb)", [JSON.stringify({ or: Array.from({ length: 300 }, () => ({ in: ["absent", v("record.tags")] })) }), JSON.stringify(row)]),
    ).rejects.toMatchObject({ code: "54000", message: "the filter needs more than 20000 steps of work on this row; simplify it or test less data" });
  });

  it("never raises on odd data", async () => {
    const odd = ["1e999999", "-0x", "\u00a0", "9".repeat(5000), "0b102", ".", "1e-99999999999"].map((s) => ({ a: s }));
    const filter = { or: [{ ">": [v("record.a"), 0] }, { "==": [v("record.a"), 0] }, { in: [v("record.a"), "x"] }] };
    const rows = await t.db.query<{ m: boolean }>(
      "select automations_engine.filter_matches($1::jsonb, jsonb_build_object('record', r)) as m from jsonb_array_elements($2::jsonb) r",
      [JSON.stringify(filter), JSON.stringify(odd)],
    );
    expect(rows.map((r) => r.m)).toEqual([true, false, true, true, false, false, true]);
  });
});
