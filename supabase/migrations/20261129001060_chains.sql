-- =============================================================================
-- CHAINS
-- A chain is the runs one run sets off: table events fired by its writes,
-- and calls back into our own functions that carry its signed
-- x-automations-cause header (shared/http/run_cause_header.ts). Its root and
-- depth are server-owned columns of automation_runs (engine schema), set by
-- enqueue() from the causing run's own row, never from a payload:
--   run_cause                  the causing run named by automations.caused_by, same org only
--   chain_admit                root and depth for a new run; 54000 past the org's
--                              chain_run_budget (100) or max_chain_depth (10)
--   automation_chain_refusals  where a refused run is recorded (no run row is written)
-- =============================================================================

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

revoke all on function automations_engine.run_cause(uuid), automations_engine.chain_admit(uuid, uuid),
  automations_engine.record_chain_refusal(uuid, uuid, uuid, text)
  from public, anon, authenticated;
grant execute on function automations_engine.run_cause(uuid), automations_engine.chain_admit(uuid, uuid),
  automations_engine.record_chain_refusal(uuid, uuid, uuid, text)
  to service_role;
