-- =============================================================================
-- LIMITS
-- What one org may build and set off, so no member can exhaust the service:
--   automation_settings          per-org overrides an operator sets (limit columns: service only)
--   automations_engine.setting   the effective value: the org's row, else the default
--   steps per automation         checked when actions are saved       (54000)
--   automations per org          checked when automations are saved   (54000)
-- The chain budget and depth (chain_run_budget, max_chain_depth) are
-- enforced by enqueue: see the chains migration.
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

revoke all on function automations_engine.setting(uuid, text), automations_engine.check_action_limit(),
  automations_engine.check_automation_limit()
  from public, anon, authenticated;
grant execute on function automations_engine.setting(uuid, text) to service_role;
