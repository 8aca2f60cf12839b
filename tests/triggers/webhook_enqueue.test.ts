// Webhook deliveries enqueued in batches: webhook_enqueue_many must answer
// exactly what one webhook_enqueue per item answers, and the handler must
// group concurrent deliveries without changing any single delivery's answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../shared/db/types.ts";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import { webhookEnqueuer, type Delivery, type DeliveryResult } from "../../shared/triggers/webhook_enqueue.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { createAutomation } from "../helpers/automations.ts";
import { appDeps } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;
let hook: string;
let secret: string;
let rotatedAt: string;

const rotate = async (id: string) => {
  const [r] = await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [id]);
  const [w] = await t.db.query<{ r: string }>(
    "select rotated_at::text as r from automations_engine.webhook_secrets where automation_id = $1",
    [id],
  );
  return { secret: r!.s, rotatedAt: w!.r };
};

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  org = await createOrg(t.db, "Batched hooks");
  hook = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
  ({ secret, rotatedAt } = await rotate(hook));
});
afterAll(() => t.drop());

let n = 0;
const delivery = (over: Partial<Delivery> = {}): Delivery => ({
  automationId: hook,
  rotatedAt,
  payloadJson: JSON.stringify({ n: ++n }),
  idempotencyKey: `webhook:test_${n}_${Math.random().toString(36).slice(2)}`,
  ...over,
});

const many = (ds: Delivery[]) =>
  t.db.query<DeliveryResult>("select run_id, created, stale from automations_engine.webhook_enqueue_many($1::jsonb)", [
    JSON.stringify(
      ds.map((d) => ({
        automation_id: d.automationId,
        rotated_at: d.rotatedAt,
        idempotency_key: d.idempotencyKey,
        payload: JSON.parse(d.payloadJson),
      })),
    ),
  ]);

const runsOf = async (keys: string[]) =>
  t.db.query<{ id: string; idempotency_key: string; trigger_payload: unknown; trigger_type: string; status: string; version_id: string | null }>(
    "select id, idempotency_key, trigger_payload, trigger_type, status, version_id from automation_runs where idempotency_key = any ($1::text[])",
    [keys],
  );

/** A Db that counts the statements each SQL function name appears in: the real database underneath. */
function counting(db: Db) {
  const counts = new Map<string, number>();
  const wrapped: Db = {
    ...db,
    query: (text, params) => {
      for (const fn of ["webhook_enqueue_many", "webhook_enqueue(", "webhook_target"]) {
        if (text.includes(fn)) counts.set(fn, (counts.get(fn) ?? 0) + 1);
      }
      return db.query(text, params);
    },
  };
  return { db: wrapped, counts };
}

describe("webhook_enqueue_many()", () => {
  it("creates one pending webhook run per new key, in item order, with the snapshot and payload", async () => {
    const ds = [delivery(), delivery(), delivery()];
    const out = await many(ds);
    expect(out.map((o) => [o.created, o.stale])).toEqual([[true, false], [true, false], [true, false]]);
    const rows = await runsOf(ds.map((d) => d.idempotencyKey));
    expect(rows).toHaveLength(3);
    for (const [i, d] of ds.entries()) {
      const row = rows.find((r) => r.idempotency_key === d.idempotencyKey)!;
      expect(row.id).toBe(out[i]!.run_id);
      expect(row).toMatchObject({ trigger_type: "webhook", status: "pending", trigger_payload: JSON.parse(d.payloadJson) });
      expect(row.version_id).not.toBeNull();
    }
  });

  it("duplicates: an existing key answers its run (created false); the same key twice in a batch makes one run, the first item creates it", async () => {
    const [first] = await many([delivery()]).then((o) => o);
    const again = delivery();
    const existingKey = (await t.db.query<{ k: string }>("select idempotency_key as k from automation_runs where id = $1", [first!.run_id]))[0]!.k;
    const out = await many([delivery({ idempotencyKey: existingKey }), again, { ...again, payloadJson: '{"other":true}' }]);
    expect(out[0]).toEqual({ run_id: first!.run_id, created: false, stale: false });
    expect(out[1]).toMatchObject({ created: true, stale: false });
    expect(out[2]).toEqual({ run_id: out[1]!.run_id, created: false, stale: false });
    const rows = await runsOf([again.idempotencyKey]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.trigger_payload).toEqual(JSON.parse(again.payloadJson));
  });

  it("stale items (old rotated_at, paused, not a webhook automation, unknown) write nothing; the valid ones in the same batch go through", async () => {
    const paused = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
    const pausedSecret = await rotate(paused);
    await t.db.query("update automations set status = 'paused' where id = $1", [paused]);
    const manual = await createAutomation(t.db, org, { trigger_type: "manual", actions: [{ type: "log" }] });
    const ds = [
      delivery({ rotatedAt: "2020-01-01 00:00:00+00" }),
      delivery(),
      delivery({ automationId: paused, rotatedAt: pausedSecret.rotatedAt }),
      delivery({ automationId: manual }),
      delivery({ automationId: "00000000-0000-4000-8000-00000000dead" }),
    ];
    const out = await many(ds);
    expect(out.map((o) => o.stale)).toEqual([true, false, true, true, true]);
    expect(out.filter((o) => o.stale).every((o) => o.run_id === null && !o.created)).toBe(true);
    expect(await runsOf(ds.map((d) => d.idempotencyKey))).toHaveLength(1);
  });

  it("all or nothing: an item without an idempotency key fails the call, with a message, and no item is written", async () => {
    const ok = delivery();
    const bad = { automation_id: hook, rotated_at: rotatedAt, payload: {} };
    await expect(
      t.db.query("select * from automations_engine.webhook_enqueue_many($1::jsonb)", [
        JSON.stringify([{ automation_id: hook, rotated_at: rotatedAt, idempotency_key: ok.idempotencyKey, payload: {} }, bad]),
      ]),
    ).rejects.toThrow(/every item needs an idempotency_key/);
    expect(await runsOf([ok.idempotencyKey])).toHaveLength(0);
  });

  it("notifies automation_runs once when the due queue was empty, not when runs were already waiting", async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen!("automation_runs", (p) => heard.push(p));
    try {
      await t.db.query("delete from automation_runs where status = 'pending'");
      const out = await many([delivery(), delivery()]);
      await expect.poll(() => heard.length).toBe(1);
      expect(heard[0]).toBe(out[0]!.run_id);
      await many([delivery(), delivery()]);
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).toHaveLength(1);
    } finally {
      await unlisten();
    }
  });

  it("is for the service connection only", async () => {
    const rows = await t.db.query<{ role: string; ok: boolean }>(
      `select r as role, has_function_privilege(r, 'automations_engine.webhook_enqueue_many(jsonb)', 'execute') as ok
         from unnest(array['anon', 'authenticated', 'service_role']) r`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.role, r.ok]))).toEqual({ anon: false, authenticated: false, service_role: true });
  });
});

describe("webhookEnqueuer", () => {
  it("sends deliveries made together as one call; a delivery on its own goes through webhook_enqueue", async () => {
    const c = counting(t.db);
    const enqueue = webhookEnqueuer(c.db, { maxInFlight: 1 });
    const alone = await enqueue(delivery());
    expect(alone).toMatchObject({ created: true, stale: false });
    expect(c.counts.get("webhook_enqueue(")).toBe(1);
    const ds = Array.from({ length: 10 }, () => delivery());
    const out = await Promise.all(ds.map(enqueue));
    expect(c.counts.get("webhook_enqueue_many")).toBe(1);
    expect(c.counts.get("webhook_enqueue(")).toBe(1);
    expect(new Set(out.map((o) => o.run_id)).size).toBe(10);
    const rows = await runsOf(ds.map((d) => d.idempotencyKey));
    for (const [i, d] of ds.entries()) expect(rows.find((r) => r.idempotency_key === d.idempotencyKey)!.id).toBe(out[i]!.run_id);
  });

  it("keeps a batch under maxBatch and maxPayloadChars: a large payload goes alone", async () => {
    const c = counting(t.db);
    const enqueue = webhookEnqueuer(c.db, { maxInFlight: 1, maxBatch: 4, maxPayloadChars: 1000 });
    const big = delivery({ payloadJson: JSON.stringify({ s: "x".repeat(2000) }) });
    const ds = [...Array.from({ length: 6 }, () => delivery()), big];
    const out = await Promise.all(ds.map(enqueue));
    expect(out.every((o) => o.created)).toBe(true);
    // 6 small ones: a call of 4 and one of 2; the big one alone.
    expect(c.counts.get("webhook_enqueue_many")).toBe(2);
    expect(c.counts.get("webhook_enqueue(")).toBe(1);
  });

  it("maxBatch 1 turns batching off: every delivery is its own webhook_enqueue call", async () => {
    const c = counting(t.db);
    const enqueue = webhookEnqueuer(c.db, { maxBatch: 1 });
    await Promise.all(Array.from({ length: 5 }, () => enqueue(delivery())));
    expect(c.counts.get("webhook_enqueue(")).toBe(5);
    expect(c.counts.get("webhook_enqueue_many")).toBeUndefined();
  });
});

describe("automations-webhook under concurrent deliveries", () => {
  const post = (handler: (r: Request) => Promise<Response>, body: string, id: string, key = secret) =>
    handler(
      new Request(`http://127.0.0.1:54321/functions/v1/automations-webhook/${hook}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...signWebhook(key, id, body, new Date()) },
        body,
      }),
    );

  it("30 deliveries at once: every one 202 with its own run, a redelivery inside the burst gets the same run, far fewer statements than deliveries", async () => {
    const c = counting(t.db);
    let kicks = 0;
    const handler = createWebhookHandler(appDeps(c.db, { kick: () => kicks++ }));
    const ids = Array.from({ length: 30 }, (_, i) => `msg_burst_${i}_${Date.now()}`);
    // The redelivery is the same delivery (same id, same body), sent at the
    // same time as the first: either of the two may create the run.
    const all = [...ids, ids[3]!];
    const res = await Promise.all(all.map((id, i) => post(handler, JSON.stringify({ i: i === 30 ? 3 : i }), id)));
    const bodies = (await Promise.all(res.map((r) => r.json()))) as Array<{ run_id: string; duplicate: boolean }>;
    expect(res.map((r) => r.status)).toEqual(all.map(() => 202));
    expect(new Set(bodies.map((b) => b.run_id)).size).toBe(30);
    expect(bodies[30]!.run_id).toBe(bodies[3]!.run_id);
    const duplicates = bodies.flatMap((b, i) => (b.duplicate ? [i] : []));
    expect(duplicates).toHaveLength(1);
    expect([3, 30]).toContain(duplicates[0]);
    expect(kicks).toBe(30);
    const rows = await runsOf(ids.map((id) => `webhook:${id}`));
    expect(rows).toHaveLength(30);
    for (const [i, id] of ids.entries()) {
      expect(rows.find((r) => r.idempotency_key === `webhook:${id}`)).toMatchObject({ id: bodies[i]!.run_id, trigger_payload: { i } });
    }
    const statements = (c.counts.get("webhook_enqueue_many") ?? 0) + (c.counts.get("webhook_enqueue(") ?? 0);
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThanOrEqual(10);
  });

  it("a secret rotated before the burst: cached deliveries come back stale, are looked up again and verified against the new secret", async () => {
    const handler = createWebhookHandler(appDeps(t.db));
    expect((await post(handler, "{}", `msg_warm_${Date.now()}`)).status).toBe(202);
    // Rotation keeps the previous secret valid for its grace period, so
    // requests signed with the old one still verify after the reload.
    const next = await rotate(hook);
    const res = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(handler, JSON.stringify({ i }), `msg_rot_${i}_${Date.now()}`, i % 2 ? next.secret : secret)),
    );
    expect(res.map((r) => r.status)).toEqual(Array(8).fill(202));
    secret = next.secret;
    rotatedAt = next.rotatedAt;
  });
});
