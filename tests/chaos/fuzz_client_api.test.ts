// Fuzz the client API: what a signed-in member can send through supabase-js
// (PostgREST) to automations and automation_actions, replayed here as the same
// statements under the same role and JWT claims (asUser). Unknown action
// types, invalid cron and timezones, odd template syntax, SQL metacharacters,
// NUL, deep JSON, other orgs' ids, out-of-range numbers.
// Proves: every refusal is an error PostgREST answers with a 4xx and a message
// (never a 5xx class such as 54 "too complex" or XX "internal"); a refused
// statement writes nothing (row counts, and rows compared before and after);
// nothing invalid is stored: an accepted automation's trigger_config passes
// the TypeScript validator the scheduler uses, an accepted action has a
// known type. CHAOS_FUZZ_RUNS scales the cases (default 300 per property).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateActionConfig } from "../../shared/actions/registry.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Db } from "../../shared/db/types.ts";
import { parseTriggerConfig, type TriggerType } from "../../shared/triggers/config.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";
import { deepJson, deepJsonTextUpTo, jsonText, nastyJson, nastyString, postgrestStatus, RawJson } from "./arbitraries.ts";
import { count, report } from "./support.ts";

const RUNS = Number(process.env.CHAOS_FUZZ_RUNS ?? 300);
const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
const TRIGGERS = ["event", "schedule", "webhook", "manual"] as const;
const ACTIONS = ["webhook", "send_email", "update_field", "create_task", "delay", "log"];

let t: TestDatabase;
let member: TestUser;
let org: string;
let otherOrg: string;
let mine: string;
let theirs: string;
let action: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  org = await createOrg(t.db, "Fuzz API");
  otherOrg = await createOrg(t.db, "Other");
  member = await createUser(t.db, org, "member");
  mine = await createAutomation(t.db, org, { trigger_type: "manual", actions: [{ type: "log", config: { message: "hi" } }] });
  theirs = await createAutomation(t.db, otherOrg, { trigger_type: "manual" });
  action = (await t.db.query<{ id: string }>("select id from automation_actions where automation_id = $1", [mine]))[0]!.id;
  // The test template accepts any action type ('*', for probe actions); a real project does not.
  await t.db.query("delete from automations_engine.custom_action_types where action_type = '*'");
});
afterAll(() => t?.drop());

type Outcome = { ok: true; rows: number } | { ok: false; code: string; message: string };
const tally: Record<string, number> = {};
const bump = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
const disagreements: string[] = [];

/** One statement as the member, as PostgREST runs it: its own transaction, role authenticated. */
async function asMember(sql: string, params: unknown[]): Promise<Outcome> {
  try {
    const rows = await asUser(t.db, member.claims, (tx: Db) => tx.query(sql, params));
    bump("accepted");
    return { ok: true, rows: rows.length };
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    if (typeof err.code !== "string" || !/^[0-9A-Z]{5}$/.test(err.code)) throw e; // not a PostgreSQL error: a test or driver bug
    const status = postgrestStatus(err.code);
    bump(`${err.code} → ${status}`);
    if (status >= 500) throw new Error(`SQLSTATE ${err.code} (PostgREST answers ${status}): ${String(err.message)}`);
    expect(String(err.message)).toMatch(/\S{3}/);
    return { ok: false, code: err.code, message: String(err.message) };
  }
}

const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad });
const cron = fc.oneof(
  fc.constantFrom("*/5 * * * *", "0 9 * * MON-FRI", "@daily", "0 0 1 * *", "15 3 * * 7"),
  fc.constantFrom("* * * *", "61 * * * *", "*/0 * * * *", "H * * * *", "0 0 31 2 *", "* * * * * *", "1-", "@every 5m", "", " * * * * * "),
  nastyString,
);
const timezone = fc.oneof(fc.constantFrom("UTC", "Europe/Berlin", "America/New_York"), fc.constantFrom("Mars/Phobos", "UTC+3", "GMT-25", "", "europe/berlin"), nastyString);
const filter = fc.oneof(nastyJson, fc.constant({ ">": [{ var: "record.amount" }, 10] }), fc.constant({ changed: "status" }));
// Deeper than ~20,000 levels PostgreSQL's own JSON parser fails first (see the last test).
const deepJsonText = deepJsonTextUpTo(10_000);
const deep = deepJsonText.map((s) => new RawJson(s));
const deepFilter = deepJsonText.map((s) => new RawJson(`{"event":"invoice.paid","filter":{"and":[${s}]}}`));
const triggerConfig = fc.oneof(
  fc.record({ cron, timezone, missed: often(fc.constantFrom("skip", "once", "all"), nastyString), max_catch_up: often(fc.integer({ min: 1, max: 1000 }), fc.integer()) }, { requiredKeys: ["cron"] }),
  fc.record({ event: often(fc.constantFrom("invoice.paid", "deal.won"), nastyString), table: nastyString, operations: fc.array(often(fc.constantFrom("INSERT", "UPDATE", "DELETE"), nastyString)), filter }, { requiredKeys: [] }),
  fc.record({ content_types: fc.array(nastyString), max_body_bytes: fc.integer(), allow_draft: fc.boolean() }, { requiredKeys: [] }),
  nastyJson,
  deep,
  deepFilter,
);
const template = fc.oneof(nastyString, fc.constantFrom("{{trigger.payload.email}}", "{{ steps.0.output.id }}", "{{steps.first.output}}", "{{trigger.payload", "}}{{", "{{a}}{{b}}", "{{#each x}}", "{{=1+1}}", "${process.env}", "{{trigger.payload.__proto__.polluted}}"));
const actionConfig = fc.oneof(
  fc.record({ url: fc.oneof(fc.constant("https://example.com/hook"), template), method: often(fc.constantFrom("POST", "get"), nastyString), headers: fc.dictionary(nastyString, template, { maxKeys: 2 }), body: nastyJson }, { requiredKeys: ["url"] }),
  fc.record({ to: template, subject: template, text: template }, { requiredKeys: [] }),
  fc.record({ message: template, level: often(fc.constantFrom("info", "warn"), nastyString), data: nastyJson }, { requiredKeys: [] }),
  fc.record({ seconds: fc.oneof(fc.integer(), template), until: template }, { requiredKeys: [] }),
  fc.record({ table: template, id: template, field: template, value: nastyJson }, { requiredKeys: [] }),
  nastyJson,
  deepJsonText.map((s) => new RawJson(`{"message":"deep","data":${s}}`)),
);
const condition = fc.option(fc.oneof(nastyJson, deep, fc.record({ if: nastyJson, else: often(fc.constantFrom("skip", "stop"), nastyString) })), { freq: 2 });

/** TypeScript's verdict on a trigger config, or the exception it threw (a config it cannot even read). */
function tsVerdict(type: string, config: unknown): { ok: true } | { ok: false; problem: string } {
  try {
    const value = config instanceof RawJson ? JSON.parse(config.text) : config;
    const r = parseTriggerConfig(type as TriggerType, value);
    return r.ok ? { ok: true } : { ok: false, problem: r.problems[0]! };
  } catch (e) {
    return { ok: false, problem: `TypeScript threw ${String(e)}` };
  }
}

describe("fuzz: client API under RLS (automations, automation_actions)", () => {
  it(`${RUNS} automation inserts: accepted and valid, or refused with a 4xx and nothing written`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          org: often(fc.constant("own"), fc.constantFrom("other", "random", "junk")),
          name: nastyString,
          description: fc.option(nastyString),
          trigger_type: often(fc.constantFrom(...TRIGGERS), nastyString),
          trigger_config: triggerConfig,
          status: often(fc.constantFrom("active", "paused", "draft", "archived"), nastyString),
          max_attempts: often(fc.integer({ min: 1, max: 10 }), fc.integer()),
        }),
        async (x) => {
          const orgId = { own: org, other: otherOrg, random: crypto.randomUUID(), junk: "'; select 1; --" }[x.org];
          const before = await count(t.db, "select count(*)::int as n from automations");
          const out = await asMember(
            `insert into public.automations (org_id, name, description, trigger_type, trigger_config, status, max_attempts)
             values ($1, $2, $3, $4, $5::jsonb, $6, $7) returning id`,
            [orgId, x.name, x.description, x.trigger_type, jsonText(x.trigger_config), x.status, x.max_attempts],
          );
          expect(await count(t.db, "select count(*)::int as n from automations")).toBe(before + (out.ok ? 1 : 0));
          if (out.ok) {
            expect(x.org).toBe("own");
            // Stored means the scheduler and the event matcher will accept it (JsonLogic arity is checked in TypeScript only).
            const ts = tsVerdict(x.trigger_type, x.trigger_config);
            const filtered = x.trigger_type === "event" && jsonText(x.trigger_config).includes('"filter"');
            if (!ts.ok && (!filtered || ts.problem.includes("threw"))) throw new Error(`stored a ${x.trigger_type} trigger_config TypeScript rejects: ${ts.problem} (${jsonText(x.trigger_config).slice(0, 120)})`);
            if (!ts.ok) disagreements.push(`trigger: ${ts.problem}`);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 180_000);

  it(`${RUNS} action inserts (1–3 rows per statement): all or nothing, known types only`, async () => {
    // A null action_config has its own test below.
    const spec = fc.record({ type: often(fc.constantFrom(...ACTIONS), fc.oneof(fc.constantFrom("webhok", "", "LOG", "__proto__", "constructor", "*"), nastyString)), config: actionConfig.filter((c) => c !== null), position: often(fc.integer({ min: -5, max: 100 }), fc.oneof(fc.integer(), fc.constant(2 ** 31))), name: fc.option(nastyString), condition });
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 3 }), often(fc.constant(true), fc.constant(false)), async (rows, own) => {
        const before = await count(t.db, "select count(*)::int as n from automation_actions");
        const out = await asMember(
          `insert into public.automation_actions (org_id, automation_id, action_type, action_config, position, name, condition)
           select $1, $2, x.type, x.config, x.position, x.name, x.condition
             from jsonb_to_recordset($3::jsonb) as x(type text, config jsonb, position int, name text, condition jsonb) returning id`,
          [own ? org : otherOrg, own ? mine : theirs, jsonText(rows)],
        );
        expect(await count(t.db, "select count(*)::int as n from automation_actions")).toBe(before + (out.ok ? rows.length : 0));
        if (out.ok) {
          expect(own).toBe(true);
          for (const r of rows) {
            expect(ACTIONS, `stored unknown action type ${JSON.stringify(r.type)}`).toContain(r.type);
            const problems = r.config instanceof RawJson ? [] : validateActionConfig(r.type, r.config);
            if (problems.length) disagreements.push(`action ${r.type}: ${problems[0]}`);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 180_000);

  it(`${RUNS} updates of an automation and an action: a refused update leaves the row exactly as it was`, async () => {
    const snapshot = async () => (await t.db.query("select a.*, (select to_jsonb(x) from automation_actions x where x.id = $2) as action from automations a where a.id = $1", [mine, action]))[0];
    await fc.assert(
      fc.asyncProperty(
        fc.record({ name: nastyString, trigger_type: often(fc.constantFrom(...TRIGGERS), nastyString), trigger_config: triggerConfig, status: often(fc.constantFrom("active", "paused", "draft"), nastyString), org: often(fc.constant(org), fc.constant(otherOrg)) }),
        fc.record({ action_type: often(fc.constantFrom(...ACTIONS), nastyString), action_config: actionConfig, position: fc.integer() }),
        fc.constantFrom("automation", "action", "theirs"),
        async (a, s, which) => {
          const before = await snapshot();
          const out =
            which === "action"
              ? await asMember("update public.automation_actions set action_type = $2, action_config = $3::jsonb, position = $4 where id = $1 returning id", [action, s.action_type, jsonText(s.action_config), s.position])
              : await asMember(
                  "update public.automations set name = $2, trigger_type = $3, trigger_config = $4::jsonb, status = $5, org_id = $6 where id = $1 returning id",
                  [which === "theirs" ? theirs : mine, a.name, a.trigger_type, jsonText(a.trigger_config), a.status, a.org],
                );
          if (!out.ok || out.rows === 0) expect(await snapshot()).toEqual(before);
          if (which === "theirs") expect(out.ok ? out.rows : 0, "RLS: another org's automation is invisible").toBe(0);
          if (out.ok && out.rows > 0 && which === "automation") {
            expect(a.org).toBe(org);
            const ts = tsVerdict(a.trigger_type, a.trigger_config);
            if (!ts.ok && (a.trigger_type !== "event" || ts.problem.includes("threw"))) throw new Error(`update stored a ${a.trigger_type} config TypeScript rejects: ${ts.problem}`);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    report("fuzz.client_api", { cases: RUNS * 3, outcomes: tally, ts_sql_disagreements: disagreements.length, examples: [...new Set(disagreements)].slice(0, 5) });
  }, 180_000);

  it("platform limit: JSON nested ~30,000+ levels fails in PostgreSQL's own parser (54001) before any trigger; nothing is written", async () => {
    const before = await count(t.db, "select count(*)::int as n from automations");
    const out = await asUser(t.db, member.claims, (tx) =>
      tx.query("insert into public.automations (org_id, name, trigger_type, trigger_config) values ($1, 'deep', 'event', $2::jsonb)", [org, `{"event":"x","filter":${deepJson(100_000, "array")}}`]),
    ).then(() => null, (e: { code?: string }) => e.code);
    // PostgREST answers 54xxx with 500; only a body limit in front of it (API gateway) can turn this into a 4xx.
    expect(out).toBe("54001");
    expect(await count(t.db, "select count(*)::int as n from automations")).toBe(before);
  });

  it("a null trigger_config or action_config is refused with a message that names it", async () => {
    const before = [await count(t.db, "select count(*)::int as n from automations"), await count(t.db, "select count(*)::int as n from automation_actions")];
    const a = await asMember("insert into public.automations (org_id, name, trigger_type, trigger_config) values ($1, 'n', 'schedule', null) returning id", [org]);
    const b = await asMember("insert into public.automation_actions (org_id, automation_id, action_type, action_config) values ($1, $2, 'webhook', null) returning id", [org, mine]);
    for (const [out, column] of [[a, "trigger_config"], [b, "action_config"]] as const) {
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.message, `refusing a null ${column}`).toMatch(new RegExp(column));
    }
    expect([await count(t.db, "select count(*)::int as n from automations"), await count(t.db, "select count(*)::int as n from automation_actions")]).toEqual(before);
  });
});
