// Fenced write of a worker: finished steps plus an optional run outcome.
import type { Db } from "../../db/types.ts";
import type { Outcome, RunStatus, StepRecord } from "../types.ts";

export interface Progress {
  runId: string;
  attempt: number;
  steps: StepRecord[];
  outcome: Outcome;
  error?: string | null;
  retryable?: boolean;
  result?: unknown;
  runAt?: Date | null;
  leaseSeconds: number;
}

/** The run's new status, or null when this attempt no longer owns the run. */
export async function saveProgress(db: Db, p: Progress): Promise<RunStatus | null> {
  const [row] = await db.query<{ status: RunStatus | null }>(
    "select automations_engine.save_progress($1, $2, $3::jsonb, $4, $5, $6, $7::jsonb, $8, $9) as status",
    [
      p.runId,
      p.attempt,
      JSON.stringify(p.steps),
      p.outcome,
      p.error ?? null,
      p.retryable ?? false,
      p.result === undefined ? null : JSON.stringify(p.result),
      p.runAt ?? null,
      p.leaseSeconds,
    ],
  );
  return row?.status ?? null;
}
