-- =============================================================================
-- CLAIM TOKEN: the claim's commit stops waiting for the disk
-- (docs/performance.md, "What was changed", change 13)
--
-- A claim is the one write in a run's life that may be lost in a crash
-- without harm: if it never reaches the disk, the run is simply pending again
-- and the next claim takes it. So claim_runs() commits with
-- synchronous_commit = off: its commit returns as soon as the WAL is written
-- to the OS, without waiting for the flush (1-4 ms on the bench VM's disk,
-- more than the claim's own work). The worker's saves stay durable, and a
-- save's flush also carries every earlier claim record with it.
--
-- What that needs: a claim lost in a crash can be handed out again with the
-- same attempt number (attempt + 1 of the same pending row) while the first
-- worker, which already got the lost claim's answer, is still running the
-- run. The attempt alone would then let both workers' saves through. Each
-- claim therefore writes a fresh random claim_token, and every worker write
-- (save_progress, save_progress_many, extend_lease, release_run) is fenced by
-- attempt AND token: the first worker's writes find another token and are
-- ignored, exactly like a worker whose lease expired. Tokens are random
-- (gen_random_uuid), not derived from a sequence or a transaction id, both of
-- which can repeat after a crash that loses unflushed WAL.
--
-- Also: claim_runs() is now one statement (the update returns what the worker
-- needs and is joined to the automation and its snapshot) instead of an
-- update followed by a second lookup of the same rows by id.
--
-- Upgrading: the worker functions change signature (one new argument). Deploy
-- the edge functions right after this migration; a worker still running the
-- old code gets "function does not exist" on its saves, and its runs are
-- retried after their lease (60 s), their completed steps kept.
-- =============================================================================

alter table public.automation_runs add column claim_token uuid;
comment on column public.automation_runs.claim_token is
  'Random token of the claim that holds this run (engine). Every worker write is fenced by attempt and this token, so a claim lost in a crash cannot be honoured twice.';

-- -----------------------------------------------------------------------------
-- claim_runs: as in the hot-path migration (one generic plan per backend, the
-- due ids locked with SKIP LOCKED and looked up with = any (array(...))), plus
-- the token and the asynchronous commit. set_config(..., true) lasts until the
-- end of the caller's transaction (the function's own SET clauses restore only
-- their own settings), so it governs the claim's commit: call claim_runs in a
-- transaction of its own, as the worker does (one statement, autocommit).
-- One token per call: it identifies the claim, and a batch is one claim.
-- enable_seqscan = off: the generic plan is made once per backend, with the
-- table's size at that moment. A worker that first claims while the table is
-- small (a fresh install, the webhook bench) got a sequential scan of
-- automation_runs for the claimed ids and hash joins over every automation
-- and snapshot, and kept them as the table grew: 2.9 ms per claim of about
-- 8 runs at 40,000 runs in the webhook bench, against 0.2 ms for the primary
-- key lookups. Every statement here reads a few rows by an index; the
-- setting only removes the scan from the planner's choices.
-- Measured at 1,000,000 runs of history, server time without the commit:
-- 16 due runs 1.4-2.6 ms, 100 due runs 5.7-8.1 ms (about 50-70 us per run:
-- each claimed run gets a new row version with six index entries, because
-- status and started_at are indexed).
-- -----------------------------------------------------------------------------
drop function automations_engine.claim_runs(text, integer, integer);
create function automations_engine.claim_runs(
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
  v_token uuid := gen_random_uuid();
begin
  perform set_config('synchronous_commit', 'off', true);
  -- SKIP LOCKED: concurrent claimers each take different rows, never wait.
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
-- save_progress: unchanged except for the token in the fence.
-- -----------------------------------------------------------------------------
drop function automations_engine.save_progress(uuid, integer, jsonb, text, text, boolean, jsonb, timestamptz, integer, integer, integer, boolean);
create function automations_engine.save_progress(
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
-- save_progress_many: items carry claim_token; fenced like save_progress.
-- The runs it completes set-based hand their automation and start time to
-- the counter update straight from the update's RETURNING. Before, they were
-- read again by `id = any (array)` after the update, and that statement's
-- cached plan was a sequential scan whenever it was first planned on a small
-- table: in the webhook bench (a table growing from empty) it cost 1.9 ms per
-- batch, 40 % of the function. enable_seqscan = off (see claim_runs) keeps
-- the remaining lookup of the rare one-by-one outcomes on the primary key.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.save_progress_many(p_items jsonb)
returns table (run_id uuid, status public.run_status)
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  v_item jsonb;
  v_done uuid[];
  v_slow_finished uuid[] := '{}';
  v_ids uuid[];
  v_starts timestamptz[];
begin
  if jsonb_typeof(p_items) is distinct from 'array' then
    raise exception 'save_progress_many expects a JSON array of items, got %', coalesce(jsonb_typeof(p_items), 'null')
      using errcode = '22023';
  end if;

  -- Completed runs, set-based. A run id that appears twice in one batch goes
  -- the slow way (an insert cannot touch the same step row twice).
  -- The fence is the same as save_progress's: this claim still owns the
  -- run (attempt, claim token and status), and FOR UPDATE, taken in run id order, orders
  -- us after a concurrent reaper, cancel or re-claim.
  with given as (
    select x, count(*) over (partition by x ->> 'run_id') as copies
      from jsonb_array_elements(p_items) as x
  ), items as (
    select (x ->> 'run_id')::uuid as run_id, (x ->> 'attempt')::integer as attempt,
           (x ->> 'claim_token')::uuid as claim_token,
           coalesce(x -> 'steps', '[]'::jsonb) as steps, x -> 'result' as result
      from given
     where x ->> 'outcome' = 'completed' and copies = 1
  ), fenced as (
    select r.id, r.org_id, i.attempt, i.steps, i.result
      from public.automation_runs r
      join items i on i.run_id = r.id
     where r.attempt = i.attempt and r.status = 'running' and r.claim_token = i.claim_token
     order by r.id
       for update of r
  ), steps as (
    -- Completed steps are final: a late duplicate never overwrites one.
    insert into public.automation_run_steps as s
      (run_id, step_index, org_id, action_id, action_type, name, status, attempt,
       input, output, error_message, started_at, completed_at)
    select f.id, x.step_index, f.org_id, x.action_id, x.action_type, x.name, x.status, f.attempt,
           x.input, x.output, x.error_message, coalesce(x.started_at, now()), x.completed_at
      from fenced f
     cross join lateral jsonb_to_recordset(f.steps) as x(
        step_index integer, action_id uuid, action_type text, name text, status public.run_step_status,
        input jsonb, output jsonb, error_message text, started_at timestamptz, completed_at timestamptz)
    on conflict (run_id, step_index) do update
       set status = excluded.status, attempt = excluded.attempt, input = excluded.input,
           output = excluded.output, error_message = excluded.error_message,
           started_at = excluded.started_at, completed_at = excluded.completed_at
     where s.status <> 'completed'
  ), done as (
    update public.automation_runs r
       set status = 'completed', completed_at = now(), result = f.result, error_message = null,
           lease_expires_at = null, locked_by = null
      from fenced f
     where r.id = f.id
    returning r.id, r.automation_id, r.started_at
  )
  select coalesce(array_agg(done.id), '{}'), coalesce(array_agg(done.automation_id), '{}'),
         coalesce(array_agg(done.started_at), '{}')
    into v_done, v_ids, v_starts
    from done;

  foreach run_id in array v_done loop
    status := 'completed';
    return next;
  end loop;

  -- Everything else, one by one in run id order (completed items fenced out
  -- above are tried again here and get their null).
  for v_item in
    select x.value from jsonb_array_elements(p_items) as x(value)
     where not ((x.value ->> 'run_id')::uuid = any (v_done))
     order by (x.value ->> 'run_id')::uuid
  loop
    run_id := (v_item ->> 'run_id')::uuid;
    status := automations_engine.save_progress(
      run_id,
      (v_item ->> 'attempt')::integer,
      (v_item ->> 'claim_token')::uuid,
      coalesce(v_item -> 'steps', '[]'::jsonb),
      v_item ->> 'outcome',
      v_item ->> 'error',
      coalesce((v_item ->> 'retryable')::boolean, false),
      v_item -> 'result',
      (v_item ->> 'run_at')::timestamptz,
      coalesce((v_item ->> 'lease_seconds')::integer, 60),
      (v_item ->> 'max_attempts')::integer,
      (v_item ->> 'backoff_seconds')::integer,
      false);
    if status in ('completed', 'failed') then
      v_slow_finished := v_slow_finished || run_id;
    end if;
    return next;
  end loop;

  -- run_count / last_run_at: one ordered update per automation for the batch.
  if cardinality(v_slow_finished) > 0 then
    select v_ids || array_agg(r.automation_id), v_starts || array_agg(r.started_at) into v_ids, v_starts
      from public.automation_runs r where r.id = any (v_slow_finished);
  end if;
  if cardinality(v_ids) > 0 then
    perform automations_engine.count_finished_runs(v_ids, v_starts);
  end if;
end;
$$;
comment on function automations_engine.save_progress_many(jsonb) is
  'save_progress for a batch of runs in one transaction: completed runs set-based (one lock, one step insert, one update for the batch), other outcomes one by one; one counter update per automation. Returns each run''s new status (null when fenced out).';

-- -----------------------------------------------------------------------------
-- Leases, fenced by the token too.
-- -----------------------------------------------------------------------------
drop function automations_engine.extend_lease(uuid, integer, integer);
create function automations_engine.extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer default 60)
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

drop function automations_engine.release_run(uuid, integer);
create function automations_engine.release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid)
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

-- The engine's functions are for the service role only (as in the engine migration).
revoke all on function
  automations_engine.claim_runs(text, integer, integer),
  automations_engine.save_progress(uuid, integer, uuid, jsonb, text, text, boolean, jsonb, timestamptz, integer, integer, integer, boolean),
  automations_engine.save_progress_many(jsonb),
  automations_engine.extend_lease(uuid, integer, uuid, integer),
  automations_engine.release_run(uuid, integer, uuid)
  from public, anon, authenticated;
grant execute on function
  automations_engine.claim_runs(text, integer, integer),
  automations_engine.save_progress(uuid, integer, uuid, jsonb, text, text, boolean, jsonb, timestamptz, integer, integer, integer, boolean),
  automations_engine.save_progress_many(jsonb),
  automations_engine.extend_lease(uuid, integer, uuid, integer),
  automations_engine.release_run(uuid, integer, uuid)
  to service_role;
