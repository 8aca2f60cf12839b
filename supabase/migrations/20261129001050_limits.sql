-- =============================================================================
-- LIMITS
-- What one org may build and set off, so no member can exhaust the service:
--   automation_settings          per-org overrides an operator sets (limit columns: service only)
--   automations_engine.setting   the effective value: the org's row, else the default
--   steps per automation         checked when actions are saved       (54000)
--   automations per org          checked when automations are saved   (54000)
--   chains of runs               budget and depth checked by enqueue  (54000)
--   automation_chain_refusals    where a refused chain run is recorded
-- A chain is the runs one run sets off: table events fired by its writes,
-- and calls back into our own functions that carry its signed
-- x-automations-cause header. Its root and depth are server-owned columns of
-- automation_runs (engine schema), read from the causing run's own row.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Operator settings per org: the limit columns of public.automation_settings
-- (retention migration; only the service writes them, members read them).
-- A missing row or NULL column = the default below.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.setting(p_org_id uuid, p_name text)
returns integer
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v integer;
begin
  -- The one place the defaults live. Definer: called from triggers that run
  -- as the member saving an automation, who may read the row anyway (RLS).
  select case p_name
           when 'max_actions_per_automation' then s.max_actions_per_automation
           when 'max_automations' then s.max_automations
           when 'chain_run_budget' then s.chain_run_budget
           when 'max_chain_depth' then s.max_chain_depth
           when 'max_running_runs' then s.max_running_runs
         end
    into v
    from public.automation_settings s
   where s.org_id = p_org_id;
  if v is not null then
    return v;
  end if;
  case p_name
    when 'max_actions_per_automation' then return 50;
    when 'max_automations' then return 1000;
    when 'chain_run_budget' then return 100;
    when 'max_chain_depth' then return 10;
    when 'max_running_runs' then return null;
    else
      raise exception 'unknown automation setting "%"', p_name using errcode = '22023',
        hint = 'Settings: max_actions_per_automation, max_automations, chain_run_budget, max_chain_depth, max_running_runs.';
  end case;
end;
$$;
comment on function automations_engine.setting(uuid, text) is
  'Effective limit for an org: its automation_settings column, else the default (50 actions per automation, 1000 automations, '
  'chain budget 100 runs, chain depth 10, running runs unlimited).';

-- -----------------------------------------------------------------------------
-- Steps per automation and automations per org, checked at save time.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.check_action_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v record;
begin
  -- Statement trigger, after the snapshot trigger (names sort), which holds
  -- each touched automation's row lock: concurrent inserts are counted one
  -- after the other, so two of them cannot both squeeze past the limit.
  for v in
    select a.id, a.org_id, count(x.id) as n, automations_engine.setting(a.org_id, 'max_actions_per_automation') as max
      from public.automations a
      join public.automation_actions x on x.automation_id = a.id
     where a.id in (select distinct n.automation_id from new_rows n)
     group by a.id, a.org_id
  loop
    if v.n > v.max then
      raise exception 'automation % would have % actions; at most % are allowed per automation', v.id, v.n, v.max
        using errcode = '54000',
              hint = 'Split the work into several automations, or ask the operator to raise automation_settings.max_actions_per_automation.';
    end if;
  end loop;
  return null;
end;
$$;
comment on function automations_engine.check_action_limit() is
  'AFTER INSERT statement trigger on automation_actions: refuses (54000) an automation with more actions than max_actions_per_automation.';

create trigger automation_actions_step_limit
  after insert on public.automation_actions
  referencing new table as new_rows
  for each statement execute function automations_engine.check_action_limit();

create or replace function automations_engine.check_automation_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_n bigint;
  v_max integer;
begin
  -- One org at a time (transaction lock per org, in id order so two inserts
  -- for the same orgs cannot deadlock); the count then sees every
  -- automation committed before the lock was granted.
  for v_org in select distinct n.org_id from new_rows n order by 1 loop
    perform pg_advisory_xact_lock(hashtext('automations.org_automations'), hashtext(v_org::text));
    select count(*) into v_n from public.automations a where a.org_id = v_org;
    v_max := automations_engine.setting(v_org, 'max_automations');
    if v_n > v_max then
      raise exception 'organization % would have % automations; at most % are allowed', v_org, v_n, v_max
        using errcode = '54000',
              hint = 'Delete automations the org no longer uses, or ask the operator to raise automation_settings.max_automations.';
    end if;
  end loop;
  return null;
end;
$$;
comment on function automations_engine.check_automation_limit() is
  'AFTER INSERT statement trigger on automations: refuses (54000) more automations in an org than max_automations.';

create trigger automations_org_limit
  after insert on public.automations
  referencing new table as new_rows
  for each statement execute function automations_engine.check_automation_limit();

-- -----------------------------------------------------------------------------
-- Chains of runs.
-- -----------------------------------------------------------------------------
create table public.automation_chain_refusals (
  root_run_id uuid primary key references public.automation_runs (id) on delete cascade,
  org_id uuid not null references public.organizations (id) on delete cascade,
  refused_runs integer not null default 1,
  last_automation_id uuid,
  last_reason text not null,
  first_refused_at timestamptz not null default now(),
  last_refused_at timestamptz not null default now()
);
comment on table public.automation_chain_refusals is
  'Runs a chain wanted to start past its budget or depth, per root run (written by the table-event trigger and the HTTP handlers).';
create index automation_chain_refusals_org_idx on public.automation_chain_refusals (org_id, last_refused_at desc);

alter table public.automation_chain_refusals enable row level security;
create policy "Org members can view their org's chain refusals" on public.automation_chain_refusals
  for select to authenticated using (org_id = (select public.get_user_org_id()));
revoke all on public.automation_chain_refusals from anon, authenticated;
grant select on public.automation_chain_refusals to authenticated;
grant all on public.automation_chain_refusals to service_role;

create or replace function automations_engine.run_cause(p_org_id uuid)
returns table (cause_run_id uuid, root_run_id uuid, chain_depth integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_text text := nullif(current_setting('automations.caused_by', true), '');
  v_id uuid;
begin
  -- The causing run, as the server knows it. automations.caused_by is set
  -- (transaction-local) by a run's own writes (withRunCause) and by the HTTP
  -- handlers from a verified x-automations-cause header. Only its run_id is
  -- used: root and depth come from that run's row, and a run of another org
  -- (or none at all) is no cause. Anyone able to set the setting can only
  -- charge their own org's chains.
  if v_text is null then
    return;
  end if;
  begin
    v_id := (v_text::jsonb ->> 'run_id')::uuid;
  exception when others then
    return;  -- not JSON, or not a uuid: no cause
  end;
  return query
    select r.id, coalesce(r.root_run_id, r.id), r.chain_depth
      from public.automation_runs r
     where r.id = v_id and r.org_id = p_org_id;
end;
$$;
comment on function automations_engine.run_cause(uuid) is
  'The run that caused the current transaction''s enqueue (automations.caused_by run_id), with its chain root and depth; no row when none, or of another org.';

create or replace function automations_engine.chain_admit(p_org_id uuid, p_automation_id uuid,
                                                         out root_run_id uuid, out chain_depth integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_cause record;
  v_runs bigint;
  v_max integer;
begin
  -- Where a new run of p_automation_id stands in its chain, or 54000 when the
  -- chain may not grow: a run a trigger started directly is a root (NULL, 0).
  chain_depth := 0;
  if coalesce(current_setting('automations.caused_by', true), '') = '' then
    return;
  end if;
  select * into v_cause from automations_engine.run_cause(p_org_id);
  if not found then
    return;
  end if;
  root_run_id := v_cause.root_run_id;
  chain_depth := v_cause.chain_depth + 1;

  v_max := automations_engine.setting(p_org_id, 'max_chain_depth');
  if chain_depth > v_max then
    raise exception 'chain of runs from root run % is % runs deep; at most % are allowed (not starting automation %)',
      root_run_id, chain_depth, v_max, p_automation_id
      using errcode = '54000',
            hint = 'A loop? Add a filter so the automation does not react to its own writes or calls.';
  end if;
  -- One enqueue per chain at a time (transaction lock on the root), so the
  -- count sees every chain run committed before and the budget is exact.
  perform pg_advisory_xact_lock(hashtext('automations.chain'), hashtext(root_run_id::text));
  select count(*) + 1 into v_runs from public.automation_runs r where r.root_run_id = chain_admit.root_run_id;
  v_max := automations_engine.setting(p_org_id, 'chain_run_budget');
  if v_runs >= v_max then
    raise exception 'chain budget of % runs from root run % exhausted (not starting automation %)',
      v_max, root_run_id, p_automation_id
      using errcode = '54000',
            hint = 'A run''s writes or calls keep starting runs. Add a filter, or ask the operator to raise automation_settings.chain_run_budget.';
  end if;
end;
$$;
comment on function automations_engine.chain_admit(uuid, uuid) is
  'Root and depth for a new run from the causing run (run_cause); raises 54000 past the org''s max_chain_depth or chain_run_budget.';

create or replace function automations_engine.record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text)
returns void
language sql
security definer
set search_path = ''
as $$
  -- One row per chain, counting its refused runs; the org reads it
  -- (automation_chain_refusals) and the refused write itself went through.
  insert into public.automation_chain_refusals as c (root_run_id, org_id, last_automation_id, last_reason)
  select r.id, r.org_id, p_automation_id, p_reason
    from public.automation_runs r
   where r.id = p_root_run_id and r.org_id = p_org_id
  on conflict (root_run_id) do update
    set refused_runs = c.refused_runs + 1, last_automation_id = excluded.last_automation_id,
        last_reason = excluded.last_reason, last_refused_at = now();
$$;
comment on function automations_engine.record_chain_refusal(uuid, uuid, uuid, text) is
  'Counts a run a chain was refused (budget or depth) on automation_chain_refusals; a root of another org or a deleted root records nothing.';

revoke all on function automations_engine.setting(uuid, text), automations_engine.check_action_limit(),
  automations_engine.check_automation_limit(), automations_engine.run_cause(uuid), automations_engine.chain_admit(uuid, uuid),
  automations_engine.record_chain_refusal(uuid, uuid, uuid, text)
  from public, anon, authenticated;
grant execute on function automations_engine.setting(uuid, text), automations_engine.run_cause(uuid),
  automations_engine.chain_admit(uuid, uuid), automations_engine.record_chain_refusal(uuid, uuid, uuid, text)
  to service_role;
