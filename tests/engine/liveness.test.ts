// Worker liveness: heartbeat rows, the reaper's "dead worker" rule, fencing
// of a worker that was only slow, and a live worker that lost its heartbeat
// abandoning its runs. Real PostgreSQL; time is moved by ageing rows
// (heartbeat_at), never by waiting for a clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../shared/db/types.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { releaseExpiredLeases } from "../../shared/engine/sql/leases.ts";
import { saveProgress } from "../../shared/engine/sql/save_progress.ts";
import { workerHeartbeat, workerStopped, type WorkerInfo } from "../../shared/engine/sql/workers.ts";
import { Worker } from "../../shared/engine/worker.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { createAutomation, engineDeps, probeAction, runRow, stepRows } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 8 });
  org = await createOrg(t.db, "Liveness");
});
afterAll(() => t.drop());

const info: WorkerInfo = { kind: "loop", timeoutSeconds: 10, host: "test-host", pid: 1 };

/** Pretend `worker` has been silent for `seconds` (its last beat that long ago). */
const age = (worker: string, seconds: number) =>
  t.db.query("update automations_engine.workers set heartbeat_at = now() - make_interval(secs => $2) where worker_id = $1", [worker, seconds]);

const workerRow = async (worker: string) =>
  (await t.db.query<{ kind: string; host: string | null; timeout_seconds: number; age_s: number }>(
    "select kind, host, timeout_seconds, extract(epoch from now() - heartbeat_at)::float8 as age_s from automations_engine.workers where worker_id = $1",
    [worker],
  ))[0];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Enqueue n runs of a fresh automation and claim exactly those as `worker`. */
async function claimedRuns(worker: string, n: number, actions = [{ type: "probe" }, { type: "probe" }]) {
  const automationId = await createAutomation(t.db, org, { actions, max_attempts: 5 });
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) ids.add((await enqueueRun(t.db, { automationId, triggerType: "manual" })).runId);
  const runs = (await claimRuns(t.db, worker, 100, 60)).filter((r) => ids.has(r.id));
  expect(runs).toHaveLength(n);
  return runs;
}

describe("worker_heartbeat", () => {
  it("registers a worker, renews it, and says 'dead' (without reviving it) once it was silent past its timeout", async () => {
    expect(await workerHeartbeat(t.db, "hb-1", info)).toBe("registered");
    expect(await workerRow("hb-1")).toMatchObject({ kind: "loop", host: "test-host", timeout_seconds: 10 });
    expect(await workerHeartbeat(t.db, "hb-1", info)).toBe("alive");
    await age("hb-1", 9);
    expect(await workerHeartbeat(t.db, "hb-1", info)).toBe("alive");
    expect((await workerRow("hb-1"))!.age_s).toBeLessThan(1);
    await age("hb-1", 11);
    expect(await workerHeartbeat(t.db, "hb-1", info)).toBe("dead");
    // Not refreshed: the reaper must still see it dead and release its runs.
    expect((await workerRow("hb-1"))!.age_s).toBeGreaterThan(10);
  });

  it("refuses a bad worker id or timeout with 22023 and a message saying what is wrong", async () => {
    await expect(workerHeartbeat(t.db, "", info)).rejects.toMatchObject({ code: "22023", message: expect.stringMatching(/worker id must be 1 to 200 characters/) });
    await expect(workerHeartbeat(t.db, "hb-2", { ...info, timeoutSeconds: 1 })).rejects.toMatchObject({
      code: "22023",
      message: expect.stringMatching(/worker timeout must be between 2 and 3600 seconds, got 1/),
    });
    expect(() => new Worker({ ...engineDeps(t.db, []), workerTimeoutSeconds: 0.5 })).toThrow(/worker timeout must be a whole number of seconds from 2 to 3600/);
  });
});

describe("release_expired_leases and dead workers", () => {
  it("releases at once the runs of a worker silent past its timeout, not those of a live or unregistered one", async () => {
    await workerHeartbeat(t.db, "dead-1", info);
    await workerHeartbeat(t.db, "live-1", info);
    const dead = await claimedRuns("dead-1", 3);
    const live = await claimedRuns("live-1", 2);
    const unknown = await claimedRuns("never-registered", 2); // falls back to its lease (60 s)

    // Silent 9 s of a 10 s timeout: still alive.
    await age("dead-1", 9);
    expect(await releaseExpiredLeases(t.db)).toBe(0);

    await age("dead-1", 11);
    expect(await releaseExpiredLeases(t.db)).toBe(3);
    for (const r of dead) {
      expect(await runRow(t.db, r.id)).toMatchObject({
        status: "pending",
        attempt: 1,
        // A dead worker costs an attempt, as a lost lease does.
        failed_attempts: 1,
        error_message: "the worker running attempt 1 stopped responding (worker dead-1 sent no heartbeat for 10 s); retrying",
      });
    }
    for (const r of [...live, ...unknown]) expect((await runRow(t.db, r.id)).status).toBe("running");
    // Tidy: the other runs do not leak into later tests.
    await t.db.query("update automation_runs set lease_expires_at = now() - interval '1 second' where id = any($1::uuid[])", [[...live, ...unknown].map((r) => r.id)]);
    expect(await releaseExpiredLeases(t.db)).toBe(4);
    await t.db.query("update automation_runs set status = 'completed', completed_at = now() where id = any($1::uuid[])", [[...dead, ...live, ...unknown].map((r) => r.id)]);
  });

  it("keeps the completed steps of a dead worker's run, and fences the worker if it was only slow", async () => {
    await workerHeartbeat(t.db, "slow-1", info);
    const [run] = await claimedRuns("slow-1", 1);
    const step0 = { step_index: 0, action_id: null, action_type: "probe", name: null, status: "completed", input: {}, output: { n: 0 }, error_message: null, started_at: new Date().toISOString(), completed_at: new Date().toISOString() } as const;
    const old = { runId: run!.id, attempt: run!.attempt, claimToken: run!.claim_token, leaseSeconds: 60 };
    expect(await saveProgress(t.db, { ...old, steps: [step0 as never], outcome: null })).toBe("running");

    await age("slow-1", 60);
    expect(await releaseExpiredLeases(t.db)).toBe(1);
    // Released but not yet claimed again: the slow worker's write is refused already.
    expect(await saveProgress(t.db, { ...old, steps: [], outcome: "completed" })).toBeNull();

    const again = (await claimRuns(t.db, "rescuer", 100, 60)).find((r) => r.id === run!.id)!;
    expect(again.attempt).toBe(2);
    // The slow worker wakes up: every write of its attempt is fenced off.
    expect(await saveProgress(t.db, { ...old, steps: [{ ...step0, step_index: 1 } as never], outcome: "completed" })).toBeNull();
    expect((await stepRows(t.db, run!.id)).map((s) => [s.step_index, s.attempt])).toEqual([[0, 1]]);
    // Its heartbeat says dead, so it knows to drop the run.
    expect(await workerHeartbeat(t.db, "slow-1", info)).toBe("dead");
    const cur = { runId: run!.id, attempt: 2, claimToken: again.claim_token, leaseSeconds: 60 };
    expect(await saveProgress(t.db, { ...cur, steps: [{ ...step0, step_index: 1, output: { n: 1 } } as never], outcome: "completed" })).toBe("completed");
    expect((await stepRows(t.db, run!.id)).map((s) => [s.step_index, s.attempt])).toEqual([[0, 1], [1, 2]]);
  });

  it("fails a dead worker's run at the attempt cap, like a lost lease", async () => {
    const automationId = await createAutomation(t.db, org, { actions: [{ type: "probe" }], max_attempts: 1 });
    const { runId } = await enqueueRun(t.db, { automationId, triggerType: "manual" });
    await workerHeartbeat(t.db, "dead-cap", info);
    expect((await claimRuns(t.db, "dead-cap", 100, 60)).map((r) => r.id)).toContain(runId);
    await age("dead-cap", 11);
    expect(await releaseExpiredLeases(t.db)).toBe(1);
    expect(await runRow(t.db, runId)).toMatchObject({
      status: "failed",
      error_message: "the worker running attempt 1 stopped responding (worker dead-cap sent no heartbeat for 10 s); gave up after 1 attempts",
    });
  });

  it("worker_stopped deletes the row of a worker that holds nothing; one still holding a run is marked dead at once", async () => {
    await workerHeartbeat(t.db, "clean-1", info);
    await workerStopped(t.db, "clean-1");
    expect(await workerRow("clean-1")).toBeUndefined();

    await workerHeartbeat(t.db, "unclean-1", info);
    const [run] = await claimedRuns("unclean-1", 1);
    await workerStopped(t.db, "unclean-1");
    expect((await workerRow("unclean-1"))!.age_s).toBeGreaterThan(10);
    expect(await releaseExpiredLeases(t.db)).toBe(1);
    expect((await runRow(t.db, run!.id)).status).toBe("pending");
    await t.db.query("update automation_runs set status = 'completed', completed_at = now() where id = $1", [run!.id]);
  });

  it("keeps a dead worker's row for a day, then the reaper deletes it", async () => {
    await workerHeartbeat(t.db, "old-1", info);
    await workerHeartbeat(t.db, "old-2", info);
    await age("old-1", 23 * 3600);
    await age("old-2", 25 * 3600);
    await releaseExpiredLeases(t.db);
    expect(await workerRow("old-1")).toBeDefined();
    expect(await workerRow("old-2")).toBeUndefined();
  });
});

/** A step that runs until its signal aborts (then rejects), or until `release()` when `finishable`. */
function hangingAction(type: string, started: string[], aborted: string[]) {
  const def: ActionDefinition<Record<string, unknown>> = {
    ...probeAction(type, []),
    execute: (_c, ctx) =>
      new Promise((resolve, reject) => {
        started.push(`${ctx.runId}:${ctx.attempt}`);
        if (ctx.attempt > 1) return resolve({ output: { attempt: ctx.attempt } });
        ctx.signal.addEventListener("abort", () => (aborted.push(`${ctx.runId}:${ctx.attempt}`), reject(new Error("aborted"))), { once: true });
      }),
  };
  return def;
}

describe("Worker liveness", () => {
  it("a worker heartbeats while it runs and deletes its row when it stops cleanly (loop and drain)", async () => {
    const w = new Worker({ ...engineDeps(t.db, []), workerId: "loop-clean", pollIntervalMs: 50 });
    await w.start();
    expect(await workerRow("loop-clean")).toMatchObject({ kind: "loop" });
    await w.stop();
    expect(await workerRow("loop-clean")).toBeUndefined();

    const seen: unknown[] = [];
    const probe = probeAction("probe_drain", [], async () => (seen.push(await workerRow("drain-clean")), {}));
    const automationId = await createAutomation(t.db, org, { actions: [{ type: "probe_drain" }] });
    await enqueueRun(t.db, { automationId, triggerType: "manual" });
    const d = new Worker({ ...engineDeps(t.db, [probe]), workerId: "drain-clean" });
    expect(await d.drain(10_000)).toMatchObject({ claimed: 1, completed: 1 });
    expect(seen).toEqual([expect.objectContaining({ kind: "drain" })]);
    expect(await workerRow("drain-clean")).toBeUndefined();
  });

  it("told by the database that it is dead, a live worker abandons its runs, which resume under its new id with the completed steps kept", async () => {
    const started: string[] = [];
    const aborted: string[] = [];
    const calls: Array<{ runId: string; attempt: number }> = [];
    const automationId = await createAutomation(t.db, org, {
      max_attempts: 5,
      actions: [{ type: "probe_first" }, { type: "hang" }],
    });
    const { runId } = await enqueueRun(t.db, { automationId, triggerType: "manual" });
    const w = new Worker({
      ...engineDeps(t.db, [probeAction("probe_first", calls as never), hangingAction("hang", started, aborted)]),
      workerId: "stalled",
      workerTimeoutSeconds: 10,
      heartbeatIntervalMs: 50,
      reapIntervalMs: 50,
      pollIntervalMs: 50,
    });
    await w.start();
    try {
      await waitFor("step 1 to start", async () => started.includes(`${runId}:1`));
      // The worker was stalled past its timeout (as after a long GC pause or a
      // frozen VM): the next beat comes back "dead".
      await age("stalled", 11);
      await waitFor("the step to be aborted", async () => aborted.includes(`${runId}:1`));
      expect(w.id).toBe("stalled~2");
      await waitFor("the run to complete", async () => (await runRow(t.db, runId)).status === "completed");
      const { attempt, failed_attempts } = await runRow(t.db, runId);
      // Each lost attempt was counted. Usually 2 attempts; 3 when the worker's
      // own reaper released the run and it claimed it again under its old id
      // before the "dead" beat came back (that claim is released as well).
      expect(attempt).toBeGreaterThanOrEqual(2);
      expect(failed_attempts).toBe(attempt - 1);
      // Step 0 ran once (kept from attempt 1); step 1 was cut off and finished by the last attempt.
      expect(calls.filter((c) => c.runId === runId)).toHaveLength(1);
      expect((await stepRows(t.db, runId)).map((s) => [s.step_index, s.attempt])).toEqual([[0, 1], [1, attempt]]);
      expect(w.stats).toMatchObject({ lost: attempt - 1, completed: 1 });
      await waitFor("the new id to be registered", () => workerRow("stalled~2"));
    } finally {
      await w.stop();
    }
    expect(await workerRow("stalled~2")).toBeUndefined();
  });

  it("a live worker that cannot record its heartbeat stops working on its runs on its own, then they resume", async () => {
    const started: string[] = [];
    const aborted: string[] = [];
    const warnings: Array<{ msg: string; reason?: unknown }> = [];
    const automationId = await createAutomation(t.db, org, { max_attempts: 5, actions: [{ type: "hang2" }] });
    const { runId } = await enqueueRun(t.db, { automationId, triggerType: "manual" });
    // The database is reachable for everything but the heartbeat (fault injection around the real database).
    let heartbeatsFail = false;
    const db: Db = {
      ...t.db,
      query: (text: string, params?: readonly unknown[]) =>
        heartbeatsFail && text.includes("worker_heartbeat") ? Promise.reject(new Error("connection reset")) : t.db.query(text, params),
    } as Db;
    const deps = engineDeps(db, [hangingAction("hang2", started, aborted)]);
    const w = new Worker({
      ...deps,
      logger: { ...deps.logger, warn: (msg, fields) => warnings.push({ msg, reason: fields?.reason }) },
      workerId: "cut-off",
      workerTimeoutSeconds: 3,
      heartbeatIntervalMs: 100,
      pollIntervalMs: 50,
      // No reaper in this worker: nobody hands the run out, so only the
      // worker's own rule can stop the step (its lease is renewed meanwhile).
      reapIntervalMs: 3_600_000,
    });
    await w.start();
    try {
      await waitFor("the step to start", async () => started.includes(`${runId}:1`));
      heartbeatsFail = true;
      await waitFor("the step to be aborted", async () => aborted.includes(`${runId}:1`));
      expect(warnings.find((x) => x.msg.includes("heartbeat lapsed"))?.reason).toMatch(/^no heartbeat recorded for \d+ ms \(timeout 3 s\)$/);
      expect(w.id).toBe("cut-off~2");
      expect(w.stats.lost).toBe(1);
      heartbeatsFail = false;
      // The old id stays silent, so a reaper hands the run back; the worker (new id) finishes it.
      await waitFor("the run to be released", async () => (await releaseExpiredLeases(t.db)) > 0);
      await waitFor("the run to complete", async () => (await runRow(t.db, runId)).status === "completed");
      expect(await runRow(t.db, runId)).toMatchObject({ attempt: 2, failed_attempts: 1 });
    } finally {
      await w.stop();
    }
  });
});
