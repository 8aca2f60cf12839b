// Worker liveness rows (automations_engine.workers): the heartbeat and the
// clean goodbye. The reaper that acts on them is release_expired_leases (leases.ts).
import type { Db } from "../../db/types.ts";

/** What worker_heartbeat says: carry on, or (dead) abandon every run held under this id. */
export type BeatState = "alive" | "registered" | "dead";

export interface WorkerInfo {
  kind: "loop" | "drain";
  timeoutSeconds: number;
  host: string | null;
  pid: number | null;
}

export async function workerHeartbeat(db: Db, workerId: string, info: WorkerInfo): Promise<BeatState> {
  const [row] = await db.query<{ state: BeatState }>(
    "select automations_engine.worker_heartbeat($1, $2, $3, $4, $5) as state",
    [workerId, info.timeoutSeconds, info.kind, info.host, info.pid],
  );
  return row!.state;
}

/** The worker ended cleanly (every run handed back): its row goes. */
export async function workerStopped(db: Db, workerId: string): Promise<void> {
  await db.query("select automations_engine.worker_stopped($1)", [workerId]);
}
