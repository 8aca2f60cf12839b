// `automations sign-webhook --scheme/--verify` (local/sign_webhook.ts): what
// it prints must be accepted by the function for every scheme, and bad
// options are named before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import type { Handler } from "../../shared/http/route.ts";
import { curlOf, signDelivery } from "../../local/sign_webhook.ts";
import { appDeps } from "../helpers/app_deps.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let handler: Handler;
let org: string;
const BASE = "http://127.0.0.1:54321";

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "CLI");
  handler = createWebhookHandler(appDeps(t.db));
});
afterAll(() => t.drop());

const CASES: [string, Record<string, unknown>, string][] = [
  ["standard", { scheme: "standard" }, "whsec_" + Buffer.from("cli-standard-secret-0123456789ab").toString("base64")],
  ["github", { scheme: "github" }, "cli-github-secret"],
  ["stripe", { scheme: "stripe" }, "whsec_cliStripeSecret"],
  ["slack", { scheme: "slack" }, "cli-slack-signing-secret"],
  ["shopify", { scheme: "shopify" }, "cli-shopify-secret"],
  ["twilio", { scheme: "twilio", public_url: "https://ref.supabase.co/functions/v1/automations-webhook/x" }, "cli-twilio-auth-token"],
  ["hmac", { scheme: "hmac", header: "X-Sig", algorithm: "sha1", encoding: "base64", timestamp_header: "X-Ts", id_header: "X-Id", signed: "{id}:{timestamp}:{body}" }, "cli-hmac-secret"],
  ["token (query)", { scheme: "token", query: "key" }, "cli-token-secret"],
  ["token (bearer)", { scheme: "token", header: "authorization" }, "cli-token-secret"],
];

describe("sign-webhook", () => {
  it.each(CASES)("%s: the printed delivery is accepted (202, one run)", async (_name, verify, secret) => {
    const id = await createAutomation(t.db, org, { trigger_type: "webhook", trigger_config: { verify }, actions: [{ type: "log" }] });
    await t.db.query("select public.set_webhook_secret($1, $2)", [id, secret]);
    const onlyScheme = Object.keys(verify).length === 1;
    const d = signDelivery({
      automationId: id,
      baseUrl: BASE,
      secret,
      payload: { hello: "world", n: 1 },
      ...(onlyScheme ? { scheme: verify.scheme as string } : { verify: JSON.stringify(verify) }),
    });
    expect(curlOf(d)).toContain(`${BASE}/functions/v1/automations-webhook/${id}`);
    const res = await handler(new Request(d.url, { method: "POST", headers: d.headers, body: d.body }));
    expect(res.status, await res.clone().text()).toBe(202);
    const bad = await handler(new Request(d.url.replace(secret, "wrong"), { method: "POST", headers: { ...d.headers, ...(verify.scheme === "token" && !verify.query ? { authorization: "Bearer wrong" } : {}) }, body: d.body + " " }));
    expect(bad.status).toBe(401);
  });

  it("names a missing option instead of signing wrongly", () => {
    expect(() => signDelivery({ automationId: "x", baseUrl: BASE, secret: "s", payload: {}, scheme: "twilio" })).toThrow(/public_url: is required.*--verify/);
    expect(() => signDelivery({ automationId: "x", baseUrl: BASE, secret: "s", payload: {}, scheme: "gitlab" })).toThrow(/must be one of/);
  });
});
