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
-- Flow control per automation (issue 16). Checked when saved by
-- automations_engine.check_flow_control() (migration 001600, 23514 with the
-- words of shared/engine/flow_control.ts); applied by claim_runs(), which
-- skips a held-back run instead of claiming it: it stays pending and uses no
-- attempt. docs/writing-automations.md has examples.
-- -----------------------------------------------------------------------------
alter table public.automations
  add column max_concurrency integer,
  add column concurrency_key text,
  add column rate_limit jsonb;
comment on column public.automations.max_concurrency is
  'At most this many runs of the automation running at once (per concurrency_key value when that is set); null = no limit.';
comment on column public.automations.concurrency_key is
  'Template over the trigger, e.g. {{trigger.payload.customer_id}}: max_concurrency then applies per value. Evaluated once per run at enqueue (automation_runs.flow_key).';
comment on column public.automations.rate_limit is
  '{"limit": n, "period_seconds": s}: at most n runs of the automation start (first claim, started_at) in any s-second window; the rest wait pending.';

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
  add column trigger_headers jsonb,
  add column idempotency_key text,
  add column version_id uuid references public.automation_versions (id),
  add column run_at timestamptz not null default now(),
  add column attempt integer not null default 0,
  add column failed_attempts integer not null default 0,
  add column max_attempts integer not null default 3,
  add column lease_expires_at timestamptz,
  add column locked_by text,
  add column claim_token uuid,
  -- Flow-control group: null for runs of an automation without limits (they
  -- are claimed by org, through automation_runs_org_due_idx); otherwise the
  -- automation id, followed by ':' and the concurrency_key's value when the
  -- automation has max_concurrency and a concurrency_key. Written at enqueue
  -- (automations_engine.flow_key) and rewritten for pending and running runs
  -- when the automation's limits change, so the claim compares plain values.
  add column flow_key text,
  -- One run per (automation, key): redelivered webhooks, overlapping schedule
  -- ticks and repeated events collapse onto the first run. NULL keys never collide.
  add constraint automation_runs_idempotency_key unique (automation_id, idempotency_key),
  add constraint automation_runs_idempotency_key_length check (length(idempotency_key) <= 255);
comment on column public.automation_runs.trigger_payload is 'What started the run; templates read it as {{trigger.payload...}}.';
comment on column public.automation_runs.trigger_headers is
  'Webhook runs: the request headers the automation keeps (its verify scheme''s event and id headers plus trigger_config.headers), lower-case names; templates read them as {{trigger.headers.x-github-event}}. Stored so a retry sees what the first attempt saw. Null for other triggers.';
comment on column public.automation_runs.idempotency_key is
  'webhook-id, event id, schedule fire time or caller-supplied key; unique per automation.';
comment on column public.automation_runs.version_id is 'The snapshot of actions this run executes.';
comment on column public.automation_runs.run_at is 'Not claimed before this time (retry backoff, delay steps).';
comment on column public.automation_runs.attempt is
  'Times the run was claimed. With claim_token, the fence: a worker''s writes only apply while both match its claim.';
comment on column public.automation_runs.failed_attempts is 'Failed attempts so far (step errors and lost workers).';
comment on column public.automation_runs.lease_expires_at is
  'While running: the claiming worker must finish or extend by then, or the run is released for another attempt.';
comment on column public.automation_runs.flow_key is
  'Engine: the run''s flow-control group (automation id[:concurrency key value]); null when its automation has no limits.';
comment on column public.automation_runs.claim_token is
  'Random token of the claim that holds this run (engine). Every worker write is fenced by attempt and this token, so a claim lost in a crash cannot be honoured twice.';

-- -----------------------------------------------------------------------------
-- Chains: runs started by other runs (their database writes, or their HTTP
-- calls back into our own functions). Server-owned: set by enqueue() from the
-- causing run's own row, never from a payload or a client's setting.
-- -----------------------------------------------------------------------------
alter table public.automation_runs
  -- No foreign key: retention may delete a root before the runs it caused;
  -- those runs keep the id (their chain is over anyway).
  add column root_run_id uuid,
  add column chain_depth integer not null default 0
    constraint automation_runs_chain_depth_range check (chain_depth >= 0);
comment on column public.automation_runs.root_run_id is
  'The first run of this run''s chain (set by the engine); NULL for a run a trigger started directly, which is itself a root.';
comment on column public.automation_runs.chain_depth is
  'How many runs led to this one (0 for a root). Set by the engine from the causing run: its chain_depth + 1.';
-- Counting a chain's runs (its budget) reads only chain members.
create index automation_runs_root_idx on public.automation_runs (root_run_id) where root_run_id is not null;

-- Claim scans only due pending runs; the reaper only running ones.
-- due_idx: "is any run without limits due?" (enqueue's wake-up rule). Runs
-- held back by a limit are left out, so a backlog of them never suppresses
-- the NOTIFY that wakes an idle worker for a run it can claim.
create index automation_runs_due_idx on public.automation_runs (run_at) where status = 'pending' and flow_key is null;
create index automation_runs_lease_idx on public.automation_runs (lease_expires_at) where status = 'running';
-- The fair claim (claim_runs) reads the queue per org and per flow group:
--   org_due: pending plain runs by org, then due time: under a backlog a
--     skip scan finds the orgs with due runs (one descent per org, however
--     large its backlog), then each org's first due runs;
--   org_running: running runs by org and lease: the org's latest lease
--     (when it was last claimed, the round-robin order) in one descent, and
--     the count for an org with max_running_runs;
--   flow_due / flow_running / flow_starts: only runs of limited
--     automations (flow_key set): a group's due runs (a group at its limit
--     is skipped as a whole, not run by run), its running count
--     (max_concurrency) and its start times (rate_limit windows).
-- Plain runs pay one extra index entry at enqueue (org_due) and one per
-- claim (org_running); docs/performance.md has the cost.
create index automation_runs_org_due_idx on public.automation_runs (org_id, run_at, id)
  where status = 'pending' and flow_key is null;
create index automation_runs_org_running_idx on public.automation_runs (org_id, lease_expires_at)
  where status = 'running';
create index automation_runs_flow_due_idx on public.automation_runs (flow_key, run_at, id)
  where status = 'pending' and flow_key is not null;
create index automation_runs_flow_running_idx on public.automation_runs (flow_key)
  where status = 'running' and flow_key is not null;
create index automation_runs_flow_starts_idx on public.automation_runs (automation_id, started_at)
  where flow_key is not null;

-- -----------------------------------------------------------------------------
-- Worker liveness: one row per worker process (or edge-function drain),
-- upserted every few seconds by automations_engine.worker_heartbeat(), not
-- once per run. automation_runs.locked_by holds the worker_id of the claim.
-- A worker whose heartbeat is older than its timeout_seconds is dead: the
-- reaper (release_expired_leases) hands its runs back at once instead of
-- waiting for their leases. Runs held by an id with no row here (a claimer
-- that never registered) fall back to their lease.
-- -----------------------------------------------------------------------------
create table automations_engine.workers (
  worker_id text primary key,
  -- 'loop': a long-running worker (local runtime, self-hosted process);
  -- 'drain': one automations-worker function call or a background drain.
  kind text not null default 'loop' constraint workers_kind check (kind in ('loop', 'drain')),
  host text,
  pid integer,
  -- The worker's own promise: "count me dead after this many seconds of
  -- silence". It beats several times within it and stops working on its
  -- runs itself before it runs out (shared/engine/heartbeat.ts).
  timeout_seconds integer not null default 10
    constraint workers_timeout_range check (timeout_seconds between 2 and 3600),
  started_at timestamptz not null default now(),
  heartbeat_at timestamptz not null default now(),
  constraint workers_worker_id_length check (length(worker_id) between 1 and 200)
);
comment on table automations_engine.workers is
  'Liveness of worker processes: a heartbeat every few seconds; silent for timeout_seconds = dead, its runs are released. Clean stops delete their row; dead rows are kept a day (diagnosis), then deleted by the reaper.';
comment on column automations_engine.workers.worker_id is 'What claim_runs stores in automation_runs.locked_by.';
comment on column automations_engine.workers.timeout_seconds is
  'Seconds without a heartbeat after which the worker counts as dead and its runs go back to the queue.';
create index workers_heartbeat_idx on automations_engine.workers (heartbeat_at);
revoke all on automations_engine.workers from public, anon, authenticated;

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

-- -----------------------------------------------------------------------------
-- Who an automation acts as, and what a run may carry (docs/engine.md,
-- "An automation gives no one more than RLS already gives them").
-- -----------------------------------------------------------------------------
alter table public.automations
  add column acting_user_id uuid references public.users (id) on delete set null;
comment on column public.automations.acting_user_id is
  'The member whose rights the automation''s database actions run under: the last member who inserted it or changed its '
  'trigger_type, trigger_config, status or actions. Maintained by the database (not client-writable); null = created by the '
  'service, whose database actions run as the service. Deleting that user pauses the automation.';
create index automations_acting_user_id_idx on public.automations (acting_user_id);

alter table public.automation_runs
  add column acting_user_id uuid,
  add column restricted boolean not null default false;
comment on column public.automation_runs.acting_user_id is
  'Who the run acts as (the automation''s acting member when the run was created; null = the service). No foreign key on '
  'purpose: a deleted user must fail the run, not turn it into a service run.';
comment on column public.automation_runs.restricted is
  'True when the run''s data came from the database under someone''s rights (table events, or a snapshot with a database action): '
  'its trigger_payload and result are redacted here and kept in automation_run_payloads, and its steps are readable by '
  'its acting member only.';

-- The full payload and result of restricted runs: the run's acting member may
-- read them, other members see only the redaction marker.
create table public.automation_run_payloads (
  run_id uuid primary key references public.automation_runs (id) on delete cascade,
  org_id uuid not null references public.organizations (id) on delete cascade,
  payload jsonb not null default '{}'::jsonb,
  result jsonb
);
comment on table public.automation_run_payloads is
  'Trigger payload and result of restricted runs (automation_runs.restricted); readable by the run''s acting member (and the service).';
create index automation_run_payloads_org_idx on public.automation_run_payloads (org_id);
alter table public.automation_run_payloads enable row level security;
revoke all on public.automation_run_payloads from anon, authenticated;
grant select on public.automation_run_payloads to authenticated;

create or replace function public.may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  -- Who may read what a restricted run carries: the member it acted as, and
  -- nobody else through the API (the service, e.g. the dashboard, reads all).
  -- Not the org's admins as such: the data came from the database under the
  -- acting member's rights, and a table may hide rows from admins that its
  -- owner sees (`user_id = auth.uid()` policies); the randomized model check
  -- (tests/security/rls_random_runs.test.ts) found exactly that leak when
  -- admins could read every restricted run. An admin who needs a run's data
  -- edits the automation (becoming its acting member) and runs it again.
  -- SECURITY DEFINER so a policy can read users without recursing; in public
  -- (not the engine schema) because policies run with the reader's privileges.
  select p_org_id = (select public.get_user_org_id())
     and exists (select 1 from public.users u
                  where u.id = p_acting_user_id and u.auth_id = (select auth.uid()))
$$;
comment on function public.may_read_restricted_run(uuid, uuid) is
  'True for the run''s acting member (while an active member of the org): the only API reader of a restricted run''s payload, result and steps.';
revoke all on function public.may_read_restricted_run(uuid, uuid) from public, anon;
grant execute on function public.may_read_restricted_run(uuid, uuid) to authenticated;

create policy "The acting member can view restricted payloads" on public.automation_run_payloads
  for select to authenticated
  using (exists (select 1 from public.automation_runs r
                  where r.id = run_id
                    and public.may_read_restricted_run(r.org_id, r.acting_user_id)));

alter table public.automation_run_steps enable row level security;
-- A restricted run's step inputs and outputs are its data: its acting member
-- only. Other runs' steps: every member of the org.
create policy "Org members can view run steps" on public.automation_run_steps
  for select to authenticated
  using (org_id = (select public.get_user_org_id())
         and exists (select 1 from public.automation_runs r
                      where r.id = run_id
                        and (not r.restricted
                             or public.may_read_restricted_run(r.org_id, r.acting_user_id))));
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
              metadata, max_attempts, retry_backoff_seconds, max_concurrency, concurrency_key, rate_limit)
  on public.automations to authenticated;
grant update (org_id, creator_id, name, description, trigger_type, trigger_config, status,
              metadata, max_attempts, retry_backoff_seconds, max_concurrency, concurrency_key, rate_limit)
  on public.automations to authenticated;
