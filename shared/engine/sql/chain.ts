// Chains across HTTP: a request that carried a verified x-automations-cause
// header enqueues inside a transaction that names the causing run, exactly as
// a run's own database writes do (shared/actions/run_cause.ts); enqueue()
// then joins the run to that chain or refuses it (54000, chain_admit).
import type { Db } from "../../db/types.ts";
import { causeSetting } from "../../http/run_cause_header.ts";

/** SQLSTATE enqueue raises when a chain is over its run budget or depth. */
export const CHAIN_REFUSED = "54000";

export function isChainRefusal(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === CHAIN_REFUSED;
}

/** Names the causing run for the enqueues of this transaction (no-op without one). */
export async function setRunCause(tx: Db, causeRunId: string | null): Promise<void> {
  if (causeRunId) await tx.query("select set_config('automations.caused_by', $1, true)", [causeSetting(causeRunId)]);
}

/**
 * Counts a refused run on automation_chain_refusals (the enqueue's own
 * transaction rolled back). Nothing when the causing run and the automation
 * are not of the same org.
 */
export async function recordChainRefusal(db: Db, causeRunId: string, automationId: string, reason: string): Promise<void> {
  await db.query(
    `select automations_engine.record_chain_refusal(r.org_id, coalesce(r.root_run_id, r.id), a.id, $3)
       from public.automation_runs r
       join public.automations a on a.id = $2 and a.org_id = r.org_id
      where r.id = $1`,
    [causeRunId, automationId, reason],
  );
}
