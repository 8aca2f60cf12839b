-- =============================================================================
-- PERFORMANCE
-- Hot-path additions, each justified by `npm run bench` (figures and profiles
-- in docs/performance.md): save_progress_many() records a batch of finished
-- runs in one transaction; webhook_enqueue() checks a webhook function's
-- cached secrets and enqueues in one statement; automation_runs'
-- org_started index covers the seed's per-automation counts.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Many save_progress calls in one transaction (one commit).
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
  -- Many save_progress calls in one transaction: the worker records a batch
  -- of finished runs with one commit instead of one per run (commits waiting
  -- on the WAL flush were 70-85 % of backend time in the drain).
  -- Items: [{run_id, attempt, claim_token, steps, outcome, error, retryable,
  -- result, run_at, lease_seconds, max_attempts, backoff_seconds}], the
  -- parameters of save_progress. Each item is fenced on its own: a stale
  -- claim gets a null status and changes nothing. An error in any item rolls
  -- back the batch; the caller then saves the items one by one.
  --
  -- The common case, runs that completed, takes a fixed number of statements
  -- per batch instead of four per run: one fenced lock of all of them, one
  -- insert of all their step rows, one update of all the runs (in the drain
  -- profile the per-run statements, each planned and executed once per run,
  -- were most of the database's time). Other outcomes (failed, wait, steps
  -- only) are rarer and go through save_progress() one by one, so their logic
  -- (retries, backoff, Retry-After) stays in one place.
  --
  -- Runs are locked in run id order, so concurrent batches do not deadlock;
  -- the counters of the runs that finished are added at the end with one
  -- update per automation in automation id order (count_finished_runs).
  -- The runs completed set-based hand their automation and start time to
  -- that update straight from the update's RETURNING: reading them again by
  -- `id = any (array)` had a cached plan that was a sequential scan whenever
  -- it was first planned on a small table (1.9 ms per batch, 40 % of the
  -- function, in the webhook bench). enable_seqscan = off keeps the remaining
  -- lookup of the rare one-by-one outcomes on the primary key (claim_runs
  -- explains why a generic plan made on a small table needs it).
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
-- Webhook deliveries: secrets cached by the function, checked here.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.webhook_enqueue(
  p_automation_id uuid,
  p_rotated_at timestamptz,
  p_payload jsonb,
  p_idempotency_key text
)
returns table (run_id uuid, created boolean, stale boolean)
language plpgsql
set search_path = ''
as $$
begin
  -- The webhook function caches each automation's signing secrets
  -- (webhook_target) and enqueues with this one statement: one round trip per
  -- delivery. The check below makes a rotation or a pause take effect at once:
  -- the caller refetches the target when told `stale`.
  -- The secrets the caller verified with are still the current ones, and the
  -- automation is still an active webhook automation: otherwise nothing is
  -- written and the caller looks the target up again.
  if not exists (
    select 1
      from public.automations a
      join automations_engine.webhook_secrets w on w.automation_id = a.id
     where a.id = p_automation_id and a.status = 'active' and a.trigger_type = 'webhook'
       and w.rotated_at = p_rotated_at) then
    return query select null::uuid, false, true;
    return;
  end if;
  return query
    select e.run_id, e.created, false
      from automations_engine.enqueue(p_automation_id, 'webhook', p_payload, p_idempotency_key, null, false) e;
end;
$$;
comment on function automations_engine.webhook_enqueue(uuid, timestamptz, jsonb, text) is
  'Enqueues a verified webhook delivery if the secrets it was verified with (rotated_at) are still current and the automation is an active webhook automation; otherwise returns stale and writes nothing.';

revoke all on function automations_engine.save_progress_many(jsonb), automations_engine.webhook_enqueue(uuid, timestamptz, jsonb, text)
  from public, anon, authenticated;
grant execute on function automations_engine.save_progress_many(jsonb), automations_engine.webhook_enqueue(uuid, timestamptz, jsonb, text)
  to service_role;

-- -----------------------------------------------------------------------------
-- A covering index for per-org run history: with automation_id, status and id
-- in the index, the seed's "success rate per automation" query reads an org's
-- runs from the index alone (index-only scan): 25 ms -> 8 ms for an org with
-- 10,000 runs in a 1,000,000-run table, without adding an index to the hot
-- path (it grows from 50 to 82 MB per million runs). Rebuilding it locks
-- writes to automation_runs while it builds (a few seconds per million runs);
-- on a large live table create the new index CONCURRENTLY by hand first (see
-- docs/performance.md).
-- -----------------------------------------------------------------------------
drop index public.automation_runs_org_started_idx;
create index automation_runs_org_started_idx
  on public.automation_runs (org_id, started_at desc) include (automation_id, status, id);
comment on index public.automation_runs_org_started_idx is
  'An org''s runs by start time (RLS + "recent runs"); covers automation_id, status and id so per-automation counts of an org are index-only.';
