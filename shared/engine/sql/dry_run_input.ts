// What a dry run (../dry_run.ts) starts from: the automation, the snapshot its
// next run would execute, and a payload. Read-only; every query works both
// inside a transaction acting as a user (automations-api: RLS decides what
// exists, and a restricted run's real payload is read only by whom
// automation_run_payloads lets read it) and on a service connection (the CLI).
import type { Db } from "../../db/types.ts";
import type { SnapshotAction } from "../types.ts";

export interface DryRunAutomation {
  id: string;
  name: string;
  org_id: string;
  trigger_type: string;
  status: string;
  /** automations.current_version_id's actions: what a run created now would execute. */
  actions: SnapshotAction[];
}

/** The automation with its current snapshot, or null when it does not exist or is not visible. */
export async function loadDryRunAutomation(db: Db, automationId: string): Promise<DryRunAutomation | null> {
  const [row] = await db.query<DryRunAutomation>(
    `select a.id, a.name, a.org_id, a.trigger_type::text as trigger_type, a.status::text as status,
            coalesce(v.actions, '[]'::jsonb) as actions
       from public.automations a
       left join public.automation_versions v on v.id = a.current_version_id
      where a.id = $1::uuid`,
    [automationId],
  );
  return row ?? null;
}

export interface LastPayload {
  payload: unknown;
  headers: Record<string, string> | null;
}

/**
 * The trigger payload (and kept webhook headers) of the automation's latest
 * run whose payload the reader may see: a restricted run counts only when
 * its real payload is readable, never its redaction marker. Null without one.
 */
export async function loadLastPayload(db: Db, automationId: string): Promise<LastPayload | null> {
  const [row] = await db.query<LastPayload>(
    `select coalesce(p.payload, r.trigger_payload) as payload, r.trigger_headers as headers
       from public.automation_runs r
       left join public.automation_run_payloads p on r.restricted and p.run_id = r.id
      where r.automation_id = $1::uuid
        and (not r.restricted or p.run_id is not null)
      order by r.created_at desc, r.id desc
      limit 1`,
    [automationId],
  );
  return row ?? null;
}
