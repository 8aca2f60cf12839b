// Form bodies: linear parsing with a cap on fields. The 20,000-repeat form
// that took ~10 s with `[...prev, v]` is refused with 413 before anything is
// written; under the cap, repeats keep every value in order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import { HttpError } from "../../shared/http/errors.ts";
import { MAX_FORM_FIELDS, parseFormBody } from "../../shared/http/form_body.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { createAutomation } from "../helpers/automations.ts";
import { appDeps } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

const repeats = (n: number, key = "k") => Array.from({ length: n }, (_, i) => `${key}=${i}`).join("&");

describe("parseFormBody", () => {
  it("a key sent once is a string, a repeated key an array of its values in order", () => {
    expect(parseFormBody("name=Ada+L&tag=a&tag=b&tag=c&e=%C3%A9")).toEqual({ name: "Ada L", tag: ["a", "b", "c"], e: "é" });
    expect(parseFormBody("")).toEqual({});
  });

  it("keeps __proto__ an ordinary key (no prototype change)", () => {
    const out = parseFormBody("__proto__=a&__proto__=b&x=1");
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":["a","b"],"x":"1"}');
  });

  it(`accepts ${MAX_FORM_FIELDS} fields, refuses one more with 413 and says what the limit is`, () => {
    expect((parseFormBody(repeats(MAX_FORM_FIELDS)).k as string[]).length).toBe(MAX_FORM_FIELDS);
    let err: unknown;
    try {
      parseFormBody(repeats(MAX_FORM_FIELDS + 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 413, code: "too_many_fields", message: expect.stringContaining(`more than ${MAX_FORM_FIELDS} fields`) });
  });

  it("20,000 repeats of one key under a raised cap: one array of all 20,000 values, in order", () => {
    const out = parseFormBody(repeats(20_000), 20_000);
    const values = out.k as string[];
    expect(values).toHaveLength(20_000);
    expect(values[0]).toBe("0");
    expect(values[19_999]).toBe("19999");
  });
});

describe("automations-webhook with a signed 20,000-field form", () => {
  let t: TestDatabase;
  let hook: string;
  let secret: string;
  beforeAll(async () => {
    t = await createTestDatabase({ max: 2 });
    const org = await createOrg(t.db, "Forms");
    hook = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
    secret = (await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [hook]))[0]!.s;
  });
  afterAll(() => t.drop());

  const post = (body: string, id: string) =>
    createWebhookHandler(appDeps(t.db))(
      new Request(`http://127.0.0.1:54321/functions/v1/automations-webhook/${hook}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...signWebhook(secret, id, body) },
        body,
      }),
    );
  const runs = async () => (await t.db.query<{ n: number }>("select count(*)::int as n from automation_runs"))[0]!.n;

  it("is refused with 413 and a message, and writes no run", async () => {
    const res = await post(repeats(20_000), "msg_form_bomb");
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: "too_many_fields", message: expect.stringMatching(/more than 1000 fields: send at most 1000/) },
    });
    expect(await runs()).toBe(0);
  });

  it("a form of 1,000 repeats is accepted, its values in the run's payload", async () => {
    const res = await post(repeats(1000), "msg_form_ok");
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    const [run] = await t.db.query<{ p: { k: string[] } }>("select trigger_payload as p from automation_runs where id = $1", [run_id]);
    expect(run!.p.k).toHaveLength(1000);
  });
});
