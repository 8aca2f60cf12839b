// Fuzz the two endpoints outsiders post to, with fast-check: random bytes,
// nasty strings (SQL metacharacters, NUL, lone surrogates, template syntax),
// deep JSON (up to 100,000 levels), wrong content types, odd headers, bad or
// missing signatures and credentials, huge bodies.
// Proves: every answer is 202 or a 4xx with a JSON message (never a 5xx, never
// a crashed process), and runs are written only for accepted requests.
// CHAOS_FUZZ_RUNS scales the number of generated requests (default 300 each).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventHandler } from "../../shared/handlers/event.ts";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import type { Handler } from "../../shared/http/route.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { appDeps, TEST_AUTH } from "../helpers/app_deps.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { bodyBytes, contentType, deepJson, nastyJson, nastyString, NASTY, oddHeaders } from "./arbitraries.ts";
import { count, report } from "./support.ts";

const RUNS = Number(process.env.CHAOS_FUZZ_RUNS ?? 300);
const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
const BASE = "http://127.0.0.1:54321/functions/v1";
const MAX_BODY = 1_048_576;

let t: TestDatabase;
let org: string;
let hook: string;
let paused: string;
let secret: string;
let pausedSecret: string;
let webhook: Handler;
let event: Handler;
const runCount = () => count(t.db, "select count(*)::int as n from automation_runs");

beforeAll(async () => {
  t = await createTestDatabase({ max: 6 });
  org = await createOrg(t.db, "Fuzz");
  hook = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
  paused = await createAutomation(t.db, org, { trigger_type: "webhook", status: "paused", actions: [{ type: "log" }] });
  secret = (await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [hook]))[0]!.s;
  pausedSecret = (await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [paused]))[0]!.s;
  await createAutomation(t.db, org, { trigger_type: "event", trigger_config: { event: "invoice.paid" }, actions: [{ type: "log" }] });
  await createAutomation(t.db, org, { trigger_type: "event", trigger_config: { table: "deals" }, actions: [{ type: "log" }] });
  const deps = appDeps(t.db, { maxBodyBytes: MAX_BODY });
  webhook = createWebhookHandler(deps);
  event = createEventHandler(deps);
});
afterAll(() => t?.drop());

/** A 4xx must be JSON {error: {code, message}} with a message; a 5xx fails the property. */
async function judge(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (res.status >= 500 || (res.status < 400 && res.status !== 202)) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
  const json = JSON.parse(text) as { error?: { code?: string; message?: string } };
  if (res.status >= 400) {
    expect(typeof json.error?.code).toBe("string");
    expect(json.error?.message, `${what}: ${res.status} without a message`).toMatch(/\S{3}/);
  }
  return json as Record<string, unknown>;
}

const ASCII_NASTY = NASTY.filter((s) => /^[\x20-\x7e]+$/.test(s));
/** A URL segment or query value: every byte percent-encoded, or deliberately malformed escapes. */
const rawEncoded = fc.oneof(
  nastyString.map((s) => Array.from(new TextEncoder().encode(s), (b) => `%${b.toString(16).padStart(2, "0")}`).join("")),
  fc.constantFrom("%", "%zz", "%ED%A0%80", "%C0%AF", "%FF", "..", "%2e%2e", "%00", "a%2Fb"),
);
const tally: Record<string, number> = {};
/** Right 9 times in 10: several fields together still reach the deep end often. */
const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });
const bump = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);

describe("fuzz: automations-webhook", () => {
  it(`${RUNS} random deliveries: 202 or 4xx with a message; a run only for each 202`, async () => {
    const before = await runCount();
    let accepted = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          body: bodyBytes,
          ct: contentType,
          // Mostly right, so most requests get as far as parsing and enqueueing.
          sign: often(fc.constant("valid"), fc.constantFrom("none", "wrong", "stale", "garbage")),
          target: often(fc.constant("hook"), fc.constantFrom("paused", "random", "junk")),
          junk: rawEncoded,
          method: often(fc.constant("POST"), fc.constantFrom("GET", "PUT", "DELETE")),
          headers: oddHeaders,
          idKind: fc.constantFrom("plain", "plain", "nasty", "long"),
          idNasty: fc.constantFrom(...ASCII_NASTY),
        }),
        async (x) => {
          const seq = ++n;
          const id = x.idKind === "long" ? `${"x".repeat(300)}${seq}` : x.idKind === "nasty" ? `${x.idNasty}_${seq}` : `fz_${seq}`;
          const target = { hook, paused, random: crypto.randomUUID(), junk: x.junk }[x.target];
          const text = new TextDecoder().decode(x.body); // what the handler verifies
          const key = x.target === "paused" ? pausedSecret : x.sign === "wrong" ? "whsec_" + btoa("not the secret at all!") : secret;
          const signed = x.sign === "none" ? {} : x.sign === "garbage" ? { "webhook-id": id, "webhook-timestamp": "soon", "webhook-signature": "v1,???" } : signWebhook(key, id, text, x.sign === "stale" ? new Date(Date.now() - 3_600_000) : new Date());
          const headers = new Headers({ ...x.headers, ...signed });
          if (x.ct) headers.set("content-type", x.ct);
          const hasBody = x.method !== "GET";
          const res = await webhook(new Request(`${BASE}/automations-webhook/${target}`, { method: x.method, headers, body: hasBody ? x.body : undefined }));
          bump(`webhook ${res.status}`);
          const json = await judge(res, `webhook ${x.method} ${x.ct} ${x.sign} ${x.target} ${text.slice(0, 60)}`);
          if (res.status === 202) {
            accepted++;
            expect(json.duplicate).toBe(false);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    expect(await runCount()).toBe(before + accepted);
    report("fuzz.webhook", { requests: RUNS, accepted, statuses: Object.fromEntries(Object.entries(tally).filter(([k]) => k.startsWith("webhook"))) });
  }, 180_000);

  it("edge cases fuzzing found: deep JSON, NUL, lone surrogates, malformed path escapes → 400 with a message", async () => {
    const before = await runCount();
    const post = async (body: string, target = hook) => {
      const id = `edge_${crypto.randomUUID()}`;
      const res = await webhook(new Request(`${BASE}/automations-webhook/${target}`, { method: "POST", headers: { "content-type": "application/json", ...signWebhook(secret, id, body) }, body }));
      return { status: res.status, message: ((await judge(res, body.slice(0, 40))).error as { message?: string } | undefined)?.message ?? "" };
    };
    for (const depth of [101, 10_000, 100_000]) {
      for (const kind of ["array", "object"] as const) expect(await post(deepJson(depth, kind))).toEqual({ status: 400, message: "body is not valid JSON: nested more than 100 levels deep" });
    }
    expect((await post(deepJson(100, "array"))).status).toBe(202);
    expect(await post('"[[[[ not nesting, a string"')).toMatchObject({ status: 202 });
    for (const nul of ['{"a":"x\\u0000y"}', '{"\\u0000":1}', "a=%00"]) {
      const r = nul.startsWith("a=") ? await webhook(new Request(`${BASE}/automations-webhook/${hook}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...signWebhook(secret, `edge_nul_${nul.length}`, nul) }, body: nul })) : null;
      const res = r ? { status: r.status, message: ((await judge(r, nul)).error as { message: string }).message } : await post(nul);
      expect(res.status).toBe(400);
      expect(res.message).toMatch(/NUL/);
    }
    expect((await post('{"a":"\\ud800"}')).status).toBe(400);
    for (const junk of ["%", "%zz", "%ED%A0%80"]) expect(await post("{}", junk)).toEqual({ status: 400, message: "the path after /automations-webhook/ is not valid percent-encoding" });
    expect(await runCount()).toBe(before + 2);
  });

  it("huge bodies: over the limit (declared, streamed, exact) → 413 without buffering it all; at the limit → 202", async () => {
    const before = await runCount();
    const post = (body: BodyInit, id: string, headers: Record<string, string> = {}, text = "") =>
      webhook(new Request(`${BASE}/automations-webhook/${hook}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...signWebhook(secret, id, text), ...headers },
        body,
        duplex: "half",
      } as RequestInit));
    const over = "[" + "1,".repeat(MAX_BODY / 2) + "1]";
    expect((await post(over, "huge_1")).status).toBe(413);
    expect((await post("{}", "huge_2", { "content-length": String(10 ** 12) })).status).toBe(413);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > 50 * MAX_BODY) return c.close();
        sent += 65_536;
        c.enqueue(new Uint8Array(65_536).fill(32));
      },
    });
    const streamed = await post(stream, "huge_3");
    expect(streamed.status).toBe(413);
    expect(sent, "stopped reading soon after the limit").toBeLessThan(3 * MAX_BODY);
    const exact = JSON.stringify({ pad: "x".repeat(MAX_BODY - 10) });
    expect(exact.length).toBe(MAX_BODY);
    const ok = await post(exact, "huge_4", {}, exact);
    await judge(ok, "exactly at the limit");
    expect(ok.status).toBe(202);
    expect(await runCount()).toBe(before + 1);
  }, 60_000);
});

describe("fuzz: automations-event", () => {
  it(`${RUNS} random events: 202 or 4xx with a message; runs only for matches`, async () => {
    const before = await runCount();
    let created = 0;
    const value = fc.oneof(nastyJson, nastyString);
    // Mostly well-formed (so matching and enqueueing run), with one field at a time likely wrong.
    const appEvent = fc
      .record({
        event: often(fc.constantFrom("invoice.paid", "invoice.paid", "invoice.voided"), fc.oneof(nastyString, value)),
        org_id: often(fc.constant(org), fc.oneof(fc.constant(org.toUpperCase()), fc.uuid(), value)),
        payload: value,
        id: often(nastyString, value),
        extra: often(fc.constant(null), fc.tuple(nastyString, value)),
      })
      .map(({ extra, ...e }) => (extra === null ? e : { ...e, [extra[0]]: extra[1] }));
    const row = often(fc.dictionary(nastyString, value, { maxKeys: 3 }).map((r) => ({ ...r, org_id: org })), fc.oneof(fc.constant(null), value));
    const tableEvent = fc.record(
      {
        type: often(fc.constantFrom("INSERT", "UPDATE", "DELETE"), nastyString),
        table: often(fc.constant("deals"), fc.oneof(nastyString, value)),
        schema: often(fc.constant("public"), nastyString),
        record: row,
        old_record: row,
        id: nastyString,
      },
      { requiredKeys: ["type"] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          body: fc.oneof(
            { weight: 3, arbitrary: fc.oneof(appEvent, tableEvent).map((b) => new TextEncoder().encode(JSON.stringify(b))) },
            { weight: 1, arbitrary: bodyBytes },
          ),
          ct: contentType,
          auth: often(fc.constantFrom("service", "secret"), fc.constantFrom("none", "wrong")),
          orgColumn: often(fc.constant(null), rawEncoded),
          headers: oddHeaders,
        }),
        async (x) => {
          const headers = new Headers(x.headers);
          if (x.ct) headers.set("content-type", x.ct);
          if (x.auth === "service") headers.set("authorization", `Bearer ${TEST_AUTH.serviceRoleKey}`);
          if (x.auth === "secret") headers.set("x-automations-secret", TEST_AUTH.sharedSecret);
          if (x.auth === "wrong") headers.set("authorization", "Bearer ' or 1=1 --");
          const q = x.orgColumn === null ? "" : `?org_column=${x.orgColumn}`;
          const res = await event(new Request(`${BASE}/automations-event${q}`, { method: "POST", headers, body: x.body }));
          bump(`event ${res.status}`);
          const json = await judge(res, `event ${x.ct} ${x.auth} ${new TextDecoder().decode(x.body).slice(0, 80)}`);
          if (res.status === 400) bump(`msg ${String((json.error as { message: string }).message).slice(0, 50)}`);
          if (res.status === 202) created += (json.runs as Array<{ duplicate: boolean }>).filter((r) => !r.duplicate).length;
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    expect(await runCount()).toBe(before + created);
    const top = Object.entries(tally).filter(([k]) => k.startsWith("msg")).sort((a, b) => b[1] - a[1]).slice(0, 6);
    report("fuzz.event", { requests: RUNS, runs_created: created, statuses: Object.fromEntries(Object.entries(tally).filter(([k]) => k.startsWith("event"))), top_400s: Object.fromEntries(top) });
  }, 180_000);
});
