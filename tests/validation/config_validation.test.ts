// Save-time validation in the database (migrations 000800 and 000810) against
// the TypeScript validators that decide at run time. Client apps insert and
// update automations straight through PostgREST, so the database must refuse
// what TypeScript refuses: one corpus goes through both, and they must agree
// (known, documented differences are listed on their own and asserted too).
import fc from "fast-check";
import { LogicEngine } from "json-logic-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionRegistry, actionTypes, validateActionConfig } from "../../shared/actions/registry.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import { ConditionSchema, OPERATORS } from "../../shared/engine/expressions/conditions.ts";
import { findTemplateErrors } from "../../shared/engine/expressions/templates.ts";
import { flowControlProblems, type FlowControl } from "../../shared/engine/flow_control.ts";
import { validateTriggerConfig, type TriggerType } from "../../shared/triggers/config.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

// The corpus is at the end of this file (function declarations, so it can live there).
const { triggerCases, triggerDivergences } = triggerCorpus();
const { actionCases, actionDivergences } = actionCorpus();

let t: TestDatabase;
let org: string;
let member: TestUser;
let automation: string;

beforeAll(async () => {
  t = await createTestDatabase();
  // npm test registers '*' (any action type) in the template; this clone tests the real thing.
  await t.db.query("delete from automations_engine.custom_action_types");
  org = await createOrg(t.db, "Validation");
  member = await createUser(t.db, org, "member");
  automation = await createAutomation(t.db, org, { name: "Host of test actions" });
});
afterAll(() => t.drop());

type Outcome = { ok: true } | { ok: false; code: string; message: string };
class Rollback extends Error {}

/** Runs fn in a transaction that is always rolled back; reports whether the database refused it. */
async function attempt(fn: (tx: Db) => Promise<unknown>): Promise<Outcome> {
  try {
    await t.db.transaction(async (tx) => {
      await fn(tx);
      throw new Rollback();
    });
  } catch (e) {
    if (e instanceof Rollback) return { ok: true };
    const err = e as { code?: string; message?: string };
    return { ok: false, code: err.code ?? "?", message: err.message ?? String(e) };
  }
  return { ok: true };
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

function saveTrigger(type: string, config: unknown): Promise<Outcome> {
  return attempt((db) =>
    db.query("insert into public.automations (org_id, name, trigger_type, trigger_config) values ($1, 'v', $2, $3::jsonb)", [
      org,
      type,
      json(config),
    ]),
  );
}

function saveAction(type: string, config: unknown, condition?: unknown): Promise<Outcome> {
  return attempt((db) =>
    db.query(
      `insert into public.automation_actions (org_id, automation_id, action_type, action_config, condition)
       values ($1, $2, $3, $4::jsonb, $5::jsonb)`,
      [org, automation, type, json(config), condition === undefined ? null : json(condition)],
    ),
  );
}

/** Everything TypeScript checks about an action before it is saved. */
function tsActionProblems(type: string, config: unknown, condition?: unknown): string[] {
  const problems = [...validateActionConfig(type, config), ...findTemplateErrors(config).map((p) => `${p.path}: ${p.message}`)];
  if (condition !== undefined && condition !== null) {
    const parsed = ConditionSchema.safeParse(condition);
    if (!parsed.success) problems.push(...parsed.error.issues.map((i) => i.message));
  }
  return problems;
}

function expectRefused(outcome: Outcome, names: string) {
  expect(outcome.ok, `the database accepted it; expected a 23514 naming ${names}`).toBe(false);
  if (outcome.ok) return;
  expect(outcome.code).toBe("23514");
  expect(outcome.message).toContain(names);
}

describe("trigger_config: TypeScript and the database agree", () => {
  it.each(triggerCases.map((c) => [`${c.type} ${JSON.stringify(c.config)?.slice(0, 90)}`, c] as const))("%s", async (_name, c) => {
    const ts = validateTriggerConfig(c.type, c.config);
    const sql = await saveTrigger(c.type, c.config);
    if (c.expect === "valid") {
      expect(ts).toEqual([]);
      expect(sql).toEqual({ ok: true });
    } else {
      expect(ts.length, "TypeScript accepted it").toBeGreaterThan(0);
      expectRefused(sql, c.expect);
      // Webhook settings are worded the same in both languages.
      if (c.type === "webhook") expect(ts.join("; ")).toContain(c.expect);
    }
  });

  it.each(triggerDivergences.map((c) => [c.why, c] as const))("known difference: %s", async (_why, c) => {
    expect(validateTriggerConfig(c.type, c.config).length === 0).toBe(c.ts === "valid");
    expect((await saveTrigger(c.type, c.config)).ok).toBe(c.sql === "valid");
  });
});

describe("actions: TypeScript and the database agree", () => {
  it.each(actionCases.map((c) => [`${c.type} ${JSON.stringify(c.config)?.slice(0, 70)} ${c.condition ? JSON.stringify(c.condition).slice(0, 40) : ""}`, c] as const))(
    "%s",
    async (_name, c) => {
      const ts = tsActionProblems(c.type, c.config, c.condition);
      const sql = await saveAction(c.type, c.config, c.condition);
      if (c.expect === "valid") {
        expect(ts).toEqual([]);
        expect(sql).toEqual({ ok: true });
      } else {
        expect(ts.length, "TypeScript accepted it").toBeGreaterThan(0);
        expectRefused(sql, c.expect);
      }
    },
  );

  it.each(actionDivergences.map((c) => [c.why, c] as const))("known difference: %s", async (_why, c) => {
    expect(tsActionProblems(c.type, c.config, c.condition).length === 0).toBe(c.ts === "valid");
    expect((await saveAction(c.type, c.config, c.condition)).ok).toBe(c.sql === "valid");
  });
});

describe("the lists the database keeps in step with TypeScript", () => {
  it("action_types() is actionTypes of shared/actions/registry.ts", async () => {
    const [row] = await t.db.query<{ types: string[] }>("select automations_engine.action_types() as types");
    expect(row!.types).toEqual([...actionTypes]);
  });

  it("each built-in spec has the zod schema's keys, and the same ones required", async () => {
    const [row] = await t.db.query<{ specs: Record<string, { keys: Record<string, { required?: boolean }> }> }>(
      "select automations_engine.builtin_action_specs() as specs",
    );
    for (const type of actionTypes) {
      const shape = (actionRegistry[type]!.schema as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape;
      const spec = row!.specs[type]!.keys;
      expect(Object.keys(spec).sort(), type).toEqual(Object.keys(shape).sort());
      const required = (keys: string[], isRequired: (k: string) => boolean) => keys.filter(isRequired).sort();
      expect(required(Object.keys(spec), (k) => spec[k]!.required === true), type).toEqual(
        required(Object.keys(shape), (k) => !shape[k]!.safeParse(undefined).success),
      );
    }
  });

  it("filter operators are json-logic-engine's, condition operators are OPERATORS", async () => {
    const [row] = await t.db.query<{ filter: string; condition: string }>(
      `select pg_get_functiondef('automations_engine.filter_problems(jsonb, boolean, text[])'::regprocedure) as filter,
              pg_get_functiondef('automations_engine.condition_problems(jsonb)'::regprocedure) as condition`,
    );
    const list = (src: string, after: string) => /'\{([^}]*)\}'/.exec(src.slice(src.indexOf(after)))![1]!.split(",").sort();
    expect(list(row!.filter, "c_operators")).toEqual(Object.keys(new LogicEngine().methods).sort());
    expect(list(row!.condition, "jsonlogic_problems(")).toEqual([...OPERATORS].sort());
  });
});

describe("property: the database never accepts a schedule config that TypeScript refuses", () => {
  const cronItem = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom("*", "*/5", "1", "1-5", "2", "?", "7", "1,2", "3-9/2") },
    { weight: 2, arbitrary: fc.constantFrom("0", "0-7", "*/0", "59", "60", "5-1", "L", "5L", "1#2", "1#6", "MON-FRI", "jan", "xyz", "H", "", "1,1") },
    { weight: 1, arbitrary: fc.integer({ min: -1, max: 70 }).map(String) },
  );
  const cron = fc.oneof(
    { weight: 4, arbitrary: fc.array(cronItem, { minLength: 5, maxLength: 5 }).map((a) => a.join(" ")) },
    { weight: 1, arbitrary: fc.array(cronItem, { minLength: 0, maxLength: 7 }).map((a) => a.join(" ")) },
    { weight: 1, arbitrary: fc.constantFrom("@daily", "@hourly", "@midnight", "0 0 30 2 *", "0 0 31 4,6 *", " 0 12 * * 5L ") },
    { weight: 1, arbitrary: fc.string() },
  );
  const timezone = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("UTC", "Europe/Berlin", "america/new_york", "Etc/GMT-3", "Asia/Kolkata", "Pacific/Chatham", "Etc/GMT+13", "UTC+3", "Mars/Olympus", "", "posix/UTC", "Factory") },
    { weight: 1, arbitrary: fc.string() },
  );
  const value = (main: fc.Arbitrary<unknown>) => fc.oneof({ weight: 6, arbitrary: main }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
  const base = fc.record(
    {
      cron: value(cron),
      timezone: value(timezone),
      missed: value(fc.constantFrom("skip", "once", "all", "skip", "once", "all", "never", "SKIP")),
      max_catch_up: value(
        fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 1, max: 1000 }) },
          { weight: 1, arbitrary: fc.integer({ min: -5, max: 1100 }) },
          { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
        ),
      ),
    },
    { requiredKeys: ["cron"] },
  );
  // Now and then an extra key, which strict objects refuse.
  const config = fc
    .tuple(base, fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.string(), fc.jsonValue({ maxDepth: 2 })) }))
    .map(([c, extra]) => (extra ? { ...c, [extra[0]]: extra[1] } : c));

  it("200 random configs: SQL accepts only what TypeScript accepts", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(config, async (c) => {
        const [row] = await t.db.query<{ problems: string[] }>(
          "select automations_engine.trigger_config_problems('schedule', $1::jsonb) as problems",
          [JSON.stringify(c)],
        );
        const sqlAccepts = row!.problems.length === 0;
        const tsAccepts = validateTriggerConfig("schedule", JSON.parse(JSON.stringify(c))).length === 0;
        if (sqlAccepts) accepted++;
        expect(!sqlAccepts || tsAccepts, `SQL accepted ${JSON.stringify(c)}`).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(accepted).toBeGreaterThan(0); // the generator does reach valid configs
  });
});

describe("flow control columns: TypeScript and the database agree", () => {
  // [columns, expected: "valid" or the words both must give]
  const cases: Array<[FlowControl, string]> = [
    [{ max_concurrency: 1 }, "valid"],
    [{ max_concurrency: 10000, concurrency_key: "{{trigger.payload.customer_id}}" }, "valid"],
    [{ concurrency_key: "{{ trigger.payload.a.b-c.$d }}/{{trigger.type}}" }, "valid"],
    [{ concurrency_key: "tenant-{{trigger.payload.tenant}}" }, "valid"],
    [{ rate_limit: { limit: 100, period_seconds: 60 } }, "valid"],
    [{ rate_limit: { limit: 1, period_seconds: 86400 }, max_concurrency: 5 }, "valid"],
    [{ max_concurrency: 0 }, "max_concurrency must be between 1 and 10000 (or null for no limit), got 0"],
    [{ max_concurrency: -3 }, "max_concurrency must be between 1 and 10000 (or null for no limit), got -3"],
    [{ max_concurrency: 10001 }, "max_concurrency must be between 1 and 10000"],
    [{ concurrency_key: "customer" }, "concurrency_key must contain a placeholder such as {{trigger.payload.customer_id}}"],
    [{ concurrency_key: "" }, "concurrency_key must contain a placeholder"],
    [{ concurrency_key: "{{steps.0.output.id}}" }, "concurrency_key must contain a placeholder"],
    [{ concurrency_key: "{{trigger.payload.a}}{{steps.0.output.id}}" }, "concurrency_key may only use {{trigger.payload.<path>}} and {{trigger.type}} placeholders"],
    [{ concurrency_key: "{{trigger.payload.a}}-{{trigger.payload.b" }, "concurrency_key may only use"],
    [{ concurrency_key: "{{trigger.payload.a}} }}" }, "concurrency_key may only use"],
    [{ concurrency_key: "{{trigger.payload[0]}}{{trigger.type}}" }, "concurrency_key may only use"],
    [{ concurrency_key: "{{trigger.payload.x}}" + "a".repeat(500) }, "concurrency_key must be at most 500 characters, got 521"],
    [{ rate_limit: { limit: 0, period_seconds: 60 } }, "rate_limit.limit must be a whole number between 1 and 1000000"],
    [{ rate_limit: { limit: 10 } }, "rate_limit.period_seconds must be a whole number between 1 and 86400"],
    [{ rate_limit: { period_seconds: 60 } }, "rate_limit.limit must be a whole number"],
    [{ rate_limit: { limit: 2.5, period_seconds: 60 } }, "rate_limit.limit must be a whole number"],
    [{ rate_limit: { limit: "10", period_seconds: 60 } }, "rate_limit.limit must be a whole number"],
    [{ rate_limit: { limit: 10, period_seconds: -1 } }, "rate_limit.period_seconds must be a whole number"],
    [{ rate_limit: { limit: 10, period_seconds: 60, burst: 5 } }, 'rate_limit must be an object {"limit": n, "period_seconds": s} with no other keys'],
    [{ rate_limit: [10, 60] }, "rate_limit must be an object"],
    [{ rate_limit: 10 }, "rate_limit must be an object"],
  ];
  const save = (f: FlowControl) =>
    attempt((db) =>
      db.query(
        "insert into public.automations (org_id, name, trigger_type, max_concurrency, concurrency_key, rate_limit) values ($1, 'f', 'manual', $2, $3, $4::jsonb)",
        [org, f.max_concurrency ?? null, f.concurrency_key ?? null, json(f.rate_limit)],
      ),
    );

  it.each(cases.map(([f, e]) => [JSON.stringify(f).slice(0, 90), f, e] as const))("%s", async (_name, f, e) => {
    const ts = flowControlProblems(f);
    const sql = await save(f);
    if (e === "valid") {
      expect(ts).toEqual([]);
      expect(sql).toEqual({ ok: true });
    } else {
      expect(ts.join("; ")).toContain(e);
      expectRefused(sql, e);
    }
  });

  it("an update to a bad value is refused as a member, and a member sets valid ones in their org", async () => {
    const id = await createAutomation(t.db, org, { name: "flow" });
    const bad = await attempt((db) =>
      asUser(db, member.claims, (tx) => tx.query("update public.automations set max_concurrency = 0 where id = $1", [id])),
    );
    expectRefused(bad, "max_concurrency must be between 1 and 10000");
    await asUser(t.db, member.claims, (tx) =>
      tx.query(
        `update public.automations set max_concurrency = 2, concurrency_key = '{{trigger.payload.c}}',
                rate_limit = '{"limit": 5, "period_seconds": 10}' where id = $1`,
        [id],
      ),
    );
    const [row] = await t.db.query("select max_concurrency, concurrency_key, rate_limit from automations where id = $1", [id]);
    expect(row).toEqual({ max_concurrency: 2, concurrency_key: "{{trigger.payload.c}}", rate_limit: { limit: 5, period_seconds: 10 } });
  });
});

describe("saving through the API as an org member (RLS)", () => {
  const count = async (table: string) =>
    (await t.db.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0]!.n;

  it("an invalid trigger_config gets 23514 naming the field, and writes nothing", async () => {
    const before = await count("automations");
    const outcome = await attempt((db) =>
      asUser(db, member.claims, (tx) =>
        tx.query("insert into public.automations (org_id, name, trigger_type, trigger_config) values ($1, 'x', 'schedule', $2::jsonb)", [
          org,
          JSON.stringify({ cron: "61 * * * *", timezone: "Mars/Olympus" }),
        ]),
      ),
    );
    expectRefused(outcome, 'trigger_config.cron: invalid cron "61 * * * *": minute 61 is out of range 0-59');
    expectRefused(outcome, 'trigger_config.timezone: unknown timezone "Mars/Olympus"');
    expect(await count("automations")).toBe(before);
  });

  it("an invalid action gets 23514 naming the field, and writes nothing", async () => {
    const before = await count("automation_actions");
    for (const [type, config, names] of [
      ["webhook", { method: "POST" }, "action_config.url: required"],
      ["foo", {}, 'unknown action type "foo"; known types: create_task, delay, log, send_email, update_field, webhook'],
      ["log", { message: "Hi {{trigger.payload.name" }, "action_config.message: {{trigger.payload.name: unclosed placeholder"],
    ] as const) {
      const outcome = await attempt((db) =>
        asUser(db, member.claims, (tx) =>
          tx.query(
            "insert into public.automation_actions (org_id, automation_id, action_type, action_config) values ($1, $2, $3, $4::jsonb)",
            [org, automation, type, JSON.stringify(config)],
          ),
        ),
      );
      expectRefused(outcome, names);
    }
    expect(await count("automation_actions")).toBe(before);
  });

  it("a valid automation with actions is saved by a member", async () => {
    await asUser(t.db, member.claims, async (tx) => {
      const [a] = await tx.query<{ id: string }>(
        "insert into public.automations (org_id, name, trigger_type, trigger_config) values ($1, 'ok', 'schedule', $2::jsonb) returning id",
        [org, JSON.stringify({ cron: "*/15 9-17 * * MON-FRI", timezone: "Europe/Berlin", missed: "once" })],
      );
      await tx.query(
        "insert into public.automation_actions (org_id, automation_id, action_type, action_config) values ($1, $2, 'delay', $3::jsonb)",
        [org, a!.id, JSON.stringify({ seconds: "{{trigger.payload.wait}}" })],
      );
    });
  });

  it("an update to an invalid config is refused and the row keeps its old config", async () => {
    const good = { cron: "0 8 * * *", timezone: "UTC" };
    const id = await createAutomation(t.db, org, { trigger_type: "schedule", trigger_config: good, actions: [{ type: "delay", config: { seconds: 60 } }] });
    const outcome = await attempt((db) =>
      asUser(db, member.claims, (tx) =>
        tx.query("update public.automations set trigger_config = trigger_config || '{\"missed\": \"sometimes\"}' where id = $1", [id]),
      ),
    );
    expectRefused(outcome, 'trigger_config.missed: must be one of "skip", "once", "all"; got "sometimes"');
    const action = await attempt((db) =>
      asUser(db, member.claims, (tx) =>
        tx.query("update public.automation_actions set action_config = '{\"seconds\": -5}' where automation_id = $1", [id]),
      ),
    );
    expectRefused(action, "action_config.seconds: must be greater than 0");
    const [row] = await t.db.query<{ trigger_config: unknown; action_config: unknown }>(
      `select a.trigger_config, x.action_config from public.automations a
         join public.automation_actions x on x.automation_id = a.id where a.id = $1`,
      [id],
    );
    expect(row).toEqual({ trigger_config: good, action_config: { seconds: 60 } });
  });

  it("changing the trigger type re-checks the config", async () => {
    const id = await createAutomation(t.db, org, { trigger_type: "manual", trigger_config: {} });
    const outcome = await attempt((tx) => tx.query("update public.automations set trigger_type = 'schedule' where id = $1", [id]));
    expectRefused(outcome, "trigger_config.cron: is required");
  });

  it("an edit that does not touch the config passes even if the stored config predates validation", async () => {
    const id = await createAutomation(t.db, org, { trigger_type: "schedule", trigger_config: { cron: "* * * * *" } });
    await t.db.transaction(async (tx) => {
      await tx.query("set local session_replication_role = replica"); // as a restore written around the triggers would
      await tx.query(`update public.automations set trigger_config = '{"cron": "61 * * * *"}' where id = $1`, [id]);
    });
    await asUser(t.db, member.claims, (tx) => tx.query("update public.automations set status = 'paused', name = 'renamed' where id = $1", [id]));
    const [row] = await t.db.query<{ status: string }>("select status::text as status from public.automations where id = $1", [id]);
    expect(row!.status).toBe("paused");
  });
});

describe("custom action types", () => {
  it("are refused until registered, then checked against their config_schema (if any)", async () => {
    expectRefused(await saveAction("send_sms", { to: "+4912345" }), 'unknown action type "send_sms"');
    await t.db.query(
      `insert into automations_engine.custom_action_types (action_type, config_schema) values
         ('send_sms', '{"keys": {"to": {"kind": "string", "required": true, "min_length": 1}, "retries": {"kind": "integer", "gt": 0, "templated": true}}}'),
         ('anything', null)`,
    );
    expect(await saveAction("send_sms", { to: "+4912345", retries: "{{trigger.payload.n}}" })).toEqual({ ok: true });
    expectRefused(await saveAction("send_sms", { retries: 0 }), "action_config.retries: must be greater than 0");
    expectRefused(await saveAction("send_sms", { to: "x", via: "carrier pigeon" }), 'action_config: unknown key "via" (allowed: retries, to)');
    expect(await saveAction("anything", { whatever: [1, { deep: true }] })).toEqual({ ok: true });
    // Templates and conditions are the engine's, whatever the type.
    expectRefused(await saveAction("anything", { x: "{{oops" }), "action_config.x: {{oops: unclosed placeholder");
    expectRefused(await saveAction("bogus", {}), "custom types: anything, send_sms");
    // '*' (what npm test registers) lets any unregistered type through.
    await t.db.query("insert into automations_engine.custom_action_types (action_type) values ('*')");
    expect(await saveAction("bogus", { a: 1 })).toEqual({ ok: true });
    expectRefused(await saveAction("webhook", { a: 1 }), "action_config.url: required"); // built-ins are still checked
    await t.db.query("delete from automations_engine.custom_action_types");
  });
});

// -----------------------------------------------------------------------------
// The corpus. `expect` is "valid" or the text the database's message must
// contain (the field it names). Divergences state each side's verdict.
// -----------------------------------------------------------------------------
interface TriggerCase {
  type: TriggerType;
  config: unknown;
  expect: "valid" | string;
}
interface ActionCase {
  type: string;
  config: unknown;
  condition?: unknown;
  expect: "valid" | string;
}
type Verdict = "valid" | "invalid";

/** `value` wrapped in n arrays: [[[...value...]]]. */
/** A valid filter whose JSON.stringify is exactly `chars` long; its strings hold ", ", ": ", quotes, a backslash and "é". */
function sizedFilter(chars: number): unknown {
  const filter = (pad: string) => ({ in: [{ var: "payload.x" }, ['a, b: "c" \\ é', pad]] });
  return filter("x".repeat(chars - JSON.stringify(filter("")).length));
}

function nest(n: number, value: unknown): unknown {
  return n === 0 ? value : [nest(n - 1, value)];
}

function triggerCorpus(): { triggerCases: TriggerCase[]; triggerDivergences: (TriggerCase & { ts: Verdict; sql: Verdict; why: string })[] } {
  const s = (config: unknown, expect: string): TriggerCase => ({ type: "schedule", config, expect });
  const e = (config: unknown, expect: string): TriggerCase => ({ type: "event", config, expect });
  const w = (config: unknown, expect: string): TriggerCase => ({ type: "webhook", config, expect });
  const m = (config: unknown, expect: string): TriggerCase => ({ type: "manual", config, expect });
  const V = "valid";
  const triggerCases: TriggerCase[] = [
    // schedule: valid
    s({ cron: "*/5 * * * *", timezone: "Europe/Berlin", missed: "skip" }, V),
    s({ cron: "@daily" }, V),
    s({ cron: "  @hourly  " }, V),
    s({ cron: "0 9 * * MON-FRI", timezone: "america/new_york", missed: "all", max_catch_up: 1000 }, V),
    s({ cron: "0 0 L * *", timezone: "Etc/GMT-3" }, V),
    s({ cron: "0 12 * * 5L" }, V),
    s({ cron: "0 8 * * 1#2", missed: "once", max_catch_up: 1 }, V),
    s({ cron: "0 0 29 2 *" }, V),
    s({ cron: "0 0 30 2,3 *" }, V),
    s({ cron: "? * * * *" }, V),
    s({ cron: "0-59/15 0,12 1-31/2 jan-jun 0-7" }, V),
    s({ cron: "0\t0  1 1 *", timezone: "UTC" }, V),
    s({ cron: "30 2 * * *", timezone: "America/New_York", missed: "skip", max_catch_up: 100 }, V),
    // schedule: invalid
    s({}, "trigger_config.cron: is required"),
    s(null, "trigger_config.cron: is required"),
    s({ cron: 5 }, "trigger_config.cron: must be a string, got 5"),
    s({ cron: ["* * * * *"] }, "trigger_config.cron: must be a string, got an array"),
    s({ cron: { $ne: null } }, "trigger_config.cron: must be a string, got an object"),
    s({ cron: "61 * * * *" }, 'trigger_config.cron: invalid cron "61 * * * *": minute 61 is out of range 0-59'),
    s({ cron: "* 24 * * *" }, "trigger_config.cron: invalid cron \"* 24 * * *\": hour 24 is out of range 0-23"),
    s({ cron: "* * *" }, "expected 5 fields (minute hour day-of-month month day-of-week), got 3"),
    s({ cron: "" }, "got 0"),
    s({ cron: "0 0 * * * *" }, "got 6; a seconds field is not supported"),
    s({ cron: "H * * * *" }, "hashed values (H) are not supported"),
    s({ cron: "@midnight" }, "unknown macro (supported: @yearly, @annually, @monthly, @weekly, @daily, @hourly)"),
    s({ cron: "@DAILY" }, "unknown macro"),
    s({ cron: "0 0 30 2 *" }, "day-of-month 30 never occurs in month 2"),
    s({ cron: "0 0 31 4,6 *" }, "day-of-month 31 never occurs"),
    s({ cron: "*/0 * * * *" }, "the step after / must be a positive integer"),
    s({ cron: "0 0 * * 0,7" }, "day-of-week: 0 is listed twice"),
    s({ cron: "1,1 * * * *" }, "minute: 1 is listed twice"),
    s({ cron: "0 0 15W * *" }, "day-of-month: invalid characters"),
    s({ cron: "0 0 * * L" }, "trigger_config.cron"),
    s({ cron: "0 0 * * 1#6" }, "the occurrence after # must be 1-5"),
    s({ cron: "0 0 * * 1-5#2" }, "# cannot be combined"),
    s({ cron: "0 0 * JANUARY *" }, 'month: unknown name "UAR"'),
    s({ cron: "5-1 * * * *" }, "minute range 5-1 runs backwards"),
    s({ cron: "every day at noon" }, "got 4"),
    s({ cron: "*/5 * * * *'; drop table public.automations; --" }, "trigger_config.cron"),
    s({ cron: "* * * * *", timezone: "Mars/Olympus" }, 'trigger_config.timezone: unknown timezone "Mars/Olympus"; use an IANA name'),
    s({ cron: "* * * * *", timezone: "" }, "trigger_config.timezone: unknown timezone"),
    s({ cron: "* * * * *", timezone: "UTC+3" }, 'for a fixed offset use "Etc/GMT-3" style names (sign inverted)'),
    s({ cron: "* * * * *", timezone: "posix/Europe/Berlin" }, "trigger_config.timezone"),
    s({ cron: "* * * * *", timezone: "Factory" }, "trigger_config.timezone"),
    s({ cron: "* * * * *", timezone: "Europe/Berlin'--" }, "trigger_config.timezone"),
    s({ cron: "* * * * *", timezone: 3 }, "trigger_config.timezone: must be a string, got 3"),
    s({ cron: "* * * * *", missed: "sometimes" }, 'trigger_config.missed: must be one of "skip", "once", "all"; got "sometimes"'),
    s({ cron: "* * * * *", missed: null }, "trigger_config.missed"),
    s({ cron: "* * * * *", max_catch_up: 0 }, "trigger_config.max_catch_up: must be at least 1"),
    s({ cron: "* * * * *", max_catch_up: 1001 }, "trigger_config.max_catch_up: must be at most 1000"),
    s({ cron: "* * * * *", max_catch_up: 1.5 }, "trigger_config.max_catch_up: must be an integer, got 1.5"),
    s({ cron: "* * * * *", max_catch_up: "10" }, 'trigger_config.max_catch_up: must be a number, got "10"'),
    s({ cron: "* * * * *", timezon: "UTC" }, 'trigger_config: unknown key "timezon" (allowed: cron, timezone, missed, max_catch_up)'),
    s({ cron: "* * * * *", "x'); delete from automations; --": 1 }, "trigger_config: unknown key"),
    s([], "trigger_config: must be a JSON object, got an array"),
    s("* * * * *", 'trigger_config: must be a JSON object, got "* * * * *"'),
    s(42, "trigger_config: must be a JSON object, got 42"),
    // event: valid
    e({ table: "deals" }, V),
    e({ table: "public.deals", operations: ["INSERT", "UPDATE"] }, V),
    e({ event: "invoice.paid" }, V),
    e({ event: "invoice.paid", filter: { ">=": [{ var: "payload.amount" }, 100] } }, V),
    e({ table: "deals", filter: { changed: "status", to: "won" } }, V),
    e({ table: "deals", filter: { changed: "status", from: "open", to: "won" } }, V),
    e({ table: "deals", operations: ["UPDATE"], filter: { and: [{ "==": [{ var: "record.status" }, "won"] }, { ">": [{ var: "record.amount" }, 1000] }] } }, V),
    // Table-event filters run in SQL: only its operator subset is accepted there.
    e({ table: "deals", filter: { some: [{ var: "record.items" }, { ">": [{ var: "qty" }, 1] }] } }, 'trigger_config.filter: operator "some" is not supported in filters of table events (they are evaluated in SQL)'),
    e({ table: "deals", filter: { "==": [{ "+": [{ var: "record.a" }, 1] }, 2] } }, 'trigger_config.filter: operator "+" is not supported in filters of table events (they are evaluated in SQL)'),
    e({ event: "order.created", filter: { some: [{ var: "payload.items" }, { ">": [{ var: "qty" }, 1] }] } }, V),
    e({ table: "deals", filter: { preserve: { a: 1, b: 2 } } }, V),
    e({ table: "deals", filter: { in: ["'; drop table deals; --", { var: "record.tags" }] } }, V),
    // event: invalid
    e({}, 'trigger_config: give exactly one of "table" (database events) or "event" (application events)'),
    e({ table: "deals", event: "x" }, ", not both"),
    e({ table: "deals; drop table x" }, 'trigger_config.table: must be a table name, optionally with its schema ("deals" or "public.deals")'),
    e({ table: "a.b.c" }, "trigger_config.table"),
    e({ table: "deals", operations: [] }, "trigger_config.operations: must not be empty"),
    e({ table: "deals", operations: ["insert"] }, 'trigger_config.operations[0]: must be one of "INSERT", "UPDATE", "DELETE"; got "insert"'),
    e({ table: "deals", operations: ["UPDATE", "INSERT", "UPDATE"] }, 'trigger_config.operations[2]: "UPDATE" is listed twice'),
    e({ table: "deals", operations: "INSERT" }, "trigger_config.operations: must be an array"),
    e({ event: "deal.won", operations: ["INSERT"] }, "trigger_config.operations: applies to table events only"),
    e({ event: "" }, "trigger_config.event: must not be empty"),
    e({ event: "x".repeat(201) }, "trigger_config.event: must be at most 200 characters"),
    e({ event: "deal won" }, "trigger_config.event: may contain only letters, digits and _ . : -"),
    e({ table: "deals", filter: "status = 'won'" }, "trigger_config.filter: must be a JSON object"),
    e({ table: "deals", filter: [] }, "trigger_config.filter: must be a JSON object"),
    e({ table: "deals", filter: { "==": [{ var: "status" }, "won"] } }, '"status" is not in the filter context (record, old_record, payload, operation)'),
    e({ table: "deals", filter: { sql: ["select 1"] } }, 'unknown JsonLogic operator "sql"'),
    e({ table: "deals", filter: { "==": [1, 1], "!=": [1, 2] } }, "trigger_config.filter: a JsonLogic operation has exactly one key"),
    e({ table: "deals", filter: { and: [{ "==": [1, 1] }, { constructor: [] }] } }, 'unknown JsonLogic operator "constructor"'),
    e({ event: "e", filter: { changed: "status" } }, "trigger_config.filter.changed: the changed shorthand applies to table events only"),
    e({ table: "deals", filter: { changed: "" } }, "trigger_config.filter.changed: must be a column name (1 to 63 characters)"),
    e({ table: "deals", filter: { changed: "a", when: 1 } }, 'trigger_config.filter: unknown key "when" in the changed shorthand'),
    e({ table: "deals", operation: ["INSERT"] }, 'trigger_config: unknown key "operation" (allowed: table, operations, event, filter)'),
    // 16 KiB of JSON, counted as JSON.stringify counts (the database drops only jsonb's own spaces).
    e({ event: "big", filter: sizedFilter(16_384) }, V),
    e({ event: "big", filter: sizedFilter(16_385) }, "trigger_config.filter: is 16385 characters; the limit is 16384"),
    e({ table: "deals", filter: sizedFilter(16_384) }, V),
    e({ table: "deals", filter: sizedFilter(40_000) }, "trigger_config.filter: is 40000 characters; the limit is 16384"),
    // webhook and manual
    w({}, V),
    w({ content_types: ["application/json"], max_body_bytes: 1048576 }, V),
    w({ content_types: ["application/x-www-form-urlencoded", "application/json"] }, V),
    w({ content_types: [] }, "trigger_config.content_types: must not be empty"),
    w({ content_types: ["text/plain"] }, "trigger_config.content_types[0]: must be one of"),
    w({ max_body_bytes: 0 }, "trigger_config.max_body_bytes: must be at least 1"),
    w({ max_body_bytes: 2_000_000 }, "trigger_config.max_body_bytes: must be at most 1048576"),
    w({ max_body_bytes: "1024" }, "trigger_config.max_body_bytes: must be a number"),
    w({ secret: "whsec_x" }, 'trigger_config: unknown key "secret" (allowed: content_types, max_body_bytes, verify, headers, filter)'),
    // webhook: verify schemes and their options, headers, filter (webhook_config.ts)
    ...["standard", "github", "slack", "shopify"].map((scheme) => w({ verify: { scheme } }, V)),
    w({ verify: { scheme: "stripe" } }, V),
    w({ verify: { scheme: "stripe", tolerance_seconds: 600 }, headers: ["stripe-signature"] }, V),
    w({ verify: { scheme: "twilio", public_url: "https://ref.supabase.co/functions/v1/automations-webhook/x?a=1" } }, V),
    w({ verify: { scheme: "hmac", header: "X-Signature" } }, V),
    w({ verify: { scheme: "hmac", header: "x-sig", algorithm: "sha512", encoding: "base64", prefix: "sha512=", timestamp_header: "x-ts", signed: "{timestamp}.{id}.{body}", tolerance_seconds: 60, id_header: "x-id" } }, V),
    w({ verify: { scheme: "token", header: "authorization" } }, V),
    w({ verify: { scheme: "token", query: "key", id_header: "x-request-id" } }, V),
    w({ verify: { scheme: "github" }, headers: [], filter: { in: [{ var: "headers.x-github-event" }, ["push", "pull_request"]] } }, V),
    w({ filter: { and: [{ "==": [{ var: "payload.type" }, "invoice.paid"] }, { some: [{ var: "payload.items" }, { ">": [{ var: "qty" }, 1] }] }] } }, V),
    w({ verify: "github" }, "trigger_config.verify: must be an object, got \"github\""),
    w({ verify: {} }, 'trigger_config.verify.scheme: is required (one of "standard", "github", "stripe", "slack", "shopify", "twilio", "hmac", "token")'),
    w({ verify: { scheme: "gitlab" } }, 'trigger_config.verify.scheme: must be one of "standard", "github", "stripe", "slack", "shopify", "twilio", "hmac", "token"; got "gitlab"'),
    w({ verify: { scheme: 5 } }, "trigger_config.verify.scheme: must be one of"),
    w({ verify: { scheme: "github", secret: "x", tolerance_seconds: 5 } }, 'trigger_config.verify: unknown key "secret", unknown key "tolerance_seconds" (allowed for github: scheme)'),
    w({ verify: { scheme: "stripe", tolerance_seconds: 0 } }, "trigger_config.verify.tolerance_seconds: must be at least 1"),
    w({ verify: { scheme: "stripe", tolerance_seconds: 1.5 } }, "trigger_config.verify.tolerance_seconds: must be an integer, got 1.5"),
    w({ verify: { scheme: "stripe", tolerance_seconds: 100000 } }, "trigger_config.verify.tolerance_seconds: must be at most 86400"),
    w({ verify: { scheme: "twilio" } }, "trigger_config.verify.public_url: is required"),
    w({ verify: { scheme: "twilio", public_url: "/functions/v1/x" } }, "trigger_config.verify.public_url: must be an absolute http:// or https:// URL"),
    w({ verify: { scheme: "twilio", public_url: 5 } }, "trigger_config.verify.public_url: must be a string, got 5"),
    w({ verify: { scheme: "hmac" } }, "trigger_config.verify.header: is required"),
    w({ verify: { scheme: "hmac", header: "x sig" } }, "trigger_config.verify.header: must be a header name"),
    w({ verify: { scheme: "hmac", header: "x-sig", algorithm: "md5" } }, 'trigger_config.verify.algorithm: must be one of "sha1", "sha256", "sha512"; got "md5"'),
    w({ verify: { scheme: "hmac", header: "x-sig", encoding: "base32" } }, 'trigger_config.verify.encoding: must be one of "hex", "base64"; got "base32"'),
    w({ verify: { scheme: "hmac", header: "x-sig", prefix: "p".repeat(65) } }, "trigger_config.verify.prefix: must be at most 64 characters"),
    w({ verify: { scheme: "hmac", header: "x-sig", signed: "{timestamp}" , timestamp_header: "x-ts" } }, "trigger_config.verify.signed: must contain {body}"),
    w({ verify: { scheme: "hmac", header: "x-sig", signed: "{ts}.{body}" } }, "trigger_config.verify.signed: unknown placeholder {ts} (allowed: {body}, {timestamp}, {id})"),
    w({ verify: { scheme: "hmac", header: "x-sig", signed: "{timestamp}.{body}" } }, "trigger_config.verify.signed: {timestamp} needs timestamp_header"),
    w({ verify: { scheme: "hmac", header: "x-sig", signed: "{id}.{body}" } }, "trigger_config.verify.signed: {id} needs id_header"),
    w({ verify: { scheme: "hmac", header: "x-sig", tolerance_seconds: 60 } }, "trigger_config.verify.tolerance_seconds: applies only with timestamp_header"),
    w({ verify: { scheme: "token" } }, 'trigger_config.verify: give exactly one of "header" or "query"'),
    w({ verify: { scheme: "token", header: "x-api-key", query: "key" } }, 'trigger_config.verify: give exactly one of "header" or "query"'),
    w({ verify: { scheme: "token", query: "a b" } }, "trigger_config.verify.query: must be a query parameter name"),
    w({ headers: "x-github-event" }, 'trigger_config.headers: must be an array, got "x-github-event"'),
    w({ headers: ["ok", "not ok", 5] }, "trigger_config.headers[1]: must be a header name (letters, digits and - _ .)"),
    w({ headers: Array.from({ length: 21 }, (_, i) => `x-h${i}`) }, "trigger_config.headers: must have at most 20 items"),
    w({ filter: { "==": [{ var: "record.status" }, "won"] } }, '"record.status" is not in the filter context (payload, headers)'),
    w({ filter: { changed: "status" } }, "trigger_config.filter.changed: the changed shorthand applies to table events only"),
    w({ filter: { nope: [1] } }, 'unknown JsonLogic operator "nope"'),
    w({ filter: [] }, "trigger_config.filter: must be a JSON object"),
    m({}, V),
    m(null, V),
    m({}, V),
    m({ allow_draft: true }, 'trigger_config: unknown key "allow_draft" (allowed: none)'),
    m({ cron: "* * * * *" }, 'trigger_config: unknown key "cron" (allowed: none)'),
  ];
  const triggerDivergences = [
    { type: "schedule" as const, config: { cron: "0 0 * * *", timezone: "PST" }, ts: "valid" as const, sql: "invalid" as const, why: "ICU-only legacy zone IDs (PST) are refused" },
    { type: "schedule" as const, config: { cron: "0 0 * * 1#2.0" }, ts: "valid" as const, sql: "invalid" as const, why: "# takes digits 1-5 only" },
    { type: "event" as const, config: { table: "deals", filter: { "==": [1] } }, ts: "invalid" as const, sql: "valid" as const, why: "JsonLogic arity is checked in TypeScript only" },
  ].map((c) => ({ ...c, expect: "" }));
  return { triggerCases, triggerDivergences };
}

function actionCorpus(): { actionCases: ActionCase[]; actionDivergences: (ActionCase & { ts: Verdict; sql: Verdict; why: string })[] } {
  const a = (type: string, config: unknown, expect: string, condition?: unknown): ActionCase => ({ type, config, expect, condition });
  const V = "valid";
  const long = (n: number) => "x".repeat(n);
  const cond = (c: unknown, expect: string) => a("log", {}, expect, c);
  const actionCases: ActionCase[] = [
    // webhook
    a("webhook", { url: "https://example.com/hook" }, V),
    a("webhook", { url: "{{trigger.payload.url}}" }, V),
    a("webhook", { url: "https://x.test/{{trigger.payload.id}}", method: "put", headers: { "X-Api-Key": "k" }, body: { a: [1, { b: null }] }, timeout_ms: 5000 }, V),
    a("webhook", { url: "http://localhost:3000", timeout_ms: "{{trigger.payload.t}}", method: "{{trigger.payload.method}}" }, V),
    a("webhook", { url: "https://a.test", headers: "{{steps.auth.output.headers}}", method: "GET" }, V),
    a("webhook", { url: "HTTPS://EXAMPLE.COM" }, V),
    a("webhook", { url: "https://user:pw@example.com:8443/p?q=1#f" }, V),
    a("webhook", { url: "http://[::1]:8080/x" }, V),
    a("webhook", { url: "https://a.test", body: "'; drop table automations; --" }, V),
    a("webhook", { url: "https://a.test", body: nest(60, "{{trigger.payload.x}}") }, V),
    a("webhook", {}, "action_config.url: required"),
    a("webhook", { url: "ftp://example.com" }, "action_config.url: must be an absolute http:// or https:// URL"),
    a("webhook", { url: "example.com/hook" }, "action_config.url"),
    a("webhook", { url: "javascript:alert(1)" }, "action_config.url"),
    a("webhook", { url: "http://" }, "action_config.url"),
    a("webhook", { url: "http://a b.com" }, "action_config.url"),
    a("webhook", { url: "http://a.com:99999" }, "action_config.url"),
    a("webhook", { url: 5 }, "action_config.url: must be a string, got 5"),
    a("webhook", { url: "https://a.test", method: "FETCH" }, "action_config.method: must be one of GET, POST, PUT, PATCH, DELETE"),
    a("webhook", { url: "https://a.test", method: 5 }, "action_config.method"),
    a("webhook", { url: "https://a.test", timeout_ms: 0 }, "action_config.timeout_ms: must be greater than 0 (or a {{...}} placeholder)"),
    a("webhook", { url: "https://a.test", timeout_ms: 1.5 }, "action_config.timeout_ms: must be an integer"),
    a("webhook", { url: "https://a.test", timeout_ms: "5000" }, "action_config.timeout_ms: must be a number"),
    a("webhook", { url: "https://a.test", timeout_ms: "{{trigger.payload.t}} ms" }, "action_config.timeout_ms"),
    a("webhook", { url: "https://a.test", method: "GET", body: {} }, "action_config.body: a GET request cannot have a body"),
    a("webhook", { url: "https://a.test", headers: { "bad header": "x" } }, 'action_config.headers["bad header"]: is not a valid header name'),
    a("webhook", { url: "https://a.test", headers: { a: 1 } }, 'action_config.headers["a"]: must be a string'),
    a("webhook", { url: "https://a.test", headers: [] }, "action_config.headers"),
    a("webhook", { url: "https://a.test", retries: 3 }, 'action_config: unknown key "retries" (allowed: body, headers, method, timeout_ms, url)'),
    a("webhook", { url: "https://a.test/{{trigger.payload.x" }, "action_config.url: {{trigger.payload.x: unclosed placeholder"),
    a("webhook", { url: "https://a.test", body: nest(70, 1) }, "nested deeper than 64 levels"),
    a("webhook", ["https://a.test"], "action_config: must be a JSON object, got an array"),
    // send_email
    a("send_email", { to: "a@example.test", subject: "Hi", text: "Hello" }, V),
    a("send_email", { to: ["a@example.test", "Bob <b@example.test>"], subject: "s", html: "<b>x</b>", cc: "c@example.test", reply_to: "r@example.test" }, V),
    a("send_email", { to: "{{trigger.payload.email}}", subject: "Hi {{trigger.payload.name}}", text: "x", bcc: ["{{trigger.payload.boss}}"] }, V),
    a("send_email", { to: "a@example.test", subject: "s" }, "action_config.text: give text or html (or both)"),
    a("send_email", { to: "nope", subject: "s", text: "x" }, "action_config.to: must be an email address"),
    a("send_email", { to: ["a@example.test", "nope"], subject: "s", text: "x" }, "action_config.to[1]: must be an email address"),
    a("send_email", { to: [], subject: "s", text: "x" }, "action_config.to: must be an email address or a list of 1 to 50 addresses"),
    a("send_email", { to: Array.from({ length: 51 }, (_, i) => `u${i}@example.test`), subject: "s", text: "x" }, "action_config.to"),
    a("send_email", { subject: "s", text: "x" }, "action_config.to: required"),
    a("send_email", { to: "a@example.test", subject: "", text: "x" }, "action_config.subject: must not be empty"),
    a("send_email", { to: "a@example.test", subject: long(999), text: "x" }, "action_config.subject: must be at most 998 characters"),
    a("send_email", { to: "a@example.test", subject: 5, text: "x" }, "action_config.subject: must be a string"),
    a("send_email", { to: "a@b.co", subject: "s", text: "x", bcc: ["a@b.co", 5] }, "action_config.bcc[1]: must be a string"),
    a("send_email", { to: "a@b.co", subject: "s", text: "x", from: "me@b.co" }, 'action_config: unknown key "from"'),
    // update_field
    a("update_field", { table: "tasks", id: "5", field: "status", value: "done" }, V),
    a("update_field", { table: "public.tasks", id: 42, field: "title", value: null }, V),
    a("update_field", { table: "{{trigger.payload.table}}", id: "{{trigger.payload.id}}", field: "x", value: { a: 1 } }, V),
    a("update_field", { table: "tasks", id: "x", field: "status", value: "'); drop table users; --" }, V),
    a("update_field", { table: "automations", id: "1", field: "name", value: "x" }, "action_config.table: automation tables change only through the automations API"),
    a("update_field", { table: "public.Users", id: "1", field: "name", value: "x" }, "action_config.table: identity tables"),
    a("update_field", { table: "auth.users", id: "1", field: "email", value: "x" }, "action_config.table: only tables in schema public can be updated"),
    a("update_field", { table: "tasks", id: "1", field: "org_id", value: "x" }, "action_config.field: column org_id cannot be set"),
    a("update_field", { table: "tasks", id: 1.5, field: "title", value: "x" }, "action_config.id: id must be a string or an integer"),
    a("update_field", { table: "tasks", id: "", field: "title", value: "x" }, "action_config.id"),
    a("update_field", { table: "tasks", id: true, field: "title", value: "x" }, "action_config.id"),
    a("update_field", { table: "tasks", id: "1", field: "title" }, "action_config.value: required"),
    a("update_field", { table: "", id: "1", field: "title", value: 1 }, "action_config.table"),
    a("update_field", { table: long(201), id: "1", field: "title", value: 1 }, "action_config.table"),
    // create_task
    a("create_task", { title: "Call back" }, V),
    a("create_task", { title: "t", description: null, assignee_id: null, due_at: "2026-03-01", priority: "high" }, V),
    a("create_task", { title: " t ", due_at: "2026-03-01T09:00:00+02:00", assignee_id: "{{trigger.payload.user}}", priority: "{{trigger.payload.p}}" }, V),
    a("create_task", { title: "t", assignee_id: "123e4567-e89b-42d3-a456-426614174000", due_at: "2024-02-29T23:59:59.5Z" }, V),
    a("create_task", {}, "action_config.title: required"),
    a("create_task", { title: "   " }, "action_config.title: must not be empty"),
    a("create_task", { title: long(501) }, "action_config.title: must be at most 500 characters"),
    a("create_task", { title: "t", due_at: "2026-02-30" }, "action_config.due_at"),
    a("create_task", { title: "t", due_at: "2026-03-01T09:00:00" }, "action_config.due_at"),
    a("create_task", { title: "t", due_at: "2025-02-29" }, "action_config.due_at"),
    a("create_task", { title: "t", priority: "critical" }, 'action_config.priority: must be one of "low", "medium", "high", "urgent"'),
    a("create_task", { title: "t", assignee_id: "not-a-uuid" }, "action_config.assignee_id: must be a UUID"),
    a("create_task", { title: "t", assignee_id: "123e4567-e89b-02d3-a456-426614174000" }, "action_config.assignee_id"),
    a("create_task", { title: "t", description: 5 }, "action_config.description: must be a string"),
    a("create_task", { title: "t", status: "todo" }, 'action_config: unknown key "status"'),
    // delay
    a("delay", { seconds: 60 }, V),
    a("delay", { seconds: 0.5 }, V),
    a("delay", { until: "2026-03-01T09:00:00Z" }, V),
    a("delay", { seconds: "{{trigger.payload.wait}}" }, V),
    a("delay", { until: "{{ trigger.payload.at }}" }, V),
    // Text around the braces makes it a string template, not a whole value.
    a("delay", { until: " {{ trigger.payload.at }} " }, "action_config.until"),
    a("delay", { seconds: "{{trigger.payload.a}}{{trigger.payload.b}}" }, "action_config.seconds"),
    a("delay", {}, "action_config: give exactly one of seconds or until"),
    a("delay", { seconds: 1, until: "2026-03-01T09:00:00Z" }, "give exactly one of seconds or until"),
    a("delay", { seconds: 0 }, "action_config.seconds: must be greater than 0"),
    a("delay", { seconds: -1 }, "action_config.seconds"),
    a("delay", { seconds: 31_536_001 }, "action_config.seconds: must be at most 31536000"),
    a("delay", { seconds: "60" }, "action_config.seconds: must be a number"),
    a("delay", { until: "tomorrow" }, "action_config.until: must be an ISO 8601 date-time"),
    // log, templates
    a("log", {}, V),
    a("log", { message: "hi {{trigger.payload.name}} from {{ steps.0.output.id }}", level: "warn", data: { deep: [[["x"]]] } }, V),
    a("log", { data: "{{trigger.payload}}", message: "literal \\{{ braces" }, V),
    a("log", { message: "{{automation.name}} {{run.id}} {{org.id}}" }, V),
    a("log", { level: "verbose" }, "action_config.level: must be one of"),
    a("log", { message: 5 }, "action_config.message: must be a string"),
    a("log", { message: long(10_001) }, "action_config.message: must be at most 10000 characters"),
    a("log", { extra: true }, 'action_config: unknown key "extra"'),
    a("log", { message: "Hi {{trigger.payload.name" }, "action_config.message: {{trigger.payload.name: unclosed placeholder"),
    a("log", { data: { list: ["ok", "{{ }}"] } }, "action_config.data.list[1]: {{ }}: empty placeholder"),
    a("log", { data: { "odd key": "{{ env.SECRET }}" } }, 'action_config.data["odd key"]: {{ env.SECRET }}: unknown root "env"'),
    a("log", { message: "{{ constructor }}" }, 'unknown root "constructor"'),
    a("log", { data: Array.from({ length: 1000 }, (_, i) => `{{trigger.payload.n${i}}}`) }, V),
    a("log", { data: Array.from({ length: 1001 }, (_, i) => `{{trigger.payload.n${i}}}`) }, "too many placeholders"),
    a("log", { data: `{{trigger.payload.x}}${long(100_000)}` }, "action_config.data: a string with placeholders may be at most 100000 characters"),
    // unknown types
    a("foo", {}, 'unknown action type "foo"; known types: create_task, delay, log, send_email, update_field, webhook'),
    a("send_sms", { to: "+49" }, 'unknown action type "send_sms"'),
    a("constructor", {}, 'unknown action type "constructor"'),
    a("__proto__", {}, 'unknown action type "__proto__"'),
    a("Webhook", { url: "https://a.test" }, 'unknown action type "Webhook"'),
    a("webhook ", { url: "https://a.test" }, 'unknown action type "webhook "'),
    a("'; drop table automations; --", {}, "unknown action type"),
    // conditions
    cond({ if: { "==": [{ var: "trigger.payload.status" }, "won"] } }, V),
    cond({ if: true, else: "stop" }, V),
    cond({ if: { some: [{ var: "trigger.payload.items" }, { ">": [{ var: "qty" }, 1] }] }, else: "skip" }, V),
    cond({ if: { and: [{ "!": { var: "steps.0.output.skipped" } }, { in: ["vip", { var: "trigger.payload.tags" }] }] } }, V),
    cond({ if: { throw: "x" } }, 'condition.if.throw: unknown JsonLogic operator "throw"'),
    cond({ if: { reduce: [[1], { "+": [1, 1] }, 0] } }, 'unknown JsonLogic operator "reduce"'),
    cond({ else: "skip" }, 'condition.if: a condition needs an "if" rule'),
    cond({ if: true, else: "halt" }, 'condition.else: must be one of "skip", "stop"; got "halt"'),
    cond({ if: true, then: "stop" }, 'condition: unknown key "then" (allowed: if, else)'),
    cond({ if: { "==": [{ var: "payload.x" }, 1] } }, 'unknown root "payload" in "payload.x"'),
    cond({ if: { map: [1] } }, "condition.if.map: map takes [array, rule applied to each item]"),
    cond({ if: { "==": [1, 1], "!=": [1, 2] } }, "a JsonLogic operation has exactly one key"),
    cond({ if: nest(40, true) }, "nested deeper than 32 levels"),
    cond({ if: { and: Array.from({ length: 1001 }, () => true) } }, "the rule has more than 1000 parts"),
  ];
  const actionDivergences = [
    { type: "log", config: { message: "{{trigger.payload.x()}}" }, ts: "invalid" as const, sql: "valid" as const, why: "template path grammar past the root is checked in TypeScript only" },
    { type: "log", config: {}, condition: { if: { var: "trigger..x" } }, ts: "invalid" as const, sql: "valid" as const, why: "condition path grammar is checked in TypeScript only" },
    { type: "webhook", config: { url: "http://999.1.1.1/" }, ts: "invalid" as const, sql: "valid" as const, why: "IPv4 numbers in URLs are checked in TypeScript only" },
  ].map((c) => ({ ...c, expect: "" }));
  return { actionCases, actionDivergences };
}
