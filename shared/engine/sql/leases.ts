// Heartbeats, graceful release and the reaper for dead workers.
import type { Db } from "../../db/types.ts";

export async function extendLease(db: Db, runId: string, attempt: number, claimToken: string, leaseSeconds: number): Promise<boolean> {
  const rows = await db.query("select automations_engine.extend_lease($1, $2, $3, $4) as ok", [runId, attempt, claimToken, leaseSeconds]);
  return rows[0]?.ok === true;
}

export async function releaseRun(db: Db, runId: string, attempt: number, claimToken: string): Promise<boolean> {
  const rows = await db.query("select automations_engine.release_run($1, $2, $3) as ok", [runId, attempt, claimToken]);
  return rows[0]?.ok === true;
}

/** Runs whose worker stopped renewing go back to the queue (or fail at the cap). */
export async function releaseExpiredLeases(db: Db, limit = 500): Promise<number> {
  const [row] = await db.query<{ n: number }>("select automations_engine.release_expired_leases($1) as n", [limit]);
  return row?.n ?? 0;
}
