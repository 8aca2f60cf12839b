-- =============================================================================
-- HOT PATH, second pass (docs/performance.md, "What was changed")
-- save_progress_many() records the common case, runs that completed, with a
-- fixed number of statements per batch instead of four per run: one fenced
-- lock of all of them, one insert of all their step rows, one update of all
-- the runs. In the drain profile the per-run statements were most of the
-- database's time (save_progress's select, insert and update, each planned
-- and executed once per run). Other outcomes (failed, wait, steps only) are
-- rarer and keep going through save_progress() one by one, so their logic
-- (retries, backoff, Retry-After) stays in one place.
-- =============================================================================

create or replace function automations_engine.save_progress_many(p_items jsonb)
returns table (run_id uuid, status public.run_status)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_item jsonb;
  v_done uuid[];
  v_finished uuid[];
  v_ids uuid[];
  v_starts timestamptz[];
begin
  if jsonb_typeof(p_items) is distinct from 'array' then
    raise exception 'save_progress_many expects a JSON array of items, got %', coalesce(jsonb_typeof(p_items), 'null')
      using errcode = '22023';
  end if;

  -- Completed runs, set-based. A run id that appears twice in one batch goes
  -- the slow way (an insert cannot touch the same step row twice).
  -- The fence is the same as save_progress's: this attempt still owns the
  -- run (attempt and status), and FOR UPDATE, taken in run id order, orders
  -- us after a concurrent reaper, cancel or re-claim.
  with given as (
    select x, count(*) over (partition by x ->> 'run_id') as copies
      from jsonb_array_elements(p_items) as x
  ), items as (
    select (x ->> 'run_id')::uuid as run_id, (x ->> 'attempt')::integer as attempt,
           coalesce(x -> 'steps', '[]'::jsonb) as steps, x -> 'result' as result
      from given
     where x ->> 'outcome' = 'completed' and copies = 1
  ), fenced as (
    select r.id, r.org_id, i.attempt, i.steps, i.result
      from public.automation_runs r
      join items i on i.run_id = r.id
     where r.attempt = i.attempt and r.status = 'running'
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
    returning r.id
  )
  select coalesce(array_agg(done.id), '{}') into v_done from done;

  v_finished := v_done;
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
      v_finished := v_finished || run_id;
    end if;
    return next;
  end loop;

  -- run_count / last_run_at: one ordered update per automation for the batch.
  if cardinality(v_finished) > 0 then
    select array_agg(r.automation_id), array_agg(r.started_at) into v_ids, v_starts
      from public.automation_runs r where r.id = any (v_finished);
    perform automations_engine.count_finished_runs(v_ids, v_starts);
  end if;
end;
$$;
comment on function automations_engine.save_progress_many(jsonb) is
  'save_progress for a batch of runs in one transaction: completed runs set-based (one lock, one step insert, one update for the batch), other outcomes one by one; one counter update per automation. Returns each run''s new status (null when fenced out).';

-- -----------------------------------------------------------------------------
-- Room on each page of automation_runs for the run's later versions. A run
-- row is written three times: the enqueue's insert, the claim and the final
-- state. With full pages (fillfactor 100) every later version went to some
-- other page with free space, found through the free space map: at 1,000,000
-- runs that was a page read, a dirtied page and a full-page image in the WAL
-- per row (claiming 100 due runs: 105 reads, 900 kB of WAL, 12 ms). With 30 %
-- of each page kept free by inserts, the new version stays on the page the
-- insert just wrote (5 ms, 150 kB). Applies to pages written from now on; an
-- existing table gets it as its pages are rewritten (VACUUM FULL, or as old
-- rows are pruned).
-- -----------------------------------------------------------------------------
alter table public.automation_runs set (fillfactor = 70);

-- -----------------------------------------------------------------------------
-- claim_runs with one plan per backend. PL/pgSQL caches each inner
-- statement's plan, but while a statement has parameters (p_limit, p_worker,
-- v_ids) PostgreSQL plans it again on every call until a generic plan looks
-- no worse, and for the claim it never did: planning its two statements
-- against automation_runs' nine indexes cost more than running them (one
-- due run, before the commit: 1.6 ms per call with fresh plans, 0.6 ms
-- generic; 1,000,000 runs of history). A generic plan does not know p_limit, so it guesses 10 % of
-- the due rows; joining that guess to automation_runs became a hash join
-- over the whole table (drain of 20,000 runs: 3,600 -> 1,150 runs/s). The
-- claimed ids are therefore looked up with `id = any (array(...))`, which is
-- an index lookup per id whatever the estimate.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.claim_runs(
  p_worker text,
  p_limit integer default 10,
  p_lease_seconds integer default 60
)
returns table (
  id uuid, org_id uuid, automation_id uuid, automation_name text, attempt integer,
  trigger_type public.automation_trigger_type, trigger_payload jsonb, actions jsonb,
  created_at timestamptz, started_at timestamptz, lease_expires_at timestamptz
)
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
  v_ids uuid[];
begin
  -- SKIP LOCKED: concurrent claimers each take different rows, never wait.
  with claimed as (
    update public.automation_runs r
       set status = 'running',
           attempt = r.attempt + 1,
           started_at = coalesce(r.started_at, now()),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds),
           locked_by = p_worker
     where r.id = any (array(
             select d.id from public.automation_runs d
              where d.status = 'pending' and d.run_at <= now()
              order by d.run_at
              limit p_limit
                for update skip locked))
    returning r.id
  )
  select coalesce(array_agg(claimed.id), '{}') into v_ids from claimed;

  if cardinality(v_ids) = 0 then
    return;
  end if;

  return query
    select r.id, r.org_id, r.automation_id, a.name, r.attempt, r.trigger_type, r.trigger_payload,
           coalesce(v.actions, '[]'::jsonb), r.created_at, r.started_at, r.lease_expires_at
      from public.automation_runs r
      join public.automations a on a.id = r.automation_id
      left join public.automation_versions v on v.id = r.version_id
     where r.id = any (v_ids)
     order by r.run_at, r.id;
end;
$$;
comment on function automations_engine.claim_runs(text, integer, integer) is
  'Claims up to p_limit due pending runs (FOR UPDATE SKIP LOCKED): running, attempt+1, lease set. Returns them with their snapshot.';
