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
-- Hosted Supabase: the tick and the worker every minute with pg_cron + pg_net.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.install_cron(p_schedule text default '* * * * *')
returns text
language plpgsql
set search_path = ''
as $$
-- Hosted Supabase: pg_cron + pg_net call the schedule tick and the worker
-- every minute. URL and key come from Vault at each call, so rotating them
-- needs no reinstall:
--   select vault.create_secret('https://<ref>.supabase.co', 'automations_project_url');
--   select vault.create_secret('<service role key>', 'automations_service_role_key');
--   select automations_engine.install_cron();
-- Harmless where pg_cron or pg_net is missing: it says what to enable.
declare
  v_call text := $call$
    select net.http_post(
      url := (select decrypted_secret from vault.decrypted_secrets where name = 'automations_project_url')
             || '/functions/v1/%s',
      headers := jsonb_build_object(
        'Content-Type', 'application/json',
        'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                        where name = 'automations_service_role_key')),
      body := '{}'::jsonb,
      -- The worker drains for up to ~25 s before it answers.
      timeout_milliseconds := 60000)
  $call$;
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     or not exists (select 1 from pg_extension where extname = 'pg_net') then
    return 'pg_cron and pg_net are not both enabled: enable them (Dashboard > Database > Extensions), then run select automations_engine.install_cron();';
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    return 'Supabase Vault is not available: store automations_project_url and automations_service_role_key in Vault first';
  end if;
  -- Dynamic SQL: the cron schema exists only where pg_cron is installed, and
  -- static references would not even pass `supabase db lint` elsewhere.
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-schedule-tick', p_schedule, format(v_call, 'automations-schedule-tick');
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-worker', p_schedule, format(v_call, 'automations-worker');
  -- Retention (a later migration) is a plain SQL job; schedule it alongside.
  return 'scheduled automations-schedule-tick and automations-worker (' || p_schedule || '); '
         || automations_engine.install_retention_cron();
end;
$$;
comment on function automations_engine.install_cron(text) is
  'Schedules the tick and worker functions with pg_cron + pg_net (URL and key read from Vault per call). Returns what it did or what is missing.';
revoke all on function automations_engine.install_cron(text) from public, anon, authenticated;
