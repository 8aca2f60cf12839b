// automations-webhook: Standard Webhooks signatures, idempotent redelivery,
// every rejection a clear 4xx that writes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import type { Handler } from "../../shared/http/route.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { createAutomation } from "../helpers/automations.ts";
import { appDeps, TEST_AUTH } from "../helpers/app_deps.ts";
import { CAUSE_HEADER, signCause } from "../../shared/http/run_cause_header.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";
import { asUser } from "../../shared/db/as_user.ts";

let t: TestDatabase;
let handler: Handler;
let kicks = 0;
let org: string;
let hook: string;
let secret: string;

const URL_BASE = "http://127.0.0.1:54321/functions/v1/automations-webhook";

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Hooks");
  hook = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
  const [r] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [hook]);
  secret = r!.s;
  handler = createWebhookHandler(appDeps(t.db, { kick: () => kicks++ }));
});
afterAll(() => t.drop());

let before = 0;
const runCount = async () =>
  (await t.db.query<{ n: number }>("select count(*)::int as n from automation_runs"))[0]!.n;
beforeEach(async () => {
  before = await runCount();
});

function post(body: string, opts: { id?: string; headers?: Record<string, string>; at?: Date; key?: string; target?: string; method?: string } = {}) {
  const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const signed = signWebhook(opts.key ?? secret, id, body, opts.at ?? new Date());
  return handler(
    new Request(`${URL_BASE}/${opts.target ?? hook}`, {
      method: opts.method ?? "POST",
      headers: { "content-type": "application/json", ...signed, ...opts.headers },
      body: opts.method === "GET" ? undefined : body,
    }),
  );
}

async function expectError(res: Response, status: number, message: RegExp) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string } };
  expect(body.error.message).toMatch(message);
  expect(await runCount()).toBe(before);
}

describe("automations-webhook", () => {
  it("accepts a signed delivery: 202 {run_id}, a pending run with the body as trigger payload, worker kicked", async () => {
    const k = kicks;
    const res = await post('{"name":"Ada","amount":5}', { id: "msg_ok" });
    expect(res.status).toBe(202);
    const { run_id, duplicate } = (await res.json()) as { run_id: string; duplicate: boolean };
    expect(duplicate).toBe(false);
    const [run] = await t.db.query<{ trigger_type: string; trigger_payload: unknown; idempotency_key: string }>(
      "select trigger_type, trigger_payload, idempotency_key from automation_runs where id = $1",
      [run_id],
    );
    expect(run).toEqual({ trigger_type: "webhook", trigger_payload: { name: "Ada", amount: 5 }, idempotency_key: "webhook:msg_ok" });
    expect(kicks).toBe(k + 1);
  });

  it("a redelivery (same webhook-id) answers with the same run id and creates nothing", async () => {
    const first = (await (await post("{}", { id: "msg_dup" })).json()) as { run_id: string };
    const again = await post("{}", { id: "msg_dup" });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ run_id: first.run_id, duplicate: true });
    expect(await runCount()).toBe(before + 1);
  });

  it("accepts form-encoded bodies", async () => {
    const res = await post("name=Ada&tag=a&tag=b", { headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    const [run] = await t.db.query<{ p: unknown }>("select trigger_payload as p from automation_runs where id = $1", [run_id]);
    expect(run!.p).toEqual({ name: "Ada", tag: ["a", "b"] });
  });

  it("accepts any of several signatures (sender rotating keys) and the previous secret during its grace period", async () => {
    const body = '{"x":1}';
    const id = "msg_multi";
    const at = new Date();
    const good = signWebhook(secret, id, body, at)["webhook-signature"];
    const other = new Webhook("whsec_" + btoa("another-secret-another-secret!!")).sign(id, at, body);
    const res = await post(body, { id, at, headers: { "webhook-signature": `${other} ${good}` } });
    expect(res.status).toBe(202);

    const auto = await createAutomation(t.db, org, { trigger_type: "webhook" });
    const [a] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [auto]);
    const [b] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [auto]);
    expect((await post("{}", { key: a!.s, target: auto })).status).toBe(202);
    expect((await post("{}", { key: b!.s, target: auto })).status).toBe(202);
    await t.db.query("select public.rotate_webhook_secret($1, interval '0')", [auto]);
    before = await runCount();
    await expectError(await post("{}", { key: b!.s, target: auto }), 401, /invalid signature/);
  });

  it("401: missing headers, wrong signature, expired or future timestamp", async () => {
    await expectError(
      await handler(new Request(`${URL_BASE}/${hook}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })),
      401,
      /missing signature headers/,
    );
    await expectError(await post("{}", { key: "whsec_" + btoa("not-the-right-secret-at-all-123") }), 401, /invalid signature/);
    await expectError(await post("{}", { at: new Date(Date.now() - 6 * 60_000) }), 401, /more than 5 minutes old/);
    await expectError(await post("{}", { at: new Date(Date.now() + 6 * 60_000) }), 401, /in the future/);
    // A signature over a different body.
    const sig = signWebhook(secret, "msg_x", '{"a":1}');
    await expectError(
      await handler(new Request(`${URL_BASE}/${hook}`, { method: "POST", headers: { "content-type": "application/json", ...sig }, body: '{"a":2}' })),
      401,
      /invalid signature/,
    );
  });

  it("Standard Webhooks vectors: ±299 s accepted, ±301 s rejected, another automation's secret rejected, each header required", async () => {
    for (const skew of [-299, 299]) {
      expect((await post("{}", { at: new Date(Date.now() + skew * 1000) })).status).toBe(202);
    }
    before = await runCount();
    for (const skew of [-301, 301]) {
      await expectError(await post("{}", { at: new Date(Date.now() + skew * 1000) }), 401, /5 minutes/);
    }
    const other = await createAutomation(t.db, org, { trigger_type: "webhook" });
    const [o] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [other]);
    await expectError(await post("{}", { key: o!.s }), 401, /invalid signature/);
    for (const header of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const signed = signWebhook(secret, "msg_hdr", "{}");
      delete (signed as Record<string, string>)[header];
      await expectError(
        await handler(new Request(`${URL_BASE}/${hook}`, { method: "POST", headers: { "content-type": "application/json", ...signed }, body: "{}" })),
        401,
        /missing signature headers/,
      );
    }
  });

  it("404 (one answer) for unknown, malformed, inactive, non-webhook or secretless automations", async () => {
    const paused = await createAutomation(t.db, org, { trigger_type: "webhook", status: "paused" });
    await t.db.query("select public.rotate_webhook_secret($1)", [paused]);
    const manual = await createAutomation(t.db, org, { trigger_type: "manual" });
    await t.db.query("select public.rotate_webhook_secret($1)", [manual]);
    const secretless = await createAutomation(t.db, org, { trigger_type: "webhook" });
    for (const target of ["00000000-0000-4000-8000-000000000000", "not-a-uuid", paused, manual, secretless]) {
      await expectError(await post("{}", { target }), 404, /no active webhook automation with this id/);
    }
  });

  it("400 invalid JSON (after the signature checks out), 405 wrong method, 415 content type, 413 too large", async () => {
    await expectError(await post("{nope"), 400, /body is not valid JSON/);
    await expectError(await post("{}", { method: "GET" }), 405, /use POST/);
    await expectError(await post("<xml/>", { headers: { "content-type": "text/xml" } }), 415, /"text\/xml" is not accepted/);
    const big = JSON.stringify({ blob: "x".repeat(1_100_000) });
    await expectError(await post(big), 413, /larger than the 1048576-byte limit/);
  });

  it("stops reading an oversized body at the limit even without Content-Length", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 65_536;
        if (pulled > 50_000_000) return c.close();
        c.enqueue(new Uint8Array(65_536).fill(32));
      },
    });
    const sig = signWebhook(secret, "msg_stream", "");
    const res = await handler(
      new Request(`${URL_BASE}/${hook}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...sig },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    await expectError(res, 413, /limit/);
    expect(pulled).toBeLessThan(2_000_000);
  });
});

describe("rotate_webhook_secret()", () => {
  it("returns a whsec_ secret once; members can neither read secrets nor rotate; other orgs get not found", async () => {
    const admin = await createUser(t.db, org, "admin");
    const member = await createUser(t.db, org, "member");
    const outsider = await createUser(t.db, await createOrg(t.db, "Other"), "owner");
    const [r] = await asUser(t.db, admin.claims, (tx) => tx.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [hook]));
    expect(r!.s).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    await expect(asUser(t.db, member.claims, (tx) => tx.query("select public.rotate_webhook_secret($1)", [hook]))).rejects.toMatchObject({ code: "42501" });
    await expect(asUser(t.db, outsider.claims, (tx) => tx.query("select public.rotate_webhook_secret($1)", [hook]))).rejects.toMatchObject({ code: "P0002" });
    await expect(asUser(t.db, admin.claims, (tx) => tx.query("select * from automations_engine.webhook_secrets"))).rejects.toMatchObject({ code: "42501" });
    secret = r!.s;
  });
});

describe("automations-webhook called back by one of our runs (x-automations-cause)", () => {
  it("the delivery's run joins the calling run's chain; past the chain budget it is refused with 409 and counted", async () => {
    const caller = await createAutomation(t.db, org, { name: "caller", actions: [] });
    const [{ id: root }] = (await t.db.query<{ id: string }>("select public.run_automation($1) as id", [caller])) as [{ id: string }];
    const cause = { [CAUSE_HEADER]: signCause(TEST_AUTH.serviceRoleKey, root) };

    const res = await post("{}", { headers: cause });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    const [row] = await t.db.query("select root_run_id, chain_depth from automation_runs where id = $1", [run_id]);
    expect(row).toEqual({ root_run_id: root, chain_depth: 1 });

    await t.db.query("insert into automation_settings (org_id, chain_run_budget) values ($1, 2) on conflict (org_id) do update set chain_run_budget = 2", [org]);
    before = await runCount();
    await expectError(await post("{}", { headers: cause }), 409, /chain budget of 2 runs from root run/);
    const [refusal] = await t.db.query<{ refused_runs: number }>("select refused_runs from automation_chain_refusals where root_run_id = $1", [root]);
    expect(refusal!.refused_runs).toBe(1);
    // A forged header is no cause: the delivery is a root of its own and goes through.
    const forged = await post("{}", { headers: { [CAUSE_HEADER]: `${root}.forged` } });
    expect(forged.status).toBe(202);
    await t.db.query("delete from automation_settings where org_id = $1", [org]);
  });
});
