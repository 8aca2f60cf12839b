-- =============================================================================
-- CLIENT API
-- SQL functions client apps call with supabase-js `.rpc()`. RLS applies: an
-- automation or run of another org is "not found" (P0002). Errors carry
-- SQLSTATEs: 22023 bad argument, 23514 invalid config (validation triggers),
-- 42501 not allowed, 55000 wrong state.
--   create_automation        an automation with its actions, atomically
--   replace_automation_actions  swap the whole ordered list, atomically
--   set_automation_status    activate, pause, archive
--   run_automation           (engine migration) start a manual run
--   retry_run                a failed run again, from its failed step
--   cancel_run               a pending or running run ends failed, with a reason
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Which automation/run may the caller touch?
-- -----------------------------------------------------------------------------
create or replace function automations_engine.require_org_access(p_org_id uuid, p_what text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Which automation/run may the caller touch? Service callers any; users only
  -- their org's. Same answer as RLS, for SECURITY DEFINER functions.
  if p_org_id is null
     or (not automations_engine.caller_is_service() and p_org_id is distinct from (select public.get_user_org_id())) then
    raise exception '% not found', p_what using errcode = 'P0002';
  end if;
end;
$$;
comment on function automations_engine.require_org_access(uuid, text) is
  'Raises P0002 "<what> not found" unless the caller is the service or a member of p_org_id.';

-- -----------------------------------------------------------------------------
-- Insert an ordered action list (shared by create and replace).
-- -----------------------------------------------------------------------------
create or replace function automations_engine.insert_actions(p_org_id uuid, p_automation_id uuid, p_actions jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_n integer;
begin
  -- p_actions: [{action_type, action_config?, name?, condition?, retry?, template_missing?, position?}]
  if p_actions is null or jsonb_typeof(p_actions) <> 'array' then
    raise exception 'actions must be a JSON array of {action_type, action_config, ...}' using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_actions) e where jsonb_typeof(e) <> 'object' or not e ? 'action_type') then
    raise exception 'every action must be an object with an action_type' using errcode = '22023';
  end if;
  -- One statement, so the snapshot trigger writes one version.
  insert into public.automation_actions
    (org_id, automation_id, action_type, action_config, name, condition, retry, template_missing, position)
  select p_org_id, p_automation_id, e ->> 'action_type', coalesce(e -> 'action_config', '{}'::jsonb),
         e ->> 'name', e -> 'condition', e -> 'retry', coalesce(e ->> 'template_missing', 'error'),
         coalesce((e ->> 'position')::integer, (i - 1)::integer)
    from jsonb_array_elements(p_actions) with ordinality as t(e, i);
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;
comment on function automations_engine.insert_actions(uuid, uuid, jsonb) is
  'Inserts an ordered action list for an automation in one statement (one snapshot).';

-- -----------------------------------------------------------------------------
create or replace function public.create_automation(
  name text,
  trigger_type public.automation_trigger_type,
  trigger_config jsonb default '{}'::jsonb,
  actions jsonb default '[]'::jsonb,
  status public.automation_status default 'draft',
  description text default null,
  metadata jsonb default '{}'::jsonb,
  org_id uuid default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_creator uuid;
  v_id uuid;
begin
  if automations_engine.caller_is_service() then
    v_org := create_automation.org_id;
    if v_org is null then
      raise exception 'org_id is required when the service creates an automation' using errcode = '22023';
    end if;
  else
    v_org := (select public.get_user_org_id());
    if v_org is null then
      raise exception 'you are not an active member of an organization' using errcode = '42501';
    end if;
    if create_automation.org_id is not null and create_automation.org_id <> v_org then
      raise exception 'organization % not found', create_automation.org_id using errcode = 'P0002';
    end if;
    select u.id into v_creator from public.users u where u.auth_id = (select auth.uid());
  end if;
  if coalesce(btrim(name), '') = '' then
    raise exception 'name must not be empty' using errcode = '22023';
  end if;

  insert into public.automations (org_id, creator_id, name, description, trigger_type, trigger_config, status, metadata)
  values (v_org, v_creator, name, description, trigger_type, coalesce(trigger_config, '{}'::jsonb),
          coalesce(status, 'draft'), coalesce(metadata, '{}'::jsonb))
  returning id into v_id;
  perform automations_engine.insert_actions(v_org, v_id, coalesce(actions, '[]'::jsonb));
  return v_id;
end;
$$;
comment on function public.create_automation(text, public.automation_trigger_type, jsonb, jsonb, public.automation_status, text, jsonb, uuid) is
  'Creates an automation of the caller''s org with its ordered actions in one transaction; any invalid part rejects the whole.';

-- -----------------------------------------------------------------------------
create or replace function public.replace_automation_actions(automation_id uuid, actions jsonb)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_org uuid;
begin
  -- Lock the automation: concurrent replaces apply one after the other.
  select a.org_id into v_org from public.automations a where a.id = replace_automation_actions.automation_id for update;
  perform automations_engine.require_org_access(v_org, format('automation %s', replace_automation_actions.automation_id));
  delete from public.automation_actions x where x.automation_id = replace_automation_actions.automation_id;
  return automations_engine.insert_actions(v_org, replace_automation_actions.automation_id, actions);
end;
$$;
comment on function public.replace_automation_actions(uuid, jsonb) is
  'Replaces an automation''s whole ordered action list atomically. Runs already queued keep their snapshot.';

-- -----------------------------------------------------------------------------
create or replace function public.set_automation_status(automation_id uuid, status public.automation_status)
returns public.automation_status
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_status public.automation_status;
begin
  -- Invoker: RLS decides which automations the caller may update.
  update public.automations a set status = set_automation_status.status
   where a.id = set_automation_status.automation_id
  returning a.status into v_status;
  if not found then
    raise exception 'automation % not found', set_automation_status.automation_id using errcode = 'P0002';
  end if;
  return v_status;
end;
$$;
comment on function public.set_automation_status(uuid, public.automation_status) is
  'Sets an automation''s status (active, paused, draft, archived) under RLS.';

-- -----------------------------------------------------------------------------
create or replace function public.retry_run(run_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_run record;
begin
  select r.id, r.org_id, r.automation_id, r.status into v_run
    from public.automation_runs r where r.id = retry_run.run_id for update;
  perform automations_engine.require_org_access(v_run.org_id, format('run %s', retry_run.run_id));
  if v_run.status <> 'failed' then
    raise exception 'run % is %; only failed runs can be retried', retry_run.run_id, v_run.status using errcode = '55000';
  end if;
  -- Completed steps stay done, so the run resumes at the step that failed,
  -- with the same snapshot and payload and a fresh attempt budget.
  update public.automation_runs r
     set status = 'pending', run_at = now(), failed_attempts = 0, completed_at = null,
         error_message = null, result = null
   where r.id = v_run.id;
  -- It was counted when it failed; it will be counted again when it ends.
  update public.automations a set run_count = greatest(a.run_count - 1, 0) where a.id = v_run.automation_id;
  perform pg_notify('automation_runs', v_run.id::text);
  return v_run.id;
end;
$$;
comment on function public.retry_run(uuid) is
  'Puts a failed run back in the queue; it resumes at its failed step (completed steps are not repeated).';

-- -----------------------------------------------------------------------------
create or replace function public.cancel_run(run_id uuid, reason text default null)
returns public.run_status
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_run record;
  v_who text;
begin
  select r.id, r.org_id, r.automation_id, r.status, r.started_at into v_run
    from public.automation_runs r where r.id = cancel_run.run_id for update;
  perform automations_engine.require_org_access(v_run.org_id, format('run %s', cancel_run.run_id));
  if v_run.status not in ('pending', 'running') then
    raise exception 'run % is already %; only pending or running runs can be cancelled', cancel_run.run_id, v_run.status
      using errcode = '55000';
  end if;
  v_who := coalesce((select u.email from public.users u where u.auth_id = (select auth.uid())), 'the service');
  -- Ends failed (the seed's run_status has no "cancelled"). A worker still
  -- running it is fenced out: its writes require status running.
  update public.automation_runs r
     set status = 'failed', completed_at = now(), lease_expires_at = null, locked_by = null,
         error_message = format('cancelled by %s%s', v_who, coalesce(': ' || nullif(btrim(reason), ''), '')),
         metadata = r.metadata || jsonb_build_object('cancelled', true)
   where r.id = v_run.id;
  perform automations_engine.count_finished_runs(array[v_run.automation_id], array[coalesce(v_run.started_at, now())]);
  return 'failed';
end;
$$;
comment on function public.cancel_run(uuid, text) is
  'Cancels a pending or running run: it ends failed with "cancelled by <who>: <reason>"; a worker running it stops at its next write.';

revoke all on function
  public.create_automation(text, public.automation_trigger_type, jsonb, jsonb, public.automation_status, text, jsonb, uuid),
  public.replace_automation_actions(uuid, jsonb),
  public.set_automation_status(uuid, public.automation_status),
  public.retry_run(uuid),
  public.cancel_run(uuid, text)
  from public, anon;
grant execute on function
  public.create_automation(text, public.automation_trigger_type, jsonb, jsonb, public.automation_status, text, jsonb, uuid),
  public.replace_automation_actions(uuid, jsonb),
  public.set_automation_status(uuid, public.automation_status),
  public.retry_run(uuid),
  public.cancel_run(uuid, text)
  to authenticated, service_role;
revoke all on function automations_engine.require_org_access(uuid, text), automations_engine.insert_actions(uuid, uuid, jsonb)
  from public, anon, authenticated;
