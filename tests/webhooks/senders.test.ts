// automations-webhook against real senders: each verify scheme with deliveries
// signed by the provider's own library (tests/webhooks/senders.ts). For each:
// valid, tampered body, wrong secret, stale timestamp (where signed), missing
// header, a redelivery being one run, another scheme's headers refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import type { Handler } from "../../shared/http/route.ts";
import { appDeps } from "../helpers/app_deps.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import twilio from "twilio";
import { SENDERS, TWILIO_URL, type Sender, type Signed } from "./senders.ts";

let t: TestDatabase;
let handler: Handler;
let org: string;
const hooks = new Map<string, string>();
const URL_BASE = "http://127.0.0.1:54321/functions/v1/automations-webhook";
const OTHER_SECRET = "not-the-automation-secret-42";

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Senders");
  handler = createWebhookHandler(appDeps(t.db));
  for (const s of SENDERS) {
    const id = await createAutomation(t.db, org, { trigger_type: "webhook", trigger_config: { verify: s.verify }, actions: [{ type: "log" }] });
    await t.db.query("select public.set_webhook_secret($1, $2)", [id, s.secret]);
    hooks.set(s.scheme, id);
  }
});
afterAll(() => t.drop());

const runsOf = async (automation: string) =>
  (await t.db.query<{ n: number }>("select count(*)::int as n from automation_runs where automation_id = $1", [automation]))[0]!.n;

function deliver(s: Sender, body: string, signed: Signed, drop?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": s.contentType, ...signed.headers };
  if (drop) delete headers[drop];
  return handler(new Request(`${URL_BASE}/${hooks.get(s.scheme)}${signed.query ?? ""}`, { method: "POST", headers, body }));
}

async function expect401(res: Response, message: RegExp, secret: string) {
  const text = await res.text();
  expect(res.status, text).toBe(401);
  expect(text).toMatch(message);
  expect(text).not.toContain(secret);
}

let seq = 0;
const uid = () => `d${Date.now().toString(36)}${seq++}`;

describe.each(SENDERS.map((s) => [s.scheme, s] as const))("%s", (_name, s) => {
  it("accepts a delivery signed as the sender signs it: 202 and one run", async () => {
    const hook = hooks.get(s.scheme)!;
    const before = await runsOf(hook);
    const body = s.body(uid());
    const res = await deliver(s, body, await s.sign(body, s.secret, { at: new Date(), id: uid() }));
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toMatchObject({ duplicate: false });
    expect(await runsOf(hook)).toBe(before + 1);
  });

  it("refuses a tampered body, a wrong secret and a missing header, saying which header and what was wrong", async () => {
    const hook = hooks.get(s.scheme)!;
    const before = await runsOf(hook);
    const id = uid();
    const body = s.body(id);
    const signed = await s.sign(body, s.secret, { at: new Date(), id });
    const tampered = s.contentType === "application/json" ? body.replace(/}$/, ',"extra":1}') : `${body}&extra=1`;
    if (s.scheme !== "token") await expect401(await deliver(s, tampered, signed), /mismatch|invalid signature/, s.secret);
    await expect401(await deliver(s, body, await s.sign(body, OTHER_SECRET, { at: new Date(), id })), /mismatch|invalid signature/, s.secret);
    await expect401(await deliver(s, body, signed, s.header), new RegExp(`missing|${s.header}`), s.secret);
    expect(await runsOf(hook)).toBe(before);
  });

  it.runIf(s.timestamped)("refuses a stale timestamp", async () => {
    const hook = hooks.get(s.scheme)!;
    const before = await runsOf(hook);
    const body = s.body(uid());
    const old = new Date(Date.now() - 10 * 60_000);
    await expect401(await deliver(s, body, await s.sign(body, s.secret, { at: old, id: uid() })), /stale|more than 5 minutes old/, s.secret);
    expect(await runsOf(hook)).toBe(before);
  });

  it("a redelivery is one run: an exact replay, and a re-signed one where the sender names deliveries", async () => {
    const hook = hooks.get(s.scheme)!;
    const before = await runsOf(hook);
    const id = uid();
    const body = s.body(id);
    const at = new Date(Date.now() - 2000);
    const first = (await (await deliver(s, body, await s.sign(body, s.secret, { at, id }))).json()) as { run_id: string };
    const replay = await deliver(s, body, await s.sign(body, s.secret, { at, id }));
    expect(await replay.json()).toEqual({ run_id: first.run_id, duplicate: true });
    if (s.namesDeliveries) {
      const resigned = await deliver(s, body, await s.sign(body, s.secret, { at: new Date(), id }));
      expect(await resigned.json()).toEqual({ run_id: first.run_id, duplicate: true });
    }
    expect(await runsOf(hook)).toBe(before + 1);
  });

  it("refuses every other scheme's headers, even signed with the right secret", async () => {
    const hook = hooks.get(s.scheme)!;
    const before = await runsOf(hook);
    for (const other of SENDERS) {
      if (other.verify.scheme === s.verify.scheme) continue;
      const body = s.body(uid());
      const res = await deliver(s, body, await other.sign(body, s.secret, { at: new Date(), id: uid() }));
      expect(res.status, `${other.scheme} headers sent to a ${s.scheme} automation`).toBe(401);
    }
    expect(await runsOf(hook)).toBe(before);
  });
});

// Twilio signs a JSON body through the URL: its bodySHA256 query parameter is
// the body's hex SHA-256, and the signature covers that URL with no form
// parameters. The request reaches the function with the same query string.
describe("twilio, JSON body (bodySHA256)", () => {
  const s = SENDERS.find((x) => x.scheme === "twilio")!;
  const body = () => JSON.stringify({ event: "call.completed", sid: uid() });
  const send = (raw: string, hash: string, signature: string) =>
    handler(
      new Request(`${URL_BASE}/${hooks.get("twilio")}?bodySHA256=${hash}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-twilio-signature": signature, "i-twilio-idempotency-token": uid() },
        body: raw,
      }),
    );
  const signedUrl = (hash: string) => `${TWILIO_URL}?bodySHA256=${hash}`;

  it("accepts a JSON delivery signed as Twilio's library signs it, and the library agrees", async () => {
    const raw = body();
    const hash = twilio.getExpectedBodyHash(raw);
    const sig = twilio.getExpectedTwilioSignature(s.secret, signedUrl(hash), {});
    expect(twilio.validateRequestWithBody(s.secret, sig, signedUrl(hash), raw)).toBe(true);
    const before = await runsOf(hooks.get("twilio")!);
    const res = await send(raw, hash, sig);
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await runsOf(hooks.get("twilio")!)).toBe(before + 1);
  });

  it("refuses a body that does not match bodySHA256, even with a valid signature over the URL", async () => {
    const raw = body();
    const hash = twilio.getExpectedBodyHash(raw);
    const sig = twilio.getExpectedTwilioSignature(s.secret, signedUrl(hash), {});
    const before = await runsOf(hooks.get("twilio")!);
    await expect401(await send(raw.replace("completed", "tampered"), hash, sig), /bodySHA256/, s.secret);
    expect(await runsOf(hooks.get("twilio")!)).toBe(before);
  });

  it("refuses a JSON delivery without bodySHA256 in the URL", async () => {
    const raw = body();
    const sig = twilio.getExpectedTwilioSignature(s.secret, TWILIO_URL, {});
    const res = await handler(
      new Request(`${URL_BASE}/${hooks.get("twilio")}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-twilio-signature": sig },
        body: raw,
      }),
    );
    await expect401(res, /bodySHA256/, s.secret);
  });
});
