// Steps already recorded for a run: what a resumed attempt must not repeat.
import type { Db } from "../../db/types.ts";
import type { StepRecord } from "../types.ts";

export async function loadSteps(db: Db, runId: string): Promise<StepRecord[]> {
  return db.query<StepRecord>(
    `select step_index, action_id, action_type, name, status, input, output, error_message,
            started_at::text as started_at, completed_at::text as completed_at
       from public.automation_run_steps where run_id = $1 order by step_index`,
    [runId],
  );
}
