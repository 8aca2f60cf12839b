// send_email against a fake Resend API on 127.0.0.1 that records requests,
// and without a provider (captured, never claimed as sent).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendEmailAction } from "../../shared/actions/send_email.ts";
import { ActionError, type ActionContext } from "../../shared/engine/action_contract.ts";
import type { EmailSettings } from "../../shared/settings.ts";
import { json, makeContext, startServer, testSettings, type TestServer } from "./context.ts";

let resend: TestServer;
let nextStatus = 200;

beforeAll(async () => {
  resend = await startServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/emails") return json(res, 404, { message: "not found" });
    if (nextStatus !== 200) {
      return json(res, nextStatus, { statusCode: nextStatus, name: "validation_error", message: `fake error ${nextStatus}` }, nextStatus === 429 ? { "retry-after": "2" } : {});
    }
    return json(res, 200, { id: `email_${resend.requests.length}` });
  });
});
afterAll(() => resend.close());

function withResend(overrides: Partial<ActionContext> = {}) {
  const email: EmailSettings = { provider: "resend", apiKey: "re_test_123", baseUrl: `${resend.url}/`, from: "Bot <bot@example.test>" };
  return makeContext({ settings: testSettings({ email }), ...overrides });
}

async function send(raw: Record<string, unknown>, ctx: ActionContext) {
  return sendEmailAction.execute(sendEmailAction.schema.parse(raw), ctx);
}

const message = { to: "ada@example.test", subject: "Deal won", text: "Congrats", html: "<p>Congrats</p>" };

describe("send_email with Resend", () => {
  it("posts the message with the API key and the step's idempotency key, and returns the id", async () => {
    nextStatus = 200;
    const ctx = withResend();
    const res = await send({ ...message, cc: ["Bob <bob@example.test>"], reply_to: "ops@example.test" }, ctx);
    const req = resend.requests.at(-1)!;
    expect(req.url).toBe("/emails");
    expect(req.headers.authorization).toBe("Bearer re_test_123");
    expect(req.headers["idempotency-key"]).toBe(ctx.idempotencyKey);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      from: "Bot <bot@example.test>",
      to: ["ada@example.test"],
      subject: "Deal won",
      text: "Congrats",
      html: "<p>Congrats</p>",
      cc: ["Bob <bob@example.test>"],
      reply_to: "ops@example.test",
    });
    expect(res.output).toEqual({ sent: true, provider: "resend", id: `email_${resend.requests.length}`, to: ["ada@example.test"], subject: "Deal won" });
  });

  it.each([
    [400, false],
    [401, false],
    [422, false],
    [429, true],
    [500, true],
    [503, true],
  ])("maps provider status %i to retryable=%s with the provider's message", async (status, retryable) => {
    nextStatus = status;
    const err = await send(message, withResend()).then(
      () => null,
      (e: unknown) => e as ActionError,
    );
    nextStatus = 200;
    expect(err).toBeInstanceOf(ActionError);
    expect(err!.retryable).toBe(retryable);
    expect(err!.message).toContain(`responded ${status}`);
    expect(err!.message).toContain(`fake error ${status}`);
    if (status === 429) expect(err!.retryAfterMs).toBe(2000);
  });

  it("checks the provider URL like any other when private networks are not allowed", async () => {
    const ctx = withResend();
    ctx.settings = { ...ctx.settings, allowPrivateNetwork: false };
    const before = resend.requests.length;
    await expect(send(message, ctx)).rejects.toMatchObject({ code: "forbidden_address" });
    expect(resend.requests.length).toBe(before);
  });
});

describe("send_email without a provider", () => {
  it("captures the message, says it was not sent and warns", async () => {
    const ctx = makeContext();
    const before = resend.requests.length;
    const res = await send({ ...message, to: ["a@example.test", "b@example.test"], bcc: "audit@example.test" }, ctx);
    expect(res.output).toEqual({
      sent: false,
      captured: true,
      reason: "no email provider configured (set AUTOMATIONS_EMAIL_API_KEY)",
      message: {
        to: ["a@example.test", "b@example.test"],
        subject: "Deal won",
        text: "Congrats",
        html: "<p>Congrats</p>",
        bcc: ["audit@example.test"],
      },
    });
    expect(resend.requests.length).toBe(before);
    expect(ctx.logger.lines.some((l) => l.level === "warn" && /not sent/.test(l.msg))).toBe(true);
  });
});

describe("send_email config", () => {
  const problems = (raw: unknown) => sendEmailAction.schema.safeParse(raw).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

  it("accepts placeholders in recipients and text", () => {
    expect(problems({ to: "{{trigger.payload.email}}", subject: "Hi {{trigger.payload.name}}", text: "x" })).toEqual([]);
    expect(problems({ to: ["{{trigger.payload.owner}}", "Sales <sales@example.test>"], subject: "s", html: "<b>x</b>" })).toEqual([]);
  });

  it("refuses bad addresses, no body, unknown keys", () => {
    expect(problems({ to: "not-an-email", subject: "s", text: "x" })[0]).toMatch(/^to: must be an email address/);
    expect(problems({ to: ["a@example.test", "nope"], subject: "s", text: "x" })[0]).toMatch(/^to\.1:/);
    expect(problems({ to: "a@example.test", subject: "s" })[0]).toMatch(/give text or html/);
    expect(problems({ to: "a@example.test", subject: "", text: "x" })[0]).toMatch(/^subject:/);
    expect(problems({ to: "a@example.test", subject: "s", text: "x", from: "me@x.test" })[0]).toMatch(/Unrecognized key/);
  });
});
