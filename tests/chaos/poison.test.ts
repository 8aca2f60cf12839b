// Poison runs: an action that kills its worker process every time it runs.
// Proves: the poison run ends `failed` at the attempt cap with a clear error
// ("stopped responding (lease expired); gave up after 3 attempts"), each
// attempt costs exactly one worker crash, and other runs keep being enqueued
// and completed meanwhile (measured: completions and queue latency while the
// poison run was alive, and the collateral: runs that lost an attempt because
// they shared a worker with it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { count, killAllWorkers, report, sleep, spawnWorker, waitFor, type WorkerProcess } from "./support.ts";

const WORKERS = 2;
const CONCURRENCY = 8;
const LEASE_SECONDS = 3;
const POISON_ATTEMPTS = 3;
const PRODUCE_EVERY_MS = 250;
const PRODUCE_BATCH = 10; // 40 runs/s of 100 ms work

let t: TestDatabase;
let poisonAuto: string;
let normalAuto: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  const org = await createOrg(t.db, "Poison");
  poisonAuto = await createAutomation(t.db, org, { name: "poison", max_attempts: POISON_ATTEMPTS, actions: [{ type: "chaos_crash" }] });
  // Normal runs share workers with the poison run; a crash costs their in-flight attempt, so allow a few.
  normalAuto = await createAutomation(t.db, org, { name: "normal", max_attempts: 10, retry_backoff_seconds: 1, actions: [{ type: "chaos_work", config: { ms: 100 } }] });
});
afterAll(async () => {
  await killAllWorkers();
  await t?.drop();
});

describe("a poison run that kills its worker every time", () => {
  it("fails at the attempt cap with a clear error while other runs keep completing", async () => {
    const env = { CHAOS_LEASE_SECONDS: String(LEASE_SECONDS), CHAOS_CONCURRENCY: String(CONCURRENCY), CHAOS_POOL: "4" };
    const workers: WorkerProcess[] = Array.from({ length: WORKERS }, () => spawnWorker(t.url, env));
    await Promise.all(workers.map((w) => w.ready));

    // Supervisor: a worker that dies is replaced, as a process manager would.
    const crashes: Array<{ at_ms: number; code: number | null; signal: string | null }> = [];
    let supervising = true;
    const started = Date.now();
    const supervise = (slot: number) => {
      void workers[slot]!.exited.then((e) => {
        if (!supervising) return;
        crashes.push({ at_ms: Date.now() - started, code: e.code, signal: e.signal });
        workers[slot] = spawnWorker(t.url, env);
        supervise(slot);
      });
    };
    workers.forEach((_, i) => supervise(i));

    // A steady stream of normal runs, before, during and after the poison run.
    let producing = true;
    let produced = 0;
    const producer = (async () => {
      while (producing) {
        await t.db.query("select count(e.*) from generate_series(1, $2::int) g, lateral automations_engine.enqueue($1, 'manual', jsonb_build_object('n', g)) e", [normalAuto, PRODUCE_BATCH]);
        produced += PRODUCE_BATCH;
        await sleep(PRODUCE_EVERY_MS);
      }
    })();
    await sleep(1_000);
    const [{ run_id: poison }] = (await t.db.query<{ run_id: string }>("select run_id from automations_engine.enqueue($1, 'manual')", [poisonAuto])) as [{ run_id: string }];
    const poisonAt = Date.now();

    const final = await waitFor(
      "the poison run to fail",
      async () => {
        const [r] = await t.db.query<{ status: string; error_message: string; attempt: number; failed_attempts: number; completed_at: Date }>(
          "select status::text, error_message, attempt, failed_attempts, completed_at from automation_runs where id = $1",
          [poison],
        );
        return r!.status === "failed" ? r : null;
      },
      120_000,
      100,
    );
    const poisonMs = Date.now() - poisonAt;
    const poisonAtIso = new Date(poisonAt).toISOString();
    const doneDuring = await count(
      t.db,
      "select count(*)::int as n from automation_runs where automation_id = $1 and status = 'completed' and completed_at between $2 and $3",
      [normalAuto, poisonAtIso, final.completed_at],
    );
    await sleep(1_000);
    producing = false;
    await producer;

    await waitFor("every normal run to complete", async () => (await count(t.db, "select count(*)::int as n from automation_runs where automation_id = $1 and status <> 'completed'", [normalAuto])) === 0, 120_000, 200);
    supervising = false;
    await Promise.all(workers.map((w) => w.stop()));

    expect(final.error_message).toMatch(new RegExp(`stopped responding \\(lease expired\\); gave up after ${POISON_ATTEMPTS} attempts`));
    expect(final.attempt).toBe(POISON_ATTEMPTS);
    expect(final.failed_attempts).toBe(POISON_ATTEMPTS);
    // One crash per attempt, each by the poison action itself (exit code 70), no other crash.
    expect(crashes.map((c) => c.code)).toEqual(Array(POISON_ATTEMPTS).fill(70));
    // The queue kept moving while the poison run was alive.
    expect(doneDuring).toBeGreaterThan(0);
    expect(await count(t.db, "select count(*)::int as n from automation_runs where automation_id = $1 and status = 'completed'", [normalAuto])).toBe(produced);

    const [lat] = await t.db.query<{ p50: number; p99: number; max: number }>(
      `select percentile_cont(0.5) within group (order by ms)::int as p50, percentile_cont(0.99) within group (order by ms)::int as p99, max(ms)::int as max
         from (select extract(epoch from completed_at - created_at) * 1000 as ms from automation_runs where automation_id = $1) x`,
      [normalAuto],
    );
    report("poison", {
      workers: WORKERS,
      concurrency: CONCURRENCY,
      lease_s: LEASE_SECONDS,
      poison_attempts: POISON_ATTEMPTS,
      crashes: crashes.length,
      poison_enqueued_to_failed_ms: poisonMs,
      normal_runs: produced,
      normal_completed_while_poison_alive: doneDuring,
      normal_latency_ms: lat,
      normal_runs_that_lost_an_attempt: await count(t.db, "select count(*)::int as n from automation_runs where automation_id = $1 and failed_attempts > 0", [normalAuto]),
      normal_max_failed_attempts: await count(t.db, "select coalesce(max(failed_attempts), 0)::int as n from automation_runs where automation_id = $1", [normalAuto]),
    });
  }, 200_000);
});
