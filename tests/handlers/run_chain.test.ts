// Chains across HTTP, on the real local functions server on loopback: a
// webhook step that calls automations-run for its own automation with the
// member's JWT carries the run's signed x-automations-cause header, so the
// new run joins the caller's chain and the chain budget stops the loop.
// Without it the loop never ends (every call is a fresh root).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookAction } from "../../shared/actions/webhook.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { createEventHandler } from "../../shared/handlers/event.ts";
import { createRunHandler } from "../../shared/handlers/run.ts";
import { CAUSE_HEADER, signCause } from "../../shared/http/run_cause_header.ts";
import { createFunctionsServer, listen } from "../../local/server.ts";
import { createAutomation, engineDeps } from "../helpers/automations.ts";
import { appDeps, TEST_AUTH, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let server: Server;
let base: string;
let orgA: string;
let orgB: string;
let alice: TestUser;
let token: string;

beforeAll(async () => {
  t = await createTestDatabase();
  orgA = await createOrg(t.db, "Loop A");
  orgB = await createOrg(t.db, "Loop B");
  alice = await createUser(t.db, orgA, "member");
  token = await userJwt(alice.claims);
  const deps = appDeps(t.db);
  server = createFunctionsServer({ "automations-run": createRunHandler(deps), "automations-event": createEventHandler(deps) });
  await listen(server, 0, "127.0.0.1");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await t.drop();
});

async function drainAll(): Promise<void> {
  const worker = new Worker({ ...engineDeps(t.db, [webhookAction as ActionDefinition<unknown>], { auth: TEST_AUTH }), concurrency: 4 });
  for (let i = 0; i < 500; i++) {
    await worker.drain(30_000);
    const [{ n }] = (await t.db.query<{ n: number }>("select count(*)::int as n from automation_runs where status in ('pending', 'running')")) as [{ n: number }];
    if (n === 0) return;
  }
  throw new Error("runs kept coming: the chain was not stopped");
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("chains across HTTP (x-automations-cause)", () => {
  it("a manual automation whose webhook steps call automations-run for itself stops at the chain budget", async () => {
    const id = await createAutomation(t.db, orgA, { name: "calls itself" });
    const call = { type: "webhook", config: { url: `${base}/automations-run`, headers: { authorization: `Bearer ${token}` }, body: { automation_id: id } } };
    // Two calls per run: fan-out 2, so the budget (100 runs) ends it before the depth (10) does.
    await t.db.query(
      `insert into automation_actions (org_id, automation_id, action_type, action_config, position)
       select $1, $2, 'webhook', $3::jsonb, p from generate_series(0, 1) p`,
      [orgA, id, JSON.stringify(call.config)],
    );
    const first = await post("automations-run", { automation_id: id });
    expect(first.status).toBe(202);
    const { run_id: root } = (await first.json()) as { run_id: string };
    await drainAll();

    const runs = await t.db.query<{ id: string; root_run_id: string | null; chain_depth: number; status: string; error_message: string | null }>(
      "select id, root_run_id, chain_depth, status::text, error_message from automation_runs where automation_id = $1",
      [id],
    );
    expect(runs).toHaveLength(100);
    expect(runs.filter((r) => r.id !== root).every((r) => r.root_run_id === root && r.chain_depth > 0)).toBe(true);
    // Runs whose call was refused failed that step with our 409, not retried.
    const failed = runs.filter((r) => r.status === "failed");
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) expect(r.error_message).toMatch(/409.*chain budget of 100 runs from root run/);
    const [refusal] = await t.db.query<{ root_run_id: string; refused_runs: number }>(
      "select root_run_id, refused_runs from automation_chain_refusals where org_id = $1",
      [orgA],
    );
    expect(refusal!.root_run_id).toBe(root);
    expect(refusal!.refused_runs).toBeGreaterThanOrEqual(failed.length);
  });

  it("a valid header joins the chain; a forged one, or one naming another org's run, is ignored", async () => {
    const id = await createAutomation(t.db, orgA, { name: "plain", actions: [] });
    const idB = await createAutomation(t.db, orgB, { name: "other org", actions: [] });
    const [{ id: causeA }] = (await t.db.query<{ id: string }>("select public.run_automation($1) as id", [id])) as [{ id: string }];
    const [{ id: causeB }] = (await t.db.query<{ id: string }>("select public.run_automation($1) as id", [idB])) as [{ id: string }];

    const chained = async (header: string | null) => {
      const res = await post("automations-run", { automation_id: id }, header ? { [CAUSE_HEADER]: header } : {});
      expect(res.status).toBe(202);
      const { run_id } = (await res.json()) as { run_id: string };
      const [row] = await t.db.query<{ root_run_id: string | null; chain_depth: number }>(
        "select root_run_id, chain_depth from automation_runs where id = $1",
        [run_id],
      );
      return row;
    };
    expect(await chained(signCause(TEST_AUTH.serviceRoleKey, causeA))).toEqual({ root_run_id: causeA, chain_depth: 1 });
    expect(await chained(`${causeA}.not-the-signature`)).toEqual({ root_run_id: null, chain_depth: 0 });
    expect(await chained(signCause("some other secret", causeA))).toEqual({ root_run_id: null, chain_depth: 0 });
    expect(await chained(signCause(TEST_AUTH.serviceRoleKey, causeB))).toEqual({ root_run_id: null, chain_depth: 0 });
  });

  it("automations-event: an event posted by a run joins its chain; over budget the automation is skipped and the refusal recorded", async () => {
    await t.db.query("insert into automation_settings (org_id, chain_run_budget) values ($1, 2)", [orgB]);
    const id = await createAutomation(t.db, orgB, { trigger_type: "event", trigger_config: { event: "ping" }, actions: [] });
    const manual = await createAutomation(t.db, orgB, { name: "root", actions: [] });
    const [{ id: root }] = (await t.db.query<{ id: string }>("select public.run_automation($1) as id", [manual])) as [{ id: string }];
    const send = (n: number) =>
      fetch(`${base}/automations-event`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_AUTH.serviceRoleKey}`, "content-type": "application/json", [CAUSE_HEADER]: signCause(TEST_AUTH.serviceRoleKey, root) },
        body: JSON.stringify({ event: "ping", org_id: orgB, id: `ping-${n}`, payload: {} }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { matched: number; skipped: Array<{ reason: string }> } }));
    const one = await send(1);
    expect(one).toMatchObject({ status: 202, body: { matched: 1 } });
    const two = await send(2);
    expect(two.status).toBe(202);
    expect(two.body.matched).toBe(0);
    expect(two.body.skipped[0]!.reason).toMatch(/chain budget of 2 runs/);
    const rows = await t.db.query<{ root_run_id: string; chain_depth: number }>(
      "select root_run_id, chain_depth from automation_runs where automation_id = $1",
      [id],
    );
    expect(rows).toEqual([{ root_run_id: root, chain_depth: 1 }]);
    const [refusal] = await t.db.query<{ refused_runs: number }>("select refused_runs from automation_chain_refusals where root_run_id = $1", [root]);
    expect(refusal!.refused_runs).toBe(1);
  });
});
