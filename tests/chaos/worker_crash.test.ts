// Worker crash: many 3-step runs whose steps are `webhook` actions calling a
// local sink, executed by worker PROCESSES that we SIGKILL several times
// mid-run and restart. Proves: every run ends completed, nothing is left
// running, no completed step is executed again, and a step cut off mid-call
// is repeated with the same Idempotency-Key / webhook-id, so the receiver can
// drop the duplicate.
//
// Scale: CHAOS_RUNS (default 5000), CHAOS_KILLS (default 5).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { count, killAllWorkers, report, sleep, spawnWorker, startSink, statusCounts, waitFor, type Sink, type WorkerProcess } from "./support.ts";

const RUNS = Number(process.env.CHAOS_RUNS ?? 5000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 5);
const WORKERS = 2;
const CONCURRENCY = 16;
const LEASE_SECONDS = 3;
const STEPS = 3;

let t: TestDatabase;
let sink: Sink;
let automationId: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  // 2% of responses take 0.2–1.5 s, so kills find steps in mid-call.
  sink = await startSink({ slowShare: 0.02, slowMs: [200, 1500] });
  const org = await createOrg(t.db, "Chaos crash");
  automationId = await createAutomation(t.db, org, {
    name: "three webhooks",
    // A kill costs every in-flight run one attempt; leave room for several.
    max_attempts: 10,
    retry_backoff_seconds: 1,
    actions: Array.from({ length: STEPS }, (_, i) => ({
      type: "webhook",
      name: `call_${i}`,
      config: { url: `${sink.url}/step/${i}`, method: "POST", body: { n: "{{trigger.payload.n}}", step: i }, timeout_ms: 10_000 },
    })),
  });
});

afterAll(async () => {
  await killAllWorkers();
  await sink?.close();
  await t?.drop();
});

describe("worker processes SIGKILLed mid-run", () => {
  it(`${RUNS} runs × ${STEPS} webhook steps, ${KILLS} kills: all complete, no completed step repeated, repeats keep their key`, async () => {
    await t.db.query(
      `select count(e.*) from generate_series(1, $2::int) g,
         lateral automations_engine.enqueue($1, 'manual', jsonb_build_object('n', g), 'chaos-crash:' || g) e`,
      [automationId, RUNS],
    );
    const env = { CHAOS_LEASE_SECONDS: String(LEASE_SECONDS), CHAOS_CONCURRENCY: String(CONCURRENCY), CHAOS_POOL: "6" };
    const started = Date.now();
    const workers: WorkerProcess[] = Array.from({ length: WORKERS }, () => spawnWorker(t.url, env));
    await Promise.all(workers.map((w) => w.ready));

    const kills: Array<{ at_ms: number; completed: number; in_flight: number }> = [];
    for (let k = 1; k <= KILLS; k++) {
      const threshold = Math.floor((RUNS * k) / (KILLS + 1));
      await waitFor(`${threshold} completed runs`, async () => (await statusCounts(t.db, automationId)).completed! >= threshold, 120_000, 50);
      const victim = workers[k % WORKERS]!;
      await victim.ready;
      await sleep(150); // let it get busy after its (re)start
      await victim.kill();
      // The runs it held when it died (its leases have not expired yet): each has at most
      // one step whose call may have happened without being recorded.
      const inFlight = await count(t.db, "select count(*)::int as n from automation_runs where status = 'running' and locked_by = $1", [victim.id]);
      const completed = (await statusCounts(t.db, automationId)).completed ?? 0;
      kills.push({ at_ms: Date.now() - started, completed, in_flight: inFlight });
      workers[k % WORKERS] = spawnWorker(t.url, env);
    }
    const lastKill = Date.now();

    await waitFor(
      "every run to be terminal",
      async () => {
        const c = await statusCounts(t.db, automationId);
        return (c.completed ?? 0) + (c.failed ?? 0) === RUNS;
      },
      180_000,
      200,
    );
    const elapsed = Date.now() - started;
    const recovery = Date.now() - lastKill;
    const exits = await Promise.all(workers.map(async (w) => (await w.stop(), await w.exited)));
    for (const e of exits) expect(e.code, "a worker stopped gracefully").toBe(0);

    // Every run completed; nothing is running (let alone without a live lease).
    expect(await statusCounts(t.db, automationId)).toEqual({ completed: RUNS });
    expect(await count(t.db, "select count(*)::int as n from automation_runs where status = 'running' and (lease_expires_at is null or lease_expires_at < now())")).toBe(0);

    const steps = await t.db.query<{ run_id: string; step_index: number; status: string; attempt: number; completed_ms: number; run_attempt: number }>(
      `select s.run_id, s.step_index, s.status::text, s.attempt, (extract(epoch from s.completed_at) * 1000)::float8 as completed_ms,
              r.attempt as run_attempt
         from automation_run_steps s join automation_runs r on r.id = s.run_id where r.automation_id = $1`,
      [automationId],
    );
    expect(steps).toHaveLength(RUNS * STEPS);
    expect(steps.filter((s) => s.status !== "completed")).toEqual([]);

    // The sink's view: every step called at least once, with matching headers.
    const expected = new Set(steps.map((s) => `${s.run_id}:${s.step_index}`));
    const unexpected = [...sink.hits.keys()].filter((k) => !expected.has(k));
    expect(unexpected, "requests without a known step idempotency key").toEqual([]);
    const mismatched = [...sink.hits.values()].flat().filter((h) => h.webhookId !== h.idempotencyKey);
    expect(mismatched, "webhook-id equals Idempotency-Key on every request").toEqual([]);

    let duplicateHits = 0;
    const dupStepsPerRun = new Map<string, number>();
    const violations: string[] = [];
    for (const s of steps) {
      const key = `${s.run_id}:${s.step_index}`;
      const hits = sink.hits.get(key) ?? [];
      if (hits.length === 0) violations.push(`${key}: completed but never called`);
      // No call may arrive after the step was recorded completed (1 ms: timestamps are ms).
      if (hits.some((h) => h.at > s.completed_ms + 1)) violations.push(`${key}: called again after it was recorded completed`);
      // At most one call per attempt of the run.
      if (hits.length > s.run_attempt) violations.push(`${key}: ${hits.length} calls in ${s.run_attempt} attempts`);
      if (hits.length > 1) {
        duplicateHits += hits.length - 1;
        // A repeated step was finished by a later attempt than the one cut off.
        if (s.attempt === 1) violations.push(`${key}: repeated although attempt 1 completed it`);
        dupStepsPerRun.set(s.run_id, (dupStepsPerRun.get(s.run_id) ?? 0) + 1);
      }
    }
    // Each lost attempt cuts off at most one step of the run: a resumed run repeats only that one.
    const runAttempts = new Map(steps.map((s) => [s.run_id, s.run_attempt]));
    for (const [run, n] of dupStepsPerRun) if (n > runAttempts.get(run)! - 1) violations.push(`run ${run}: ${n} repeated steps in ${runAttempts.get(run)} attempts`);
    expect(violations.slice(0, 10)).toEqual([]);
    const held = kills.reduce((n, k) => n + k.in_flight, 0);
    expect(duplicateHits, "repeated calls ≤ runs the killed workers held").toBeLessThanOrEqual(held);

    const retried = await count(t.db, "select count(*)::int as n from automation_runs where automation_id = $1 and attempt > 1", [automationId]);
    const maxAttempt = await count(t.db, "select max(attempt)::int as n from automation_runs where automation_id = $1", [automationId]);
    report("worker_crash", {
      runs: RUNS,
      steps: RUNS * STEPS,
      workers: WORKERS,
      concurrency: CONCURRENCY,
      lease_s: LEASE_SECONDS,
      kills,
      elapsed_ms: elapsed,
      runs_per_s: Math.round((RUNS / elapsed) * 1000),
      recovery_after_last_kill_ms: recovery,
      sink_requests: sink.total(),
      duplicate_hits: duplicateHits,
      duplicate_bound_runs_held_at_kills: held,
      runs_reclaimed: retried,
      max_attempt: maxAttempt,
    });
  }, 400_000);
});
