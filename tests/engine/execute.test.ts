// Executing runs: order, step records, templates across steps, conditions,
// delays, retries, resume without repeating completed steps.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionError } from "../../shared/engine/action_contract.ts";
import { executeRun } from "../../shared/engine/execute_run.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { releaseExpiredLeases } from "../../shared/engine/sql/leases.ts";
import { loadSettings } from "../../shared/settings.ts";
import { createAutomation, engineDeps, probeAction, runRow, stepRows, type AutomationSpec } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;
type Call = { runId: string; step: number; attempt: number; key: string; config: unknown };
let calls: Call[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  org = await createOrg(t.db, "Exec");
});
afterAll(() => t.drop());

const probe = () => probeAction("probe", calls);

/** Enqueue one run of a fresh automation, claim exactly it, execute it. */
async function runOnce(spec: AutomationSpec, payload: unknown = {}, actions = [probe()]) {
  calls.length = 0;
  const id = await createAutomation(t.db, org, spec);
  const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual", payload });
  return { id, runId, status: await claimAndExecute(runId, actions) };
}

async function claimAndExecute(runId: string, actions = [probe()], now?: () => Date) {
  const runs = await claimRuns(t.db, "test", 100, 30);
  const run = runs.find((r) => r.id === runId);
  if (!run) throw new Error(`run ${runId} was not claimable`);
  return executeRun(run, engineDeps(t.db, actions, now ? { now } : {}));
}

describe("executeRun", () => {
  it("runs actions in position order, ties by creation order, and records each step", async () => {
    const { runId, status } = await runOnce({
      actions: [
        { type: "probe", config: { n: "b" }, position: 2 },
        { type: "probe", config: { n: "a" }, position: 1 },
        { type: "probe", config: { n: "c" }, position: 2 },
      ],
    });
    expect(status).toBe("completed");
    // Same position and same created_at (one statement): the id decides, so
    // every run (and every worker) executes them in the same order.
    const ties = await t.db.query<{ n: string }>(
      "select action_config->>'n' as n from automation_actions where automation_id = (select automation_id from automation_runs where id = $1) and position = 2 order by id",
      [runId],
    );
    expect(calls.map((c) => (c.config as { n: string }).n)).toEqual(["a", ...ties.map((r) => r.n)]);
    expect(calls.map((c) => c.key)).toEqual([`${runId}:0`, `${runId}:1`, `${runId}:2`]);
    const steps = await stepRows(t.db, runId);
    expect(steps.map((s) => [s.step_index, s.status])).toEqual([[0, "completed"], [1, "completed"], [2, "completed"]]);
    expect(steps[0]!.output).toEqual({ echo: { n: "a" } });
    const run = await runRow(t.db, runId);
    expect(run.result).toEqual({ output: { echo: { n: ties[1]!.n } } });
    expect(run.completed_at).toBeInstanceOf(Date);
  });

  it("resolves templates from the trigger payload and earlier steps by name and position, keeping JSON types", async () => {
    const { runId, status } = await runOnce(
      {
        actions: [
          { type: "probe", name: "first", config: { amount: "{{trigger.payload.amount}}", who: "Hi {{trigger.payload.user.name}}" } },
          { type: "probe", config: { prev: "{{steps.first.output.echo.amount}}", byIndex: "{{steps.0.output.echo.who}}" } },
        ],
      },
      { amount: 42, user: { name: "Ada" } },
    );
    expect(status).toBe("completed");
    expect(calls[0]!.config).toEqual({ amount: 42, who: "Hi Ada" });
    expect(calls[1]!.config).toEqual({ prev: 42, byIndex: "Hi Ada" });
    expect((await stepRows(t.db, runId))[1]!.input).toEqual({ prev: 42, byIndex: "Hi Ada" });
  });

  it("fails the step clearly on a missing template path, and renders empty when the action says so", async () => {
    const { runId, status } = await runOnce({ actions: [{ type: "probe", config: { to: "{{trigger.payload.email}}" } }] });
    expect(status).toBe("failed");
    const run = await runRow(t.db, runId);
    expect(run.error_message).toMatch(/^step 0 \(probe\) failed: .*trigger\.payload\.email/);
    expect(calls).toHaveLength(0);
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe", config: { to: "{{trigger.payload.email}}" } }] });
    await t.db.query("update automation_actions set template_missing = 'empty' where automation_id = $1", [id]);
    const { runId: r2 } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    expect(await claimAndExecute(r2)).toBe("completed");
    expect(calls.at(-1)!.config).toEqual({ to: null });
  });

  it("fails a step whose placeholders would produce more than the output budget (1,000 copies of a 50 KB payload)", async () => {
    const payload = { rows: Array.from({ length: 1_000 }, (_, i) => ({ id: i, note: "x".repeat(30) })) };
    const size = JSON.stringify(payload).length;
    const bomb = { message: "bomb", data: Array.from({ length: 1_000 }, () => "{{trigger.payload}}") };
    const { runId, status } = await runOnce({ actions: [{ type: "probe", config: bomb }] }, payload);
    expect(status).toBe("failed");
    expect(calls).toHaveLength(0);
    const fits = Math.floor(1_048_576 / size);
    expect((await runRow(t.db, runId)).error_message).toContain(`would produce more than 1048576 characters (reached at $.data[${fits}]`);
    // The step records the config as written, not what it would have grown to.
    expect(JSON.stringify((await stepRows(t.db, runId))[0]!.input).length).toBeLessThan(30_000);

    // The operator's setting (AUTOMATIONS_TEMPLATE_MAX_OUTPUT) is what the engine applies.
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe", config: bomb }] });
    const { runId: r2 } = await enqueueRun(t.db, { automationId: id, triggerType: "manual", payload });
    const run = (await claimRuns(t.db, "test", 100, 30)).find((r) => r.id === r2)!;
    const settings = loadSettings({ AUTOMATIONS_TEMPLATE_MAX_OUTPUT: String(3 * size) });
    expect(await executeRun(run, engineDeps(t.db, [probe()], { settings }))).toBe("failed");
    expect((await runRow(t.db, r2)).error_message).toContain(`would produce more than ${3 * size} characters (reached at $.data[3]`);
  });

  it("skips a step whose condition is false, or stops the run as completed with a reason", async () => {
    const cond = (v: string, otherwise: "skip" | "stop") => ({
      if: { "==": [{ var: "trigger.payload.status" }, v] },
      else: otherwise,
    });
    const skip = await runOnce(
      { actions: [{ type: "probe", condition: cond("won", "skip") }, { type: "probe", config: { after: true } }] },
      { status: "lost" },
    );
    expect(skip.status).toBe("completed");
    expect(calls.map((c) => c.step)).toEqual([1]);
    expect((await stepRows(t.db, skip.runId)).map((s) => s.status)).toEqual(["skipped", "completed"]);

    const stop = await runOnce(
      { actions: [{ type: "probe" }, { type: "probe", condition: cond("won", "stop") }, { type: "probe" }] },
      { status: "lost" },
    );
    expect(stop.status).toBe("completed");
    expect(calls.map((c) => c.step)).toEqual([0]);
    expect((await runRow(t.db, stop.runId)).result).toMatchObject({ stopped: { step: 1, reason: "condition was false" } });

    const go = await runOnce({ actions: [{ type: "probe", condition: cond("won", "stop") }] }, { status: "won" });
    expect(go.status).toBe("completed");
    expect(calls).toHaveLength(1);
  });

  it("validates the resolved config with the action's schema and names unknown action types", async () => {
    const unknown = await runOnce({ actions: [{ type: "nope" }] });
    expect(unknown.status).toBe("failed");
    expect((await runRow(t.db, unknown.runId)).error_message).toBe('step 0 (nope) failed: unknown action type "nope"');
  });

  it("retries a retryable failure and fails at once on a permanent one", async () => {
    const flaky = probeAction("flaky", [], () => {
      throw new ActionError("http_503", "receiver answered 503", { retryable: true });
    });
    const r1 = await runOnce({ actions: [{ type: "flaky", name: "hook" }] }, {}, [flaky]);
    expect(r1.status).toBe("pending");
    expect((await runRow(t.db, r1.runId)).error_message).toMatch(
      /^attempt 1 of 3 failed: step 0 "hook" \(flaky\) failed: receiver answered 503 \(retrying at .*Z\)$/,
    );
    const bad = probeAction("bad", [], () => {
      throw new ActionError("http_400", "receiver answered 400", { retryable: false });
    });
    const r2 = await runOnce({ actions: [{ type: "bad" }] }, {}, [bad]);
    expect(r2.status).toBe("failed");
    expect(await stepRows(t.db, r2.runId)).toMatchObject([{ status: "failed", error_message: "receiver answered 400" }]);
  });

  it("resumes after the last completed step when a run is claimed again; completed steps never run twice", async () => {
    let crash = true;
    const crashy = probeAction("crashy", [], () => {
      if (crash) throw new Error("worker died"); // unexpected: retryable
      return { ok: true };
    });
    const { runId, status } = await runOnce({ actions: [{ type: "probe" }, { type: "crashy" }, { type: "probe" }] }, {}, [probe(), crashy]);
    expect(status).toBe("pending");
    expect(calls.map((c) => c.step)).toEqual([0]);
    crash = false;
    await t.db.query("update automation_runs set run_at = now() where id = $1", [runId]);
    expect(await claimAndExecute(runId, [probe(), crashy])).toBe("completed");
    expect(calls.map((c) => [c.step, c.attempt])).toEqual([[0, 1], [2, 2]]);
    expect((await stepRows(t.db, runId)).map((s) => [s.status, s.attempt])).toEqual([["completed", 1], ["completed", 2], ["completed", 2]]);
  });

  it("a delay step releases the run until its time and then continues", async () => {
    const sleeper = probeAction("sleep", [], () => undefined);
    sleeper.execute = async (_c, ctx) => ({ output: { until: new Date(ctx.now().getTime() + 60_000).toISOString() }, waitUntil: new Date(ctx.now().getTime() + 60_000) });
    const { runId, status } = await runOnce({ actions: [{ type: "sleep" }, { type: "probe" }] }, {}, [sleeper, probe()]);
    expect(status).toBe("pending");
    const r = await runRow(t.db, runId);
    expect(r.run_at.getTime() - Date.now()).toBeGreaterThan(50_000);
    expect((await stepRows(t.db, runId))[0]!.status).toBe("waiting");
    expect(await claimRuns(t.db, "test", 100, 30)).not.toContainEqual(expect.objectContaining({ id: runId }));
    await t.db.query("update automation_runs set run_at = now() where id = $1", [runId]);
    const later = () => new Date(Date.now() + 61_000);
    expect(await claimAndExecute(runId, [sleeper, probe()], later)).toBe("completed");
    expect((await stepRows(t.db, runId)).map((s) => s.status)).toEqual(["completed", "completed"]);
    expect((await runRow(t.db, runId)).failed_attempts).toBe(0);
  });

  it("a run with no actions completes", async () => {
    const { status } = await runOnce({ actions: [] });
    expect(status).toBe("completed");
  });

  it("a worker that lost its lease cannot complete the run; the next attempt does", async () => {
    calls.length = 0;
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe" }] });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const [stale] = (await claimRuns(t.db, "old", 100, 30)).filter((r) => r.id === runId);
    await t.db.query("update automation_runs set lease_expires_at = now() - interval '1 second' where id = $1", [runId]);
    await releaseExpiredLeases(t.db);
    expect(await claimAndExecute(runId)).toBe("completed");
    expect(await executeRun(stale!, engineDeps(t.db, [probe()]))).toBeNull();
    expect(await stepRows(t.db, runId)).toHaveLength(1);
    expect((await stepRows(t.db, runId))[0]!.attempt).toBe(2);
  });
});
