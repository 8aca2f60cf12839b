// The worker loop: wakes on enqueue (LISTEN/NOTIFY), drains within a budget,
// hands runs back on shutdown, keeps going when a run keeps failing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { createAutomation, engineDeps, probeAction, runRow } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Worker");
});
afterAll(() => t.drop());

async function waitFor<T>(fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Worker", () => {
  it("drain executes every due run and reports what it did", async () => {
    const calls: never[] = [];
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe" }] });
    for (let i = 0; i < 30; i++) await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const w = new Worker({ ...engineDeps(t.db, [probeAction("probe", calls)]), concurrency: 4 });
    const stats = await w.drain(20_000);
    expect(stats).toMatchObject({ claimed: 30, completed: 30, failed: 0 });
    const [{ n }] = (await t.db.query<{ n: number }>(
      "select count(*)::int n from automation_runs where automation_id = $1 and status = 'completed'",
      [id],
    )) as [{ n: number }];
    expect(n).toBe(30);
  });

  it("started, it picks up a run as soon as it is enqueued (LISTEN/NOTIFY), without polling", async () => {
    const calls: never[] = [];
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe" }] });
    // A poll interval far longer than the test: only the notification can wake it.
    const w = new Worker({ ...engineDeps(t.db, [probeAction("probe", calls)]), pollIntervalMs: 60_000 });
    await w.start();
    await new Promise((r) => setTimeout(r, 100)); // let the first (empty) claim pass
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    await waitFor(async () => (await runRow(t.db, runId)).status === "completed", 5000);
    await w.stop();
    expect(calls).toHaveLength(1);
  });

  it("on stop, a run still in flight after the grace period goes back to the queue, not counted as a failure", async () => {
    const id = await createAutomation(t.db, org, { actions: [{ type: "slow" }] });
    const slow = probeAction("slow", [], () => undefined);
    slow.execute = (_c, ctx) =>
      new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    const w = new Worker({ ...engineDeps(t.db, [slow]), pollIntervalMs: 50 });
    await w.start();
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    await waitFor(async () => (await runRow(t.db, runId)).status === "running");
    await w.stop(100);
    const r = await runRow(t.db, runId);
    expect(r).toMatchObject({ status: "pending", failed_attempts: 0, attempt: 1 });
    expect(w.stats.requeued).toBe(1);
  });

  it("keeps the queue moving while one automation's runs keep failing", async () => {
    const bad = await createAutomation(t.db, org, { max_attempts: 1, actions: [{ type: "boom" }] });
    const good = await createAutomation(t.db, org, { actions: [{ type: "probe" }] });
    const boom = probeAction("boom", [], () => {
      throw new Error("always crashes");
    });
    const runs = [];
    for (let i = 0; i < 10; i++) {
      runs.push((await enqueueRun(t.db, { automationId: bad, triggerType: "manual" })).runId);
      runs.push((await enqueueRun(t.db, { automationId: good, triggerType: "manual" })).runId);
    }
    const w = new Worker({ ...engineDeps(t.db, [boom, probeAction("probe", [])]), concurrency: 3 });
    const stats = await w.drain(20_000);
    expect(stats.completed).toBeGreaterThanOrEqual(10);
    expect(stats.failed).toBeGreaterThanOrEqual(10);
    const statuses = await t.db.query<{ automation_id: string; status: string; error_message: string | null }>(
      "select automation_id, status, error_message from automation_runs where id = any($1::uuid[])",
      [runs],
    );
    expect(statuses.filter((s) => s.automation_id === good).every((s) => s.status === "completed")).toBe(true);
    const failed = statuses.filter((s) => s.automation_id === bad);
    expect(failed.every((s) => s.status === "failed")).toBe(true);
    expect(failed[0]!.error_message).toBe("step 0 (boom) failed: unexpected error: always crashes");
  });
});
