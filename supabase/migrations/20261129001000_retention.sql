-- =============================================================================
-- RETENTION
-- Run history must not grow without bound. Each org chooses how long finished
-- runs stay (public.automation_settings; no row = the defaults, 30 days for
-- completed runs and 90 for failed ones), and the engine deletes expired
-- terminal runs with their steps, plus snapshots nothing needs any more.
-- prune_runs() deletes one bounded batch per call; its body says how the
-- locks stay short.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Per-org setting.
-- -----------------------------------------------------------------------------
create table public.automation_settings (
  org_id uuid primary key references public.organizations (id) on delete cascade,
  run_retention_days integer not null default 30
    constraint automation_settings_run_retention_range check (run_retention_days between 1 and 3650),
  failed_run_retention_days integer not null default 90
    constraint automation_settings_failed_run_retention_range check (failed_run_retention_days between 1 and 3650),
  -- Limits (limits migration): set by the operator (service role) only; NULL
  -- means the default of automations_engine.setting().
  max_actions_per_automation integer constraint automation_settings_max_actions_positive check (max_actions_per_automation > 0),
  max_automations integer constraint automation_settings_max_automations_positive check (max_automations > 0),
  chain_run_budget integer constraint automation_settings_chain_run_budget_positive check (chain_run_budget > 0),
  max_chain_depth integer constraint automation_settings_max_chain_depth_range check (max_chain_depth >= 0),
  -- Operator cap (issue 16): at most this many runs of the org running at
  -- once, so no org can take every worker slot; applied by claim_runs().
  max_running_runs integer constraint automation_settings_max_running_runs_positive check (max_running_runs > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.automation_settings is
  'Per-org automation settings; an org without a row uses the defaults (30 / 90 days; limits: automations_engine.setting()). '
  'Admins write the retention columns; only the service writes the limit columns.';
comment on column public.automation_settings.max_actions_per_automation is 'Most actions (steps) one automation may have. NULL: 50.';
comment on column public.automation_settings.max_automations is 'Most automations the org may have (any status). NULL: 1000.';
comment on column public.automation_settings.chain_run_budget is
  'Most runs in one chain, its root included: runs set off by a run''s writes or its signed calls back into our functions. NULL: 100.';
comment on column public.automation_settings.max_chain_depth is 'Most runs between a chain''s root and its deepest run. NULL: 10.';
comment on column public.automation_settings.run_retention_days is
  'Completed runs (and their steps) are deleted this many days after they completed (1..3650).';
comment on column public.automation_settings.max_running_runs is
  'Operator setting: at most this many runs of the org running at once (null = no cap). The claim holds the rest pending; set by the service, members can read it.';
comment on column public.automation_settings.failed_run_retention_days is
  'Failed runs (and their steps) are deleted this many days after they failed (1..3650). Kept longer by default.';

create trigger automation_settings_set_updated_at
  before update on public.automation_settings
  for each row execute function public.set_updated_at();
comment on trigger automation_settings_set_updated_at on public.automation_settings is 'Keeps updated_at true.';

alter table public.automation_settings enable row level security;

create policy "Org members can view their automation settings" on public.automation_settings
  for select to authenticated using (org_id = (select public.get_user_org_id()));
create policy "Org admins can create their automation settings" on public.automation_settings
  for insert to authenticated
  with check (org_id = (select public.get_user_org_id()) and (select public.is_admin()));
create policy "Org admins can change their automation settings" on public.automation_settings
  for update to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()))
  with check (org_id = (select public.get_user_org_id()));
-- Not a row that holds the operator's limits: deleting it would reset them.
create policy "Org admins can reset their automation settings to the defaults" on public.automation_settings
  for delete to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin())
         and num_nonnulls(max_actions_per_automation, max_automations, chain_run_budget, max_chain_depth, max_running_runs) = 0);

-- anon never touches settings; members write only the retention columns.
revoke all on public.automation_settings from anon;
revoke insert, update on public.automation_settings from authenticated;
grant insert (org_id, run_retention_days, failed_run_retention_days) on public.automation_settings to authenticated;
grant update (run_retention_days, failed_run_retention_days) on public.automation_settings to authenticated;

-- -----------------------------------------------------------------------------
-- Indexes the pruner needs. Without them every batch would scan the table:
--   retention: the terminal runs of one org by age (finished, else created);
--   version_id / current_version_id: "is this snapshot still used?" and the
--   foreign-key checks when a snapshot is deleted.
-- -----------------------------------------------------------------------------
create index automation_runs_retention_idx
  on public.automation_runs (org_id, status, (coalesce(completed_at, created_at)))
  where status in ('completed', 'failed');
create index automation_runs_version_id_idx on public.automation_runs (version_id);
create index automations_current_version_id_idx on public.automations (current_version_id);
comment on index public.automation_runs_retention_idx is 'Retention: expired completed/failed runs of an org.';
comment on index public.automation_runs_version_id_idx is 'Retention: whether any run still uses a snapshot.';
comment on index public.automations_current_version_id_idx is 'Retention: whether a snapshot is some automation''s current one.';

-- -----------------------------------------------------------------------------
-- prune_runs: one bounded batch, one short transaction.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.prune_runs(p_batch_size integer default 1000)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_runs integer := 0;
  v_steps integer := 0;
  v_versions integer := 0;
  v_found integer;
begin
  -- How locks stay short:
  --   * This function deletes ONE bounded batch per call and returns. Called
  --     on its own (autocommit), each batch is its own short transaction: the
  --     row locks of a batch (up to p_batch_size runs and their steps) are
  --     released within milliseconds, and rows another session holds are
  --     skipped (FOR UPDATE SKIP LOCKED), never waited for.
  --   * Only completed/failed runs are ever chosen: pending and running runs,
  --     the only rows enqueue/claim/save_progress touch, are never locked. New
  --     runs keep flowing (their inserts take no lock a delete conflicts with).
  --   * Loops live outside a transaction: the procedure prune_runs_job() (what
  --     pg_cron calls) COMMITs after every batch, and shared/engine/sql/retention.ts
  --     calls prune_runs() repeatedly from TypeScript (the local runtime).
  --     A function looping over batches would hold every lock until it returned.
  -- Deleting a run frees its idempotency key: exactly-once recording per key
  -- holds for as long as the run is retained.
  if p_batch_size is null or p_batch_size not between 1 and 50000 then
    raise exception 'p_batch_size must be between 1 and 50000, got %', p_batch_size
      using errcode = '22023', hint = 'Call it repeatedly with a few thousand at most.';
  end if;

  -- Expired terminal runs, per org (index automation_runs_retention_idx), at
  -- most p_batch_size in all. Picked first, locked second: two plain plans.
  select coalesce(array_agg(k.id), '{}') into v_ids
    from (select c.id
            from public.organizations o
            left join public.automation_settings s on s.org_id = o.id
           cross join lateral (
             (select x.id from public.automation_runs x
               where x.org_id = o.id and x.status = 'completed'
                 and coalesce(x.completed_at, x.created_at)
                     < now() - make_interval(days => coalesce(s.run_retention_days, 30))
               limit p_batch_size)
             union all
             (select x.id from public.automation_runs x
               where x.org_id = o.id and x.status = 'failed'
                 and coalesce(x.completed_at, x.created_at)
                     < now() - make_interval(days => coalesce(s.failed_run_retention_days, 90))
               limit p_batch_size)
           ) c
           limit p_batch_size) k;
  v_found := cardinality(v_ids);

  -- Lock them without waiting: a row another session holds (a client editing
  -- a run's metadata, a concurrent pruner) is left for the next batch. Status
  -- is re-checked under the lock, so a run that is not terminal is never deleted.
  select coalesce(array_agg(r.id), '{}') into v_ids
    from (select r.id from public.automation_runs r
           where r.id = any (v_ids) and r.status in ('completed', 'failed')
             for update skip locked) r;

  if cardinality(v_ids) > 0 then
    -- Steps explicitly (the foreign key would cascade anyway) so they are counted.
    delete from public.automation_run_steps st where st.run_id = any (v_ids);
    get diagnostics v_steps = row_count;
    delete from public.automation_runs r where r.id = any (v_ids);
    get diagnostics v_runs = row_count;
  end if;

  -- Once the runs backlog is cleared: snapshots that are not current, that no
  -- run references, and that were superseded over an hour ago (so an enqueue
  -- that read the old current_version_id just before an edit still finds it).
  if v_found < p_batch_size then
    with doomed as (
      select v.id from public.automation_versions v
       where not exists (select 1 from public.automations a where a.current_version_id = v.id)
         and not exists (select 1 from public.automation_runs r where r.version_id = v.id)
         and exists (select 1 from public.automation_versions n
                      where n.automation_id = v.automation_id and n.created_at > v.created_at
                        and n.created_at < now() - interval '1 hour')
       limit p_batch_size
       for update skip locked
    )
    delete from public.automation_versions v using doomed where v.id = doomed.id;
    get diagnostics v_versions = row_count;
  end if;

  -- more: a full batch was found (and progress made, so rows held by a long
  -- transaction cannot keep a caller looping), or a full batch of snapshots.
  return jsonb_build_object(
    'deleted_runs', v_runs, 'deleted_steps', v_steps, 'deleted_versions', v_versions,
    'more', (v_found >= p_batch_size and v_runs > 0) or v_versions >= p_batch_size);
end;
$$;
comment on function automations_engine.prune_runs(integer) is
  'Deletes one batch (<= p_batch_size) of expired completed/failed runs with their steps, then unused superseded snapshots. '
  'Returns {deleted_runs, deleted_steps, deleted_versions, more}. Call it outside a transaction, repeatedly while more is true.';

-- -----------------------------------------------------------------------------
-- prune_runs_job: what pg_cron calls.
-- -----------------------------------------------------------------------------
create or replace procedure automations_engine.prune_runs_job(
  p_batch_size integer default 1000,
  p_max_batches integer default 500,
  p_max_seconds integer default 300
)
language plpgsql
as $$
declare
  v_started timestamptz := pg_catalog.clock_timestamp();
  v_batch jsonb;
  v_batches integer := 0;
  v_runs bigint := 0;
  v_versions bigint := 0;
begin
  -- prune_runs_job: what pg_cron calls. A PROCEDURE so it can COMMIT between
  -- batches. PostgreSQL forbids transaction control in a routine with a SET
  -- clause, so this one cannot pin search_path: every name in it is
  -- schema-qualified instead (it is SECURITY INVOKER and only the service may
  -- call it). Must be CALLed on its own, not inside a transaction block.
  loop
    v_batch := automations_engine.prune_runs(p_batch_size);
    commit;
    v_batches := v_batches + 1;
    v_runs := v_runs + (v_batch ->> 'deleted_runs')::bigint;
    v_versions := v_versions + (v_batch ->> 'deleted_versions')::bigint;
    exit when not (v_batch ->> 'more')::boolean
           or v_batches >= p_max_batches
           or pg_catalog.clock_timestamp() - v_started >= pg_catalog.make_interval(secs => p_max_seconds);
  end loop;
  raise log 'automations retention: % runs and % snapshots deleted in % batches', v_runs, v_versions, v_batches;
end;
$$;
comment on procedure automations_engine.prune_runs_job(integer, integer, integer) is
  'Retention job: prune_runs() batch after batch, committing after each, until done or p_max_batches / p_max_seconds. '
  'Run as `call automations_engine.prune_runs_job()` in its own transaction (pg_cron does).';

-- -----------------------------------------------------------------------------
-- Hosted Supabase: the retention job with pg_cron.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.install_retention_cron(p_schedule text default '17 * * * *')
returns text
language plpgsql
set search_path = ''
as $$
begin
  -- Hosted Supabase: schedule the job with pg_cron (pure SQL, no pg_net):
  --   select automations_engine.install_retention_cron();
  -- Harmless where pg_cron is missing: it says what to enable. The local runtime
  -- calls pruneRuns() from shared/engine/sql/retention.ts instead.
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not enabled: enable it (Dashboard > Database > Extensions), then run select automations_engine.install_retention_cron();';
  end if;
  -- Dynamic SQL built at run time: the cron schema only exists where pg_cron
  -- does, so a static reference would not even pass plpgsql_check elsewhere.
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-retention', p_schedule, 'call automations_engine.prune_runs_job()';
  return 'scheduled automations-retention (' || p_schedule || '): call automations_engine.prune_runs_job()';
end;
$$;
comment on function automations_engine.install_retention_cron(text) is
  'Schedules the retention job (call automations_engine.prune_runs_job()) with pg_cron, hourly by default. Returns what it did or what is missing.';

-- Engine routines are for the service connection only.
revoke all on function automations_engine.prune_runs(integer), automations_engine.install_retention_cron(text)
  from public, anon, authenticated;
revoke all on procedure automations_engine.prune_runs_job(integer, integer, integer) from public, anon, authenticated;
grant execute on function automations_engine.prune_runs(integer), automations_engine.install_retention_cron(text)
  to service_role;
grant execute on procedure automations_engine.prune_runs_job(integer, integer, integer) to service_role;
