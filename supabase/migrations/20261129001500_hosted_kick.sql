-- =============================================================================
-- HOSTED SUPABASE: RUNS START IN ABOUT A SECOND
-- On hosted Supabase nothing but function calls does work. Runs queued in SQL
-- (the table-event trigger, run_automation over RPC, retry_run, delays coming
-- due) would wait for the once-a-minute worker call. pg_cron 1.6 runs
-- kick_worker() every second (install_cron schedules it as automations-kick);
-- it calls automations-worker through pg_net only when there is work, at most
-- one call in flight and at most one call a second. uninstall_cron() removes
-- every job install_cron made.
-- =============================================================================

create table automations_engine.worker_kick (
  id boolean primary key default true check (id),
  last_kick_at timestamptz,
  request_id bigint,
  kicks bigint not null default 0
);
comment on table automations_engine.worker_kick is
  'One row: the last worker call kick_worker() made through pg_net (when, its net._http_response id) and how many it made.';
insert into automations_engine.worker_kick (id) values (true);
revoke all on automations_engine.worker_kick from public, anon, authenticated;

create or replace function automations_engine.kick_worker(p_min_interval interval default interval '1 second')
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_state automations_engine.worker_kick;
  v_answered boolean;
  v_useful boolean;
  v_id bigint;
begin
  -- Called every second by pg_cron (job automations-kick). Cheap when idle:
  -- a few index probes (automation_runs_due_idx, _org_due_idx, _flow_due_idx,
  -- _lease_idx) and nothing written. Returns the pg_net request id of the
  -- call it made, or null when it made none.
  --
  -- 1. Work for a worker: a due pending run the claim would take, or a
  --    running one whose lease expired (the worker hands it back and runs it
  --    again). Runs held back by max_concurrency, rate_limit or the org's
  --    max_running_runs are not work (has_claimable_runs, flow control
  --    migration): a held-back backlog would otherwise have the worker called
  --    every second for claims that come back empty.
  if not automations_engine.has_claimable_runs()
     and not exists (select 1 from public.automation_runs where status = 'running' and lease_expires_at < now()) then
    return null;
  end if;
  if to_regclass('net._http_response') is null then
    return null; -- no pg_net: the worker's own schedule (or the local runtime) runs the queue
  end if;
  -- 2. One kicker at a time: a concurrent caller skips instead of waiting.
  select * into v_state from automations_engine.worker_kick for update skip locked;
  if not found then
    return null;
  end if;
  -- 3. At most one call per p_min_interval, however many runs are queued.
  if v_state.last_kick_at > clock_timestamp() - p_min_interval then
    return null;
  end if;
  -- 4. At most one call in flight: the last one has no answer yet (within
  --    pg_net's 60 s timeout, after which it records a timeout). A worker
  --    call drains until nothing is due, so runs queued while it works are
  --    claimed by it; the once-a-minute automations-worker job is separate.
  -- 5. Back off to one call per 15 s while calls fail (say a wrong key in
  --    Vault: 401, or the function is not deployed): otherwise a broken
  --    install would cost 86,400 failed calls a day. A call that ran nothing
  --    is not a failure: another worker (a webhook's background drain, the
  --    minute job) may simply have taken the runs first.
  if v_state.request_id is not null and v_state.last_kick_at > clock_timestamp() - interval '65 seconds' then
    -- format(%I): not checked by plpgsql_check where pg_net is absent.
    execute format(
      $q$select count(*) > 0,
                coalesce(bool_or(status_code = 200), false)
           from %I._http_response where id = $1$q$, 'net')
      into v_answered, v_useful using v_state.request_id;
    if not v_answered then
      return null;
    end if;
    if not v_useful and v_state.last_kick_at > clock_timestamp() - interval '15 seconds' then
      return null;
    end if;
  end if;
  v_id := automations_engine.call_function('automations-worker', '{}'::jsonb, 60000);
  update automations_engine.worker_kick
     set last_kick_at = clock_timestamp(), request_id = v_id, kicks = kicks + 1;
  return v_id;
end;
$$;
comment on function automations_engine.kick_worker(interval) is
  'Calls automations-worker through pg_net when runs are due and not held back by a limit (or leases expired), at most one call in flight and one per p_min_interval (one per 15 s after a failed call). pg_cron runs it every second (automations-kick). Returns the request id or null.';

create or replace function automations_engine.uninstall_cron(p_jobs text[] default null)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_removed text[];
begin
  -- Removes the pg_cron jobs install_cron made (p_jobs: only those named).
  -- Harmless where pg_cron is missing.
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not enabled: no jobs to remove';
  end if;
  execute format(
    'select coalesce(array_agg(jobname order by jobname) filter (where %I.unschedule(jobid)), ''{}'')
       from %I.job
      where jobname = any ($1)', 'cron', 'cron')
    into v_removed
    using coalesce(p_jobs, array['automations-schedule-tick', 'automations-worker', 'automations-kick',
                                 'automations-cron-history', 'automations-retention']);
  return case when cardinality(v_removed) = 0 then 'no automations jobs were scheduled'
              else 'unscheduled ' || array_to_string(v_removed, ', ') end;
end;
$$;
comment on function automations_engine.uninstall_cron(text[]) is
  'Unschedules the pg_cron jobs install_cron made (all of them, or those named). Returns what it removed.';

revoke all on function automations_engine.kick_worker(interval), automations_engine.uninstall_cron(text[])
  from public, anon, authenticated;
