-- =============================================================================
-- ENGINE SCHEMA
-- What the run engine adds to the seed: named, conditional steps; immutable
-- snapshots of an automation's actions (a run executes the actions as they
-- were when it was created); queue columns on automation_runs; one row per
-- executed step. The state transitions live in the next migration.
-- See docs/engine.md for the run state diagram.
-- =============================================================================

create schema if not exists automations_engine;
comment on schema automations_engine is
  'Run engine internals (enqueue, claim, record). Not exposed through the API; called with the service connection.';
revoke all on schema automations_engine from public, anon, authenticated;
grant usage on schema automations_engine to service_role;

-- -----------------------------------------------------------------------------
-- Steps: optional name (for {{steps.<name>.output}}) and data-only condition.
-- -----------------------------------------------------------------------------
alter table public.automation_actions
  add column name text,
  add column condition jsonb,
  add column retry jsonb
    constraint automation_actions_retry_shape check (
      retry is null or (jsonb_typeof(retry) = 'object'
        and (retry - 'max_attempts' - 'backoff_seconds') = '{}'::jsonb
        and (not retry ? 'max_attempts' or (jsonb_typeof(retry -> 'max_attempts') = 'number'
             and (retry ->> 'max_attempts')::numeric between 1 and 25))
        and (not retry ? 'backoff_seconds' or (jsonb_typeof(retry -> 'backoff_seconds') = 'number'
             and (retry ->> 'backoff_seconds')::numeric between 1 and 3600)))),
  add column template_missing text not null default 'error'
    constraint automation_actions_template_missing check (template_missing in ('error', 'empty')),
  -- A name that is all digits would shadow {{steps.<position>}}.
  add constraint automation_actions_name_format
    check (name is null or name ~ '^[A-Za-z_][A-Za-z0-9_-]{0,62}$'),
  add constraint automation_actions_condition_shape
    check (condition is null or (jsonb_typeof(condition) = 'object' and condition ? 'if'
           and coalesce(condition ->> 'else', 'skip') in ('skip', 'stop')));
comment on column public.automation_actions.name is
  'Optional step name, unique within the automation; templates use {{steps.<name>.output...}}.';
comment on column public.automation_actions.condition is
  '{"if": <JsonLogic rule>, "else": "skip"|"stop"}: when the rule is false the step is skipped, or the run stops as completed.';
comment on column public.automation_actions.retry is
  '{"max_attempts": n, "backoff_seconds": s}: overrides the automation''s retry policy when this step fails.';
comment on column public.automation_actions.template_missing is
  'What a placeholder whose path is missing becomes: error (the step fails, default) or empty (null / "").';
create unique index automation_actions_automation_name_key
  on public.automation_actions (automation_id, name) where name is not null;

-- -----------------------------------------------------------------------------
-- Retry policy per automation.
-- -----------------------------------------------------------------------------
alter table public.automations
  add column max_attempts integer not null default 3
    constraint automations_max_attempts_range check (max_attempts between 1 and 25),
  add column retry_backoff_seconds integer not null default 10
    constraint automations_retry_backoff_range check (retry_backoff_seconds between 1 and 3600);
comment on column public.automations.max_attempts is
  'How many times a run may fail (a retryable step error or a lost worker) before it ends failed.';
comment on column public.automations.retry_backoff_seconds is
  'First retry delay; doubles per failed attempt, capped at one hour.';

-- -----------------------------------------------------------------------------
-- Snapshots of the ordered actions. Written by the triggers below in the
-- same transaction as the edit, so automations.current_version_id always
-- names the committed actions.
-- -----------------------------------------------------------------------------
create table public.automation_versions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  automation_id uuid not null,
  -- [{id, name, action_type, action_config, condition, retry, template_missing, position}] in execution order.
  actions jsonb not null,
  created_at timestamptz not null default now(),
  foreign key (org_id, automation_id) references public.automations (org_id, id) on delete cascade
);
comment on table public.automation_versions is
  'Immutable snapshots of an automation''s actions; each run executes the snapshot it was created with.';
create index automation_versions_automation_idx on public.automation_versions (automation_id, created_at desc);

alter table public.automations
  add column current_version_id uuid references public.automation_versions (id) on delete set null;
comment on column public.automations.current_version_id is
  'Snapshot new runs execute; maintained by triggers on automation_actions.';

alter table public.automation_versions enable row level security;
create policy "Org members can view automation versions" on public.automation_versions
  for select to authenticated using (org_id = (select public.get_user_org_id()));

-- -----------------------------------------------------------------------------
-- Queue columns on automation_runs.
-- -----------------------------------------------------------------------------
alter table public.automation_runs
  add column trigger_type public.automation_trigger_type,
  add column trigger_payload jsonb not null default '{}'::jsonb,
  add column idempotency_key text,
  add column version_id uuid references public.automation_versions (id),
  add column run_at timestamptz not null default now(),
  add column attempt integer not null default 0,
  add column failed_attempts integer not null default 0,
  add column max_attempts integer not null default 3,
  add column lease_expires_at timestamptz,
  add column locked_by text,
  add column claim_token uuid,
  -- One run per (automation, key): redelivered webhooks, overlapping schedule
  -- ticks and repeated events collapse onto the first run. NULL keys never collide.
  add constraint automation_runs_idempotency_key unique (automation_id, idempotency_key),
  add constraint automation_runs_idempotency_key_length check (length(idempotency_key) <= 255);
comment on column public.automation_runs.trigger_payload is 'What started the run; templates read it as {{trigger.payload...}}.';
comment on column public.automation_runs.idempotency_key is
  'webhook-id, event id, schedule fire time or caller-supplied key; unique per automation.';
comment on column public.automation_runs.version_id is 'The snapshot of actions this run executes.';
comment on column public.automation_runs.run_at is 'Not claimed before this time (retry backoff, delay steps).';
comment on column public.automation_runs.attempt is
  'Times the run was claimed. With claim_token, the fence: a worker''s writes only apply while both match its claim.';
comment on column public.automation_runs.failed_attempts is 'Failed attempts so far (step errors and lost workers).';
comment on column public.automation_runs.lease_expires_at is
  'While running: the claiming worker must finish or extend by then, or the run is released for another attempt.';
comment on column public.automation_runs.claim_token is
  'Random token of the claim that holds this run (engine). Every worker write is fenced by attempt and this token, so a claim lost in a crash cannot be honoured twice.';

-- Claim scans only due pending runs; the reaper only running ones.
create index automation_runs_due_idx on public.automation_runs (run_at) where status = 'pending';
create index automation_runs_lease_idx on public.automation_runs (lease_expires_at) where status = 'running';

-- Room on each page for a run's later versions. A run row is written three
-- times: the enqueue's insert, the claim and the final state. With full pages
-- (fillfactor 100) every later version went to some other page with free
-- space, found through the free space map: at 1,000,000 runs that was a page
-- read, a dirtied page and a full-page image in the WAL per row (claiming 100
-- due runs: 105 reads, 900 kB of WAL, 12 ms). With 30 % of each page kept free
-- by inserts, the new version stays on the page the insert just wrote (5 ms,
-- 150 kB). docs/performance.md has the measurements.
alter table public.automation_runs set (fillfactor = 70);

-- -----------------------------------------------------------------------------
-- One row per executed step: resolved input, output, status, timings, error.
-- -----------------------------------------------------------------------------
create type public.run_step_status as enum ('completed', 'failed', 'skipped', 'waiting');

create table public.automation_run_steps (
  run_id uuid not null references public.automation_runs (id) on delete cascade,
  -- 0-based position in the run's snapshot.
  step_index integer not null,
  org_id uuid not null references public.organizations (id) on delete cascade,
  action_id uuid,
  action_type text not null,
  name text,
  status public.run_step_status not null,
  attempt integer not null,
  input jsonb,
  output jsonb,
  error_message text,
  started_at timestamptz not null,
  completed_at timestamptz,
  primary key (run_id, step_index)
);
comment on table public.automation_run_steps is
  'Step history of each run; written by the engine as each step ends. A completed step is never executed again.';
create index automation_run_steps_org_idx on public.automation_run_steps (org_id);

alter table public.automation_run_steps enable row level security;
create policy "Org members can view run steps" on public.automation_run_steps
  for select to authenticated using (org_id = (select public.get_user_org_id()));
-- Only steps of finished runs: deleting a live run's steps would make its
-- completed steps run again.
create policy "Org admins can delete steps of finished runs" on public.automation_run_steps
  for delete to authenticated
  using (
    org_id = (select public.get_user_org_id()) and (select public.is_admin())
    and exists (select 1 from public.automation_runs r
                 where r.id = run_id and r.status in ('completed', 'failed'))
  );

-- -----------------------------------------------------------------------------
-- Engine-owned columns are not client-writable. Members keep the seed's
-- insert/update rights on runs for the columns that are theirs (a run's
-- metadata); a run is created with run_automation() and moved by the engine.
-- Table-level privileges are replaced by column-level ones.
-- -----------------------------------------------------------------------------
revoke insert, update on public.automation_runs from anon, authenticated;
grant insert (org_id, automation_id, metadata, trigger_payload) on public.automation_runs to authenticated;
grant update (metadata) on public.automation_runs to authenticated;
revoke insert, update on public.automation_run_steps, public.automation_versions from anon, authenticated;
-- run_count / last_run_at are the engine's (seed columns, kept exact by it),
-- and current_version_id is the snapshot trigger's: a client could otherwise
-- point it at another org's snapshot (foreign keys ignore RLS).
revoke insert, update on public.automations from anon, authenticated;
grant insert (id, org_id, creator_id, name, description, trigger_type, trigger_config, status,
              metadata, max_attempts, retry_backoff_seconds)
  on public.automations to authenticated;
grant update (org_id, creator_id, name, description, trigger_type, trigger_config, status,
              metadata, max_attempts, retry_backoff_seconds)
  on public.automations to authenticated;
