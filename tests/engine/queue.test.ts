// Queue mechanics in SQL: enqueue idempotency, claim exclusivity, fencing,
// leases, backoff, snapshots. Real PostgreSQL, real concurrency.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimRuns } from "../../shared/engine/sql/claim.ts";
import { enqueueRun } from "../../shared/engine/sql/enqueue.ts";
import { extendLease, releaseExpiredLeases, releaseRun } from "../../shared/engine/sql/leases.ts";
import { saveProgress } from "../../shared/engine/sql/save_progress.ts";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import { createAutomation, runRow, stepRows } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

let t: TestDatabase;
let org: string;

beforeAll(async () => {
  t = await createTestDatabase({ max: 25 });
  org = await createOrg(t.db, "Queue");
});
afterAll(() => t.drop());

const step = (i: number, status = "completed", output: unknown = { i }) => ({
  step_index: i,
  action_id: null,
  action_type: "probe",
  name: null,
  status,
  input: {},
  output,
  error_message: null,
  started_at: new Date().toISOString(),
  completed_at: new Date().toISOString(),
}) as const;

/** Claims the given (due) run and returns its claim token. */
const claimOf = async (runId: string) => {
  const run = (await claimRuns(t.db, "w", 50, 60)).find((r) => r.id === runId);
  if (!run) throw new Error(`run ${runId} was not claimed`);
  return run.claim_token;
};

describe("enqueue", () => {
  it("creates a pending run with the trigger payload and the current snapshot", async () => {
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe", config: { a: 1 } }] });
    const { runId, created } = await enqueueRun(t.db, { automationId: id, triggerType: "webhook", payload: { x: 1 } });
    expect(created).toBe(true);
    const [r] = await t.db.query<{ status: string; trigger_payload: unknown; trigger_type: string; actions: unknown }>(
      `select r.status, r.trigger_payload, r.trigger_type, v.actions from automation_runs r
         join automation_versions v on v.id = r.version_id where r.id = $1`,
      [runId],
    );
    expect(r).toMatchObject({ status: "pending", trigger_payload: { x: 1 }, trigger_type: "webhook" });
    expect(r!.actions).toMatchObject([{ action_type: "probe", action_config: { a: 1 }, position: 0 }]);
  });

  it("returns the existing run for the same idempotency key, also under concurrency", async () => {
    const id = await createAutomation(t.db, org);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => enqueueRun(t.db, { automationId: id, triggerType: "webhook", idempotencyKey: "msg_1" })),
    );
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [{ n }] = (await t.db.query<{ n: number }>("select count(*)::int n from automation_runs where automation_id = $1", [id])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("refuses paused, archived and draft automations (draft allowed for manual tests) with clear errors", async () => {
    for (const status of ["paused", "archived", "draft"] as const) {
      const id = await createAutomation(t.db, org, { status });
      await expect(enqueueRun(t.db, { automationId: id, triggerType: "webhook" })).rejects.toMatchObject({
        code: "55000",
        message: `automation ${id} is ${status}, not active`,
      });
    }
    const draft = await createAutomation(t.db, org, { status: "draft" });
    await expect(enqueueRun(t.db, { automationId: draft, triggerType: "manual", allowDraft: true })).resolves.toMatchObject({ created: true });
    const missing = "00000000-0000-0000-0000-000000000000";
    await expect(enqueueRun(t.db, { automationId: missing, triggerType: "manual" })).rejects.toMatchObject({ code: "P0002" });
  });

  it("keeps queued runs on the snapshot they were created with", async () => {
    const id = await createAutomation(t.db, org, { actions: [{ type: "probe", config: { v: "old" } }] });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    await t.db.query("update automation_actions set action_config = '{\"v\":\"new\"}' where automation_id = $1", [id]);
    await t.db.query(
      "insert into automation_actions (org_id, automation_id, action_type, position) values ($1, $2, 'probe', -1)",
      [org, id],
    );
    const [old] = await t.db.query<{ actions: Array<{ action_config: unknown }> }>(
      "select v.actions from automation_runs r join automation_versions v on v.id = r.version_id where r.id = $1",
      [runId],
    );
    expect(old!.actions).toEqual([expect.objectContaining({ action_config: { v: "old" } })]);
    const { runId: newer } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const [cur] = await t.db.query<{ actions: Array<{ position: number; action_config: unknown }> }>(
      "select v.actions from automation_runs r join automation_versions v on v.id = r.version_id where r.id = $1",
      [newer],
    );
    expect(cur!.actions.map((a) => a.position)).toEqual([-1, 0]);
    expect(cur!.actions[1]!.action_config).toEqual({ v: "new" });
  });
});

describe("claim", () => {
  it("20 concurrent claimers over 2,000 runs claim each exactly once", async () => {
    const id = await createAutomation(t.db, org, { name: "bulk" });
    await t.db.query(
      `insert into automation_runs (org_id, automation_id, trigger_type, version_id, idempotency_key)
       select $1, $2, 'manual', null, 'bulk-' || g from generate_series(1, 2000) g`,
      [org, id],
    );
    const claimers = Array.from({ length: 20 }, (_, w) => createPostgresDb(t.url, { max: 1 }));
    const seen: string[][] = claimers.map(() => []);
    await Promise.all(
      claimers.map(async (db, w) => {
        for (;;) {
          const runs = await claimRuns(db, `w${w}`, 7, 60);
          if (runs.length === 0) break;
          seen[w]!.push(...runs.filter((r) => r.automation_id === id).map((r) => r.id));
        }
      }),
    );
    await Promise.all(claimers.map((c) => c.close?.()));
    const all = seen.flat();
    expect(all).toHaveLength(2000);
    expect(new Set(all).size).toBe(2000);
    expect(seen.filter((s) => s.length > 0).length).toBeGreaterThan(1);
  });

  it("run_count and last_run_at follow runs' final states, exactly, when many finish at once", async () => {
    const id = await createAutomation(t.db, org, { name: "counted" });
    const runs = [];
    for (let i = 0; i < 200; i++) runs.push((await enqueueRun(t.db, { automationId: id, triggerType: "manual" })).runId);
    const claimed = (await claimRuns(t.db, "w", 1000, 60)).filter((r) => r.automation_id === id);
    expect(claimed).toHaveLength(200);
    const [before] = await t.db.query<{ run_count: number }>("select run_count from automations where id = $1", [id]);
    expect(before!.run_count).toBe(0); // running is not finished
    const savers = Array.from({ length: 10 }, () => createPostgresDb(t.url, { max: 1 }));
    await Promise.all(
      claimed.map((r, i) =>
        saveProgress(savers[i % 10]!, { runId: r.id, attempt: r.attempt, claimToken: r.claim_token, steps: [], outcome: i % 4 ? "completed" : "failed", error: "x", leaseSeconds: 60 }),
      ),
    );
    await Promise.all(savers.map((c) => c.close?.()));
    const [a] = await t.db.query<{ run_count: number; last_run_at: Date | null; latest: Date }>(
      "select run_count, last_run_at, (select max(started_at) from automation_runs where automation_id = $1) as latest from automations where id = $1",
      [id],
    );
    expect(a!.run_count).toBe(200);
    expect(a!.last_run_at).toEqual(a!.latest);
  });

  it("sets running, started_at, lease and attempt, and skips runs that are not yet due", async () => {
    const id = await createAutomation(t.db, org);
    const later = await enqueueRun(t.db, { automationId: id, triggerType: "manual", runAt: new Date(Date.now() + 3600_000) });
    const now = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const runs = await claimRuns(t.db, "w", 100, 60);
    expect(runs.map((r) => r.id)).toContain(now.runId);
    expect(runs.map((r) => r.id)).not.toContain(later.runId);
    const r = await runRow(t.db, now.runId);
    expect(r).toMatchObject({ status: "running", attempt: 1 });
    expect(r.started_at).toBeInstanceOf(Date);
  });
});

describe("fencing and leases", () => {
  it("a stale worker's writes change 0 rows after its lease expired and the run was claimed again", async () => {
    const id = await createAutomation(t.db, org, { actions: [{ type: "p" }, { type: "p" }] });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const [first] = (await claimRuns(t.db, "old", 1, 60)).filter((r) => r.id === runId);
    expect(first?.attempt).toBe(1);
    const old = first!.claim_token;
    await saveProgress(t.db, { runId, attempt: 1, claimToken: old, steps: [step(0) as never], outcome: null, leaseSeconds: 60 });
    await t.db.query("update automation_runs set lease_expires_at = now() - interval '1 second' where id = $1", [runId]);
    expect(await releaseExpiredLeases(t.db)).toBeGreaterThanOrEqual(1);
    const second = (await claimRuns(t.db, "new", 10, 60)).find((r) => r.id === runId);
    expect(second?.attempt).toBe(2);
    const cur = second!.claim_token;
    expect(cur).not.toBe(old);

    // The old worker wakes up: every write is refused.
    expect(await saveProgress(t.db, { runId, attempt: 1, claimToken: old, steps: [step(1) as never], outcome: "completed", leaseSeconds: 60 })).toBeNull();
    expect(await extendLease(t.db, runId, 1, old, 60)).toBe(false);
    expect(await releaseRun(t.db, runId, 1, old)).toBe(false);
    expect((await stepRows(t.db, runId)).map((s) => s.step_index)).toEqual([0]);
    expect((await runRow(t.db, runId)).status).toBe("running");

    // A completed step is never overwritten, even by the owner.
    await saveProgress(t.db, { runId, attempt: 2, claimToken: cur, steps: [step(0, "failed") as never], outcome: null, leaseSeconds: 60 });
    expect((await stepRows(t.db, runId))[0]!.status).toBe("completed");
    expect(await saveProgress(t.db, { runId, attempt: 2, claimToken: cur, steps: [step(1) as never], outcome: "completed", leaseSeconds: 60 })).toBe("completed");
  });

  it("a claim lost in a crash (same attempt handed out again) fences the first holder by its token", async () => {
    const id = await createAutomation(t.db, org, { actions: [{ type: "p" }, { type: "p" }] });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const first = (await claimRuns(t.db, "a", 50, 60)).find((r) => r.id === runId)!;
    // What recovery leaves when the claim's asynchronous commit never reached
    // the disk: the row as it was before the claim.
    await t.db.query(
      `update automation_runs set status = 'pending', attempt = attempt - 1, started_at = null,
              lease_expires_at = null, locked_by = null, claim_token = null where id = $1`,
      [runId],
    );
    const second = (await claimRuns(t.db, "b", 50, 60)).find((r) => r.id === runId)!;
    expect(second.attempt).toBe(first.attempt); // the attempt alone cannot tell them apart
    expect(second.claim_token).not.toBe(first.claim_token);

    const a = { runId, attempt: first.attempt, claimToken: first.claim_token, leaseSeconds: 60 };
    expect(await saveProgress(t.db, { ...a, steps: [step(0, "completed", { by: "a" }) as never], outcome: null })).toBeNull();
    expect(await extendLease(t.db, runId, first.attempt, first.claim_token, 60)).toBe(false);
    expect(await releaseRun(t.db, runId, first.attempt, first.claim_token)).toBe(false);
    expect(await stepRows(t.db, runId)).toEqual([]);

    const b = { runId, attempt: second.attempt, claimToken: second.claim_token, leaseSeconds: 60 };
    expect(await extendLease(t.db, runId, second.attempt, second.claim_token, 60)).toBe(true);
    expect(await saveProgress(t.db, { ...b, steps: [step(0, "completed", { by: "b" }) as never, step(1) as never], outcome: "completed" })).toBe("completed");
    expect((await stepRows(t.db, runId)).map((s) => s.output)).toEqual([{ by: "b" }, { i: 1 }]);
  });

  it("claim_runs commits without waiting for the WAL flush, in its own transaction only", async () => {
    const one = createPostgresDb(t.url, { max: 1 });
    try {
      await one.query("set synchronous_commit = on"); // the test cluster's default is off
      const modes = await one.transaction(async (tx) => {
        const show = async () => (await tx.query<{ synchronous_commit: string }>("show synchronous_commit"))[0]!.synchronous_commit;
        const before = await show();
        await tx.query("select * from automations_engine.claim_runs('w', 0, 60)");
        return [before, await show()];
      });
      expect(modes).toEqual(["on", "off"]);
      // The same connection's next transaction is durable again.
      expect((await one.query<{ synchronous_commit: string }>("show synchronous_commit"))[0]!.synchronous_commit).toBe("on");
    } finally {
      await one.close?.();
    }
  });

  it("a run whose worker keeps dying ends failed at the attempt cap with a clear error", async () => {
    const id = await createAutomation(t.db, org, { max_attempts: 2 });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    for (let i = 0; i < 2; i++) {
      await t.db.query("update automation_runs set run_at = now() - interval '1 second' where id = $1", [runId]);
      expect((await claimRuns(t.db, "w", 50, 60)).some((r) => r.id === runId)).toBe(true);
      await t.db.query("update automation_runs set lease_expires_at = now() - interval '1 second' where id = $1", [runId]);
      await releaseExpiredLeases(t.db);
    }
    const r = await runRow(t.db, runId);
    expect(r.status).toBe("failed");
    expect(r.error_message).toBe(
      "the worker running attempt 2 stopped responding (lease expired); gave up after 2 attempts",
    );
  });
});

describe("retry backoff", () => {
  it("doubles from the automation's base and caps at one hour", async () => {
    const rows = await t.db.query<{ n: number; secs: number }>(
      `select n, extract(epoch from automations_engine.retry_delay(n, 10))::int as secs from generate_series(1, 12) n`,
    );
    expect(rows.map((r) => r.secs)).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]);
  });

  it("a retryable failure goes back to pending at now + backoff; the last one fails the run", async () => {
    const id = await createAutomation(t.db, org, { max_attempts: 2, retry_backoff_seconds: 30 });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const claimToken = await claimOf(runId);
    const st = await saveProgress(t.db, { runId, attempt: 1, claimToken, steps: [], outcome: "failed", error: "boom", retryable: true, leaseSeconds: 60 });
    expect(st).toBe("pending");
    const r = await runRow(t.db, runId);
    expect(r.error_message).toMatch(/^attempt 1 of 2 failed: boom \(retrying at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
    // 30 s base with ±25% jitter.
    const wait = (r.run_at.getTime() - Date.now()) / 1000;
    expect(wait).toBeGreaterThan(21);
    expect(wait).toBeLessThanOrEqual(38);
    await t.db.query("update automation_runs set run_at = now() where id = $1", [runId]);
    expect(await saveProgress(t.db, { runId, attempt: 2, claimToken: await claimOf(runId), steps: [], outcome: "failed", error: "boom again", retryable: true, leaseSeconds: 60 })).toBe("failed");
    expect(await runRow(t.db, runId)).toMatchObject({ status: "failed", error_message: "boom again", failed_attempts: 2 });
  });

  it("a receiver's Retry-After pushes the retry later; a step's own retry policy overrides the automation's", async () => {
    const id = await createAutomation(t.db, org, { max_attempts: 5, retry_backoff_seconds: 1 });
    const { runId } = await enqueueRun(t.db, { automationId: id, triggerType: "manual" });
    const claimToken = await claimOf(runId);
    const later = new Date(Date.now() + 600_000);
    await saveProgress(t.db, { runId, attempt: 1, claimToken, steps: [], outcome: "failed", error: "429", retryable: true, runAt: later, leaseSeconds: 60 });
    expect(Math.abs((await runRow(t.db, runId)).run_at.getTime() - later.getTime())).toBeLessThan(1000);
    await t.db.query("update automation_runs set run_at = now() where id = $1", [runId]);
    // The step allows only 2 attempts: this second failure is final although the automation allows 5.
    expect(await saveProgress(t.db, { runId, attempt: 2, claimToken: await claimOf(runId), steps: [], outcome: "failed", error: "again", retryable: true, maxAttempts: 2, leaseSeconds: 60 })).toBe("failed");
  });
});
