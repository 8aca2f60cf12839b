-- =============================================================================
-- WEBHOOK DELIVERIES IN BATCHES
-- webhook_enqueue_many(): the webhook handler writes the deliveries that
-- arrive together in one statement and one commit (docs/performance.md).
-- =============================================================================

create function automations_engine.webhook_enqueue_many(p_items jsonb)
returns table (run_id uuid, created boolean, stale boolean)
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
  v_aids uuid[];
  v_keys text[];
  v_valid boolean[];
  v_created uuid[];
  v_new uuid[];
  v_keyless boolean;
begin
  -- Under a burst, most of PostgreSQL's time per webhook delivery went to the
  -- statement around the insert, not the insert: an executor start-up for each
  -- of webhook_enqueue's and enqueue's statements, a transaction and a commit
  -- (with its WAL flush) per delivery. The webhook handler now groups the
  -- deliveries that arrive while earlier ones are being written
  -- (shared/db/batcher.ts) and writes them with this function: one statement,
  -- one transaction, one flush for all of them. Measured with pgbench, CPU per
  -- delivery without the flush: 0.21 ms one at a time (webhook_enqueue), 0.10 ms
  -- in batches of 8, 0.06 ms marginal. A delivery that arrives alone still goes
  -- through webhook_enqueue (cheaper for one).
  --
  -- Same answers as calling webhook_enqueue for each item in order:
  --   - stale (nothing written) when the automation is not an active webhook
  --     automation or its secrets were rotated since the caller verified with
  --     them (rotated_at differs);
  --   - created when the idempotency key is new for the automation, else the
  --     existing run's id with created = false; two items with the same key in
  --     one batch get one run, the first item creates it;
  --   - one NOTIFY on automation_runs when the due queue was otherwise empty.
  -- Either every item is applied or the call fails and nothing is: the caller
  -- then sends each item on its own, so one bad item fails only its delivery.
  --
  -- plan_cache_mode = force_generic_plan: one plan per backend, made once: the
  -- statement is planned the same way for every batch (its input is one jsonb
  -- array), and replanning a four-CTE statement per call cost more than a small
  -- batch saves.
  -- enable_seqscan = off: the generic plan is made with whatever size the
  -- tables have at the time. claim_runs once kept a sequential scan planned on
  -- a near-empty table (see the comments in its body). This statement chose
  -- its indexes even without this setting in tests/engine/plan_stability.test.ts;
  -- it stays as a guard, because every lookup here is by primary or unique key
  -- and a sequential scan is never the right choice.
  --
  -- Statement 1: verify every item's target and insert the new runs. An item
  -- is valid when its automation is an active webhook automation whose
  -- current secrets are the ones the caller verified with (rotated_at). The
  -- unique key (automation_id, idempotency_key) decides what is new, as in
  -- enqueue(): concurrent duplicates wait for the first insert and are then
  -- skipped. Within the batch, only the first item of a key is inserted
  -- (a second one in the same INSERT would be skipped anyway, but then
  -- nothing would tell which item created the run).
  with item as (
    select t.ord,
           (t.x ->> 'automation_id')::uuid as automation_id,
           (t.x ->> 'rotated_at')::timestamptz as rotated_at,
           t.x -> 'payload' as payload,
           t.x -> 'headers' as headers,
           t.x ->> 'idempotency_key' as idempotency_key
      from jsonb_array_elements(p_items) with ordinality as t(x, ord)
  ),
  target as (
    select i.ord, i.automation_id, i.idempotency_key, i.payload, i.headers,
           a.org_id, a.current_version_id, a.max_attempts,
           automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit, 'webhook', i.payload) as flow_key,
           row_number() over (partition by i.automation_id, i.idempotency_key order by i.ord) as copy
      from item i
      join public.automations a
        on a.id = i.automation_id and a.status = 'active' and a.trigger_type = 'webhook'
      join automations_engine.webhook_secrets w
        on w.automation_id = a.id and w.rotated_at = i.rotated_at
  ),
  ins as (
    insert into public.automation_runs
      (org_id, automation_id, trigger_type, trigger_payload, trigger_headers, idempotency_key, version_id, max_attempts, run_at, flow_key)
    select t.org_id, t.automation_id, 'webhook', coalesce(t.payload, '{}'::jsonb), t.headers, t.idempotency_key,
           t.current_version_id, t.max_attempts, now(), t.flow_key
      from target t
     where t.copy = 1
     order by t.ord
    on conflict (automation_id, idempotency_key) do nothing
    returning id, automation_id, idempotency_key
  )
  select array_agg(i.automation_id order by i.ord),
         array_agg(i.idempotency_key order by i.ord),
         array_agg(t.ord is not null order by i.ord),
         array_agg(n.id order by i.ord),
         bool_or(i.idempotency_key is null)
    into v_aids, v_keys, v_valid, v_created, v_keyless
    from item i
    left join target t on t.ord = i.ord
    left join ins n
      on t.copy = 1 and n.automation_id = t.automation_id and n.idempotency_key = t.idempotency_key;

  -- Deliveries are matched to their run by key, so every item needs one
  -- (the handler always sends webhook:<webhook-id>). Raising rolls back the
  -- inserts above.
  if v_keyless then
    raise exception 'webhook_enqueue_many: every item needs an idempotency_key'
      using errcode = '22023';
  end if;

  -- The same wake-up rule as enqueue(): notify only when another due run
  -- the claim would take was waiting (not held back by a limit), so bursts
  -- do not serialise on NOTIFY's commit lock.
  v_new := array_remove(v_created, null);
  if cardinality(v_new) > 0
     and not exists (
       select 1
         from (select r.org_id from public.automation_runs r
                where r.status = 'pending' and r.flow_key is null and r.run_at <= now() and r.id <> all (v_new)
                order by r.run_at limit 1) f
        where not automations_engine.org_at_cap(f.org_id)) then
    perform pg_notify('automation_runs', v_new[1]::text);
  end if;

  -- Statement 2: the items that created nothing but were valid are
  -- duplicates: answer with the existing run. A separate statement, so its
  -- snapshot sees a concurrent delivery's run that statement 1 waited for,
  -- and this batch's own earlier copies.
  return query
    select coalesce(u.cid, r.id), u.cid is not null, not u.valid
      from unnest(v_aids, v_keys, v_valid, v_created) with ordinality as u(aid, k, valid, cid, ord)
      left join public.automation_runs r
        on u.valid and u.cid is null and r.automation_id = u.aid and r.idempotency_key = u.k
     order by u.ord;
end;
$$;
comment on function automations_engine.webhook_enqueue_many(jsonb) is
  'webhook_enqueue for a batch of verified deliveries [{automation_id, rotated_at, payload, headers, idempotency_key}] in one statement and one commit; answers (run_id, created, stale) in item order.';

revoke all on function automations_engine.webhook_enqueue_many(jsonb) from public, anon, authenticated;
grant execute on function automations_engine.webhook_enqueue_many(jsonb) to service_role;
