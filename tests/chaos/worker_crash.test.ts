// Worker crash: many 3-step runs whose steps are `webhook` actions calling a
// local sink, executed by worker PROCESSES that we SIGKILL several times
// mid-run and restart. Proves: every run ends completed, nothing is left
// running, no completed step is executed again, and a step cut off mid-call
// is repeated with the same Idempotency-Key / webhook-id, so the receiver can
// drop the duplicate.
// Second part (liveness): with the default 60 s lease, a SIGKILLed worker's
// runs resume within seconds, released by the heartbeat rule (no heartbeat
// for 10 s), with their completed steps kept; it prints the measured seconds.
//
// Scale: CHAOS_RUNS (default 5000), CHAOS_KILLS (default 5).
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { count, killAllWorkers, report, sleep, spawnWorker, startSink, statusCounts, waitFor, type Sink, type WorkerProcess } from "./support.ts";

const RUNS = Number(process.env.CHAOS_RUNS ?? 5000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 5);
const WORKERS = 2;
const CONCURRENCY = 16;
// The default lease: a killed worker's runs are released by the heartbeat rule
// (no heartbeat for 10 s). A short lease (it was 3 s) also released the runs of
// live workers that were merely slow to renew on a loaded machine, whose
// repeated calls then exceeded the bound below.
const LEASE_SECONDS = 60;
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
      // (Under its base id, or `<id>~n` had it abandoned its runs earlier.)
      const inFlight = await count(
        t.db,
        "select count(*)::int as n from automation_runs where status = 'running' and (locked_by = $1 or locked_by like $1 || '~%')",
        [victim.id],
      );
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

/**
 * A receiver on 127.0.0.1 that counts calls per Idempotency-Key and path. The
 * first call of a key to /hold gets no answer (the caller stays mid-step until
 * it dies); every other call is answered at once.
 */
async function startHoldSink() {
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const key = `${req.url}|${String(req.headers["idempotency-key"] ?? "")}`;
    const n = (calls.get(key) ?? 0) + 1;
    calls.set(key, n);
    req.resume();
    req.on("end", () => {
      if (req.url === "/hold" && n === 1) return; // held until the caller is killed
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls: (path: string, key: string) => calls.get(`${path}|${key}`) ?? 0,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe("worker liveness: a SIGKILLed worker's runs resume within seconds, not after their 60 s lease", () => {
  it("the runs a killed worker held are claimed again by another worker within 15 s, completed steps kept", async () => {
    const HELD = 16;
    const sink = await startHoldSink();
    try {
      const org = await createOrg(t.db, "Chaos liveness");
      const auto = await createAutomation(t.db, org, {
        name: "fast, held, fast",
        max_attempts: 5,
        actions: ["/fast0", "/hold", "/fast2"].map((path, i) => ({
          type: "webhook",
          name: `call_${i}`,
          config: { url: `${sink.url}${path}`, method: "POST", body: { step: i }, timeout_ms: 30_000 },
        })),
      });
      const runIds = (
        await t.db.query<{ run_id: string }>(
          `select e.run_id from generate_series(1, $2::int) g,
             lateral automations_engine.enqueue($1, 'manual', jsonb_build_object('n', g), 'chaos-live:' || g) e`,
          [auto, HELD],
        )
      ).map((r) => r.run_id);
      // Default lease (60 s) and worker timeout (10 s): only the heartbeat rule can be fast.
      const env = { CHAOS_LEASE_SECONDS: "60", CHAOS_CONCURRENCY: String(HELD), CHAOS_POOL: "4" };
      const victim = spawnWorker(t.url, env);
      await victim.ready;
      // Every run is in its second step (the held call) under the victim.
      await waitFor(
        "the victim to hold every run mid-call",
        async () =>
          (await count(
            t.db,
            `select count(*)::int as n from automation_runs r where r.id = any($1::uuid[]) and r.status = 'running' and r.locked_by = $2
               and exists (select 1 from automation_run_steps s where s.run_id = r.id and s.step_index = 0)`,
            [runIds, victim.id],
          )) === HELD &&
          runIds.every((id) => sink.calls("/hold", `${id}:1`) === 1),
        60_000,
        50,
      );
      const rescuer = spawnWorker(t.url, env);
      await rescuer.ready;

      const killedAt = Date.now();
      await victim.kill();
      let firstMs = 0;
      await waitFor(
        "every held run to be claimed again",
        async () => {
          const n = await count(t.db, "select count(*)::int as n from automation_runs where id = any($1::uuid[]) and attempt >= 2", [runIds]);
          if (n > 0 && !firstMs) firstMs = Date.now() - killedAt;
          return n === HELD;
        },
        90_000,
        100,
      );
      const allMs = Date.now() - killedAt;
      await waitFor("every run to complete", async () => (await statusCounts(t.db, auto)).completed === HELD, 60_000, 100);
      await rescuer.stop();
      expect((await rescuer.exited).code).toBe(0);

      const rows = await t.db.query<{ attempt: number; failed_attempts: number; steps: number[] }>(
        `select r.attempt, r.failed_attempts, array_agg(s.attempt order by s.step_index) as steps
           from automation_runs r join automation_run_steps s on s.run_id = r.id
          where r.id = any($1::uuid[]) group by r.id`,
        [runIds],
      );
      // The crash cost each run one attempt; step 0 is attempt 1's, kept; steps 1 and 2 are attempt 2's.
      expect(rows.map((r) => [r.attempt, r.failed_attempts, r.steps])).toEqual(Array.from({ length: HELD }, () => [2, 1, [1, 2, 2]]));
      for (const id of runIds) {
        expect([sink.calls("/fast0", `${id}:0`), sink.calls("/hold", `${id}:1`), sink.calls("/fast2", `${id}:2`)]).toEqual([1, 2, 1]);
      }
      report("worker_liveness", {
        runs_held_at_kill: HELD,
        lease_s: 60,
        worker_timeout_s: 10,
        first_resumed_after_kill_s: Math.round(firstMs / 100) / 10,
        all_resumed_after_kill_s: Math.round(allMs / 100) / 10,
      });
      // Generous: only catches "waited for the 60 s lease" (the target is 15 s).
      expect(allMs).toBeLessThan(40_000);
    } finally {
      await sink.close();
    }
  }, 200_000);
});
