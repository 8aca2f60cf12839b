-- =============================================================================
-- ENGINE FUNCTIONS
-- Every run state change is one of these functions, so the engine is correct
-- whoever calls it (an edge function, the local runtime, a SQL trigger):
--
--   enqueue ──▶ pending ──claim──▶ running ──save_progress──▶ completed
--                  ▲                 │   │                     failed
--                  └── retry/wait ───┘   └─ lease expired ─▶ release_expired_leases
--
-- Fencing: each claim increments `attempt` and writes a fresh random
-- `claim_token`; every write of a worker (save_progress, save_progress_many,
-- extend_lease, release_run) applies only while both still match its claim.
-- A worker whose lease expired and whose run was claimed again changes 0
-- rows, and so does one whose claim was lost in a crash (claim_runs commits
-- without waiting for the disk) and handed out again with the same attempt.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Snapshots: rebuilt whenever an automation's actions change.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.snapshot_actions(p_automation_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Lock the automations first (sorted, so concurrent editors queue rather
  -- than deadlock). Under READ COMMITTED the next statement then sees every
  -- edit committed before the lock was granted, so two concurrent edits never
  -- leave a snapshot that misses one of them. Deleted automations (cascades)
  -- are simply not found.
  perform 1 from public.automations a
   where a.id = any (p_automation_ids)
   order by a.id
   for update;

  with snap as (
    insert into public.automation_versions (org_id, automation_id, actions)
    select a.org_id, a.id,
           coalesce((
             select jsonb_agg(jsonb_build_object(
                      'id', x.id, 'name', x.name, 'action_type', x.action_type,
                      'action_config', x.action_config, 'condition', x.condition,
                      'retry', x.retry, 'template_missing', x.template_missing, 'position', x.position)
                    order by x.position, x.created_at, x.id)
               from public.automation_actions x
              where x.automation_id = a.id), '[]'::jsonb)
      from public.automations a
     where a.id = any (p_automation_ids)
    returning id, automation_id
  )
  update public.automations a
     set current_version_id = snap.id
    from snap
   where a.id = snap.automation_id;
end;
$$;
comment on function automations_engine.snapshot_actions(uuid[]) is
  'Writes a new immutable snapshot of the given automations'' actions and points current_version_id at it.';

create or replace function automations_engine.on_actions_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct n.automation_id) into v_ids from new_rows n;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct o.automation_id) into v_ids from old_rows o;
  else
    select array_agg(distinct t.automation_id) into v_ids
      from (select automation_id from new_rows union select automation_id from old_rows) t;
  end if;
  perform automations_engine.snapshot_actions(v_ids);
  return null;
end;
$$;
comment on function automations_engine.on_actions_changed() is
  'Statement trigger on automation_actions: one new snapshot per touched automation per statement.';

-- Transition tables need one trigger per event.
create trigger automation_actions_snapshot_insert
  after insert on public.automation_actions
  referencing new table as new_rows
  for each statement execute function automations_engine.on_actions_changed();
create trigger automation_actions_snapshot_update
  after update on public.automation_actions
  referencing new table as new_rows old table as old_rows
  for each statement execute function automations_engine.on_actions_changed();
create trigger automation_actions_snapshot_delete
  after delete on public.automation_actions
  referencing old table as old_rows
  for each statement execute function automations_engine.on_actions_changed();

-- -----------------------------------------------------------------------------
-- Backoff.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.retry_delay(p_failed_attempts integer, p_base_seconds integer)
returns interval
language sql
immutable
set search_path = ''
as $$
  -- Backoff: base * 2^(failures-1) seconds, capped at one hour. Deterministic so
  -- that history explains itself ("retrying at ...") and tests can check it.
  select make_interval(secs => least(3600, p_base_seconds * power(2, greatest(p_failed_attempts, 1) - 1)))
$$;
comment on function automations_engine.retry_delay(integer, integer) is
  'Delay before the next attempt after the Nth failure: base * 2^(N-1) seconds, at most one hour.';

-- -----------------------------------------------------------------------------
-- Enqueue: the one way every trigger creates a run.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.enqueue(
  p_automation_id uuid,
  p_trigger_type public.automation_trigger_type,
  p_payload jsonb default '{}'::jsonb,
  p_idempotency_key text default null,
  p_run_at timestamptz default null,
  p_allow_draft boolean default false
)
returns table (run_id uuid, created boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_auto record;
  v_id uuid;
begin
  select a.id, a.org_id, a.status, a.current_version_id, a.max_attempts
    into v_auto
    from public.automations a
   where a.id = p_automation_id;
  if not found then
    raise exception 'automation % not found', p_automation_id using errcode = 'P0002';
  end if;
  if not (v_auto.status = 'active' or (p_allow_draft and v_auto.status = 'draft')) then
    raise exception 'automation % is %, not active', p_automation_id, v_auto.status
      using errcode = '55000', hint = 'Set its status to active to let triggers start it.';
  end if;

  -- A unique constraint, not check-then-insert: concurrent duplicates wait for
  -- the first insert and then find its row.
  insert into public.automation_runs
    (org_id, automation_id, trigger_type, trigger_payload, idempotency_key, version_id, max_attempts, run_at)
  values
    (v_auto.org_id, v_auto.id, p_trigger_type, coalesce(p_payload, '{}'::jsonb), p_idempotency_key,
     v_auto.current_version_id, v_auto.max_attempts, coalesce(p_run_at, now()))
  on conflict (automation_id, idempotency_key) do nothing
  returning id into v_id;

  if v_id is not null then
    -- Wake listening workers only when the queue was empty: with other due
    -- runs waiting, a worker is either busy (it claims again as soon as it
    -- has room, until a claim comes back short) or was already woken for
    -- them. Skipping the NOTIFY keeps bursts of enqueues from committing one
    -- at a time behind NOTIFY's cluster-wide commit lock. Worst case (an
    -- idle worker racing a concurrent enqueue) is one poll interval.
    if coalesce(p_run_at, now()) <= now()
       and not exists (
         select 1 from public.automation_runs r
          where r.status = 'pending' and r.run_at <= now() and r.id <> v_id
          limit 1) then
      perform pg_notify('automation_runs', v_id::text);
    end if;
    return query select v_id, true;
  else
    return query
      select r.id, false from public.automation_runs r
       where r.automation_id = p_automation_id and r.idempotency_key = p_idempotency_key;
  end if;
end;
$$;
comment on function automations_engine.enqueue(uuid, public.automation_trigger_type, jsonb, text, timestamptz, boolean) is
  'Creates a pending run of an active automation with its current snapshot; the same idempotency key returns the existing run. Notifies automation_runs when the due queue was empty.';

-- -----------------------------------------------------------------------------
-- Claim: a batch of due runs for one worker.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.claim_runs(
  p_worker text,
  p_limit integer default 10,
  p_lease_seconds integer default 60
)
returns table (
  id uuid, org_id uuid, automation_id uuid, automation_name text, attempt integer,
  trigger_type public.automation_trigger_type, trigger_payload jsonb, actions jsonb,
  created_at timestamptz, started_at timestamptz, lease_expires_at timestamptz, claim_token uuid
)
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  -- One token per call: it identifies the claim, and a batch is one claim.
  -- Random, not from a sequence or a transaction id: both can repeat after a
  -- crash that loses unflushed WAL.
  v_token uuid := gen_random_uuid();
begin
  -- Why the settings (measured with 1,000,000 runs of history; figures and
  -- profiles in docs/performance.md):
  --
  -- plan_cache_mode = force_generic_plan: one plan per backend. PL/pgSQL
  -- caches each statement's plan, but while a statement has parameters
  -- (p_limit, p_worker, ...) PostgreSQL plans it again on every call until a
  -- generic plan looks no worse, and for the claim it never did: planning
  -- against automation_runs' nine indexes cost more than running the
  -- statement (one due run, before the commit: 1.6 ms per call with fresh
  -- plans, 0.6 ms generic). A generic plan does not know p_limit, so it
  -- guesses 10 % of the due rows; joining that guess to automation_runs
  -- became a hash join over the whole table (drain of 20,000 runs: 3,600 ->
  -- 1,150 runs/s). The due ids are therefore looked up with
  -- `id = any (array(...))`, an index lookup per id whatever the estimate.
  --
  -- enable_seqscan = off: the generic plan is made once per backend, with the
  -- table's size at that moment. A worker that first claimed while the table
  -- was small (a fresh install, the webhook bench) got a sequential scan of
  -- automation_runs for the claimed ids and hash joins over every automation
  -- and snapshot, and kept them as the table grew: 2.9 ms per claim of about
  -- 8 runs at 40,000 runs in the webhook bench, against 0.2 ms for the
  -- primary key lookups. Every statement here reads a few rows by an index;
  -- the setting only removes the scan from the planner's choices.
  --
  -- synchronous_commit = off: a claim is the one write in a run's life that
  -- may be lost in a crash without harm (the run is simply pending again and
  -- the next claim takes it), so its commit returns as soon as the WAL is
  -- written to the OS, without waiting for the flush (1-4 ms on the bench
  -- VM's disk, more than the claim's own work). The worker's saves stay
  -- durable, and a save's flush also carries every earlier claim with it.
  -- A lost claim can be handed out again with the same attempt while the
  -- first worker, which already got its answer, is still running the run:
  -- the claim token tells them apart, since every worker write is fenced by
  -- attempt AND token (the first worker's writes are ignored, exactly like
  -- those of a worker whose lease expired).
  -- set_config(..., true) lasts until the end of the caller's transaction
  -- (the function's own SET clauses restore only their own settings), so it
  -- governs the claim's commit: call claim_runs in a transaction of its own,
  -- as the worker does (one statement, autocommit).
  --
  -- Cost, server time without the commit: 16 due runs 1.4-2.6 ms, 100 due
  -- runs 5.7-8.1 ms (about 50-70 us per run: each claimed run gets a new row
  -- version with six index entries, because status and started_at are
  -- indexed).
  perform set_config('synchronous_commit', 'off', true);
  -- SKIP LOCKED: concurrent claimers each take different rows, never wait.
  -- One statement: the update returns what the worker needs and is joined to
  -- the automation and its snapshot.
  return query
    with claimed as (
      update public.automation_runs r
         set status = 'running',
             attempt = r.attempt + 1,
             started_at = coalesce(r.started_at, now()),
             lease_expires_at = now() + make_interval(secs => p_lease_seconds),
             locked_by = p_worker,
             claim_token = v_token
       where r.id = any (array(
               select d.id from public.automation_runs d
                where d.status = 'pending' and d.run_at <= now()
                order by d.run_at
                limit p_limit
                  for update skip locked))
      returning r.id, r.org_id, r.automation_id, r.attempt, r.trigger_type, r.trigger_payload,
                r.version_id, r.created_at, r.started_at, r.lease_expires_at, r.run_at
    )
    select c.id, c.org_id, c.automation_id, a.name, c.attempt, c.trigger_type, c.trigger_payload,
           coalesce(v.actions, '[]'::jsonb), c.created_at, c.started_at, c.lease_expires_at, v_token
      from claimed c
      join public.automations a on a.id = c.automation_id
      left join public.automation_versions v on v.id = c.version_id
     order by c.run_at, c.id;
end;
$$;
comment on function automations_engine.claim_runs(text, integer, integer) is
  'Claims up to p_limit due pending runs (FOR UPDATE SKIP LOCKED): running, attempt+1, lease and a new claim token set; commits without waiting for the WAL flush. Returns them with their snapshot and the token.';

-- -----------------------------------------------------------------------------
-- run_count / last_run_at.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.count_finished_runs(p_automation_ids uuid[], p_started_at timestamptz[])
returns void
language plpgsql
set search_path = ''
as $$
declare
  v record;
begin
  -- run_count / last_run_at: bumped in the same transaction as a run's final
  -- state. One update per automation (not per run) and in automation id order,
  -- so callers finishing many runs at once neither deadlock nor lose counts.
  -- last_run_at is the start of the most recent finished run.
  for v in
    select t.automation_id, count(*)::int as n, max(t.started_at) as at
      from unnest(p_automation_ids, p_started_at) as t(automation_id, started_at)
     group by t.automation_id
     order by t.automation_id
  loop
    update public.automations a
       set run_count = a.run_count + v.n,
           last_run_at = greatest(a.last_run_at, v.at)
     where a.id = v.automation_id;
  end loop;
end;
$$;
comment on function automations_engine.count_finished_runs(uuid[], timestamptz[]) is
  'Adds finished runs to their automations'' run_count and last_run_at, one ordered update per automation.';

-- -----------------------------------------------------------------------------
-- save_progress: a worker's fenced write.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.save_progress(
  p_run_id uuid,
  p_attempt integer,
  p_claim_token uuid,
  p_steps jsonb default '[]'::jsonb,
  p_outcome text default null,
  p_error text default null,
  p_retryable boolean default false,
  p_result jsonb default null,
  p_run_at timestamptz default null,
  p_lease_seconds integer default 60,
  p_max_attempts integer default null,
  p_backoff_seconds integer default null,
  p_count boolean default true
)
returns public.run_status
language plpgsql
set search_path = ''
as $$
-- Records finished steps and, optionally, the run's outcome. p_outcome:
--   null        steps only; the lease is extended;
--   'completed' the run is done;
--   'failed'    p_retryable decides retry vs final; p_run_at is a receiver's
--               Retry-After; p_max_attempts / p_backoff_seconds are the
--               failing step's own retry policy;
--   'wait'      a delay step: sleep until p_run_at.
-- p_count false: the caller (save_progress_many) adds the run to its
-- automation's counters itself, once per batch.
-- Returns the run's new status, or null when fenced out (stale claim).
declare
  v_run record;
  v_status public.run_status;
  v_cap integer;
  v_retry_at timestamptz;
begin
  -- The fence: this claim must still own the run. FOR UPDATE orders us
  -- after a concurrent reaper or re-claim, which bumps attempt / status and
  -- replaces the claim token.
  select r.id, r.org_id, r.automation_id, r.started_at, r.failed_attempts, r.max_attempts, a.retry_backoff_seconds
    into v_run
    from public.automation_runs r
    join public.automations a on a.id = r.automation_id
   where r.id = p_run_id and r.attempt = p_attempt and r.status = 'running'
     and r.claim_token = p_claim_token
   for update of r;
  if not found then
    return null;
  end if;

  -- Completed steps are final: a late duplicate never overwrites one.
  insert into public.automation_run_steps as s
    (run_id, step_index, org_id, action_id, action_type, name, status, attempt,
     input, output, error_message, started_at, completed_at)
  select p_run_id, x.step_index, v_run.org_id, x.action_id, x.action_type, x.name, x.status, p_attempt,
         x.input, x.output, x.error_message, coalesce(x.started_at, now()), x.completed_at
    from jsonb_to_recordset(coalesce(p_steps, '[]'::jsonb)) as x(
      step_index integer, action_id uuid, action_type text, name text, status public.run_step_status,
      input jsonb, output jsonb, error_message text, started_at timestamptz, completed_at timestamptz)
  on conflict (run_id, step_index) do update
     set status = excluded.status, attempt = excluded.attempt, input = excluded.input,
         output = excluded.output, error_message = excluded.error_message,
         started_at = excluded.started_at, completed_at = excluded.completed_at
   where s.status <> 'completed';

  if p_outcome is null then
    update public.automation_runs
       set lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     where id = p_run_id;
    return 'running';
  elsif p_outcome = 'completed' then
    update public.automation_runs
       set status = 'completed', completed_at = now(), result = p_result, error_message = null,
           lease_expires_at = null, locked_by = null
     where id = p_run_id;
    if p_count then
      perform automations_engine.count_finished_runs(array[v_run.automation_id], array[v_run.started_at]);
    end if;
    return 'completed';
  elsif p_outcome = 'wait' then
    -- A delay step: give the worker back and resume at p_run_at. Not a failure.
    update public.automation_runs
       set status = 'pending', run_at = coalesce(p_run_at, now()), lease_expires_at = null, locked_by = null
     where id = p_run_id;
    return 'pending';
  elsif p_outcome = 'failed' then
    v_cap := coalesce(p_max_attempts, v_run.max_attempts);
    if p_retryable and v_run.failed_attempts + 1 < v_cap then
      -- Exponential backoff with ±25% jitter, so runs that failed together
      -- (a receiver's outage) do not all come back in the same second; never
      -- sooner than the receiver's Retry-After.
      -- Retry-After is honoured up to a day: a receiver cannot park a run forever.
      v_retry_at := greatest(
        now() + automations_engine.retry_delay(v_run.failed_attempts + 1,
                                               coalesce(p_backoff_seconds, v_run.retry_backoff_seconds))
                * (0.75 + random() * 0.5),
        case when p_run_at is not null then least(p_run_at, now() + interval '1 day') end);
      update public.automation_runs r
         set status = 'pending',
             failed_attempts = r.failed_attempts + 1,
             run_at = v_retry_at,
             error_message = format('attempt %s of %s failed: %s (retrying at %s)',
                                    r.failed_attempts + 1, v_cap, p_error,
                                    to_char(v_retry_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
             lease_expires_at = null, locked_by = null
       where r.id = p_run_id;
      v_status := 'pending';
    else
      update public.automation_runs r
         set status = 'failed', failed_attempts = r.failed_attempts + 1, completed_at = now(),
             error_message = p_error, result = p_result, lease_expires_at = null, locked_by = null
       where r.id = p_run_id;
      if p_count then
        perform automations_engine.count_finished_runs(array[v_run.automation_id], array[v_run.started_at]);
      end if;
      v_status := 'failed';
    end if;
    return v_status;
  else
    raise exception 'unknown outcome %: use completed, failed, wait or null', p_outcome using errcode = '22023';
  end if;
end;
$$;
comment on function automations_engine.save_progress(uuid, integer, uuid, jsonb, text, text, boolean, jsonb, timestamptz, integer, integer, integer, boolean) is
  'Fenced write of a worker: step rows plus an optional outcome (completed / failed with retry / wait). Null when the claim (attempt + claim token) is stale.';

-- -----------------------------------------------------------------------------
-- Leases.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer default 60)
returns boolean
language sql
set search_path = ''
as $$
  update public.automation_runs
     set lease_expires_at = now() + make_interval(secs => p_lease_seconds)
   where id = p_run_id and attempt = p_attempt and claim_token = p_claim_token and status = 'running'
  returning true
$$;
comment on function automations_engine.extend_lease(uuid, integer, uuid, integer) is
  'Heartbeat: keeps a long step''s run leased to its worker. False when the claim (attempt + token) is stale.';

create or replace function automations_engine.release_expired_leases(p_limit integer default 500)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_n integer;
  v_ids uuid[];
  v_starts timestamptz[];
begin
  -- A worker that stopped renewing is presumed dead: count it as a failed
  -- attempt (so a run that kills every worker ends at the cap) and make the
  -- run claimable again at once; completed steps are not repeated.
  with expired as (
    select r.id from public.automation_runs r
     where r.status = 'running' and r.lease_expires_at < now()
     order by r.lease_expires_at
     limit p_limit
     for update skip locked
  )
  , released as (
  update public.automation_runs r
     set status = case when r.failed_attempts + 1 >= r.max_attempts then 'failed' else 'pending' end::public.run_status,
         failed_attempts = r.failed_attempts + 1,
         completed_at = case when r.failed_attempts + 1 >= r.max_attempts then now() end,
         error_message = case when r.failed_attempts + 1 >= r.max_attempts
           then format('the worker running attempt %s stopped responding (lease expired); gave up after %s attempts',
                       r.attempt, r.failed_attempts + 1)
           else format('the worker running attempt %s stopped responding (lease expired); retrying', r.attempt) end,
         run_at = now(),
         lease_expires_at = null,
         locked_by = null
    from expired
   where r.id = expired.id
  returning r.automation_id, r.started_at, r.status
  )
  select count(*)::int,
         array_agg(automation_id) filter (where status = 'failed'),
         array_agg(started_at) filter (where status = 'failed')
    into v_n, v_ids, v_starts
    from released;
  if v_ids is not null then
    perform automations_engine.count_finished_runs(v_ids, v_starts);
  end if;
  return v_n;
end;
$$;
comment on function automations_engine.release_expired_leases(integer) is
  'Reaper: running runs whose lease expired go back to pending (or fail at the attempt cap).';

create or replace function automations_engine.release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid)
returns boolean
language sql
set search_path = ''
as $$
  -- Graceful shutdown: hand the run back untouched, not counted as a failure.
  -- Its completed steps stay done; the next claim resumes after them.
  update public.automation_runs
     set status = 'pending', run_at = now(), lease_expires_at = null, locked_by = null
   where id = p_run_id and attempt = p_attempt and claim_token = p_claim_token and status = 'running'
  returning true
$$;
comment on function automations_engine.release_run(uuid, integer, uuid) is
  'Returns a claimed run to the queue without counting a failure (worker shutting down). False when the claim (attempt + token) is stale.';

-- -----------------------------------------------------------------------------
-- Who is calling a SECURITY DEFINER function?
-- -----------------------------------------------------------------------------
create or replace function automations_engine.caller_is_service()
returns boolean
language sql
stable
set search_path = ''
as $$
  -- Who is calling a SECURITY DEFINER function? Inside one, current_user is the
  -- owner, but the `role` setting still holds what PostgREST (or our asUser)
  -- set: anon / authenticated for API users, service_role for the service key,
  -- and 'none' on a direct service connection.
  select coalesce(nullif(current_setting('role', true), ''), 'none') not in ('anon', 'authenticated')
$$;
comment on function automations_engine.caller_is_service() is
  'True when the caller is the service (service_role or a direct connection), false for API users.';

-- -----------------------------------------------------------------------------
-- Client API: start a manual run as the signed-in user.
-- -----------------------------------------------------------------------------
create or replace function public.run_automation(
  automation_id uuid,
  payload jsonb default '{}'::jsonb,
  idempotency_key text default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_status public.automation_status;
  v_run uuid;
begin
  -- RLS decides visibility: an automation of another org is "not found".
  select a.org_id, a.status into v_org, v_status
    from public.automations a
   where a.id = run_automation.automation_id
     and (a.org_id = (select public.get_user_org_id()) or automations_engine.caller_is_service());
  if not found then
    raise exception 'automation % not found', run_automation.automation_id using errcode = 'P0002';
  end if;
  -- Manual runs may test a draft; paused and archived automations do not run.
  select e.run_id into v_run
    from automations_engine.enqueue(run_automation.automation_id, 'manual', payload, idempotency_key, null, true) e;
  return v_run;
end;
$$;
comment on function public.run_automation(uuid, jsonb, text) is
  'Starts a manual run of an automation of the caller''s org (active or draft). Returns the run id; the same idempotency_key returns the same run.';
revoke execute on function public.run_automation(uuid, jsonb, text) from public, anon;
grant execute on function public.run_automation(uuid, jsonb, text) to authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Runs inserted directly by clients.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.fill_run_defaults()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_auto record;
begin
  -- Runs inserted directly by clients (the seed lets members insert runs) are
  -- manual runs: fill in the snapshot and retry policy so the engine can run them.
  -- SECURITY INVOKER on purpose: current_user tells a client insert (checked)
  -- from the engine's own (which always brings its snapshot).
  if new.version_id is not null then
    return new;
  end if;
  select a.status, a.current_version_id, a.max_attempts into v_auto
    from public.automations a where a.id = new.automation_id;
  if found and current_user in ('authenticated', 'anon')
     and v_auto.status not in ('active', 'draft') then
    raise exception 'automation % is %; only active or draft automations can run', new.automation_id, v_auto.status
      using errcode = '55000';
  end if;
  new.version_id := v_auto.current_version_id;
  new.max_attempts := coalesce(v_auto.max_attempts, new.max_attempts);
  new.trigger_type := coalesce(new.trigger_type, 'manual');
  return new;
end;
$$;
comment on function automations_engine.fill_run_defaults() is
  'BEFORE INSERT on automation_runs: a run inserted without a snapshot gets the automation''s current one.';

create trigger automation_runs_fill_defaults
  before insert on public.automation_runs
  for each row execute function automations_engine.fill_run_defaults();

-- Engine functions are for the service connection only.
revoke all on all functions in schema automations_engine from public, anon, authenticated;
grant execute on all functions in schema automations_engine to service_role;
