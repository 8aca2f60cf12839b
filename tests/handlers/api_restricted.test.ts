// A restricted run (its automation writes to the database) keeps its payload
// and result in automation_run_payloads: GET /runs/<id> and automations-run
// show them to the run's acting member and the redaction marker to everyone
// else in the org (RLS decides; the handler only joins).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAction } from "../../shared/actions/registry.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { createApiHandler } from "../../shared/handlers/api.ts";
import { createRunHandler } from "../../shared/handlers/run.ts";
import { createAutomation, engineDeps } from "../helpers/automations.ts";
import { appDeps, functionRequest, userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let acting: TestUser;
let admin: TestUser;
let runId: string;
let auto: string;
const api = () => createApiHandler(appDeps(t.db));

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.exec(readFileSync(new URL("../../supabase/seed/tasks_module.sql", import.meta.url), "utf8"));
  const org = await createOrg(t.db, "Org R");
  acting = await createUser(t.db, org, "member");
  admin = await createUser(t.db, org, "admin");
  auto = await createAutomation(t.db, org, { actions: [{ type: "create_task", config: { title: "Call {{trigger.payload.name}}" } }] });
  await t.db.query("update public.automations set acting_user_id = $2 where id = $1", [auto, acting.userId]);
  const [r] = await t.db.query<{ id: string; restricted: boolean }>(
    `insert into public.automation_runs (org_id, automation_id, status, trigger_type, trigger_payload, started_at)
     select org_id, id, 'running', 'manual', '{"name": "Secret deal"}', now() from public.automations where id = $1
     returning id, restricted`,
    [auto],
  );
  expect(r!.restricted).toBe(true);
  runId = r!.id;
  await t.db.query(`update public.automation_runs set status = 'completed', completed_at = now(), result = '{"task": "T-1"}' where id = $1`, [runId]);
});
afterAll(() => t.drop());

const getRun = async (u: TestUser) =>
  (await (await api()(functionRequest("automations-api", { method: "GET", token: await userJwt(u.claims), suffix: `/runs/${runId}` }))).json()) as any;

describe("restricted runs through automations-api", () => {
  it("the acting member reads the real payload and result", async () => {
    const r = await getRun(acting);
    expect(r.trigger_payload).toEqual({ name: "Secret deal" });
    expect(r.result).toEqual({ task: "T-1" });
  });

  it("another member of the org, even an admin, reads the redaction marker only", async () => {
    const r = await getRun(admin);
    expect(r.id).toBe(runId);
    expect(r.trigger_payload).toMatchObject({ redacted: true });
    expect(r.result).toMatchObject({ redacted: true });
    expect(JSON.stringify(r)).not.toContain("Secret deal");
    expect(JSON.stringify(r)).not.toContain("T-1");
  });
});

describe("restricted runs through automations-run (wait)", () => {
  it("the acting member who runs it with wait gets its real result, not the marker", async () => {
    await t.db.query("update public.automations set status = 'active' where id = $1", [auto]);
    await t.db.query("update public.automations set acting_user_id = $2 where id = $1", [auto, acting.userId]);
    const worker = new Worker({ ...engineDeps(t.db, [getAction("create_task")!]), concurrency: 1 });
    const drains: Promise<unknown>[] = [];
    const h = createRunHandler(appDeps(t.db, { kick: () => void drains.push(worker.drain(10_000)) }));
    const res = await h(functionRequest("automations-run", { token: await userJwt(acting.claims), body: { automation_id: auto, payload: { name: "Ada" }, wait: true } }));
    const body = (await res.json()) as any;
    await Promise.all(drains);
    expect(body.status, JSON.stringify(body)).toBe("completed");
    expect(body.result).not.toHaveProperty("redacted");
    expect(JSON.stringify(body.result)).toContain("Call Ada");
  });
});
