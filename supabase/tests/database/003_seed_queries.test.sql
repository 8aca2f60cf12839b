-- =============================================================================
-- THE SEED'S SIX EXAMPLE QUERIES, kept once (schema `tests`), NOT rolled back,
-- like 000-002. Each query's text is exactly the seed's
-- (seed/automations-skill.md, "Example Queries"), between $qN$ quotes; query
-- 2 keeps the seed's '<automation_id>' placeholder, filled in by the caller.
-- Read by 030/031 (tests.seed_query(n)) and, as text, by the bench
-- (bench/seed_queries.ts parses the `(n, 'label', 'caption',` + $qN$ blocks,
-- so keep that layout). tests/seed/seed_queries.test.ts checks each against
-- the seed, character for character.
-- =============================================================================

begin;

create or replace function tests.seed_queries()
returns table (n int, label text, caption text, sql text)
language sql
immutable
as $fn$
select * from (values
(1, 'q1 active automations', 'List all active automations for the current org:',
$q1$SELECT id, name, trigger_type, trigger_config, last_run_at, run_count
FROM automations
WHERE status = 'active'
ORDER BY created_at DESC;$q1$),
(2, 'q2 ordered actions', 'Get the ordered action steps for a specific automation:',
$q2$SELECT id, action_type, action_config, position
FROM automation_actions
WHERE automation_id = '<automation_id>'
ORDER BY position ASC;$q2$),
(3, 'q3 last 50 runs', 'Recent runs across all automations (last 50):',
$q3$SELECT
r.id,
a.name AS automation_name,
r.status,
r.started_at,
r.completed_at,
r.error_message
FROM automation_runs r
JOIN automations a ON a.id = r.automation_id
ORDER BY r.started_at DESC
LIMIT 50;$q3$),
(4, 'q4 failed runs, 7 days', 'Failed runs in the last 7 days:',
$q4$SELECT
r.id,
a.name AS automation_name,
r.error_message,
r.started_at,
r.result
FROM automation_runs r
JOIN automations a ON a.id = r.automation_id
WHERE r.status = 'failed'
AND r.started_at >= now() - interval '7 days'
ORDER BY r.started_at DESC;$q4$),
(5, 'q5 action counts', 'Automations with their action count:',
$q5$SELECT
a.id,
a.name,
a.status,
a.trigger_type,
count(aa.id) AS action_count
FROM automations a
LEFT JOIN automation_actions aa ON aa.automation_id = a.id
GROUP BY a.id, a.name, a.status, a.trigger_type
ORDER BY a.name;$q5$),
(6, 'q6 success rate per automation', 'Run success rate per automation:',
$q6$SELECT
a.name,
a.run_count,
count(r.id) FILTER (WHERE r.status = 'completed') AS succeeded,
count(r.id) FILTER (WHERE r.status = 'failed') AS failed
FROM automations a
LEFT JOIN automation_runs r ON r.automation_id = a.id
GROUP BY a.id, a.name, a.run_count
ORDER BY a.name;$q6$)
) as q(n, label, caption, sql)
$fn$;
comment on function tests.seed_queries() is
  'The seed''s six example queries, verbatim (query 2 with its <automation_id> placeholder), with the bench''s labels.';

-- Unchanged seed text, apart from the placeholder: a query that has one and
-- is given no id is an error rather than a query that silently finds nothing.
create or replace function tests.seed_query(n int, automation_id uuid default null)
returns text
language plpgsql
immutable
as $$
declare
  q text;
begin
  select s.sql into q from tests.seed_queries() s where s.n = seed_query.n;
  if q is null then
    raise exception 'there is no seed query %', n using hint = 'The seed has queries 1 to 6.';
  end if;
  if q like '%<automation_id>%' then
    if automation_id is null then
      raise exception 'seed query % needs an automation id for its <automation_id> placeholder', n;
    end if;
    q := replace(q, '<automation_id>', automation_id::text);
  end if;
  return q;
end;
$$;
comment on function tests.seed_query(int, uuid) is
  'Seed query n as the seed writes it, its <automation_id> placeholder (query 2) replaced by automation_id.';

grant execute on all functions in schema tests to anon, authenticated, service_role;

commit;

begin;
select plan(6);
select is((select array_agg(n order by n) from tests.seed_queries()), array[1, 2, 3, 4, 5, 6],
          'the seed''s six example queries are numbered 1 to 6');
select is((select count(distinct sql)::int from tests.seed_queries()), 6, 'the six seed queries are distinct');
select is(tests.seed_query(1), (select sql from tests.seed_queries() where n = 1),
          'seed_query(1) is query 1''s text, unchanged (it has no placeholder)');
select is(tests.seed_query(2, '00000000-0000-4000-8000-00000000a001'),
          E'SELECT id, action_type, action_config, position\nFROM automation_actions\n'
          'WHERE automation_id = ''00000000-0000-4000-8000-00000000a001''\nORDER BY position ASC;',
          'seed_query(2, id) puts the id in place of <automation_id>');
select throws_ok($$select tests.seed_query(2)$$, 'P0001',
                 'seed query 2 needs an automation id for its <automation_id> placeholder',
                 'seed_query(2) without an id is an error');
select throws_ok($$select tests.seed_query(7)$$, 'P0001', 'there is no seed query 7',
                 'seed_query(7) is an error');
select * from finish();
rollback;
