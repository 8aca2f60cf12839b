// Database actions run under RLS as the automation's acting member: the last
// member who changed its trigger, status or actions (automations.acting_user_id,
// recorded on each run when it is created). The member's rights are taken at
// run time: before each database step the member is looked up again, and one
// who left, was suspended or deactivated fails the step for good. Inside, the
// SQL runs exactly as PostgREST would run it for them (shared/db/as_user.ts):
// `set local role authenticated` + their claims, so the table's own policies
// decide what may be read and written. An automation created by the service
// (acting_user_id null) runs as the service, as the operator asked.
import { asUser } from "../db/as_user.ts";
import type { Db } from "../db/types.ts";
import { ActionError } from "./action_contract.ts";

interface ActingMember {
  acting_user_id: string | null;
  auth_id: string | null;
  email: string | null;
  active: boolean;
  automation_name: string;
}

/** Runs fn in a transaction as the run's acting member (or the service); RLS refusals become permanent step errors. */
export async function asActingMember<T>(db: Db, runId: string, fn: (tx: Db) => Promise<T>): Promise<T> {
  const [m] = await db.query<ActingMember>("select * from automations_engine.run_acting_member($1)", [runId]);
  if (!m) throw new ActionError("run_not_found", `run ${runId} no longer exists`);
  if (m.acting_user_id === null) return db.transaction(fn);
  const who = m.email ?? `user ${m.acting_user_id} (deleted)`;
  if (!m.active || !m.auth_id) {
    throw new ActionError(
      "acting_member_inactive",
      `automation ${m.automation_name} acts as ${who}, who is no longer an active member of this organization; ` +
        "an admin must edit or re-activate the automation",
    );
  }
  try {
    return await asUser(db, { sub: m.auth_id, role: "authenticated", email: m.email ?? undefined }, fn);
  } catch (e) {
    if ((e as { code?: unknown })?.code === "42501") {
      throw new ActionError(
        "forbidden_by_rls",
        `${who} (the member automation ${m.automation_name} acts as) may not do this: ${(e as Error).message}`,
        { cause: e },
      );
    }
    throw e;
  }
}

