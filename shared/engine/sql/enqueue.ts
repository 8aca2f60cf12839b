// The one way every trigger creates a run (automations_engine.enqueue).
import type { Db } from "../../db/types.ts";

export type TriggerType = "event" | "schedule" | "webhook" | "manual";

export interface EnqueueInput {
  automationId: string;
  triggerType: TriggerType;
  payload?: unknown;
  /** Same key for the same automation returns the existing run. */
  idempotencyKey?: string | null;
  runAt?: Date | null;
  /** Manual test runs may run a draft automation. */
  allowDraft?: boolean;
}

export interface Enqueued {
  runId: string;
  /** False when the idempotency key matched an existing run. */
  created: boolean;
}

export async function enqueueRun(db: Db, input: EnqueueInput): Promise<Enqueued> {
  const [row] = await db.query<{ run_id: string; created: boolean }>(
    "select run_id, created from automations_engine.enqueue($1, $2, $3::jsonb, $4, $5, $6)",
    [
      input.automationId,
      input.triggerType,
      JSON.stringify(input.payload ?? {}),
      input.idempotencyKey ?? null,
      input.runAt ?? null,
      input.allowDraft ?? false,
    ],
  );
  if (!row) throw new Error(`enqueue returned no run for automation ${input.automationId}`);
  return { runId: row.run_id, created: row.created };
}
