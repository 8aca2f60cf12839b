// Fenced write of a worker: finished steps plus an optional run outcome.
import type { Db } from "../../db/types.ts";
import type { Outcome, RunStatus, StepRecord } from "../types.ts";

export interface Progress {
  runId: string;
  attempt: number;
  /** The claim's token (ClaimedRun.claim_token): with the attempt, the fence. */
  claimToken: string;
  steps: StepRecord[];
  outcome: Outcome;
  error?: string | null;
  retryable?: boolean;
  result?: unknown;
  /** wait: when to resume; failed: not before this (a receiver's Retry-After). */
  runAt?: Date | null;
  leaseSeconds: number;
  /** The failing step's own retry policy, overriding the automation's. */
  maxAttempts?: number | null;
  backoffSeconds?: number | null;
}

/** The run's new status, or null when this attempt no longer owns the run. */
export async function saveProgress(db: Db, p: Progress): Promise<RunStatus | null> {
  const [row] = await db.query<{ status: RunStatus | null }>(
    "select automations_engine.save_progress($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9, $10, $11, $12) as status",
    [
      p.runId,
      p.attempt,
      p.claimToken,
      JSON.stringify(p.steps),
      p.outcome,
      p.error ?? null,
      p.retryable ?? false,
      p.result === undefined ? null : JSON.stringify(p.result),
      p.runAt ?? null,
      p.leaseSeconds,
      p.maxAttempts ?? null,
      p.backoffSeconds ?? null,
    ],
  );
  return row?.status ?? null;
}

/**
 * Many saves in one call and one commit (save_progress_many): each item is
 * fenced on its own. Statuses come back in the order of `items`. Throws if
 * any item errors; nothing is applied then.
 */
export async function saveProgressMany(db: Db, items: readonly Progress[]): Promise<Array<RunStatus | null>> {
  const rows = await db.query<{ run_id: string; status: RunStatus | null }>(
    "select run_id, status from automations_engine.save_progress_many($1::jsonb)",
    [
      JSON.stringify(
        items.map((p) => ({
          run_id: p.runId,
          attempt: p.attempt,
          claim_token: p.claimToken,
          steps: p.steps,
          outcome: p.outcome,
          error: p.error ?? null,
          retryable: p.retryable ?? false,
          ...(p.result === undefined ? {} : { result: p.result }),
          run_at: p.runAt ?? null,
          lease_seconds: p.leaseSeconds,
          max_attempts: p.maxAttempts ?? null,
          backoff_seconds: p.backoffSeconds ?? null,
        })),
      ),
    ],
  );
  const byRun = new Map(rows.map((r) => [r.run_id, r.status]));
  return items.map((p) => byRun.get(p.runId) ?? null);
}
