-- =============================================================================
-- AUTOMATIONS
-- The seed's three tables and three enums, column for column, with RLS scoped
-- to the signed-in user's org. Engine columns (queue, snapshots, steps) are
-- added by the following migrations so this file stays the seed's shape.
-- =============================================================================

create type public.automation_trigger_type as enum ('event', 'schedule', 'webhook', 'manual');
create type public.automation_status as enum ('active', 'paused', 'draft', 'archived');
create type public.run_status as enum ('pending', 'running', 'completed', 'failed');

-- -----------------------------------------------------------------------------
-- automations: a trigger plus an ordered list of actions.
-- -----------------------------------------------------------------------------
create table public.automations (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  creator_id uuid references public.users (id) on delete set null,
  name text not null,
  description text,
  trigger_type public.automation_trigger_type not null,
  trigger_config jsonb not null default '{}'::jsonb,
  status public.automation_status not null default 'draft',
  last_run_at timestamptz,
  run_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb,
  -- Target of the composite foreign keys below: a child row's org must be its
  -- automation's org, which a single-column FK (it ignores RLS) cannot ensure.
  unique (org_id, id),
  -- creator_id must be a user of the same org (a single-column FK ignores RLS).
  constraint automations_org_id_creator_id_fkey foreign key (org_id, creator_id)
    references public.users (org_id, id) on delete set null (creator_id)
);
comment on table public.automations is
  'Automations: what starts them (trigger_type + trigger_config) and whether they may run (status).';
comment on column public.automations.trigger_config is
  'schedule {cron, timezone, missed}; event {table, operations, filter} or {event, filter}; webhook/manual {}.';
comment on column public.automations.run_count is 'Runs finished so far (counted with each run''s final state).';

create index automations_org_id_status_idx on public.automations (org_id, status);
create index automations_creator_id_idx on public.automations (creator_id);
create index automations_active_trigger_idx on public.automations (trigger_type) where status = 'active';

-- Starting a run bumps run_count and last_run_at; that is not an edit of the
-- automation, so it leaves updated_at alone (and caches keyed on it valid).
create trigger automations_set_updated_at
  before update on public.automations
  for each row
  when ((to_jsonb(old) - 'run_count' - 'last_run_at' - 'updated_at')
        is distinct from (to_jsonb(new) - 'run_count' - 'last_run_at' - 'updated_at'))
  execute function public.set_updated_at();

-- -----------------------------------------------------------------------------
-- automation_actions: the ordered steps of an automation.
-- -----------------------------------------------------------------------------
create table public.automation_actions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  automation_id uuid not null references public.automations (id) on delete cascade,
  action_type text not null,
  action_config jsonb not null default '{}'::jsonb,
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb,
  foreign key (org_id, automation_id) references public.automations (org_id, id) on delete cascade
);
comment on table public.automation_actions is
  'Steps of an automation, executed in position order (ties broken by created_at, then id).';

create index automation_actions_automation_position_idx
  on public.automation_actions (automation_id, position, created_at, id);
create index automation_actions_org_id_idx on public.automation_actions (org_id);

create trigger automation_actions_set_updated_at
  before update on public.automation_actions
  for each row execute function public.set_updated_at();

-- -----------------------------------------------------------------------------
-- automation_runs: one row per execution, the run history.
-- -----------------------------------------------------------------------------
create table public.automation_runs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  automation_id uuid not null references public.automations (id) on delete cascade,
  status public.run_status not null default 'pending',
  started_at timestamptz,
  completed_at timestamptz,
  error_message text,
  result jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb,
  foreign key (org_id, automation_id) references public.automations (org_id, id) on delete cascade
);
comment on table public.automation_runs is 'Run history: one row per execution with status, timings, error and result.';

create index automation_runs_automation_created_idx on public.automation_runs (automation_id, created_at desc);
create index automation_runs_org_started_idx on public.automation_runs (org_id, started_at desc);
create index automation_runs_org_failed_idx on public.automation_runs (org_id, started_at desc) where status = 'failed';

create trigger automation_runs_set_updated_at
  before update on public.automation_runs
  for each row execute function public.set_updated_at();

-- -----------------------------------------------------------------------------
-- org_id is immutable.
-- -----------------------------------------------------------------------------
create or replace function public.prevent_org_id_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- org_id never changes: moving a row between tenants would leak it. The RLS
  -- WITH CHECK already stops members; this also stops service-role code.
  if new.org_id is distinct from old.org_id then
    raise exception 'org_id of % % cannot change', tg_table_name, old.id
      using errcode = '42501', hint = 'Create the row in the other organization instead.';
  end if;
  return new;
end;
$$;
comment on function public.prevent_org_id_change() is 'BEFORE UPDATE trigger: org_id is immutable.';

create trigger automations_org_id_immutable
  before update of org_id on public.automations
  for each row execute function public.prevent_org_id_change();
create trigger automation_actions_org_id_immutable
  before update of org_id on public.automation_actions
  for each row execute function public.prevent_org_id_change();
create trigger automation_runs_org_id_immutable
  before update of org_id on public.automation_runs
  for each row execute function public.prevent_org_id_change();

-- -----------------------------------------------------------------------------
-- Row-level security: members of the row's org select, insert and update;
-- only admins delete. anon has no policy and so sees nothing.
-- -----------------------------------------------------------------------------
alter table public.automations enable row level security;
alter table public.automation_actions enable row level security;
alter table public.automation_runs enable row level security;

create policy "Org members can view automations" on public.automations
  for select to authenticated using (org_id = (select public.get_user_org_id()));
create policy "Org members can create automations" on public.automations
  for insert to authenticated with check (org_id = (select public.get_user_org_id()));
create policy "Org members can update automations" on public.automations
  for update to authenticated
  using (org_id = (select public.get_user_org_id()))
  with check (org_id = (select public.get_user_org_id()));
create policy "Org admins can delete automations" on public.automations
  for delete to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()));

create policy "Org members can view automation actions" on public.automation_actions
  for select to authenticated using (org_id = (select public.get_user_org_id()));
create policy "Org members can create automation actions" on public.automation_actions
  for insert to authenticated with check (org_id = (select public.get_user_org_id()));
create policy "Org members can update automation actions" on public.automation_actions
  for update to authenticated
  using (org_id = (select public.get_user_org_id()))
  with check (org_id = (select public.get_user_org_id()));
create policy "Org admins can delete automation actions" on public.automation_actions
  for delete to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()));

create policy "Org members can view automation runs" on public.automation_runs
  for select to authenticated using (org_id = (select public.get_user_org_id()));
create policy "Org members can create automation runs" on public.automation_runs
  for insert to authenticated with check (org_id = (select public.get_user_org_id()));
create policy "Org members can update automation runs" on public.automation_runs
  for update to authenticated
  using (org_id = (select public.get_user_org_id()))
  with check (org_id = (select public.get_user_org_id()));
create policy "Org admins can delete automation runs" on public.automation_runs
  for delete to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()));
