-- =============================================================================
-- FLOW CONTROL (issue 16)
-- max_concurrency, concurrency_key and rate_limit on automations (columns and
-- grants in the engine schema migration; applied by claim_runs()). Here: the
-- save-time check (23514, the words of shared/engine/flow_control.ts), the
-- concurrency key's evaluation at enqueue, the trigger that keeps the
-- flow_key of queued and running runs true when an automation's limits
-- change, and has_claimable_runs() / org_at_cap(): "is there work a claim
-- would take" for kick_worker and the enqueue NOTIFY rule.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- The check, shared by the trigger and the parity test.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.flow_control_problems(
  p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text[] := '{}';
  v_rest text;
begin
  -- The same rules and words as flowControlProblems() in
  -- shared/engine/flow_control.ts (tests/validation/config_validation.test.ts
  -- runs one corpus through both). A concurrency key may only read the
  -- trigger, because it is evaluated once, in SQL, when the run is enqueued:
  -- placeholders {{trigger.payload.<path>}} or {{trigger.type}}, a path being
  -- dot-separated names of letters, digits, _, $ and -.
  if p_max_concurrency is not null and (p_max_concurrency < 1 or p_max_concurrency > 10000) then
    v := array_append(v, format('max_concurrency must be between 1 and 10000 (or null for no limit), got %s', p_max_concurrency));
  end if;
  if p_concurrency_key is not null then
    v_rest := regexp_replace(p_concurrency_key,
      '\{\{\s*trigger\.(payload(\.[A-Za-z0-9_$-]+)*|type)\s*\}\}', '', 'g');
    if length(p_concurrency_key) > 500 then
      v := array_append(v, format('concurrency_key must be at most 500 characters, got %s', length(p_concurrency_key)));
    elsif v_rest = p_concurrency_key then
      v := array_append(v, 'concurrency_key must contain a placeholder such as {{trigger.payload.customer_id}}');
    elsif v_rest ~ '\{\{|\}\}' then
      v := array_append(v, 'concurrency_key may only use {{trigger.payload.<path>}} and {{trigger.type}} placeholders (a path of names separated by dots)');
    end if;
  end if;
  if p_rate_limit is not null then
    if jsonb_typeof(p_rate_limit) <> 'object' or (p_rate_limit - 'limit' - 'period_seconds') <> '{}'::jsonb then
      v := array_append(v, 'rate_limit must be an object {"limit": n, "period_seconds": s} with no other keys');
    else
      if (case when jsonb_typeof(p_rate_limit -> 'limit') is distinct from 'number' then true
              else (p_rate_limit ->> 'limit')::numeric <> trunc((p_rate_limit ->> 'limit')::numeric)
                   or (p_rate_limit ->> 'limit')::numeric not between 1 and 1000000 end) then
        v := array_append(v, 'rate_limit.limit must be a whole number between 1 and 1000000');
      end if;
      if (case when jsonb_typeof(p_rate_limit -> 'period_seconds') is distinct from 'number' then true
              else (p_rate_limit ->> 'period_seconds')::numeric <> trunc((p_rate_limit ->> 'period_seconds')::numeric)
                   or (p_rate_limit ->> 'period_seconds')::numeric not between 1 and 86400 end) then
        v := array_append(v, 'rate_limit.period_seconds must be a whole number between 1 and 86400');
      end if;
    end if;
  end if;
  return v;
end;
$$;
comment on function automations_engine.flow_control_problems(integer, text, jsonb) is
  'Problems with an automation''s max_concurrency, concurrency_key and rate_limit (empty when valid); the words of shared/engine/flow_control.ts.';

create or replace function automations_engine.check_flow_control()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_problems text[] := automations_engine.flow_control_problems(new.max_concurrency, new.concurrency_key, new.rate_limit);
begin
  -- Checked when saved: clients write these columns through PostgREST, and a
  -- bad value would otherwise surface only as runs that never start.
  if cardinality(v_problems) > 0 then
    raise exception using
      errcode = '23514',
      message = array_to_string(v_problems, '; '),
      hint = 'max_concurrency: 1..10000 or null; concurrency_key: e.g. {{trigger.payload.customer_id}}; rate_limit: {"limit": 100, "period_seconds": 60}',
      schema = 'public', table = 'automations', constraint = 'automations_flow_control_valid';
  end if;
  return new;
end;
$$;
comment on function automations_engine.check_flow_control() is
  'BEFORE INSERT/UPDATE on automations: refuses an invalid max_concurrency, concurrency_key or rate_limit with 23514.';

create trigger automations_check_flow_control_insert
  before insert on public.automations
  for each row
  when (new.max_concurrency is not null or new.concurrency_key is not null or new.rate_limit is not null)
  execute function automations_engine.check_flow_control();
create trigger automations_check_flow_control_update
  before update of max_concurrency, concurrency_key, rate_limit on public.automations
  for each row
  when (old.max_concurrency is distinct from new.max_concurrency
        or old.concurrency_key is distinct from new.concurrency_key
        or old.rate_limit is distinct from new.rate_limit)
  execute function automations_engine.check_flow_control();

-- -----------------------------------------------------------------------------
-- The run's flow group, computed once at enqueue.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.concurrency_value(
  p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_out text := p_key;
  v_trigger jsonb := jsonb_build_object('type', p_trigger_type, 'payload', coalesce(p_payload, '{}'::jsonb));
  m text[];
  v_value jsonb;
begin
  -- Each placeholder becomes the trigger value at its path: a string as it
  -- is, any other JSON value as its JSON text, a missing path as ''. So runs
  -- whose payload lacks the key share one group (one limit). A value longer
  -- than 200 characters is replaced by its md5, to keep index entries small.
  for m in
    select regexp_matches(p_key, '(\{\{\s*trigger\.((payload)(\.[A-Za-z0-9_$-]+)*|type)\s*\}\})', 'g')
  loop
    v_value := v_trigger #> string_to_array(m[2], '.');
    v_out := replace(v_out, m[1],
      case when v_value is null or jsonb_typeof(v_value) = 'null' then ''
           when jsonb_typeof(v_value) = 'string' then v_value #>> '{}'
           else v_value::text end);
  end loop;
  if length(v_out) > 200 then
    v_out := 'md5:' || md5(v_out);
  end if;
  return v_out;
end;
$$;
comment on function automations_engine.concurrency_value(text, public.automation_trigger_type, jsonb) is
  'A concurrency_key evaluated against a trigger: placeholders replaced by the trigger''s values (missing = ''''); md5 when over 200 characters.';

create or replace function automations_engine.flow_key(
  p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb,
  p_trigger_type public.automation_trigger_type, p_payload jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  -- null: no limits, the run is claimed by org alone. Otherwise the
  -- automation id (36 characters, which claim_runs reads back with left()),
  -- then ':' and the key's value when max_concurrency applies per key.
  select case
    when p_max_concurrency is null and p_rate_limit is null then null
    when p_max_concurrency is null or p_concurrency_key is null then p_automation_id::text
    else p_automation_id::text || ':' || automations_engine.concurrency_value(p_concurrency_key, p_trigger_type, p_payload)
  end
$$;
comment on function automations_engine.flow_key(uuid, integer, text, jsonb, public.automation_trigger_type, jsonb) is
  'A run''s flow-control group: null without limits, else automation id[:concurrency key value].';

create or replace function automations_engine.fill_client_flow_key()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Runs inserted directly by clients (no snapshot yet; fill_run_defaults
  -- completes them) get their flow group here, so a client insert cannot
  -- bypass the automation's limits. SECURITY DEFINER: flow_key() is not
  -- granted to API roles. The engine's own inserts bring their flow_key.
  select automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit,
                                     coalesce(new.trigger_type, 'manual'), new.trigger_payload)
    into new.flow_key
    from public.automations a where a.id = new.automation_id;
  return new;
end;
$$;
comment on function automations_engine.fill_client_flow_key() is
  'BEFORE INSERT on automation_runs without a snapshot (client inserts): sets flow_key from the automation''s limits.';

-- Named to fire before automation_runs_fill_defaults, which sets version_id.
create trigger automation_runs_client_flow_key
  before insert on public.automation_runs
  for each row when (new.version_id is null)
  execute function automations_engine.fill_client_flow_key();

-- -----------------------------------------------------------------------------
-- Limits changed: queued and running runs move to their new group.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.sync_flow_keys()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- A run's group is computed at enqueue; when the automation's limits
  -- change, its pending runs must follow (or runs queued before a limit was
  -- set would bypass it), and so must its running ones, which the new limit
  -- counts. Finished runs keep theirs. Reads the automation's runs through
  -- (automation_id, created_at): a one-off cost per change of limits.
  update public.automation_runs r
     set flow_key = automations_engine.flow_key(new.id, new.max_concurrency, new.concurrency_key, new.rate_limit,
                                                coalesce(r.trigger_type, 'manual'), r.trigger_payload)
   where r.automation_id = new.id and r.status in ('pending', 'running')
     and r.flow_key is distinct from automations_engine.flow_key(new.id, new.max_concurrency, new.concurrency_key,
                                                new.rate_limit, coalesce(r.trigger_type, 'manual'), r.trigger_payload);
  return null;
end;
$$;
comment on function automations_engine.sync_flow_keys() is
  'AFTER UPDATE of an automation''s limits: rewrites the flow_key of its pending and running runs.';

create trigger automations_sync_flow_keys
  after update of max_concurrency, concurrency_key, rate_limit on public.automations
  for each row
  when (old.max_concurrency is distinct from new.max_concurrency
        or old.concurrency_key is distinct from new.concurrency_key
        or old.rate_limit is distinct from new.rate_limit)
  execute function automations_engine.sync_flow_keys();

revoke all on function
  automations_engine.flow_control_problems(integer, text, jsonb), automations_engine.check_flow_control(),
  automations_engine.concurrency_value(text, public.automation_trigger_type, jsonb),
  automations_engine.flow_key(uuid, integer, text, jsonb, public.automation_trigger_type, jsonb),
  automations_engine.sync_flow_keys(), automations_engine.fill_client_flow_key()
  from public, anon, authenticated;
grant execute on function
  automations_engine.flow_control_problems(integer, text, jsonb),
  automations_engine.concurrency_value(text, public.automation_trigger_type, jsonb),
  automations_engine.flow_key(uuid, integer, text, jsonb, public.automation_trigger_type, jsonb)
  to service_role;

-- -----------------------------------------------------------------------------
-- Is there a run a claim would take? (kick_worker's "work due" check.)
-- -----------------------------------------------------------------------------
create or replace function automations_engine.has_claimable_runs()
returns boolean
language plpgsql
stable
set search_path = ''
set enable_seqscan = off
as $$
begin
  -- The claim's rules without its locks: a due run counts only if it is not
  -- held back (its org under max_running_runs; its flow group under
  -- max_concurrency; its automation under rate_limit). A held-back backlog
  -- is not work: counting it made kick_worker call the worker every second
  -- for claims that come back empty.
  --
  -- 1. Plain runs. Usually settled by the first due run (one probe): its org
  --    has no cap, or is under it.
  if exists (
       select 1
         from (select d.org_id from public.automation_runs d
                where d.status = 'pending' and d.flow_key is null and d.run_at <= now()
                order by d.run_at limit 1) f
        where not automations_engine.org_at_cap(f.org_id)) then
    return true;
  end if;
  -- Otherwise (the first due run's org is at its cap, or nothing is due):
  -- the other orgs with pending plain runs, one index descent each
  -- (automation_runs_org_due_idx; the org's first entry is its earliest run).
  if exists (
       with recursive o as (
         (select d.org_id, d.run_at from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null
           order by d.org_id, d.run_at limit 1)
         union all
         select x.org_id, x.run_at
           from o
           cross join lateral (
             select d.org_id, d.run_at from public.automation_runs d
              where d.status = 'pending' and d.flow_key is null and d.org_id > o.org_id
              order by d.org_id, d.run_at limit 1) x
       )
       select 1 from o where o.run_at <= now() and not automations_engine.org_at_cap(o.org_id)) then
    return true;
  end if;
  -- 2. Runs of limited automations: a flow group with a due run and a free
  --    slot under max_concurrency, rate_limit and the org's cap.
  return exists (
    with recursive grp as (
      (select d.flow_key from public.automation_runs d
        where d.status = 'pending' and d.flow_key is not null
        order by d.flow_key limit 1)
      union all
      select (select d.flow_key from public.automation_runs d
               where d.status = 'pending' and d.flow_key is not null and d.flow_key > g.flow_key
               order by d.flow_key limit 1)
        from grp g where g.flow_key is not null
    )
    select 1
      from grp g
      join public.automations a on a.id = left(g.flow_key, 36)::uuid
     where g.flow_key is not null
       and exists (select 1 from public.automation_runs d
                    where d.status = 'pending' and d.flow_key = g.flow_key and d.run_at <= now())
       and (a.max_concurrency is null
            or a.max_concurrency > (select count(*) from public.automation_runs x
                                     where x.status = 'running' and x.flow_key = g.flow_key))
       and (a.rate_limit is null
            or (a.rate_limit ->> 'limit')::integer > (
                 select count(*) from public.automation_runs x
                  where x.automation_id = a.id and x.flow_key is not null
                    and x.started_at > now() - make_interval(secs => (a.rate_limit ->> 'period_seconds')::integer)))
       and not automations_engine.org_at_cap(a.org_id));
end;
$$;
comment on function automations_engine.has_claimable_runs() is
  'True when claim_runs would take a run now: a due run not held back by max_running_runs, max_concurrency or rate_limit. kick_worker''s check.';

create or replace function automations_engine.org_at_cap(p_org_id uuid)
returns boolean
language sql
stable
set search_path = ''
as $$
  -- The org has automation_settings.max_running_runs and that many runs
  -- running (automation_runs_org_running_idx). No row, or no cap: false.
  select coalesce((
    select s.max_running_runs <= (select count(*) from public.automation_runs x
                                   where x.status = 'running' and x.org_id = s.org_id)
      from public.automation_settings s
     where s.org_id = p_org_id and s.max_running_runs is not null), false)
$$;
comment on function automations_engine.org_at_cap(uuid) is
  'True when the org runs as many runs as its automation_settings.max_running_runs allows (the claim holds its other runs back).';

revoke all on function automations_engine.has_claimable_runs(), automations_engine.org_at_cap(uuid)
  from public, anon, authenticated;
