-- =============================================================================
-- PERFORMANCE
-- Hot-path additions, each justified by `npm run bench` (figures and profiles
-- in docs/performance.md). Two related changes live where their functions are
-- defined: enqueue() notifies only when the due queue was empty (the NOTIFY
-- commit lock was 61 % of backend waits under a webhook burst; engine
-- functions migration), and webhook_target() returns rotated_at, the webhook
-- cache's key (webhook secrets migration).
--
--   2. save_progress_many(): the worker records a batch of finished runs in
--      one call and one commit instead of one commit per run (commits waiting
--      on the WAL flush were 70-85 % of backend time in the drain).
--   3. webhook_enqueue(): the webhook function caches the automation's
--      signing secrets and enqueues in one statement that also checks the
--      cached secrets are still current (rotated_at) and the automation still
--      an active webhook automation: one round trip per delivery, and a
--      rotation or pause takes effect at once (the caller refetches when told
--      `stale`).
--   4. automation_runs_org_started_idx carries automation_id, status and id,
--      so the seed's "success rate per automation" query reads an org's runs
--      from the index alone (index-only scan): 25 ms -> 8 ms for an org with
--      10,000 runs in a 1,000,000-run table, without adding an index to the
--      hot path (it grows from 50 to 82 MB per million runs).
--      Rebuilding it locks writes to automation_runs while it builds (a few
--      seconds per million runs); on a large live table create the new index
--      CONCURRENTLY by hand first (see docs/performance.md).
-- =============================================================================

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
