// Database writes made by a run carry the run's identity to the SQL event
// trigger (automations_table_event) through a transaction-local setting, so a
// run started by that write knows its cause, and a chain of runs that keep
// triggering each other (automation A writes a row that starts A again) is
// stopped at a fixed depth instead of looping forever.
import type { Db } from "../db/types.ts";
import type { ActionContext } from "../engine/action_contract.ts";

export function withRunCause<T>(ctx: ActionContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const cause = { run_id: ctx.runId, automation_id: ctx.automationId, step_index: ctx.stepIndex, depth: (ctx.chainDepth ?? 0) + 1 };
  // As the acting member (under RLS) when the engine provides it.
  const inTx = ctx.asMember ?? ((f: (tx: Db) => Promise<T>) => ctx.db.transaction(f));
  return inTx(async (tx) => {
    await tx.query("select set_config('automations.caused_by', $1, true)", [JSON.stringify(cause)]);
    return fn(tx);
  });
}
