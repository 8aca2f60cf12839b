// What a webhook automation's trigger_config does to deliveries: provider
// secrets (set_webhook_secret, grace period), trigger.headers kept on the run
// and readable by templates, the filter, content_types / max_body_bytes,
// Slack's handshake, documented test vectors, and config changes acting at once.
import { sign as githubSign } from "@octokit/webhooks-methods";
import { createHmac } from "node:crypto";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser } from "../../shared/db/as_user.ts";
import { buildRunContext } from "../../shared/engine/run_context.ts";
import { resolveTemplates } from "../../shared/engine/expressions/templates.ts";
import type { ClaimedRun } from "../../shared/engine/types.ts";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import type { Handler } from "../../shared/http/route.ts";
import { verifyDelivery } from "../../shared/triggers/verify/index.ts";
import { appDeps } from "../helpers/app_deps.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser } from "../helpers/fixtures.ts";

let t: TestDatabase;
let handler: Handler;
let org: string;
const URL_BASE = "http://127.0.0.1:54321/functions/v1/automations-webhook";
const GH_SECRET = "github-secret-for-config-tests";
const stripe = new Stripe("sk_test_unused");

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Config");
  handler = createWebhookHandler(appDeps(t.db));
});
afterAll(() => t.drop());

async function hook(trigger_config: Record<string, unknown>, secret = GH_SECRET): Promise<string> {
  const id = await createAutomation(t.db, org, { trigger_type: "webhook", trigger_config, actions: [{ type: "log" }] });
  await t.db.query("select public.set_webhook_secret($1, $2)", [id, secret]);
  return id;
}
const runsOf = async (automation: string) =>
  (await t.db.query<{ n: number }>("select count(*)::int as n from automation_runs where automation_id = $1", [automation]))[0]!.n;

async function github(id: string, body: string, o: { secret?: string; event?: string; headers?: Record<string, string>; ct?: string; h?: Handler } = {}) {
  const headers = {
    "content-type": o.ct ?? "application/json",
    "x-hub-signature-256": await githubSign(o.secret ?? GH_SECRET, body),
    "x-github-event": o.event ?? "pull_request",
    "x-github-delivery": crypto.randomUUID(),
    ...o.headers,
  };
  return (o.h ?? handler)(new Request(`${URL_BASE}/${id}`, { method: "POST", headers, body }));
}

describe("set_webhook_secret", () => {
  it("stores a provider's secret; the previous one keeps working during the grace period, then stops", async () => {
    const id = await hook({ verify: { scheme: "github" } }, "first-github-secret");
    await t.db.query("select public.set_webhook_secret($1, $2)", [id, "second-github-secret"]);
    expect((await github(id, "{}", { secret: "first-github-secret" })).status).toBe(202);
    expect((await github(id, "{}", { secret: "second-github-secret" })).status).toBe(202);
    await t.db.query("select public.set_webhook_secret($1, $2, interval '0')", [id, "third-github-secret"]);
    const res = await github(id, "{}", { secret: "second-github-secret" });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/x-hub-signature-256 header: mismatch/);
    expect((await github(id, "{}", { secret: "third-github-secret" })).status).toBe(202);
  });

  it("owners and admins only; bad secrets refused with 22023; rotate_webhook_secret makes the scheme's form", async () => {
    const id = await hook({ verify: { scheme: "github" } });
    const admin = await createUser(t.db, org, "admin");
    const member = await createUser(t.db, org, "member");
    await asUser(t.db, admin.claims, (tx) => tx.query("select public.set_webhook_secret($1, 'admin-chosen-secret')", [id]));
    await expect(asUser(t.db, member.claims, (tx) => tx.query("select public.set_webhook_secret($1, 'member-chosen-secret')", [id]))).rejects.toMatchObject({ code: "42501" });
    await expect(t.db.query("select public.set_webhook_secret($1, 'short')", [id])).rejects.toMatchObject({ code: "22023" });
    await expect(t.db.query("select public.set_webhook_secret($1, ' padded-secret ')", [id])).rejects.toMatchObject({ code: "22023", message: /whitespace/ });
    const std = await createAutomation(t.db, org, { trigger_type: "webhook" });
    await expect(t.db.query("select public.set_webhook_secret($1, 'not base64 at all!')", [std])).rejects.toMatchObject({ code: "22023", message: /whsec_/ });
    const [g] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [id]);
    expect(g!.s).toMatch(/^[0-9a-f]{64}$/);
    const [s] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [std]);
    expect(s!.s).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  });
});

describe("trigger.headers", () => {
  it("keeps the scheme's event and id headers plus the configured ones on the run; templates read them", async () => {
    const id = await hook({ verify: { scheme: "github" }, headers: ["X-Request-Source"] });
    const res = await github(id, '{"action":"opened"}', { headers: { "x-request-source": "ci", "x-not-kept": "no" } });
    const { run_id } = (await res.json()) as { run_id: string };
    const [row] = await t.db.query<{ h: Record<string, string> }>("select trigger_headers as h from automation_runs where id = $1", [run_id]);
    expect(Object.keys(row!.h).sort()).toEqual(["x-github-delivery", "x-github-event", "x-request-source"]);
    expect(row!.h["x-github-event"]).toBe("pull_request");

    // A worker's claim returns them, and the run context exposes them (a retry claims the same row).
    await t.db.query("update automation_runs set run_at = now() - interval '1 day' where id = $1", [run_id]);
    const claimed = await t.db.query<ClaimedRun>("select * from automations_engine.claim_runs('w', 100, 60)");
    const run = claimed.find((r) => r.id === run_id)!;
    const ctx = buildRunContext(run);
    expect(resolveTemplates({ text: "{{trigger.headers.x-github-event}} {{trigger.payload.action}}" }, ctx)).toEqual({ text: "pull_request opened" });
  });
});

describe("filter", () => {
  it("a delivery that does not match answers 202 {skipped: true} and writes no run", async () => {
    const id = await hook({ verify: { scheme: "github" }, filter: { "==": [{ var: "headers.x-github-event" }, "pull_request"] } });
    const skipped = await github(id, "{}", { event: "push" });
    expect(skipped.status).toBe(202);
    expect(await skipped.json()).toEqual({ skipped: true });
    expect(await runsOf(id)).toBe(0);
    expect((await github(id, "{}", { event: "pull_request" })).status).toBe(202);
    expect(await runsOf(id)).toBe(1);
  });

  it("filters on the payload: only invoice.paid (Stripe)", async () => {
    const secret = "whsec_filterTestSecret000000000";
    const id = await hook({ verify: { scheme: "stripe" }, filter: { "==": [{ var: "payload.type" }, "invoice.paid"] } }, secret);
    const send = (type: string) => {
      const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, type });
      const sig = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
      return handler(new Request(`${URL_BASE}/${id}`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": sig }, body }));
    };
    expect(await (await send("customer.created")).json()).toEqual({ skipped: true });
    expect(await (await send("invoice.paid")).json()).toMatchObject({ duplicate: false });
    expect(await runsOf(id)).toBe(1);
  });
});

describe("saved limits are enforced", () => {
  it("content_types: 415 for a type the automation does not take; max_body_bytes: 413 above it", async () => {
    const id = await hook({ verify: { scheme: "github" }, content_types: ["application/json"], max_body_bytes: 64 });
    const form = await github(id, "a=1", { ct: "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(await form.text()).toMatch(/not accepted by this automation/);
    const big = await github(id, JSON.stringify({ pad: "x".repeat(100) }));
    expect(big.status).toBe(413);
    expect(await big.text()).toMatch(/64-byte limit/);
    expect((await github(id, '{"ok":true}')).status).toBe(202);
    expect(await runsOf(id)).toBe(1);
  });
});

describe("slack", () => {
  const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
  const slackPost = (id: string, body: string, secret = SECRET) => {
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
    return handler(new Request(`${URL_BASE}/${id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-slack-signature": sig, "x-slack-request-timestamp": ts },
      body,
    }));
  };

  it("answers a signed url_verification with 200 {challenge} and no run; an unsigned one with 401", async () => {
    const id = await hook({ verify: { scheme: "slack" } }, SECRET);
    const body = JSON.stringify({ token: "x", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });
    const res = await slackPost(id, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    expect((await slackPost(id, body, "a-different-signing-secret")).status).toBe(401);
    expect(await runsOf(id)).toBe(0);
  });

  it("verifies Slack's documented example (signing secret, timestamp 1531420618, slash-command body)", () => {
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const headers = new Headers({ "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "x-slack-request-timestamp": "1531420618" });
    const req = { raw: body, headers, url: new URL(URL_BASE), now: new Date(1531420618 * 1000 + 30_000) };
    expect(() => verifyDelivery({ scheme: "slack" }, req, [SECRET])).not.toThrow();
    expect(() => verifyDelivery({ scheme: "slack" }, { ...req, raw: body + "x" }, [SECRET])).toThrow(/mismatch/);
    expect(() => verifyDelivery({ scheme: "slack" }, { ...req, now: new Date() }, [SECRET])).toThrow(/stale/);
  });
});

describe("documented vectors", () => {
  it("GitHub's example: secret \"It's a Secret to Everybody\", body \"Hello, World!\"", () => {
    const headers = new Headers({ "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" });
    const req = { raw: "Hello, World!", headers, url: new URL(URL_BASE), now: new Date() };
    expect(() => verifyDelivery({ scheme: "github" }, req, ["It's a Secret to Everybody"])).not.toThrow();
    expect(() => verifyDelivery({ scheme: "github" }, req, ["It's a secret to everybody"])).toThrow(/mismatch/);
  });

  it("Shopify: base64 HMAC-SHA256 of the raw body with the app secret (no published vector; computed per the docs)", () => {
    const raw = '{"id":820982911946154508,"email":"jon@example.com"}';
    const sig = createHmac("sha256", "hush").update(raw).digest("base64");
    const req = { raw, headers: new Headers({ "x-shopify-hmac-sha256": sig }), url: new URL(URL_BASE), now: new Date() };
    expect(() => verifyDelivery({ scheme: "shopify" }, req, ["hush"])).not.toThrow();
    expect(() => verifyDelivery({ scheme: "shopify" }, { ...req, headers: new Headers({ "x-shopify-hmac-sha256": "%%%" }) }, ["hush"])).toThrow(/malformed/);
  });
});

describe("changes act at once", () => {
  it("switching the verify scheme refuses the old scheme's deliveries on a handler that cached it", async () => {
    const secret = "shared-secret-for-switching";
    const id = await hook({ verify: { scheme: "token", header: "x-api-key" }, headers: ["x-api-key", "Authorization", "cookie", "x-kept"] }, secret);
    const h = createWebhookHandler(appDeps(t.db));
    const tokenPost = () =>
      h(new Request(`${URL_BASE}/${id}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": secret, authorization: "Bearer x", cookie: "c=1", "x-kept": "yes" },
        body: `{"n":"${crypto.randomUUID()}"}`,
      }));
    const first = (await (await tokenPost()).json()) as { run_id: string };
    // The token (and any credential header) is never kept on the run, even when listed.
    const [kept] = await t.db.query<{ h: unknown }>("select trigger_headers as h from automation_runs where id = $1", [first.run_id]);
    expect(kept!.h).toEqual({ "x-kept": "yes" });
    await t.db.query(`update automations set trigger_config = '{"verify": {"scheme": "github"}}' where id = $1`, [id]);
    const res = await tokenPost();
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/x-hub-signature-256 header: missing/);
    expect((await github(id, "{}", { secret, h })).status).toBe(202);
  });

  it("a changed filter decides the next delivery, also on a handler that cached the old one", async () => {
    const id = await hook({ verify: { scheme: "github" }, filter: { "==": [{ var: "headers.x-github-event" }, "push"] } });
    const h = createWebhookHandler(appDeps(t.db));
    expect(await (await github(id, "{}", { h, event: "pull_request" })).json()).toEqual({ skipped: true });
    await t.db.query(`update automations set trigger_config = jsonb_set(trigger_config, '{filter,==,1}', '"pull_request"') where id = $1`, [id]);
    expect(await (await github(id, "{}", { h, event: "pull_request" })).json()).toMatchObject({ duplicate: false });
    expect(await runsOf(id)).toBe(1);
  });

  it("a token in the query string (token scheme, query option), compared in constant time", async () => {
    const id = await hook({ verify: { scheme: "token", query: "key" } }, "query-token-0123456789");
    const post = (q: string) => handler(new Request(`${URL_BASE}/${id}${q}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
    expect((await post("?key=query-token-0123456789")).status).toBe(202);
    const message = async (r: Response) => ((await r.json()) as { error: { message: string } }).error.message;
    expect(await message(await post("?key=wrong"))).toMatch(/query parameter "key": mismatch/);
    expect(await message(await post(""))).toMatch(/query parameter "key": missing/);
    expect((await post("?key=query-token-0123456789")).status).toBe(202); // the same body again: one run
    expect(await runsOf(id)).toBe(1);
  });

  it("stripe: several v1 signatures during a secret roll, any valid one is enough", async () => {
    const secret = "whsec_rollingSecretForStripeTests0";
    const id = await hook({ verify: { scheme: "stripe", tolerance_seconds: 60 } }, secret);
    const body = JSON.stringify({ id: "evt_roll", type: "invoice.paid" });
    const ts = Math.floor(Date.now() / 1000);
    const good = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: ts });
    const other = stripe.webhooks.generateTestHeaderString({ payload: body, secret: "whsec_someOtherSecret", timestamp: ts });
    const header = `t=${ts},v1=${other.split("v1=")[1]},v1=${good.split("v1=")[1]}`;
    const res = await handler(new Request(`${URL_BASE}/${id}`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": header }, body }));
    expect(res.status).toBe(202);
    const stale = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: ts - 120 });
    const old = await handler(new Request(`${URL_BASE}/${id}`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": stale }, body }));
    expect(await old.text()).toMatch(/stripe-signature header: stale.*60 s allowed/);
  });
});
