// Database writes made by a run carry the run's identity to the SQL event
// trigger (automations_table_event) through a transaction-local setting, so a
// run started by that write joins the writer's chain: enqueue() looks the run
// up and takes the chain's root and depth from its row (never from this
// setting's other fields or a payload), and refuses past the chain's run
// budget or depth (automations_engine.chain_admit).
import type { Db } from "../db/types.ts";
import type { ActionContext } from "../engine/action_contract.ts";

export function withRunCause<T>(ctx: ActionContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const cause = { run_id: ctx.runId, automation_id: ctx.automationId, step_index: ctx.stepIndex };
  // As the acting member (under RLS) when the engine provides it.
  const inTx = ctx.asMember ?? ((f: (tx: Db) => Promise<T>) => ctx.db.transaction(f));
  return inTx(async (tx) => {
    await tx.query("select set_config('automations.caused_by', $1, true)", [JSON.stringify(cause)]);
    return fn(tx);
  });
}
