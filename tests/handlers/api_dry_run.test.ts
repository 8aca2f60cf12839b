// POST automations-api/automations/<id>/test on a real PostgreSQL, as the
// signed-in user: the dry-run contract's shape, RLS (another org's id is
// 404, a restricted run's payload only for its acting member), 400s that say
// what is wrong, and proof that nothing is written or sent.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../shared/handlers/api.ts";
import type { Handler } from "../../shared/http/route.ts";
import { createAutomation } from "../helpers/automations.ts";
import { appDeps, functionRequest, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let alice: TestUser; // member of org A
let carol: TestUser; // member of org A, the acting member of restricted runs
let token: string;
let bobToken: string; // member of org B
let handler: Handler;
let flow: string;
let server: Server;
let hits = 0;
let hookUrl = "";

const LEAD = { id: 5, name: "Ada", kind: "lead", email: "ada@example.com" };

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.exec(readFileSync(new URL("../../supabase/seed/tasks_module.sql", import.meta.url), "utf8"));
  server = createServer((req, res) => {
    hits++;
    res.end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const a = await createOrg(t.db, "Org A");
  const b = await createOrg(t.db, "Org B");
  alice = await createUser(t.db, a, "member");
  carol = await createUser(t.db, a, "member");
  token = await userJwt(alice.claims);
  bobToken = await userJwt((await createUser(t.db, b, "member")).claims);
  flow = await createAutomation(t.db, a, {
    name: "Lead flow",
    trigger_type: "webhook",
    status: "draft",
    actions: [
      {
        type: "webhook",
        name: "notify",
        config: {
          url: `${hookUrl}?lead={{trigger.payload.id}}`,
          headers: { Authorization: "Bearer sk_test_do_not_print" },
          body: { lead: "{{trigger.payload.name}}" },
        },
      },
      {
        type: "create_task",
        config: { title: "Call {{trigger.payload.name}}" },
        condition: { if: { "==": [{ var: "trigger.payload.kind" }, "lead"] } },
      },
      { type: "update_field", config: { table: "tasks", id: "{{steps.notify.output.body.task_id}}", field: "title", value: "done" } },
      { type: "send_email", config: { to: "{{trigger.payload.email}}", subject: "Welcome {{trigger.payload.name}}", text: "Hi" } },
    ],
  });
  handler = createApiHandler(appDeps(t.db));
});
afterAll(async () => {
  server?.close();
  await t.drop();
});

const test = (id: string, body?: unknown, tok: string | null = token) =>
  handler(functionRequest("automations-api", { method: "POST", token: tok ?? undefined, suffix: `/automations/${id}/test`, body }));
const bodyOf = async (res: Response) => (await res.json()) as any;

/** Rows in every table a run (or its actions) would write. */
async function counts() {
  const [r] = await t.db.query(
    `select (select count(*) from public.automation_runs)::int as runs,
            (select count(*) from public.automation_run_steps)::int as steps,
            (select count(*) from public.automation_run_payloads)::int as payloads,
            (select count(*) from public.tasks)::int as tasks,
            (select count(*) from public.automation_versions)::int as versions`,
  );
  return r;
}

async function insertRun(automationId: string, payload: unknown, opts: { minutesAgo: number }) {
  await t.db.query(
    `insert into public.automation_runs (org_id, automation_id, status, trigger_type, trigger_payload, created_at, started_at, completed_at)
     select org_id, id, 'completed', trigger_type, $2::jsonb, now() - make_interval(mins => $3), now(), now()
       from public.automations where id = $1`,
    [automationId, JSON.stringify(payload), opts.minutesAgo],
  );
}

describe("automations-api dry run", () => {
  it("says what each step would do, as the contract shapes it, and writes and sends nothing", async () => {
    const before = await counts();
    const res = await test(flow, { payload: LEAD });
    expect(res.status).toBe(200);
    const r = await bodyOf(res);
    expect(r).toMatchObject({ automation_id: flow, dry_run: true, trigger: { type: "webhook", payload: LEAD }, payload_source: "given" });
    expect(r.steps.map((s: any) => [s.index, s.name, s.type, s.would, s.error])).toEqual([
      [0, "notify", "webhook", "run", null],
      [1, null, "create_task", "run", null],
      [2, null, "update_field", "run", null],
      [3, null, "send_email", "run", null],
    ]);
    const [hook, task, update, email] = r.steps;
    expect(hook.preview).toMatchObject({ method: "POST", url: `${hookUrl}?lead=5`, body: { lead: "Ada" } });
    expect(hook.preview.headers.authorization).toBe("\u2039redacted\u203a");
    expect(JSON.stringify(r)).not.toContain("sk_test_do_not_print");
    expect(task.condition).toEqual({ if: { "==": [{ var: "trigger.payload.kind" }, "lead"] }, outcome: true, else: "skip" });
    expect(task.preview).toMatchObject({ title: "Call Ada" });
    expect(update.unknown).toEqual(["steps.notify.output.body.task_id"]);
    expect(update.preview).toEqual({ table: "tasks", id: "\u2039unknown: steps.notify.output.body.task_id\u203a", field: "title", value: "done" });
    expect(email.preview).toEqual({ to: ["ada@example.com"], subject: "Welcome Ada", body: "Hi" });

    // A false condition, and the same automation again: still nothing written.
    const skipped = await bodyOf(await test(flow, { payload: { ...LEAD, kind: "spam" } }));
    expect(skipped.steps[1]).toMatchObject({ would: "skip", condition: { outcome: false } });
    expect(await counts()).toEqual(before);
    expect(hits).toBe(0);
  });

  it("without a payload uses the last run's the user may read, else {}", async () => {
    const empty = await bodyOf(await test(flow));
    expect(empty).toMatchObject({ payload_source: "empty", trigger: { payload: {} } });
    // No id in {}: the webhook's template fails as a run would.
    expect(empty.steps[0].error).toMatch(/"id" is not present in trigger\.payload/);

    // Plain automations' runs carry their payload for every member.
    const plain = await createAutomation(t.db, alice.orgId, { actions: [{ type: "log", config: { message: "hi {{trigger.payload.name}}" } }] });
    await insertRun(plain, { name: "Older" }, { minutesAgo: 10 });
    await insertRun(plain, { name: "Lin" }, { minutesAgo: 5 });
    const p = await bodyOf(await test(plain));
    expect(p).toMatchObject({ payload_source: "last_run", trigger: { type: "manual", payload: { name: "Lin" } } });
    expect(p.steps[0].config).toEqual({ message: "hi Lin" });

    // Lead flow writes to the database, so its runs are restricted: only the
    // run's acting member reads the payload (here: none, alice, then carol).
    await insertRun(flow, { ...LEAD, name: "Nobody's" }, { minutesAgo: 10 });
    await t.db.query("update public.automations set acting_user_id = $2 where id = $1", [flow, alice.userId]);
    await insertRun(flow, { ...LEAD, name: "Grace" }, { minutesAgo: 5 });
    await t.db.query("update public.automations set acting_user_id = $2 where id = $1", [flow, carol.userId]);
    await insertRun(flow, { ...LEAD, name: "Secret deal" }, { minutesAgo: 1 });
    const flags = await t.db.query<{ restricted: boolean }>("select restricted from public.automation_runs where automation_id = $1", [flow]);
    expect(flags.map((f) => f.restricted)).toEqual([true, true, true]);

    const last = await bodyOf(await test(flow, ""));
    expect(last).toMatchObject({ payload_source: "last_run", trigger: { payload: { ...LEAD, name: "Grace" } } });
    expect(JSON.stringify(last)).not.toContain("Secret deal");
    const asCarol = await bodyOf(await test(flow, {}, await userJwt(carol.claims)));
    expect(asCarol).toMatchObject({ payload_source: "last_run", trigger: { payload: { ...LEAD, name: "Secret deal" } } });
    // Nobody reads the first run's payload through the API: not even as the redaction marker.
    const admin = await createUser(t.db, alice.orgId, "admin");
    expect((await bodyOf(await test(flow, {}, await userJwt(admin.claims)))).payload_source).toBe("empty");
  });

  it("another org's automation, an unknown id and a malformed id are 404", async () => {
    for (const [id, tok] of [
      [flow, bobToken],
      ["00000000-0000-4000-8000-00000000dead", token],
      ["not-a-uuid", token],
    ] as const) {
      const res = await test(id, { payload: LEAD }, tok);
      expect(res.status).toBe(404);
      expect((await bodyOf(res)).error.code).toBe("not_found");
    }
  });

  it("bad bodies are 400 with what is wrong; no token is 401; GET is 405", async () => {
    const cases: Array<[unknown, RegExp]> = [
      ["{not json", /not valid JSON/],
      [{ payload: [1, 2] }, /payload must be a JSON object/],
      [{ payload: "x" }, /payload must be a JSON object/],
      [{ payload: null }, /payload must be a JSON object/],
      [{ payload: {}, extra: 1 }, /unknown parameter "extra"/],
      [[1], /the body must be empty or a JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await test(flow, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await bodyOf(res)).error.message).toMatch(message);
    }
    expect((await test(flow, { payload: LEAD }, null)).status).toBe(401);
    const get = await handler(functionRequest("automations-api", { method: "GET", token, suffix: `/automations/${flow}/test` }));
    expect(get.status).toBe(405);
  });
});
