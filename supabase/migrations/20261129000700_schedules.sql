-- =============================================================================
-- SCHEDULES
-- The schedule tick (an edge function called every minute by pg_cron + pg_net,
-- or by the local runtime) computes due fire times in TypeScript (cron-parser,
-- DST-aware) and records them here. One run per (automation, fire time): the
-- fire time is the run's idempotency key, so overlapping ticks or two
-- schedulers never fire twice.
-- =============================================================================

create table automations_engine.schedule_state (
  automation_id uuid primary key references public.automations (id) on delete cascade,
  -- The latest fire time enqueued.
  last_fire_at timestamptz,
  -- When the tick first saw the automation active: no fire times before it.
  since timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table automations_engine.schedule_state is
  'Per schedule automation: the last fire time enqueued, so a tick knows what is due (and what was missed).';

-- -----------------------------------------------------------------------------
-- The active schedule automations with their state; new ones get a state row.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.schedule_candidates()
returns table (automation_id uuid, trigger_config jsonb, last_fire_at timestamptz, since timestamptz)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  insert into automations_engine.schedule_state (automation_id)
  select a.id from public.automations a
   where a.trigger_type = 'schedule' and a.status = 'active'
  on conflict do nothing;

  -- A paused automation starts afresh when reactivated: its pause is not a
  -- backlog to catch up on.
  delete from automations_engine.schedule_state s
   using public.automations a
   where a.id = s.automation_id and (a.status <> 'active' or a.trigger_type <> 'schedule');

  return query
    select a.id, a.trigger_config, s.last_fire_at, s.since
      from public.automations a
      join automations_engine.schedule_state s on s.automation_id = a.id
     where a.trigger_type = 'schedule' and a.status = 'active';
end;
$$;
comment on function automations_engine.schedule_candidates() is
  'Active schedule automations with their last fire time; starts tracking new ones, forgets inactive ones.';

-- -----------------------------------------------------------------------------
-- Enqueue the due fire times of one automation in one round trip.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.enqueue_schedule(p_automation_id uuid, p_fire_times timestamptz[])
returns table (run_id uuid, created boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz;
begin
  foreach v_at in array p_fire_times loop
    return query
      select e.run_id, e.created
        from automations_engine.enqueue(
          p_automation_id, 'schedule',
          jsonb_build_object('scheduled_at', to_jsonb(v_at)),
          'schedule:' || to_char(v_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) e;
  end loop;
  update automations_engine.schedule_state s
     set last_fire_at = greatest(s.last_fire_at, (select max(t) from unnest(p_fire_times) t)),
         updated_at = now()
   where s.automation_id = p_automation_id;
end;
$$;
comment on function automations_engine.enqueue_schedule(uuid, timestamptz[]) is
  'One run per fire time (idempotency key schedule:<UTC time>), then advances last_fire_at.';

revoke all on automations_engine.schedule_state from public, anon, authenticated;
revoke all on function automations_engine.schedule_candidates(), automations_engine.enqueue_schedule(uuid, timestamptz[])
  from public, anon, authenticated;
grant execute on function automations_engine.schedule_candidates(), automations_engine.enqueue_schedule(uuid, timestamptz[])
  to service_role;

-- -----------------------------------------------------------------------------
-- Hosted Supabase: calling a function from SQL (pg_net), URL and key from Vault.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.call_function(
  p_function text, p_body jsonb default '{}', p_timeout_ms integer default 60000)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_id bigint;
begin
  -- What the pg_cron jobs run: POST <project url>/functions/v1/<function> with
  -- `Authorization: Bearer <service role key>`, both read from Vault at every
  -- call, so rotating either needs no reinstall. pg_net queues the request in
  -- this transaction and its background worker sends it after the commit (a
  -- rolled-back caller sends nothing); the answer lands in net._http_response
  -- under the returned id.
  -- Dynamic SQL: the net and vault schemas exist only where pg_net and Vault
  -- are installed, and static references would not pass plpgsql_check elsewhere.
  if to_regclass('vault.decrypted_secrets') is null or to_regnamespace('net') is null then
    raise exception 'calling % from SQL needs pg_net and Supabase Vault', p_function
      using errcode = '55000', hint = 'enable pg_net (Dashboard > Database > Extensions); see docs/deploy.md section 6';
  end if;
  -- format(%I): a constant query string would be checked by plpgsql_check
  -- (`supabase db lint`) against a database without those schemas.
  execute format($q$
    select max(decrypted_secret) filter (where name = 'automations_project_url'),
           max(decrypted_secret) filter (where name = 'automations_service_role_key')
      from %I.decrypted_secrets
     where name in ('automations_project_url', 'automations_service_role_key')
  $q$, 'vault') into v_url, v_key;
  if v_url is null or v_key is null then
    raise exception 'Vault has no % secret', case when v_url is null then 'automations_project_url' else 'automations_service_role_key' end
      using errcode = '55000',
            hint = 'store it: select vault.create_secret(''<value>'', ''<name>''); see docs/deploy.md section 6';
  end if;
  execute format('select %I.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)', 'net')
    into v_id
    using rtrim(v_url, '/') || '/functions/v1/' || p_function, p_body,
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_key),
          p_timeout_ms;
  return v_id;
end;
$$;
comment on function automations_engine.call_function(text, jsonb, integer) is
  'POSTs to <Vault automations_project_url>/functions/v1/<p_function> with the Vault service role key through pg_net (sent after commit). Returns the pg_net request id.';
revoke all on function automations_engine.call_function(text, jsonb, integer) from public, anon, authenticated;

-- -----------------------------------------------------------------------------
-- Hosted Supabase: the tick and the worker every minute, the kick every second.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.install_cron(
  p_schedule text default '* * * * *', p_kick_schedule text default '1 seconds')
returns text
language plpgsql
set search_path = ''
as $$
-- Hosted Supabase: pg_cron + pg_net call the schedule tick and the worker
-- every minute (call_function: URL and key come from Vault at each call, so
-- rotating them needs no reinstall), and kick_worker() every second so that
-- runs queued in SQL start within about a second (migration 001500):
--   select vault.create_secret('https://<ref>.supabase.co', 'automations_project_url');
--   select vault.create_secret('<service role key>', 'automations_service_role_key');
--   select automations_engine.install_cron();
-- cron.schedule replaces a job of the same name, so running it again leaves
-- one set of jobs. p_kick_schedule null removes the kick (runs queued in SQL
-- then wait for the next worker call). Harmless where pg_cron or pg_net is
-- missing: it says what to enable.
declare
  v_cron_version text;
  v_kick text;
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     or not exists (select 1 from pg_extension where extname = 'pg_net') then
    return 'pg_cron and pg_net are not both enabled: enable them (Dashboard > Database > Extensions), then run select automations_engine.install_cron();';
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    return 'Supabase Vault is not available: store automations_project_url and automations_service_role_key in Vault first';
  end if;
  select extversion into v_cron_version from pg_extension where extname = 'pg_cron';
  -- Dynamic SQL: the cron schema exists only where pg_cron is installed, and
  -- static references would not even pass `supabase db lint` elsewhere.
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-schedule-tick', p_schedule, 'select automations_engine.call_function(''automations-schedule-tick'')';
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-worker', p_schedule, 'select automations_engine.call_function(''automations-worker'')';
  if p_kick_schedule is null then
    perform automations_engine.uninstall_cron(array['automations-kick', 'automations-cron-history']);
    v_kick := 'no automations-kick (runs queued in SQL wait for the next worker call); ';
  elsif string_to_array(v_cron_version, '.')::int[] < array[1, 5] then
    -- Seconds schedules came with pg_cron 1.5; hosted Supabase runs 1.6.
    v_kick := 'no automations-kick: pg_cron ' || v_cron_version || ' has no seconds schedules (1.5 or later has); ';
  else
    execute format('select %I.schedule($1, $2, $3)', 'cron')
      using 'automations-kick', p_kick_schedule, 'select automations_engine.kick_worker()';
    -- A job every second writes 86,400 rows a day to cron.job_run_details;
    -- keep a day of the automations jobs' history.
    execute format('select %I.schedule($1, $2, $3)', 'cron')
      using 'automations-cron-history', '41 * * * *',
            'delete from cron.job_run_details where end_time < now() - interval ''1 day'''
            || ' and jobid in (select jobid from cron.job where jobname like ''automations-%'')';
    v_kick := 'scheduled automations-kick (' || p_kick_schedule || ') and automations-cron-history (41 * * * *); ';
  end if;
  -- Retention (a later migration) is a plain SQL job; schedule it alongside.
  return 'scheduled automations-schedule-tick and automations-worker (' || p_schedule || '); '
         || v_kick || automations_engine.install_retention_cron();
end;
$$;
comment on function automations_engine.install_cron(text, text) is
  'Schedules the tick and worker functions with pg_cron + pg_net (URL and key read from Vault per call), the kick (kick_worker(), every second) and its history cleanup. Returns what it did or what is missing.';
revoke all on function automations_engine.install_cron(text, text) from public, anon, authenticated;
