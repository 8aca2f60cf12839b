-- =============================================================================
-- PERFORMANCE
-- Three changes to the hot path, each justified by `npm run bench` (figures
-- and profiles in docs/performance.md):
--
--   1. enqueue() sends its NOTIFY only when no other due run is waiting.
--      NOTIFY takes a cluster-wide lock at commit and holds it through the WAL
--      flush, so every notifying transaction commits one after another: under
--      a webhook burst 61 % of backend time was spent waiting on it
--      (Lock:object). A worker that is busy comes back for due runs without
--      being told; only the enqueue that finds the queue empty must wake it.
--   2. save_progress_many(): the worker records a batch of finished runs in
--      one call and one commit instead of one commit per run (commits waiting
--      on the WAL flush were 70-85 % of backend time in the drain).
--   3. webhook_enqueue(): the webhook function caches the automation's
--      signing secrets and enqueues in one statement that also checks the
--      cached secrets are still current (rotated_at) and the automation still
--      an active webhook automation: one round trip per delivery, and a
--      rotation or pause takes effect at once (the caller refetches when told
--      `stale`). webhook_target() now also returns rotated_at for that check.
--   4. automation_runs_org_started_idx carries automation_id, status and id,
--      so the seed's "success rate per automation" query reads an org's runs
--      from the index alone (index-only scan): 25 ms -> 8 ms for an org with
--      10,000 runs in a 1,000,000-run table, without adding an index to the
--      hot path (the index is written by the same updates as before; it grows
--      from 50 to 82 MB per million runs).
--      Rebuilding it locks writes to automation_runs while it builds (a few
--      seconds per million runs); on a large live table create the new index
--      CONCURRENTLY by hand first (see docs/performance.md).
-- =============================================================================

-- -----------------------------------------------------------------------------
-- 1. Enqueue: same contract; NOTIFY only when this run is the only due one.
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
-- 2. Many save_progress calls in one transaction (one commit).
-- Items: [{run_id, attempt, steps, outcome, error, retryable, result, run_at,
-- lease_seconds, max_attempts, backoff_seconds}], the parameters of
-- save_progress. Applied in run id order (concurrent batches lock runs in one
-- order); the counters of the runs that finished are added at the end with
-- one update per automation in automation id order (count_finished_runs), so
-- two batches never deadlock on an automation row. Each item is fenced on its
-- own: a stale attempt gets a null status and changes nothing. An error in
-- any item rolls back the batch; the caller then saves the items one by one.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.save_progress_many(p_items jsonb)
returns table (run_id uuid, status public.run_status)
language plpgsql
set search_path = ''
as $$
declare
  v_item jsonb;
  v_finished uuid[] := '{}';
  v_ids uuid[];
  v_starts timestamptz[];
begin
  for v_item in
    select x.value from jsonb_array_elements(p_items) as x(value) order by (x.value ->> 'run_id')::uuid
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

  if cardinality(v_finished) > 0 then
    select array_agg(r.automation_id), array_agg(r.started_at) into v_ids, v_starts
      from public.automation_runs r where r.id = any (v_finished);
    perform automations_engine.count_finished_runs(v_ids, v_starts);
  end if;
end;
$$;
comment on function automations_engine.save_progress_many(jsonb) is
  'save_progress for a batch of runs in one transaction: one commit for many finished runs, one counter update per automation. Returns each run''s new status (null when fenced out).';

-- -----------------------------------------------------------------------------
-- 3. Webhook deliveries: secrets cached by the function, checked here.
-- -----------------------------------------------------------------------------
drop function automations_engine.webhook_target(uuid);
create function automations_engine.webhook_target(p_automation_id uuid)
returns table (automation_id uuid, org_id uuid, updated_at timestamptz, secrets text[], rotated_at timestamptz,
               previous_expires_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select a.id, a.org_id, a.updated_at,
         array_remove(array[w.secret, case when w.previous_expires_at > now() then w.previous_secret end], null),
         w.rotated_at,
         case when w.previous_expires_at > now() then w.previous_expires_at end
    from public.automations a
    join automations_engine.webhook_secrets w on w.automation_id = a.id
   where a.id = p_automation_id and a.status = 'active' and a.trigger_type = 'webhook'
$$;
comment on function automations_engine.webhook_target(uuid) is
  'The active webhook automation and its valid signing secrets (with rotated_at, the cache key, and when the previous secret expires); no row when unknown, inactive or without a secret.';
revoke all on function automations_engine.webhook_target(uuid) from public, anon, authenticated;
grant execute on function automations_engine.webhook_target(uuid) to service_role;

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
-- 4. A covering index for per-org run history.
-- -----------------------------------------------------------------------------
drop index public.automation_runs_org_started_idx;
create index automation_runs_org_started_idx
  on public.automation_runs (org_id, started_at desc) include (automation_id, status, id);
comment on index public.automation_runs_org_started_idx is
  'An org''s runs by start time (RLS + "recent runs"); covers automation_id, status and id so per-automation counts of an org are index-only.';
