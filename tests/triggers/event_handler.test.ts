// automations-event through its handler (no server): auth, both payload kinds, idempotent
// event ids, rejected input writing nothing, and the TypeScript filter agreeing with the SQL
// one the table trigger uses.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventHandler } from "../../shared/handlers/event.ts";
import type { Handler } from "../../shared/http/route.ts";
import { silentLogger } from "../../shared/logger.ts";
import type { AppDeps } from "../../shared/runtime/deps.ts";
import { loadSettings } from "../../shared/settings.ts";
import { FILTER_BUDGET, filterProblems, matchesFilter } from "../../shared/triggers/filter.ts";
import type { Filter, FilterContext } from "../../shared/triggers/filter.ts";
import { createAutomation, withoutConfigValidation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let handler: Handler;
let kicks = 0;
let org: string;
let other: string;

const KEY = "service-role-key";
const URL_ = "http://127.0.0.1:54321/functions/v1/automations-event";

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Events");
  other = await createOrg(t.db, "Other");
  const deps: AppDeps = {
    db: t.db, settings: loadSettings({}), logger: silentLogger, now: () => new Date(), fetch: globalThis.fetch,
    auth: { serviceRoleKey: KEY, sharedSecret: "shared-secret" }, getAction: () => undefined,
    kick: () => void kicks++, leaseSeconds: 30, maxBodyBytes: 4096,
  };
  handler = createEventHandler(deps);
});
afterAll(() => t.drop());

const event = (o: string, trigger_config: unknown, status: "active" | "paused" = "active") =>
  createAutomation(t.db, o, { trigger_type: "event", trigger_config, status, actions: [{ type: "log" }] });

function post(body: unknown, init: { headers?: Record<string, string>; method?: string; raw?: string; query?: string } = {}) {
  const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...init.headers };
  const method = init.method ?? "POST";
  const payload = method === "GET" ? undefined : (init.raw ?? JSON.stringify(body));
  return handler(new Request(URL_ + (init.query ?? ""), { method, headers, body: payload }));
}

async function call(body: unknown, init: Parameters<typeof post>[1] = {}) {
  const res = await post(body, init);
  return { status: res.status, body: (await res.json()) as any };
}

const runCount = async () => (await t.db.query<{ n: number }>("select count(*)::int as n from public.automation_runs"))[0]!.n;
// A table event's run is restricted: its payload is kept in automation_run_payloads (the row shows a marker).
const RUNS_SQL = `select r.id, r.trigger_type, coalesce(p.payload, r.trigger_payload) as trigger_payload, r.idempotency_key
                    from public.automation_runs r left join public.automation_run_payloads p on p.run_id = r.id
                   where r.automation_id = $1 order by r.created_at`;
const runsOf = (automationId: string) =>
  t.db.query<{ id: string; trigger_type: string; trigger_payload: any; idempotency_key: string | null }>(RUNS_SQL, [automationId]);

const deal = (o: string, fields: Record<string, unknown> = {}) => ({ id: crypto.randomUUID(), org_id: o, status: "open", amount: 10, ...fields });

describe("automations-event", () => {
  it("accepts only the service role key or the shared secret", async () => {
    const body = { event: "ping", org_id: org };
    expect(await call(body, { headers: { authorization: "" } })).toMatchObject({ status: 401, body: { error: { message: expect.stringContaining("missing credentials") } } });
    expect((await call(body, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await call(body, { headers: { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x" } })).status).toBe(401);
    expect((await call(body, { headers: { authorization: "", "x-automations-secret": "shared-secret" } })).status).toBe(202);
  });

  it("runs the org's table automations for a Database Webhook payload, with the trigger's payload shape", async () => {
    const onUpdate = await event(org, { table: "deals", operations: ["UPDATE"], filter: { changed: "status", to: "won" } });
    const onInsert = await event(org, { table: "public.deals", operations: ["INSERT"] });
    const otherOrg = await event(other, { table: "deals" });
    const old_record = deal(org);
    const record = { ...old_record, status: "won" };
    const before = kicks;
    const res = await call({ type: "UPDATE", table: "deals", schema: "public", record, old_record });
    expect(res).toEqual({ status: 202, body: { matched: 1, runs: [{ automation_id: onUpdate, run_id: expect.any(String), duplicate: false }], skipped: [] } });
    expect(kicks).toBe(before + 1);
    const [run] = await runsOf(onUpdate);
    expect(run).toMatchObject({ trigger_type: "event", idempotency_key: null, trigger_payload: { type: "UPDATE", table: "deals", schema: "public", record, old_record } });
    const [row] = await t.db.query<{ trigger_payload: unknown }>("select trigger_payload from automation_runs where id = $1", [run!.id]);
    expect(row!.trigger_payload).toMatchObject({ redacted: true, type: "UPDATE", table: "deals" });
    // Not won: the filter says no. INSERT: the other automation.
    expect((await call({ type: "UPDATE", table: "deals", schema: "public", record: old_record, old_record })).body.matched).toBe(0);
    expect((await call({ type: "INSERT", table: "deals", schema: "public", record, old_record: null })).body.runs[0].automation_id).toBe(onInsert);
    expect(await runsOf(otherOrg)).toEqual([]);
    // DELETE takes the org from old_record; another tenant column via ?org_column=.
    const onDelete = await event(org, { table: "tickets", operations: ["DELETE"] });
    expect((await call({ type: "DELETE", table: "tickets", schema: "public", record: null, old_record: { tenant_id: org } }, { query: "?org_column=tenant_id" })).body.matched).toBe(1);
    expect(await runsOf(onDelete)).toHaveLength(1);
  });

  it("runs application events by name; the same event id five times is one run per automation", async () => {
    const paid = await event(org, { event: "invoice.paid" });
    const big = await event(org, { event: "invoice.paid", filter: { ">": [{ var: "payload.amount" }, 100] } });
    await event(org, { event: "invoice.paid" }, "paused");
    await event(other, { event: "invoice.paid" });
    const body = { event: "invoice.paid", org_id: org, id: "evt_123", payload: { amount: 250, currency: "EUR" } };
    const first = await call(body);
    expect(first.status).toBe(202);
    expect(first.body.runs.map((r: any) => [r.automation_id, r.duplicate]).sort()).toEqual([[paid, false], [big, false]].sort());
    const before = await runCount();
    const kicked = kicks;
    for (let i = 0; i < 4; i++) {
      const again = await call(body);
      expect(again.body.runs.map((r: any) => r.run_id).sort()).toEqual(first.body.runs.map((r: any) => r.run_id).sort());
      expect(again.body.runs.every((r: any) => r.duplicate)).toBe(true);
    }
    expect(await runCount()).toBe(before);
    expect(kicks).toBe(kicked);
    const [run] = await runsOf(paid);
    expect(run).toMatchObject({ idempotency_key: "event:evt_123", trigger_payload: { event: "invoice.paid", id: "evt_123", payload: body.payload } });
    // Small invoice, no id: only the unfiltered automation, a new run each time.
    const small = await call({ event: "invoice.paid", org_id: org, payload: { amount: 5 } });
    expect(small.body.runs.map((r: any) => r.automation_id)).toEqual([paid]);
    expect((await runsOf(paid))[1]!.trigger_payload).toEqual({ event: "invoice.paid", id: null, payload: { amount: 5 } });
  });

  it("skips (and reports) an automation whose filter fails; the others still run", async () => {
    const ok = await event(org, { event: "order.placed" });
    const throws = await event(org, { event: "order.placed", filter: { throw: "boom" } });
    // Refused at save time now; a row saved before validation must still be skipped, not crash.
    const sqlOnly = await withoutConfigValidation(t.db, () => event(org, { table: "orders", filter: { "+": [1, 1] } }));
    const res = await call({ event: "order.placed", org_id: org });
    expect(res.body).toMatchObject({ matched: 1, runs: [{ automation_id: ok }], skipped: [{ automation_id: throws, reason: expect.stringContaining("boom") }] });
    const table = await call({ type: "INSERT", table: "orders", schema: "public", record: { org_id: org }, old_record: null });
    expect(table.body).toMatchObject({ matched: 0, skipped: [{ automation_id: sqlOnly, reason: expect.stringContaining('operator "+" is not supported') }] });
  });

  it("bounds a cubic filter saved through SQL: that automation is skipped with the reason, the event still answers", async () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const cubic = {
      some: [{ var: "payload.items" }, {
        some: [{ var: "../../payload.items" }, { some: [{ var: "../../../../payload.items" }, { "==": [{ var: "" }, -1] }] }],
      }],
    };
    const ok = await event(org, { event: "cube.built" });
    const bomb = await event(org, { event: "cube.built", filter: cubic }); // the database accepts it: it is small and valid
    const res = await call({ event: "cube.built", org_id: org, payload: { items } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      matched: 1,
      runs: [{ automation_id: ok }],
      skipped: [{ automation_id: bomb, reason: `filter failed: the filter needs more than ${FILTER_BUDGET} steps of work on this data; simplify it or test less data` }],
    });
  });

  const bad: Array<[string, unknown, Parameters<typeof post>[1], number, string]> = [
    ["GET", null, { method: "GET" }, 405, "use POST"],
    ["text/plain", null, { raw: "{}", headers: { "content-type": "text/plain" } }, 415, 'content-type "text/plain" is not accepted'],
    ["invalid JSON", null, { raw: "{nope" }, 400, "body is not valid JSON"],
    ["an empty body", null, { raw: "" }, 400, "body is empty"],
    ["too large", { event: "x", org_id: crypto.randomUUID(), payload: "x".repeat(5000) }, {}, 413, "4096-byte limit"],
    ["an array", [], {}, 400, "body must be a JSON object"],
    ["neither kind", { hello: 1 }, {}, 400, 'body has neither "type" nor "event"'],
    ["no org_id in the row", { type: "INSERT", table: "deals", schema: "public", record: { id: 1 }, old_record: null }, {}, 400, "record.org_id is missing: automations belong to an organization, so public.deals needs an org_id column"],
    ["a bad org_id", { type: "INSERT", table: "deals", record: { org_id: 42 } }, {}, 400, "record.org_id: must be a UUID, got 42"],
    ["no row", { type: "DELETE", table: "deals", record: null, old_record: null }, {}, 400, "old_record: is required for DELETE"],
    ["an unknown type", { type: "TRUNCATE", table: "deals", record: {} }, {}, 400, "type: must be one of INSERT, UPDATE, DELETE"],
    ["a row that is not an object", { type: "INSERT", table: "deals", record: [1] }, {}, 400, "record: must be an object (the row) or null"],
    ["a bad event name", { event: "invoice paid!", org_id: crypto.randomUUID() }, {}, 400, "event: may contain only letters"],
    ["an app event without org_id", { event: "invoice.paid" }, {}, 400, "org_id: must be a UUID string"],
    ["a typo", { event: "invoice.paid", org_id: crypto.randomUUID(), paylod: {} }, {}, 400, 'unknown key "paylod" (allowed: event, org_id, payload, id)'],
    ["a long id", { event: "e", org_id: crypto.randomUUID(), id: "x".repeat(201) }, {}, 400, "id: must be at most 200 characters"],
    ["a numeric id", { event: "e", org_id: crypto.randomUUID(), id: 7 }, {}, 400, "id: must be a string"],
    ["a bad org_column", { type: "INSERT", table: "deals", record: { org_id: crypto.randomUUID() } }, { query: "?org_column=x;drop" }, 400, "org_column: must be a column name"],
  ];
  it.each(bad)("rejects %s with %i and writes nothing", async (_name, body, init, status, message) => {
    await event(org, { table: "deals" });
    await event(org, { event: "invoice.paid" });
    const before = await runCount();
    const res = await call(body, init);
    expect(res.status).toBe(status);
    expect(res.body.error.message).toContain(message);
    expect(await runCount()).toBe(before);
  });
});

// ---------------------------------------------------------------------------
// The same filter language in TypeScript (HTTP path) and SQL (table trigger).
// ---------------------------------------------------------------------------
const tsMatches = (f: unknown, ctx: FilterContext) => {
  try {
    // Through JSON like real events, so no two fields share one object (=== compares references).
    return matchesFilter(f as Filter, JSON.parse(JSON.stringify(ctx)) as FilterContext);
  } catch {
    return false; // a filter that throws starts no run, as in SQL
  }
};

const PAIRS_SQL = `select automations_engine.filter_matches(x -> 0, x -> 1) as m
                      from jsonb_array_elements($1::jsonb) with ordinality as p(x, i) order by i`;

async function expectParity(pairs: Array<[unknown, FilterContext]>) {
  const sql = (await t.db.query<{ m: boolean }>(PAIRS_SQL, [JSON.stringify(pairs)])).map((r) => r.m);
  const diffs = pairs.map(([f, c], i) => ({ filter: f, record: c.record, old: c.old_record, ts: tsMatches(f, c), sql: sql[i] })).filter((d) => d.ts !== d.sql);
  expect(diffs).toEqual([]);
}

describe("filter parity: TypeScript matchesFilter vs automations_engine.filter_matches", () => {
  const base = { id: 1, name: "Acme", status: "open", amount: 500, owner: null, tags: ["vip"], meta: { tier: 2 } };
  const contexts: FilterContext[] = [
    { operation: "INSERT", record: { ...base, status: "won" }, old_record: null, payload: null },
    { operation: "UPDATE", record: { ...base, status: "won", amount: 2500 }, old_record: base, payload: null },
    { operation: "UPDATE", record: { ...base, amount: 600 }, old_record: base, payload: null },
    { operation: "UPDATE", record: base, old_record: base, payload: null },
    { operation: "DELETE", record: null, old_record: { ...base, status: "won" }, payload: null },
    { operation: "UPDATE", record: { ...base, amount: "n/a", status: null }, old_record: { ...base, amount: " 1e3 " }, payload: null },
    { operation: "INSERT", record: { ...base, amount: "1500", status: 1, owner: "" }, old_record: null, payload: null },
    { operation: "UPDATE", record: { ...base, status: "WON", amount: true, tags: [] }, old_record: { ...base, amount: false }, payload: null },
  ];
  const v = (p: unknown) => ({ var: p });
  const filters: unknown[] = [
    { changed: "status" }, { changed: "status", to: "won" }, { changed: "status", from: "open", to: "won" }, { changed: "amount" }, { changed: "nope" },
    { "==": [v("record.status"), "won"] }, { "===": [v("record.status"), "won"] }, { "!=": [v("record.status"), "won"] }, { "!==": [v("old_record.status"), "open"] },
    { ">": [v("record.amount"), 1000] }, { ">=": [v("record.amount"), "500"] }, { "<": [v("record.amount"), v("old_record.amount")] },
    { "<=": [100, v("record.amount"), 1000] }, { "==": [v("record.owner"), null] }, { "==": [v("record.owner"), 0] },
    { and: [{ "==": [v("operation"), "UPDATE"] }, { "!=": [v("record.status"), v("old_record.status")] }] },
    { or: [{ "==": [v("record.status"), "won"] }, { ">": [v("record.amount"), 550] }] },
    { "!": { "==": [v("record.status"), "won"] } }, { "!!": [v("record.tags")] }, { "!": [v("record.owner")] },
    { in: [v("record.status"), ["won", "lost"]] }, { in: ["vip", v("record.tags")] }, { in: ["cm", v("record.name")] }, { in: ["x", v("record.amount")] },
    { missing: ["record.status"] }, { missing_some: [1, ["record.nope", "old_record.status"]] },
    { if: [{ "==": [v("operation"), "DELETE"] }, { "==": [v("old_record.status"), "won"] }, { "==": [v("record.status"), "won"] }] },
    { "??": [v("record.owner"), v("record.name")] }, { "==": [v(["record.nope", 7]), 7] }, { ">": [v("record.meta.tier"), 1] },
    { "==": [v("record.tags.0"), "vip"] }, { "==": [v("record.name.length"), 4] }, { "==": [v("record.amount"), v("old_record.amount")] },
    // Where json-logic-engine's optimiser (used before filters were metered) disagreed with SQL: a falsy
    // value on the way of a path, a constant comparison in a branch not taken; and a chain of strings,
    // which the library's own interpreted comparison throws on (filter.ts has its own comparisons).
    { "===": [v("record.owner.x"), null] }, { "===": [v("old_record.amount.x"), null] },
    { "<=": ["A", v("record.name"), "z"] }, { if: [false, { ">": ["a", 1] }, { "==": [v("record.status"), "won"] }] },
    // An operator whose one argument throws throws too (SQL's filter_args once answered [null] there).
    { missing: { "==": ["abc", 1] } }, { in: { "<": [v("record.meta"), 1] } },
  ];

  it(`agrees on ${filters.length} filters x ${contexts.length} rows`, async () => {
    await expectParity(filters.flatMap((f) => contexts.map((c): [unknown, FilterContext] => [f, c])));
  });

  it("agrees on 500 generated rules over generated rows", async () => {
    // Values and shapes where the two json-logic-engine modes agree (see shared/handlers/event.ts report).
    const value = fc.constantFrom<unknown>("won", "lost", "", "5", " 12 ", "abc", "0x10", "1e3", "-0", "Infinity", "1e400", ".5", "+5", "0b11", "1_0", "\t7\n",
      0, 1, 5, 12, -3, 1.5, 0.1, 1000, 1e21, 2e-7, true, false, null);
    const field = fc.oneof(value, fc.constantFrom<unknown>({}, { x: 1 }, [], ["won"]));
    const row = fc.record({ status: field, amount: field, name: value, meta: fc.constantFrom<unknown>({ x: 1 }, null, "abc") });
    const vars = fc.constantFrom<unknown>(v("record.status"), v("record.amount"), v("old_record.status"), v("record.meta.x"), v(["record.nope", 7]), v("operation"), v("record.name"));
    const { rule } = fc.letrec<{ rule: unknown; leaf: unknown }>((tie) => ({
      leaf: fc.oneof(value, vars, vars),
      rule: fc.oneof(
        { depthSize: "small" },
        // A var on at least one side: the engine's optimiser evaluates an all-constant comparison
        // eagerly, even in a branch never taken, so {"if": [false, {">": ["a", 1]}]} throws there.
        // Never the same var twice: === compares arrays and objects by reference in JavaScript.
        fc.tuple(fc.constantFrom("==", "===", "!=", "!==", "<", "<=", ">", ">="), vars, tie("leaf"), fc.boolean())
          .filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b))
          .map(([op, a, b, flip]) => ({ [op]: flip ? [b, a] : [a, b] })),
        fc.tuple(fc.constantFrom("<", "<="), fc.integer({ min: -5, max: 5 }), vars, fc.integer({ min: 0, max: 2000 })).map(([op, a, b, c]) => ({ [op]: [a, b, c] })),
        fc.tuple(fc.constantFrom("and", "or", "??"), fc.array(tie("rule"), { maxLength: 3 })).map(([op, xs]) => ({ [op]: xs })),
        fc.tuple(fc.constantFrom("!", "!!"), tie("rule")).map(([op, x]) => ({ [op]: x })),
        fc.tuple(tie("rule"), tie("rule"), tie("rule")).map((xs) => ({ if: xs })),
        fc.tuple(tie("leaf"), fc.oneof(fc.constant(["won", 5, null, "1"]), vars)).map(([a, b]) => ({ in: [a, b] })),
        fc.constantFrom({ missing: ["record.status", "record.nope"] }, { missing: ["old_record.status"] }),
        tie("leaf"),
      ),
    }));
    const filter = fc.oneof(
      rule.filter((r) => r !== null && typeof r === "object" && !Array.isArray(r) && filterProblems(r, true).length === 0),
      fc.constantFrom({ changed: "status" }, { changed: "amount", to: 1000 }, { changed: "status", from: "won" }),
    );
    const ctx = fc.tuple(fc.constantFrom<"INSERT" | "UPDATE" | "DELETE">("INSERT", "UPDATE", "DELETE"), row, row).map(
      ([operation, r, o]): FilterContext => ({ operation, record: operation === "DELETE" ? null : r, old_record: operation === "INSERT" ? null : o, payload: null }),
    );
    const pairs = fc.sample(fc.tuple(filter, ctx), { numRuns: Number(process.env.PARITY_RUNS ?? 500), seed: Number(process.env.PARITY_SEED ?? 4242) });
    await expectParity(pairs as Array<[unknown, FilterContext]>);
  });
});
