// Generate run history in SQL (generate_series), deterministic (setseed):
// orgs with a member and an admin each, automations with two actions each
// (snapshots by the normal triggers), then runs with one step row each, bulk
// loaded with session_replication_role = replica (no FK / trigger work per
// row; the rows are consistent by construction), then counters, VACUUM
// ANALYZE and a checkpoint, as a database that has lived with this history.
import type { Db } from "../shared/db/types.ts";

export interface HistoryShape {
  orgs: number;
  automations: number;
  runs: number;
}

export const historyShape = (scale: number): HistoryShape => ({
  orgs: Math.max(1, Math.round(100 * scale)),
  automations: Math.max(10, Math.round(10_000 * scale)),
  runs: Math.max(1000, Math.round(1_000_000 * scale)),
});

/** Runs the statements on one connection (session settings stick); returns seconds per phase. */
export async function generateHistory(db: Db, shape: HistoryShape, log: (msg: string) => void): Promise<Record<string, number>> {
  const phases: Record<string, number> = {};
  const phase = async (name: string, sql: string, params: unknown[] = []) => {
    const t = performance.now();
    await db.query(sql, params);
    phases[name] = (phases[name] ?? 0) + (performance.now() - t) / 1000;
  };
  await db.query("set synchronous_commit = off"); // generation only; the measured parts run durable
  await db.query("select setseed(0.42)");
  log(`  orgs, users, ${shape.automations} automations with 2 actions each…`);
  await phase("orgs + users", `
    with o as (
      insert into public.organizations (name, slug)
      select 'Org ' || k, 'org-' || k from generate_series(1, $1::int) k returning id, slug),
    au as (
      insert into auth.users (id, email)
      select gen_random_uuid(), o.slug || '-' || r || '@bench.test' from o, unnest(array['member','admin']) r
      returning id, email),
    u as (
      insert into public.users (org_id, auth_id, email, full_name)
      select o.id, au.id, au.email, split_part(au.email, '@', 1)
        from au join o on au.email like o.slug || '-%'
      returning id, org_id, email)
    insert into public.memberships (org_id, user_id, role)
    select u.org_id, u.id, case when u.email like '%-admin@%' then 'admin' else 'member' end::public.membership_role from u`,
    [shape.orgs]);
  await db.exec(`
    create schema bench;
    create table bench.orgs as
      select row_number() over (order by o.slug collate "C") - 1 as k, o.id as org_id, u.id as creator_id
        from public.organizations o join public.users u on u.org_id = o.id and u.email like '%-member@%';
    create unique index on bench.orgs (k)`);
  await phase("automations", `
    insert into public.automations (org_id, creator_id, name, description, trigger_type, trigger_config, status, created_at)
    select b.org_id, b.creator_id, 'Automation ' || lpad(i::text, 5, '0'), 'generated for the benchmark',
           t.tt, case t.tt when 'schedule' then '{"cron": "*/15 * * * *", "timezone": "UTC"}'::jsonb
                           when 'event' then '{"event": "invoice.paid"}'::jsonb else '{}'::jsonb end,
           (case when i % 20 < 14 then 'active' when i % 20 < 17 then 'paused' when i % 20 < 19 then 'draft' else 'archived' end)::public.automation_status,
           now() - interval '90 days' * random()
      from generate_series(0, $1::int - 1) i
      join bench.orgs b on b.k = i % $2::int
      cross join lateral (select (array['webhook','event','schedule','manual'])[1 + i % 4]::public.automation_trigger_type as tt) t`,
    [shape.automations, shape.orgs]);
  await phase("actions + snapshots", `
    insert into public.automation_actions (org_id, automation_id, action_type, action_config, position, name)
    select a.org_id, a.id, x.t, x.c, x.p, x.n
      from public.automations a
      cross join (values
        ('log', '{"message": "lead {{trigger.payload.email}}"}'::jsonb, 0, 'note'),
        ('webhook', '{"url": "https://hooks.example.com/in", "method": "POST", "body": {"email": "{{trigger.payload.email}}"}}'::jsonb, 1, 'notify')
      ) as x(t, c, p, n)`);
  await db.exec(`
    create table bench.autos as
      select row_number() over (order by a.created_at, a.id) - 1 as idx, a.id, a.org_id, a.current_version_id as version_id,
             a.trigger_type, (select x.id from public.automation_actions x where x.automation_id = a.id and x.position = 0) as action_id
        from public.automations a;
    create unique index on bench.autos (idx);
    create unique index on bench.autos (id);
    analyze bench.autos`);

  log(`  ${shape.runs.toLocaleString("en-US")} runs over 60 days (93% completed, 6% failed, 0.5% pending later, 0.5% running)…`);
  await db.query("set session_replication_role = replica");
  await phase("runs", `
    insert into public.automation_runs
      (id, org_id, automation_id, status, started_at, completed_at, error_message, result, created_at, updated_at,
       trigger_type, trigger_payload, idempotency_key, version_id, run_at, attempt, failed_attempts, max_attempts,
       lease_expires_at, locked_by)
    select gen_random_uuid(), b.org_id, b.id, v.st, v.started, v.completed,
           case when v.st = 'failed' then 'step 1 "notify" (webhook) failed: HTTP 500 from https://hooks.example.com/in after 3 attempts' end,
           case when v.st = 'completed' then jsonb_build_object('output', jsonb_build_object('status', 200, 'body', jsonb_build_object('ok', true))) end,
           v.created, coalesce(v.completed, v.started, v.created),
           b.trigger_type, jsonb_build_object('n', v.g, 'email', 'lead' || v.g || '@example.com', 'amount', v.g % 1000),
           'bench:' || v.g, b.version_id,
           case when v.st = 'pending' then now() + interval '1 day' * v.r2 else v.created end,
           case when v.st = 'failed' then 3 else 1 end, case when v.st = 'failed' then 3 else 0 end, 3,
           case when v.st = 'running' then now() + interval '1 hour' end,
           case when v.st = 'running' then 'worker-bench' end
      from (
        select s.g, s.r2, s.ai, s.st, s.created,
               case when s.st = 'pending' and s.r3 < 0.5 then null else s.created + interval '1 second' * s.r2 end as started,
               case when s.st in ('completed', 'failed') then s.created + interval '1 second' * (s.r2 + 0.05 + 5 * s.r3 * s.r3) end as completed
          from (
            select g, random() as r2, random() as r3, floor($2::int * power(random(), 1.5))::int as ai,
                   (case when r < 0.93 then 'completed' when r < 0.99 then 'failed' when r < 0.995 then 'pending' else 'running' end)::public.run_status as st,
                   case when r >= 0.99 then now() - interval '10 minutes' * random() else now() - interval '60 days' * random() end as created
              from (select g, random() as r from generate_series(1, $1::int) g) q
          ) s
      ) v
      join bench.autos b on b.idx = v.ai`,
    [shape.runs, shape.automations]);
  log("  one step row per run…");
  await phase("steps", `
    insert into public.automation_run_steps
      (run_id, step_index, org_id, action_id, action_type, name, status, attempt, input, output, error_message, started_at, completed_at)
    select r.id, 0, r.org_id, b.action_id, 'log', 'note',
           (case r.status when 'failed' then 'failed' when 'pending' then 'waiting' else 'completed' end)::public.run_step_status,
           r.attempt, jsonb_build_object('message', 'lead ' || (r.trigger_payload ->> 'email'), 'level', 'info'),
           case when r.status <> 'failed' then jsonb_build_object('logged', true, 'level', 'info', 'message', 'lead ' || (r.trigger_payload ->> 'email'), 'data', null) end,
           case when r.status = 'failed' then 'HTTP 500 from https://hooks.example.com/in' end,
           coalesce(r.started_at, r.created_at), coalesce(r.completed_at, r.started_at, r.created_at)
      from public.automation_runs r join bench.autos b on b.id = r.automation_id`);
  await phase("counters", `
    update public.automations a set run_count = x.n, last_run_at = x.t
      from (select automation_id, count(*)::int as n, max(started_at) as t from public.automation_runs group by 1) x
     where a.id = x.automation_id`);
  await db.query("set session_replication_role = origin");
  log("  vacuum analyze + checkpoint…");
  await phase("vacuum analyze", "vacuum (analyze) public.automations, public.automation_actions, public.automation_runs, public.automation_run_steps, public.automation_versions, public.users, public.memberships, public.organizations");
  await phase("checkpoint", "checkpoint");
  return phases;
}
