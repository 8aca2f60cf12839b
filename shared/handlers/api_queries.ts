// The reads and state changes behind automations-api. Every function takes a
// transaction already acting as the user (asUser), so RLS decides what exists:
// another org's rows are simply not found. State changes go through the SQL
// API (public.retry_run, cancel_run, set_automation_status), never raw UPDATEs.
import type { Db } from "../db/types.ts";
import { badRequest } from "../http/errors.ts";

/** How many of an automation's latest finished runs its failure share is computed over. */
export const RECENT_RUNS = 50;

export interface AutomationSummary {
  id: string;
  name: string;
  trigger_type: string;
  status: string;
  run_count: number;
  last_run_at: Date | null;
  /** Finished (completed or failed) runs among the latest RECENT_RUNS. */
  recent_runs: number;
  recent_failed: number;
  /** recent_failed / recent_runs, or null before the first finished run. */
  failure_share: number | null;
}

export async function listAutomations(tx: Db): Promise<AutomationSummary[]> {
  // Pending and running runs have no outcome yet, so the share is taken over
  // finished runs; the lateral LIMIT walks automation_runs_automation_created_idx.
  return tx.query<AutomationSummary>(
    `select a.id, a.name, a.trigger_type::text as trigger_type, a.status::text as status, a.run_count, a.last_run_at,
            r.recent_runs, r.recent_failed,
            case when r.recent_runs > 0 then r.recent_failed::float8 / r.recent_runs end as failure_share
       from public.automations a
       cross join lateral (
         select count(*)::int as recent_runs, (count(*) filter (where x.status = 'failed'))::int as recent_failed
           from (select s.status from public.automation_runs s
                  where s.automation_id = a.id and s.status in ('completed', 'failed')
                  order by s.created_at desc limit $1) x
       ) r
      order by a.name, a.id`,
    [RECENT_RUNS],
  );
}

/** One automation with its actions in order (the console's automation page), or null when RLS hides it. */
export async function readAutomation(tx: Db, id: string): Promise<Record<string, unknown> | null> {
  const [a] = await tx.query<Record<string, unknown>>(
    `select a.id, a.name, a.description, a.status::text as status, a.trigger_type::text as trigger_type, a.trigger_config,
            a.run_count, a.last_run_at, a.created_at, a.updated_at,
            coalesce((select jsonb_agg(jsonb_build_object('id', x.id, 'position', x.position, 'name', x.name,
                                                          'action_type', x.action_type, 'action_config', x.action_config,
                                                          'condition', x.condition) order by x.position, x.created_at, x.id)
                        from public.automation_actions x where x.automation_id = a.id), '[]'::jsonb) as actions
       from public.automations a where a.id = $1`,
    [id],
  );
  return a ?? null;
}

export interface RunSummary {
  id: string;
  automation_id: string;
  status: string;
  trigger_type: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  error_message: string | null;
}

export interface RunsFilter {
  automation_id?: string;
  status?: string;
  limit: number;
  after?: string;
}

/** The keyset position of a run: created_at to the microsecond (a JS Date would drop them) and id. */
interface Cursor {
  at: string;
  id: string;
}

const CURSOR_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(c: Cursor): string {
  return btoa(JSON.stringify([c.at, c.id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(s: string): Cursor {
  try {
    const raw: unknown = JSON.parse(atob(s.replace(/-/g, "+").replace(/_/g, "/")));
    if (Array.isArray(raw) && raw.length === 2 && CURSOR_TS.test(String(raw[0])) && CURSOR_ID.test(String(raw[1]))) {
      return { at: raw[0] as string, id: raw[1] as string };
    }
  } catch {
    // fall through to the one message
  }
  throw badRequest("after must be the `next` cursor of a previous page");
}

/**
 * Newest first, keyset paged on (created_at, id): a page never repeats or
 * skips a run however many arrive meanwhile, and page N costs what page 1
 * does (no OFFSET scan). One extra row tells whether there is a next page.
 */
export async function listRuns(tx: Db, f: RunsFilter): Promise<{ runs: RunSummary[]; next: string | null }> {
  const after = f.after === undefined ? null : decodeCursor(f.after);
  // The cursor's time goes in as text: a parameter typed timestamptz is
  // serialized by postgres.js through a JS Date, which drops the microseconds
  // and would skip the rest of a page boundary's created_at tie.
  const rows = await tx.query<RunSummary & { cursor_at: string }>(
    `select r.id, r.automation_id, r.status::text as status, r.trigger_type::text as trigger_type,
            r.created_at, r.started_at, r.completed_at, r.error_message,
            to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
       from public.automation_runs r
      where ($1::uuid is null or r.automation_id = $1::uuid)
        and ($2::public.run_status is null or r.status = $2::public.run_status)
        and ($3::text is null or (r.created_at, r.id) < ($3::text::timestamptz, $4::text::uuid))
      order by r.created_at desc, r.id desc
      limit $5`,
    [f.automation_id ?? null, f.status ?? null, after?.at ?? null, after?.id ?? null, f.limit + 1],
  );
  const more = rows.length > f.limit;
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return {
    runs: page.map(({ cursor_at: _, ...run }) => run),
    next: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}

/** One run with its steps in order, or null when RLS hides it (or it does not exist). */
export async function readRunWithSteps(tx: Db, runId: string): Promise<Record<string, unknown> | null> {
  const [run] = await tx.query<Record<string, unknown>>(
    `select r.id, r.automation_id, a.name as automation_name, r.status::text as status, r.trigger_type::text as trigger_type,
            coalesce(p.payload, r.trigger_payload) as trigger_payload, r.created_at, r.run_at, r.started_at, r.completed_at,
            r.error_message, case when p.run_id is null then r.result else p.result end as result,
            r.attempt, r.failed_attempts, r.max_attempts, coalesce((r.metadata ->> 'cancelled')::boolean, false) as cancelled
       from public.automation_runs r join public.automations a on a.id = r.automation_id
       -- A restricted run's payload and result: RLS shows the row to its acting member only; others see the marker.
       left join public.automation_run_payloads p on r.restricted and p.run_id = r.id
      where r.id = $1`,
    [runId],
  );
  if (!run) return null;
  const steps = await tx.query(
    `select step_index, name, action_type, status::text as status, attempt, input, output, error_message, started_at, completed_at
       from public.automation_run_steps where run_id = $1 order by step_index`,
    [runId],
  );
  return { ...run, steps };
}

export async function retryRun(tx: Db, runId: string): Promise<void> {
  await tx.query("select public.retry_run($1::uuid)", [runId]);
}

export async function cancelRun(tx: Db, runId: string, reason: string | null): Promise<void> {
  await tx.query("select public.cancel_run($1::uuid, $2)", [runId, reason]);
}

export async function setAutomationStatus(tx: Db, automationId: string, status: string): Promise<{ id: string; status: string }> {
  const [row] = await tx.query<{ status: string }>(
    "select public.set_automation_status($1::uuid, $2::public.automation_status)::text as status",
    [automationId, status],
  );
  return { id: automationId, status: row!.status };
}
