// Claim due runs for this worker (FOR UPDATE SKIP LOCKED inside claim_runs).
import type { Db } from "../../db/types.ts";
import type { ClaimedRun } from "../types.ts";

export async function claimRuns(db: Db, workerId: string, limit: number, leaseSeconds: number): Promise<ClaimedRun[]> {
  if (limit <= 0) return [];
  return db.query<ClaimedRun>("select * from automations_engine.claim_runs($1, $2, $3)", [
    workerId,
    limit,
    leaseSeconds,
  ]);
}
