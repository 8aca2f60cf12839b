// POST /functions/v1/automations-schedule-tick (service key or shared secret).
// Called every minute by pg_cron + pg_net on hosted Supabase and every few
// seconds by the local runtime. Also releases runs of dead workers.
// 200 {checked, enqueued, duplicates, invalid, failed, released_leases}:
// `failed` lists automations whose enqueue failed (e.g. paused mid-tick),
// each isolated; the tick still enqueued the others.
import { releaseExpiredLeases } from "../engine/sql/leases.ts";
import { json } from "../http/body.ts";
import { allowMethods, handle, type Handler } from "../http/route.ts";
import { requireService } from "../http/service_auth.ts";
import type { AppDeps } from "../runtime/deps.ts";
import { tickSchedules } from "../triggers/schedule_tick.ts";

export function createScheduleTickHandler(deps: AppDeps): Handler {
  return handle(deps.logger, "automations-schedule-tick", async (req) => {
    allowMethods(req, "POST", "GET");
    requireService(req, deps.auth);
    const started = Date.now();
    const tick = await tickSchedules(deps.db, deps.now(), deps.logger);
    const released = await releaseExpiredLeases(deps.db);
    if (tick.enqueued > 0 || released > 0) deps.kick();
    return json({ ...tick, released_leases: released, duration_ms: Date.now() - started });
  });
}
