// save_progress_many: the worker's batched write. Completed runs take a
// set-based path, everything else goes through save_progress one by one; both
// must give exactly what one save_progress call per item gives.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { saveProgressMany, type Progress } from "../../shared/engine/sql/save_progress.ts";
import type { ClaimedRun, StepStatus } from "../../shared/engine/types.ts";
import { createAutomation, runRow, stepRows } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  org = await createOrg(t.db, "Batch");
});
afterAll(() => t.drop());

const step = (i: number, status: StepStatus = "completed", output: unknown = { i }) => ({
  step_index: i,
  action_id: null,
  action_type: "probe",
  name: null,
  status,
  input: { i },
  output,
  error_message: status === "failed" ? "boom" : null,
  started_at: new Date().toISOString(),
  completed_at: new Date().toISOString(),
}) as const;

/** n runs of a fresh automation, claimed by one worker. */
async function claimed(n: number, automationId?: string): Promise<{ automationId: string; runs: ClaimedRun[] }> {
  const id = automationId ?? (await createAutomation(t.db, org));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await enqueueRun(t.db, { automationId: id, triggerType: "manual" })).runId);
  const runs = (await claimRuns(t.db, "batch-test", 100, 60)).filter((r) => ids.includes(r.id));
  expect(runs).toHaveLength(n);
  return { automationId: id, runs };
}

const done = (r: ClaimedRun, extra: Partial<Progress> = {}): Progress => ({
  runId: r.id,
  attempt: r.attempt,
  claimToken: r.claim_token,
  steps: [step(0)],
  outcome: "completed",
  result: { run: r.id },
  leaseSeconds: 60,
  ...extra,
});

async function runCount(automationId: string): Promise<number> {
  const [a] = await t.db.query<{ run_count: number }>("select run_count from public.automations where id = $1", [automationId]);
  return a!.run_count;
}

describe("save_progress_many", () => {
  it("records a batch of completed runs: steps, result, lease cleared, one count each", async () => {
    const { automationId, runs } = await claimed(5);
    const statuses = await saveProgressMany(t.db, runs.map((r) => done(r)));
    expect(statuses).toEqual(runs.map(() => "completed"));
    for (const r of runs) {
      const row = await runRow(t.db, r.id);
      expect(row).toMatchObject({ status: "completed", result: { run: r.id }, error_message: null });
      expect(row.completed_at).toBeInstanceOf(Date);
      expect(await stepRows(t.db, r.id)).toMatchObject([{ step_index: 0, status: "completed", input: { i: 0 }, attempt: r.attempt }]);
    }
    const [lease] = await t.db.query<{ n: number }>(
      "select count(*)::int n from public.automation_runs where id = any ($1) and (lease_expires_at is not null or locked_by is not null)",
      [runs.map((r) => r.id)],
    );
    expect(lease!.n).toBe(0);
    expect(await runCount(automationId)).toBe(5);
  });

  it("fences each item on its own: a stale attempt gets null and changes nothing, the others are saved", async () => {
    const { automationId, runs } = await claimed(3);
    const [a, b, c] = runs as [ClaimedRun, ClaimedRun, ClaimedRun];
    const statuses = await saveProgressMany(t.db, [done(a), done(b, { attempt: b.attempt + 7 }), done(c)]);
    expect(statuses).toEqual(["completed", null, "completed"]);
    expect((await runRow(t.db, b.id)).status).toBe("running");
    expect(await stepRows(t.db, b.id)).toEqual([]);
    expect(await runCount(automationId)).toBe(2);
  });

  it("never overwrites a completed step, on the set-based path too", async () => {
    const { runs } = await claimed(1);
    const [r] = runs as [ClaimedRun];
    // Steps only first (slow path), then the completion carrying a different output for the same step.
    expect(await saveProgressMany(t.db, [{ ...done(r), outcome: null, result: undefined }])).toEqual(["running"]);
    expect(await saveProgressMany(t.db, [done(r, { steps: [step(0, "completed", { late: true }), step(1)] })])).toEqual(["completed"]);
    expect(await stepRows(t.db, r.id)).toMatchObject([
      { step_index: 0, output: { i: 0 } },
      { step_index: 1, output: { i: 1 } },
    ]);
  });

  it("mixes outcomes in one batch: completed, failed for good, retried, waiting, steps only", async () => {
    const { automationId, runs } = await claimed(5);
    const [ok, dead, retry, wait, progress] = runs as [ClaimedRun, ClaimedRun, ClaimedRun, ClaimedRun, ClaimedRun];
    const later = new Date(Date.now() + 3_600_000);
    const statuses = await saveProgressMany(t.db, [
      done(ok),
      done(dead, { outcome: "failed", error: "no", retryable: false, steps: [step(0, "failed")] }),
      done(retry, { outcome: "failed", error: "try again", retryable: true, steps: [step(0, "failed")] }),
      done(wait, { outcome: "wait", runAt: later }),
      done(progress, { outcome: null }),
    ]);
    expect(statuses).toEqual(["completed", "failed", "pending", "pending", "running"]);
    expect(await runRow(t.db, dead.id)).toMatchObject({ status: "failed", error_message: "no", failed_attempts: 1 });
    const retried = await runRow(t.db, retry.id);
    expect(retried).toMatchObject({ status: "pending", failed_attempts: 1 });
    expect(retried.error_message).toMatch(/^attempt 1 of 3 failed: try again \(retrying at /);
    expect((await runRow(t.db, wait.id)).run_at.getTime()).toBe(later.getTime());
    expect(await stepRows(t.db, progress.id)).toHaveLength(1);
    expect(await runCount(automationId)).toBe(2); // completed + failed for good
  });

  it("takes the same run twice in one batch the slow way: one save wins, the other is fenced", async () => {
    const { runs } = await claimed(2);
    const [a, b] = runs as [ClaimedRun, ClaimedRun];
    const item = (r: ClaimedRun, result: unknown) => ({ run_id: r.id, attempt: r.attempt, claim_token: r.claim_token, steps: [step(0)], outcome: "completed", result });
    const rows = await t.db.query<{ run_id: string; status: string | null }>(
      "select run_id, status from automations_engine.save_progress_many($1::jsonb)",
      [JSON.stringify([item(a, { first: true }), item(a, { second: true }), item(b, {})])],
    );
    expect(rows.filter((r) => r.run_id === a.id).map((r) => r.status).sort()).toEqual(["completed", null]);
    expect(rows.filter((r) => r.run_id === b.id).map((r) => r.status)).toEqual(["completed"]);
    expect([{ first: true }, { second: true }]).toContainEqual((await runRow(t.db, a.id)).result);
    expect(await stepRows(t.db, a.id)).toHaveLength(1);
  });

  it("counts runs of several automations with one update each", async () => {
    const one = await claimed(3);
    const two = await claimed(2);
    await saveProgressMany(t.db, [...one.runs, ...two.runs].map((r) => done(r)));
    expect(await runCount(one.automationId)).toBe(3);
    expect(await runCount(two.automationId)).toBe(2);
  });

  it("rejects a payload that is not an array with a clear error", async () => {
    await expect(t.db.query("select * from automations_engine.save_progress_many('{}'::jsonb)")).rejects.toMatchObject({
      code: "22023",
      message: "save_progress_many expects a JSON array of items, got object",
    });
  });
});
