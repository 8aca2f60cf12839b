-- =============================================================================
-- ENGINE FUNCTIONS
-- Every run state change is one of these functions, so the engine is correct
-- whoever calls it (an edge function, the local runtime, a SQL trigger):
--
--   enqueue ──▶ pending ──claim──▶ running ──save_progress──▶ completed
--                  ▲                 │   │                     failed
--                  └── retry/wait ───┘   └─ worker dead (no heartbeat ~10 s)
--                                              or lease expired ─▶ release_expired_leases
--
-- Fencing: each claim increments `attempt` and writes a fresh random
-- `claim_token`; every write of a worker (save_progress, save_progress_many,
-- extend_lease, release_run) applies only while both still match its claim.
-- A worker whose lease expired and whose run was claimed again changes 0
-- rows, and so does one whose claim was lost in a crash (claim_runs commits
-- without waiting for the disk) and handed out again with the same attempt.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Who an automation acts as (automations.acting_user_id).
-- -----------------------------------------------------------------------------
create or replace function automations_engine.calling_member(p_org_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid;
begin
  -- The public.users row, in p_org_id, of a member calling with a JWT (role
  -- authenticated and a sub); null for the service (a direct connection,
  -- service_role), whose edits leave an automation's acting member unchanged.
  -- The `role` setting still names the API role inside SECURITY DEFINER
  -- functions (create_automation, replace_automation_actions), so edits made
  -- through them count as the member's too.
  if current_setting('role', true) is distinct from 'authenticated' or (select auth.uid()) is null then
    return null;
  end if;
  select u.id into v_user from public.users u where u.auth_id = (select auth.uid()) and u.org_id = p_org_id;
  if v_user is null then
    -- RLS already refuses such a write; never let it fall back to "the service".
    raise exception 'the signed-in user is not a member of organization %', p_org_id using errcode = '42501';
  end if;
  return v_user;
end;
$$;
comment on function automations_engine.calling_member(uuid) is
  'The users.id (in the given org) of the member calling with a JWT; null when the caller is the service.';

create or replace function automations_engine.set_acting_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_member uuid := automations_engine.calling_member(new.org_id);
begin
  -- An automation acts as the last member who inserted it or changed what
  -- starts it or whether it runs (its actions: snapshot_actions). Not its
  -- creator: a guest's edit of an admin's automation must not keep the
  -- admin's rights. The service's edits leave it alone (it may set it).
  -- SECURITY DEFINER: members' writes fire it, and the engine schema is not theirs.
  if v_member is not null then
    if tg_op = 'INSERT'
       or new.trigger_type is distinct from old.trigger_type
       or new.trigger_config is distinct from old.trigger_config
       or new.status is distinct from old.status then
      new.acting_user_id := v_member;
    end if;
    -- Otherwise unchanged, or set by snapshot_actions (members themselves
    -- cannot write the column: it is outside their column grants).
  elsif tg_op = 'UPDATE' and old.acting_user_id is not null and new.acting_user_id is null
        and pg_trigger_depth() > 1 and new.status <> 'archived' then
    -- The acting member's users row was deleted (the foreign key's SET NULL,
    -- one trigger level down). Null would mean "runs as the service": pause
    -- instead, until a member edits it (and so becomes its acting member).
    new.status := 'paused';
  end if;
  return new;
end;
$$;
comment on function automations_engine.set_acting_user() is
  'BEFORE INSERT/UPDATE on automations: a member''s insert or change of trigger_type, trigger_config or status makes them the acting member; '
  'deleting the acting member''s user pauses the automation.';

create trigger automations_set_acting_user
  before insert or update of trigger_type, trigger_config, status, acting_user_id on public.automations
  for each row execute function automations_engine.set_acting_user();

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
  -- A member's change of the actions makes them the acting member (see
  -- set_acting_user); the service's leaves it unchanged.
  update public.automations a
     set current_version_id = snap.id,
         acting_user_id = coalesce(automations_engine.calling_member(a.org_id), a.acting_user_id)
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
  p_allow_draft boolean default false,
  p_headers jsonb default null
)
returns table (run_id uuid, created boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_auto record;
  v_id uuid;
  v_chain record;
begin
  select a.id, a.org_id, a.status, a.current_version_id, a.max_attempts,
         automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit, p_trigger_type, p_payload) as flow_key
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

  -- Set off by another run (its write or signed call back: automations.caused_by)?
  -- Its chain's root and depth, from that run's row; 54000 past the budget.
  select c.root_run_id, c.chain_depth into v_chain from automations_engine.chain_admit(v_auto.org_id, v_auto.id) c;

  -- A unique constraint, not check-then-insert: concurrent duplicates wait for
  -- the first insert and then find its row.
  insert into public.automation_runs
    (org_id, automation_id, trigger_type, trigger_payload, trigger_headers, idempotency_key, version_id, max_attempts, run_at,
     root_run_id, chain_depth, flow_key)
  values
    (v_auto.org_id, v_auto.id, p_trigger_type, coalesce(p_payload, '{}'::jsonb), p_headers, p_idempotency_key,
     v_auto.current_version_id, v_auto.max_attempts, coalesce(p_run_at, now()), v_chain.root_run_id, v_chain.chain_depth,
     v_auto.flow_key)
  on conflict (automation_id, idempotency_key) do nothing
  returning id into v_id;

  if v_id is not null then
    -- Wake listening workers only when the queue was empty: with other due
    -- runs waiting, a worker is either busy (it claims again as soon as it
    -- has room, until a claim comes back short) or was already woken for
    -- them. Skipping the NOTIFY keeps bursts of enqueues from committing one
    -- at a time behind NOTIFY's cluster-wide commit lock. Worst case (an
    -- idle worker racing a concurrent enqueue) is one poll interval. Only a
    -- run the claim would take counts as waiting: runs of limited
    -- automations (flow_key set) never do, and a plain run only when its org
    -- is not at its max_running_runs (the first due one is checked, one
    -- probe; if its org is at its cap, this notifies): a held-back backlog
    -- must not keep workers asleep.
    if coalesce(p_run_at, now()) <= now()
       and not exists (
         select 1
           from (select r.org_id from public.automation_runs r
                  where r.status = 'pending' and r.flow_key is null and r.run_at <= now() and r.id <> v_id
                  order by r.run_at limit 1) f
          where not automations_engine.org_at_cap(f.org_id)) then
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
comment on function automations_engine.enqueue(uuid, public.automation_trigger_type, jsonb, text, timestamptz, boolean, jsonb) is
  'Creates a pending run of an active automation with its current snapshot (and, for webhooks, the request headers it keeps); the same idempotency key returns the existing run. '
  'A run caused by another run (automations.caused_by) joins its chain (root_run_id, chain_depth) or is refused with 54000 (chain_admit). '
  'Notifies automation_runs when the due queue was empty.';

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
  trigger_type public.automation_trigger_type, trigger_payload jsonb, trigger_headers jsonb, actions jsonb,
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
  v_groups text[];    -- flow groups with due runs whose automation lock we hold
  v_orgs uuid[];      -- orgs with due runs that this claim considers
  v_ids uuid[];       -- due plain runs (statement 2), then the runs chosen
  v_id_orgs uuid[];
  v_run_ats timestamptz[];
  v_turns bigint[];
  v_backlog boolean;  -- candidates read per org (128 or more plain runs due, or one org)
  v_from uuid;
  v_first_org uuid;   -- lowest and highest org with pending plain runs
  v_last_org uuid;
  v_n integer;
  v_capped boolean;   -- some org considered has max_running_runs
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

  -- Fair across orgs, and flow control (issue 16; docs/engine.md "The claim").
  -- Plain runs (automations without limits, flow_key null) are read by due
  -- time (automation_runs_due_idx) and, under a backlog, per org
  -- (automation_runs_org_due_idx); runs of limited automations per flow
  -- group (automation_runs_flow_due_idx), so neither one org's backlog nor a
  -- group held at its limit is stepped over run by run.
  --
  -- Statement 1: the flow groups with due runs, and for each the automation
  -- lock. Counting running runs (max_concurrency) or recent starts
  -- (rate_limit) and then claiming is a check-then-act: two claimers could
  -- both see one free slot. So a claimer must hold the automation's
  -- transaction-scoped advisory lock (namespace 16001) to claim any of its
  -- limited runs; a claimer that cannot get it skips the automation, as SKIP
  -- LOCKED skips a row (never waits, never deadlocks). The lock is released
  -- at commit, after the claimed runs are visible, and the counts are taken
  -- by a later statement, whose snapshot is newer than the lock: it sees
  -- every claim committed by the lock's previous holder. Without limited
  -- runs this is one index probe.
  with recursive grp as (
    (select d.flow_key from public.automation_runs d
      where d.status = 'pending' and d.flow_key is not null
      order by d.flow_key limit 1)
    union all
    select (select d.flow_key from public.automation_runs d
             where d.status = 'pending' and d.flow_key is not null and d.flow_key > g.flow_key
             order by d.flow_key limit 1)
      from grp g where g.flow_key is not null
  ), due as (
    select g.flow_key, left(g.flow_key, 36)::uuid as automation_id
      from grp g
     where g.flow_key is not null
       and exists (select 1 from public.automation_runs d
                    where d.status = 'pending' and d.flow_key = g.flow_key and d.run_at <= now())
  ), locked as (
    select a.automation_id
      from (select distinct due.automation_id from due) a
     where pg_try_advisory_xact_lock(16001, hashtext(a.automation_id::text))
  )
  select coalesce(array_agg(due.flow_key), '{}') into v_groups
    from due join locked using (automation_id);

  -- Statement 2: which orgs have pending plain runs, from both ends of
  -- automation_runs_org_due_idx (two probes). The same org at both ends (or
  -- none): at most one org can have due plain runs, and without limited
  -- groups the plain claim below is exactly fair. That is the common case
  -- of a drain (one org's backlog) and it skips statements 3 and 4.
  select (select d.org_id from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null
           order by d.org_id limit 1),
         (select d.org_id from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null
           order by d.org_id desc limit 1)
    into v_first_org, v_last_org;
  if v_first_org is null and cardinality(v_groups) = 0 then
    return;
  end if;
  if v_first_org is not distinct from v_last_org then
    -- (With limited groups too, statement 3 reads this org's due runs per
    -- org, as under a backlog.)
    v_orgs := case when v_first_org is null then '{}' else array[v_first_org] end;
    v_ids := '{}';
    v_backlog := true;
  else
    -- Statement 2a: the first 128 due plain runs by due time. Fewer than
    -- 128: they are every due plain run, and the claim ranks them as they
    -- are. 128 (a backlog): their orgs may not be every org with due runs,
    -- so the orgs come from statement 2b. A constant, not p_limit: the
    -- generic plan would guess a limit parameter at 10 % of the due rows.
    select coalesce(array_agg(d.id), '{}'), coalesce(array_agg(d.org_id), '{}'), coalesce(array_agg(d.run_at), '{}'),
           coalesce(array_agg(distinct d.org_id), '{}')
      into v_ids, v_id_orgs, v_run_ats, v_orgs
      from (select d.id, d.org_id, d.run_at from public.automation_runs d
             where d.status = 'pending' and d.flow_key is null and d.run_at <= now()
             order by d.run_at limit 128) d;
    v_backlog := cardinality(v_ids) = 128;
  end if;

  -- Statement 2b (backlog only): the orgs with due plain runs, by a skip
  -- scan over automation_runs_org_due_idx (org_id, run_at): one descent per
  -- org with pending runs, whose first entry is the org's earliest run, so
  -- "is it due" costs nothing more, however large the org's backlog. It
  -- starts at a random uuid and wraps around, 64 descents each way at most:
  -- with more orgs than that, uuid order does not decide which orgs are
  -- seen (each claim sees a random stretch; over claims, every org).
  if v_backlog and v_first_org is distinct from v_last_org then
    v_from := gen_random_uuid();
    with recursive up as (
      (select d.org_id, d.run_at, 1 as n from public.automation_runs d
        where d.status = 'pending' and d.flow_key is null and d.org_id >= v_from
        order by d.org_id, d.run_at limit 1)
      union all
      select x.org_id, x.run_at, u.n + 1
        from up u
        cross join lateral (
          select d.org_id, d.run_at from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null and d.org_id > u.org_id
           order by d.org_id, d.run_at limit 1) x
       where u.n < 64
    ), wrap as (
      (select d.org_id, d.run_at, 1 as n from public.automation_runs d
        where d.status = 'pending' and d.flow_key is null and d.org_id < v_from
        order by d.org_id, d.run_at limit 1)
      union all
      select x.org_id, x.run_at, w.n + 1
        from wrap w
        cross join lateral (
          select d.org_id, d.run_at from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null and d.org_id > w.org_id and d.org_id < v_from
           order by d.org_id, d.run_at limit 1) x
       where w.n < 64
    )
    select coalesce(array_agg(o.org_id), '{}') into v_orgs
      from (select up.org_id, up.run_at from up union all select wrap.org_id, wrap.run_at from wrap) o
     where o.run_at <= now();
  end if;
  if cardinality(v_orgs) = 0 and cardinality(v_groups) = 0 then
    return;
  end if;

  -- Add the orgs of the locked groups. An org with an operator cap
  -- (automation_settings.max_running_runs) is locked like a limited
  -- automation (namespace 16002, same check-then-act); an org whose lock
  -- another claimer holds is skipped this time.
  v_n := cardinality(v_orgs);
  select coalesce(array_agg(o.org_id), '{}'), bool_or(s.org_id is not null) into v_orgs, v_capped
    from (select unnest(v_orgs) as org_id
          union
          select a.org_id from public.automations a
           where a.id = any (array(select left(g, 36)::uuid from unnest(v_groups) g))) o
    left join public.automation_settings s on s.org_id = o.org_id and s.max_running_runs is not null
   where case when s.org_id is null then true
              else pg_try_advisory_xact_lock(16002, hashtext(o.org_id::text)) end;
  if cardinality(v_orgs) = 0 then
    return;
  end if;

  -- One org, no limited runs, no cap: the plain claim by due time, which is
  -- exactly fair (one org), at the cost of the claim before fairness.
  -- (Statement 2a/2b may also find just one org with due runs among several
  -- with pending ones: the same.)
  if cardinality(v_groups) = 0 and v_n = 1 and cardinality(v_orgs) = 1 and not coalesce(v_capped, false) then
    -- Every run in turn 1: statement 4 gives them the plain lease.
    v_ids := array(
      select d.id from public.automation_runs d
       where d.status = 'pending' and d.flow_key is null and d.run_at <= now()
       order by d.run_at
       limit p_limit
         for update skip locked);
    v_turns := array_fill(1::bigint, array[cardinality(v_ids)]);
  else
    -- Statement 3: choose and lock. Candidates: the due plain runs of
    -- statement 2 (or, under a backlog, each org's first 2 x p_limit: more
    -- than one claim takes, so concurrent claimers, which skip each other's
    -- locked rows, still fill their batches), and each locked group's first
    -- due runs up to its free slots (max_concurrency minus its running runs);
    -- then at most the free rate_limit slots per automation (limit minus runs
    -- started in the last period_seconds) and the free max_running_runs slots
    -- per org, in due order. A held-back run is never a candidate: it stays
    -- pending with its attempt unchanged.
    --
    -- The order across orgs is round-robin: an org's k-th candidate goes in
    -- turn k, and within a turn the org claimed least recently goes first.
    -- "Claimed least recently" is read from the org's running run with the
    -- latest lease (automation_runs_org_running_idx, one descent per org),
    -- nothing running first; and the lease of an org's k-th run in a claim is
    -- k-1 microseconds later than its first's, so an org that took 15 runs of
    -- the last batch ranks after one that took 1 of it. Counting each org's
    -- running runs instead cost a claim 1.5 ms with 5,000 runs running in 100
    -- orgs (docs/performance.md). So an org's share of the claims does not
    -- grow with what it has waiting: another org's first run goes before the
    -- flooding org's next one, even in a claim of one. Within an org the order
    -- is due time (run_at, then id).
    with orgs as materialized (
      select o.org_id,
             (select x.lease_expires_at from public.automation_runs x
               where x.status = 'running' and x.org_id = o.org_id
               order by x.lease_expires_at desc limit 1) as last_lease,
             case when v_capped then
               (select s.max_running_runs - (select count(*) from public.automation_runs x
                                              where x.status = 'running' and x.org_id = o.org_id)
                  from public.automation_settings s
                 where s.org_id = o.org_id and s.max_running_runs is not null)
             end as free
        from unnest(v_orgs) as o(org_id)
    ), plain as (
      select u.id, u.org_id, u.run_at
        from unnest(v_ids, v_id_orgs, v_run_ats) as u(id, org_id, run_at)
       where not v_backlog and u.org_id = any (v_orgs)
      union all
      select c.id, c.org_id, c.run_at
        from unnest(v_orgs) as o(org_id)
        cross join lateral (
          select d.id, d.org_id, d.run_at from public.automation_runs d
           where d.org_id = o.org_id and d.status = 'pending' and d.flow_key is null and d.run_at <= now()
           order by d.run_at, d.id
           limit p_limit * 2) c
       where v_backlog
    ), grp as (
      select g.flow_key, a.id as automation_id, a.org_id, a.rate_limit,
             case when a.max_concurrency is null then p_limit
                  else greatest(0, a.max_concurrency - (
                    select count(*) from public.automation_runs x
                     where x.status = 'running' and x.flow_key = g.flow_key))::integer
             end as slots
        from unnest(v_groups) as g(flow_key)
        join public.automations a on a.id = left(g.flow_key, 36)::uuid
       where a.org_id = any (v_orgs)
    ), limited as (
      select c.id, c.org_id, c.run_at, g.automation_id,
             row_number() over (partition by g.automation_id order by c.run_at, c.id) as nth
        from grp g
        cross join lateral (
          select d.id, d.org_id, d.run_at from public.automation_runs d
           where d.flow_key = g.flow_key and d.status = 'pending' and d.run_at <= now()
           order by d.run_at, d.id
           limit least(p_limit, g.slots)) c
       where g.slots > 0
    ), rate as (
      select a.id as automation_id,
             case when a.rate_limit is null then p_limit
                  else greatest(0, (a.rate_limit ->> 'limit')::integer - (
                    select count(*) from public.automation_runs x
                     where x.automation_id = a.id and x.flow_key is not null
                       and x.started_at > now() - make_interval(secs => (a.rate_limit ->> 'period_seconds')::integer)))::integer
             end as slots
        from public.automations a
       where a.id = any (array(select distinct l.automation_id from limited l))
    ), cand as (
      select p.id, p.org_id, p.run_at from plain p
      union all
      select l.id, l.org_id, l.run_at from limited l
        join rate on rate.automation_id = l.automation_id
       where l.nth <= rate.slots
    ), ranked as (
      select c.id, c.run_at, o.last_lease, o.free,
             row_number() over (partition by c.org_id order by c.run_at, c.id) as turn
        from cand c
        join orgs o on o.org_id = c.org_id
    )
    -- The first 4 x p_limit in that order are locked (SKIP LOCKED: rows
    -- another claimer holds are passed over) and the first p_limit taken;
    -- only those candidates are read from the table (status rechecked under
    -- the lock), not every candidate.
    select coalesce(array_agg(t.id), '{}'), coalesce(array_agg(t.turn), '{}') into v_ids, v_turns
      from (select d.id, k.turn
              from (select k.id, k.turn, k.last_lease, k.run_at from ranked k
                     where k.free is null or k.turn <= k.free
                     order by k.turn, k.last_lease nulls first, k.run_at, k.id
                     limit p_limit * 4) k
              join public.automation_runs d on d.id = k.id
             where d.status = 'pending'
             order by k.turn, k.last_lease nulls first, k.run_at, k.id
             limit p_limit
               for update of d skip locked) t;
  end if;
  if cardinality(v_ids) = 0 then
    return;
  end if;

  -- Statement 4: the claim of the chosen runs, with the turn in the lease.
  return query
    with claimed as (
      update public.automation_runs r
         set status = 'running',
             attempt = r.attempt + 1,
             started_at = coalesce(r.started_at, now()),
             lease_expires_at = now() + make_interval(secs => p_lease_seconds)
                                + make_interval(secs => (v_turns[array_position(v_ids, r.id)] - 1) / 1e6),
             locked_by = p_worker,
             claim_token = v_token
       where r.id = any (v_ids)
      returning r.id, r.org_id, r.automation_id, r.attempt, r.trigger_type, r.trigger_payload, r.trigger_headers,
                r.version_id, r.created_at, r.started_at, r.lease_expires_at, r.run_at, r.restricted
    )
    -- A restricted run's real payload is in automation_run_payloads (its row
    -- holds a redaction marker); the join is skipped for the others.
    select c.id, c.org_id, c.automation_id, a.name, c.attempt, c.trigger_type,
           coalesce(p.payload, c.trigger_payload), c.trigger_headers,
           coalesce(v.actions, '[]'::jsonb), c.created_at, c.started_at, c.lease_expires_at, v_token
      from claimed c
      join public.automations a on a.id = c.automation_id
      left join public.automation_versions v on v.id = c.version_id
      left join public.automation_run_payloads p on c.restricted and p.run_id = c.id
     order by c.run_at, c.id;
end;
$$;

comment on function automations_engine.claim_runs(text, integer, integer) is
  'Claims up to p_limit due pending runs (FOR UPDATE SKIP LOCKED), fair across orgs (round-robin, the org claimed least recently first; due order within an org) and within max_concurrency, rate_limit and the org''s max_running_runs: running, attempt+1, lease and a new claim token set; commits without waiting for the WAL flush. Returns them with their snapshot and the token.';

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

-- -----------------------------------------------------------------------------
-- Worker liveness (table automations_engine.workers). A lease only says "this
-- worker promised to be done or renew by then" (60 s by default); a heartbeat
-- row per worker process says within seconds that the process is gone.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.worker_heartbeat(
  p_worker text,
  p_timeout_seconds integer default 10,
  p_kind text default 'loop',
  p_host text default null,
  p_pid integer default null
)
returns text
language plpgsql
set search_path = ''
as $$
begin
  -- One row per worker process, renewed every few seconds (not per run).
  -- Returns what the worker must do:
  --   'alive'      renewed; carry on;
  --   'registered' a new worker id; carry on;
  --   'dead'       the last beat is older than the worker's timeout, so the
  --                reaper may already have handed its runs to someone else.
  --                The row is NOT refreshed: reviving it would keep its runs
  --                from being released. The worker must abandon every run it
  --                holds (fencing rejects its writes anyway) and carry on
  --                under a new worker id.
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker id must be 1 to 200 characters, got %', coalesce(length(p_worker)::text, 'null')
      using errcode = '22023';
  end if;
  if p_timeout_seconds is null or p_timeout_seconds not between 2 and 3600 then
    raise exception 'worker timeout must be between 2 and 3600 seconds, got %', p_timeout_seconds
      using errcode = '22023', hint = 'Beat several times within it; 10 s is the default.';
  end if;
  update automations_engine.workers w
     set heartbeat_at = now(), timeout_seconds = p_timeout_seconds
   where w.worker_id = p_worker
     and w.heartbeat_at >= now() - make_interval(secs => w.timeout_seconds);
  if found then
    return 'alive';
  end if;
  insert into automations_engine.workers (worker_id, kind, host, pid, timeout_seconds)
  values (p_worker, p_kind, p_host, p_pid, p_timeout_seconds)
  on conflict (worker_id) do nothing;
  return case when found then 'registered' else 'dead' end;
end;
$$;
comment on function automations_engine.worker_heartbeat(text, integer, text, text, integer) is
  'Liveness beat of one worker process (every few seconds): alive / registered, or dead when it was silent longer than its timeout (it must abandon its runs and re-register under a new id).';

create or replace function automations_engine.worker_stopped(p_worker text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  -- A clean stop handed every run back (release_run): the row goes. If a run
  -- is still held under this id (its release failed), the row is aged past
  -- its timeout instead, so the next reaper pass releases that run now
  -- rather than when its lease runs out.
  if exists (select 1 from public.automation_runs r
              where r.status = 'running' and r.locked_by = p_worker) then
    update automations_engine.workers w
       set heartbeat_at = now() - make_interval(secs => w.timeout_seconds + 1)
     where w.worker_id = p_worker;
  else
    delete from automations_engine.workers w where w.worker_id = p_worker;
  end if;
end;
$$;
comment on function automations_engine.worker_stopped(text) is
  'A worker ended cleanly: deletes its liveness row (or marks it dead at once if it still holds a run).';

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
  -- Runs go back to the queue when their worker is presumed dead, by either
  -- rule, whichever comes first:
  --   * its heartbeat row is older than its timeout (~10 s after a crash);
  --   * the run's lease expired (a claimer without a heartbeat row, or a
  --     live process stuck on this run without renewing it).
  -- Either way it counts as a failed attempt (so a run that kills every
  -- worker, e.g. by exhausting its memory, ends at the attempt cap instead of
  -- looping) and the run is claimable again at once; completed steps are kept
  -- and not repeated. Fencing is unchanged: the next claim gets attempt + 1
  -- and a new claim token, so a worker that was only slow loses its writes.
  -- The scan covers running runs only (partial index automation_runs_lease_idx):
  -- at most the workers' total concurrency, whatever the history size.
  with expired as (
    select r.id, w.worker_id is not null as dead, w.timeout_seconds
      from public.automation_runs r
      left join automations_engine.workers w
        on w.worker_id = r.locked_by
       and w.heartbeat_at < now() - make_interval(secs => w.timeout_seconds)
     where r.status = 'running'
       and (r.lease_expires_at < now() or w.worker_id is not null)
     order by r.lease_expires_at
     limit p_limit
     for update of r skip locked
  )
  , released as (
  update public.automation_runs r
     set status = case when r.failed_attempts + 1 >= r.max_attempts then 'failed' else 'pending' end::public.run_status,
         failed_attempts = r.failed_attempts + 1,
         completed_at = case when r.failed_attempts + 1 >= r.max_attempts then now() end,
         error_message = format('the worker running attempt %s stopped responding (%s); %s', r.attempt,
           case when expired.dead then format('worker %s sent no heartbeat for %s s', r.locked_by, expired.timeout_seconds)
                else 'lease expired' end,
           case when r.failed_attempts + 1 >= r.max_attempts
                then format('gave up after %s attempts', r.failed_attempts + 1) else 'retrying' end),
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
  -- Retention of liveness rows: a dead worker's row stays a day (which
  -- process died, when), then goes. Clean stops deleted theirs already.
  delete from automations_engine.workers w where w.heartbeat_at < now() - interval '1 day';
  return v_n;
end;
$$;
comment on function automations_engine.release_expired_leases(integer) is
  'Reaper: running runs whose worker is dead (no heartbeat within its timeout) or whose lease expired go back to pending (or fail at the attempt cap), counting a failed attempt; deletes liveness rows silent for a day.';

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
  -- owner, so it cannot tell. The `role` setting still holds what PostgREST (or
  -- our asUser) set: anon / authenticated for API users, service_role for the
  -- service key, or whatever API role a project adds; 'none' on a direct
  -- connection, whose caller is then the session user. An allowlist, not a
  -- denylist: only service_role and the owner roles (postgres, supabase_admin,
  -- superusers, the owner of the engine schema, i.e. whoever ran the
  -- migrations) are the service. A project's own role (say api_reader,
  -- granted like authenticated) is a user: it gets its org's rows only.
  select exists (
    select 1
      from pg_catalog.pg_roles ro
     where ro.rolname = case when coalesce(current_setting('role', true), '') in ('', 'none')
                             then session_user::text else current_setting('role', true) end
       and (ro.rolname in ('service_role', 'postgres', 'supabase_admin')
            or ro.rolsuper
            or ro.oid = (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'automations_engine')))
$$;
comment on function automations_engine.caller_is_service() is
  'True when the caller is the service: role service_role, or a direct connection (or role) of postgres, supabase_admin, a superuser or the engine schema''s owner. False for anon, authenticated and any other API role.';

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
  v_key text;
begin
  -- Keys of manual runs live in their own namespace (manual:<key>), so a
  -- caller can never take the key a webhook delivery (webhook:<id>), an event
  -- (event:<id>) or a schedule fire time (schedule:<time>) will use and
  -- silently swallow it. A key spelled like one is a mistake worth saying.
  if idempotency_key is not null then
    if idempotency_key ~* '^(webhook|schedule|event|manual):' then
      raise exception 'idempotency_key % starts with a trigger prefix (webhook:, schedule:, event:, manual:), which only the engine uses',
        idempotency_key using errcode = '22023', hint = 'Use your own key, e.g. an order id; it is stored as manual:<key>.';
    end if;
    if length(idempotency_key) > 248 then
      raise exception 'idempotency_key is longer than 248 characters' using errcode = '22023';
    end if;
    v_key := 'manual:' || idempotency_key;
  end if;
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
    from automations_engine.enqueue(run_automation.automation_id, 'manual', payload, v_key, null, true) e;
  return v_run;
end;
$$;
comment on function public.run_automation(uuid, jsonb, text) is
  'Starts a manual run of an automation of the caller''s org (active or draft). Returns the run id; the same idempotency_key returns the same run '
  '(stored as manual:<key>; keys starting with webhook:, schedule:, event: or manual: are refused with 22023).';
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
  -- An allowlist like caller_is_service(): any API role (anon, authenticated
  -- or a project's own) is checked, only the service and owner roles are not.
  if found and not coalesce((select ro.rolsuper or ro.rolname in ('service_role', 'postgres', 'supabase_admin')
                               from pg_catalog.pg_roles ro where ro.rolname = current_user), false)
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

-- -----------------------------------------------------------------------------
-- Restricted runs: who a run acts as, and where its data is kept.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.is_database_action(p_action_type text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Actions that read or write app tables under the acting member's rights:
  -- the built-in update_field and create_task, and custom types registered
  -- with writes_database (plpgsql: that table is created by a later migration).
  return p_action_type in ('update_field', 'create_task')
      or exists (select 1 from automations_engine.custom_action_types c
                  where c.action_type = p_action_type and c.writes_database);
end;
$$;
comment on function automations_engine.is_database_action(text) is
  'True for action types that run SQL as the acting member: update_field, create_task, custom types with writes_database.';

create or replace function automations_engine.mark_restricted_run()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Every run records who it acts as (the automation's acting member now; the
  -- engine checks at each database step that they are still an active
  -- member). A run is restricted when its data comes from the database under
  -- someone's rights: a table event (the row; from the SQL trigger or a
  -- Database Webhook), or a snapshot with a database
  -- action (what the steps read and return). Set for every insert path
  -- (enqueue, webhook batches, clients' own inserts); neither is client-writable.
  -- SECURITY DEFINER: clients' inserts fire it too.
  select a.acting_user_id into new.acting_user_id from public.automations a where a.id = new.automation_id;
  -- Application events ({event, id, payload}) are posted by the service, not
  -- read from a table, so only table events ({table, record, ...}) count.
  new.restricted := coalesce(new.trigger_type = 'event' and new.trigger_payload ? 'table', false)
    or exists (select 1 from public.automation_versions v, jsonb_array_elements(v.actions) x
                where v.id = new.version_id and automations_engine.is_database_action(x ->> 'action_type'));
  return new;
end;
$$;
comment on function automations_engine.mark_restricted_run() is
  'BEFORE INSERT on automation_runs (after fill_defaults): sets acting_user_id and restricted.';

create trigger automation_runs_mark_restricted
  before insert on public.automation_runs
  for each row execute function automations_engine.mark_restricted_run();

create or replace function automations_engine.redaction_marker(p_payload jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  -- What members see in a restricted run's trigger_payload: the kind of event,
  -- never a row value.
  select jsonb_strip_nulls(jsonb_build_object(
    'redacted', true,
    'reason', 'this run carries data read under its acting member''s rights; only that member (and the service) reads it, in automation_run_payloads',
    'type', case when jsonb_typeof(p_payload -> 'type') = 'string' then p_payload -> 'type' end,
    'table', case when jsonb_typeof(p_payload -> 'table') = 'string' then p_payload -> 'table' end,
    'schema', case when jsonb_typeof(p_payload -> 'schema') = 'string' then p_payload -> 'schema' end))
$$;
comment on function automations_engine.redaction_marker(jsonb) is
  'The trigger_payload a restricted run shows: {redacted, reason, type, table, schema}, no row values.';

create or replace function automations_engine.store_restricted_payload()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- AFTER, not BEFORE: an insert that loses its idempotency conflict must
  -- leave no payload row. One extra (HOT) row version per restricted run.
  -- SECURITY DEFINER: clients may not write automation_run_payloads themselves.
  insert into public.automation_run_payloads (run_id, org_id, payload)
  values (new.id, new.org_id, new.trigger_payload);
  update public.automation_runs r
     set trigger_payload = automations_engine.redaction_marker(new.trigger_payload)
   where r.id = new.id;
  return null;
end;
$$;
comment on function automations_engine.store_restricted_payload() is
  'AFTER INSERT on restricted runs: moves the trigger payload to automation_run_payloads and leaves the redaction marker.';

create trigger automation_runs_store_restricted_payload
  after insert on public.automation_runs
  for each row when (new.restricted)
  execute function automations_engine.store_restricted_payload();

create or replace function automations_engine.store_restricted_result()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- The engine's result is {output: <last step output>, stopped?: {step,
  -- reason}}: the output is step data, kept with the payload; members see
  -- that there is a result and why a run stopped, not what it holds.
  update public.automation_run_payloads p set result = new.result where p.run_id = new.id;
  new.result := jsonb_strip_nulls(jsonb_build_object(
    'redacted', true,
    'reason', 'the result of a restricted run is in automation_run_payloads',
    'stopped', new.result -> 'stopped'));
  return new;
end;
$$;
comment on function automations_engine.store_restricted_result() is
  'BEFORE UPDATE of a restricted run''s result: the result goes to automation_run_payloads, the row keeps a marker.';

create trigger automation_runs_store_restricted_result
  before update of result on public.automation_runs
  for each row when (new.restricted and new.result is not null and new.result is distinct from old.result)
  execute function automations_engine.store_restricted_result();

create or replace function automations_engine.run_acting_member(p_run_id uuid)
returns table (acting_user_id uuid, auth_id uuid, email text, active boolean, automation_name text)
language sql
stable
set search_path = ''
as $$
  -- Looked up before each database step (the role is taken at run time): a
  -- member who left, was suspended or deactivated since the run was created
  -- is no longer active, and the step fails.
  select r.acting_user_id, u.auth_id, u.email,
         coalesce(u.auth_id is not null and u.is_active and u.org_id = r.org_id and m.status = 'active', false),
         a.name
    from public.automation_runs r
    join public.automations a on a.id = r.automation_id
    left join public.users u on u.id = r.acting_user_id
    left join public.memberships m on m.user_id = u.id and m.org_id = r.org_id
   where r.id = p_run_id
$$;
comment on function automations_engine.run_acting_member(uuid) is
  'Who a run acts as (null: the service) and whether they are still an active member of the run''s org.';

-- Engine functions are for the service connection only.
revoke all on all functions in schema automations_engine from public, anon, authenticated;
grant execute on all functions in schema automations_engine to service_role;
