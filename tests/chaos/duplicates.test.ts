// Duplicates under load: the same delivery arriving twice at the same time,
// schedulers ticking the same minute, the same application event posted
// again and again. Proves: a run is recorded exactly once per idempotency key,
// whoever wins the race, and every loser is told the winner's run id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";
import { createEventHandler } from "../../shared/handlers/event.ts";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import { silentLogger } from "../../shared/logger.ts";
import { tickSchedules, type TickResult } from "../../shared/triggers/schedule_tick.ts";
import { dueFireTimes } from "../../shared/triggers/schedule_times.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { appDeps, functionRequest, TEST_AUTH } from "../helpers/app_deps.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { count, report } from "./support.ts";

const WEBHOOKS = 1000;
const WAVE = 100; // pairs in flight at once (200 requests)
const SCHEDULES = 30;
const EVENT_POSTS = 5;

let t: TestDatabase;
let org: string;
const pools: Db[] = [];
const pool = (max: number) => {
  const db = createPostgresDb(t.url, { max });
  pools.push(db);
  return db;
};

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  org = await createOrg(t.db, "Duplicates");
});
afterAll(async () => {
  for (const p of pools) await p.close?.();
  await t?.drop();
});

describe("duplicates under load", () => {
  it(`${WEBHOOKS} webhooks each delivered twice at once, to two function instances → ${WEBHOOKS} runs`, async () => {
    const hook = await createAutomation(t.db, org, { trigger_type: "webhook", actions: [{ type: "log" }] });
    const secret = (await t.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [hook]))[0]!.s;
    // Two instances of the function, each with its own connection pool.
    const instances = [createWebhookHandler(appDeps(pool(10))), createWebhookHandler(appDeps(pool(10)))];
    const post = async (instance: number, id: string, body: string) => {
      const res = await instances[instance]!(
        new Request(`http://127.0.0.1:54321/functions/v1/automations-webhook/${hook}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...signWebhook(secret, id, body) },
          body,
        }),
      );
      return { status: res.status, ...((await res.json()) as { run_id: string; duplicate: boolean }) };
    };

    const started = Date.now();
    const pairs: Array<Array<{ status: number; run_id: string; duplicate: boolean }>> = [];
    for (let w = 0; w < WEBHOOKS; w += WAVE) {
      const wave = Array.from({ length: Math.min(WAVE, WEBHOOKS - w) }, (_, i) => {
        const n = w + i;
        const body = JSON.stringify({ n });
        return Promise.all([post(0, `dup_${n}`, body), post(1, `dup_${n}`, body)]);
      });
      pairs.push(...(await Promise.all(wave)));
    }
    const elapsed = Date.now() - started;

    const bad = pairs.filter(
      ([a, b]) => a!.status !== 202 || b!.status !== 202 || a!.run_id !== b!.run_id || a!.duplicate === b!.duplicate,
    );
    expect(bad.slice(0, 5), "both 202, same run id, exactly one of the two created it").toEqual([]);
    expect(new Set(pairs.map(([a]) => a!.run_id)).size).toBe(WEBHOOKS);
    expect(await count(t.db, "select count(*)::int as n from automation_runs where automation_id = $1", [hook])).toBe(WEBHOOKS);
    report("duplicates.webhooks", { deliveries: WEBHOOKS * 2, runs: WEBHOOKS, elapsed_ms: elapsed, deliveries_per_s: Math.round((WEBHOOKS * 2 * 1000) / elapsed) });
  }, 120_000);

  it(`3 schedulers ticking the same minute (own connections) → one run per fire time, for ${SCHEDULES} schedules`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < SCHEDULES; i++) {
      ids.push(
        await createAutomation(t.db, org, {
          name: `every minute ${i}`,
          trigger_type: "schedule",
          trigger_config: { cron: "* * * * *", timezone: i % 2 ? "Europe/Berlin" : "UTC", missed: "all" },
          actions: [{ type: "log" }],
        }),
      );
    }
    // Start tracking them, then pretend the first tick saw them 10 minutes ago: 10 fire times are due.
    await tickSchedules(t.db, new Date(), silentLogger);
    await t.db.query("update automations_engine.schedule_state set since = date_trunc('minute', now()) - interval '10 minutes' + interval '30 seconds' where automation_id = any($1)", [ids]);
    const [{ since }] = (await t.db.query<{ since: Date }>("select since from automations_engine.schedule_state where automation_id = $1", [ids[0]])) as [{ since: Date }];

    const schedulers = [pool(2), pool(2), pool(2)];
    const rounds: TickResult[][] = [];
    // Each round: all three at the same instant. Twice in this minute, twice in the next.
    const t0 = Date.now();
    const nows = [0, 5_000, 60_000, 65_000].map((d) => new Date(t0 + d));
    for (const now of nows) rounds.push(await Promise.all(schedulers.map((db) => tickSchedules(db, now, silentLogger))));

    const expected = dueFireTimes({ cron: "* * * * *", timezone: "UTC", missed: "all", maxCatchUp: 100 }, { lastFireAt: null, since, now: nows[3]! }).map((d) =>
      d.toISOString().replace(/\.\d{3}Z$/, "Z"),
    );
    expect(expected.length).toBeGreaterThanOrEqual(10);
    const rows = await t.db.query<{ automation_id: string; keys: string[] }>(
      "select automation_id, array_agg(idempotency_key order by idempotency_key) as keys from automation_runs where automation_id = any($1) group by 1",
      [ids],
    );
    expect(rows).toHaveLength(SCHEDULES);
    for (const r of rows) expect(r.keys).toEqual(expected.map((e) => `schedule:${e}`));
    const enqueued = rounds.flat().reduce((n, r) => n + r.enqueued, 0);
    const duplicates = rounds.flat().reduce((n, r) => n + r.duplicates, 0);
    expect(enqueued).toBe(SCHEDULES * expected.length);
    report("duplicates.schedule", { schedulers: 3, schedules: SCHEDULES, fire_times_each: expected.length, runs: enqueued, duplicate_fire_times_refused: duplicates });
  }, 120_000);

  it(`the same application event id posted ${EVENT_POSTS} times at once → one run per matching automation`, async () => {
    const matching = [];
    for (let i = 0; i < 3; i++) {
      matching.push(await createAutomation(t.db, org, { trigger_type: "event", trigger_config: { event: "invoice.paid" }, actions: [{ type: "log" }] }));
    }
    const other = await createAutomation(t.db, org, { trigger_type: "event", trigger_config: { event: "invoice.voided" }, actions: [{ type: "log" }] });
    const instances = [createEventHandler(appDeps(pool(5))), createEventHandler(appDeps(pool(5)))];
    const body = { event: "invoice.paid", org_id: org, id: "evt_same_1", payload: { amount: 42 } };
    const responses = await Promise.all(
      Array.from({ length: EVENT_POSTS }, async (_, i) => {
        const res = await instances[i % 2]!(functionRequest("automations-event", { token: TEST_AUTH.serviceRoleKey, body }));
        return { status: res.status, json: (await res.json()) as { matched: number; runs: Array<{ automation_id: string; run_id: string; duplicate: boolean }> } };
      }),
    );
    for (const r of responses) {
      expect(r.status).toBe(202);
      expect(r.json.matched).toBe(3);
    }
    const runs = await t.db.query<{ automation_id: string; id: string; idempotency_key: string }>(
      "select automation_id, id, idempotency_key from automation_runs where automation_id = any($1)",
      [[...matching, other]],
    );
    expect(runs).toHaveLength(3);
    expect(new Set(runs.map((r) => r.automation_id))).toEqual(new Set(matching));
    expect(runs.every((r) => r.idempotency_key === "event:evt_same_1")).toBe(true);
    // Every response names the same run per automation; each run was created by exactly one post.
    const all = responses.flatMap((r) => r.json.runs);
    for (const run of runs) {
      const seen = all.filter((x) => x.automation_id === run.automation_id);
      expect(seen).toHaveLength(EVENT_POSTS);
      expect(seen.every((x) => x.run_id === run.id)).toBe(true);
      expect(seen.filter((x) => !x.duplicate)).toHaveLength(1);
    }
    report("duplicates.event", { posts: EVENT_POSTS, matching_automations: 3, runs: runs.length });
  }, 60_000);
});
