-- =============================================================================
-- THE SEED'S SIX EXAMPLE QUERIES, run unchanged (tests.seed_query(n): the
-- seed's text, kept once in 003_seed_queries; only '<automation_id>' filled
-- in) by a member of org seed-a, with org seed-b holding rows that would show
-- up if RLS leaked (B has the newest automation, the newest run and a recent
-- failure). Expected rows are written out from tests.create_seed_query_fixture()
-- (fixed ids: ...a0NNN automations, ...a1NNN actions, ...a2NNN runs); now() is
-- the same all transaction long.
-- =============================================================================
begin;
select plan(7);

select tests.create_seed_query_fixture();
select tests.authenticate_as('seed_a_member');

-- 1. List all active automations for the current org
select results_eq(
tests.seed_query(1),
$$VALUES
  ('00000000-0000-4000-8000-00000000a002'::uuid, 'Lead webhook', 'webhook'::automation_trigger_type,
   '{}'::jsonb, now() - interval '5 minutes', 3),
  ('00000000-0000-4000-8000-00000000a001'::uuid, 'Daily digest', 'schedule'::automation_trigger_type,
   '{"cron": "0 8 * * *", "timezone": "UTC"}'::jsonb, now() - interval '1 day', 5)$$,
'seed query 1 (active automations) returns exactly A''s active automations, newest first');

-- 2. Get the ordered action steps for a specific automation
select results_eq(
tests.seed_query(2, '00000000-0000-4000-8000-00000000a001'),
$$VALUES
  ('00000000-0000-4000-8000-00000000a101'::uuid, 'send_email', '{"to": "team@example.test", "subject": "Digest", "text": "Daily digest"}'::jsonb, 0),
  ('00000000-0000-4000-8000-00000000a102'::uuid, 'webhook', '{"url": "https://example.test/hook"}'::jsonb, 1),
  ('00000000-0000-4000-8000-00000000a103'::uuid, 'create_task', '{"title": "Review"}'::jsonb, 2)$$,
'seed query 2 (ordered actions) returns A''s automation''s actions in position order');

select is_empty(
tests.seed_query(2, '00000000-0000-4000-8000-00000000b001'),
'seed query 2 with B''s automation id returns nothing to a member of A');

-- 3. Recent runs across all automations (last 50)
select results_eq(
tests.seed_query(3),
$$VALUES
  ('00000000-0000-4000-8000-00000000a207'::uuid, 'Lead webhook', 'pending'::run_status,
   null::timestamptz, null::timestamptz, null::text),
  ('00000000-0000-4000-8000-00000000a206'::uuid, 'Lead webhook', 'running', now() - interval '5 minutes', null, null),
  ('00000000-0000-4000-8000-00000000a201'::uuid, 'Daily digest', 'completed', now() - interval '1 day',
   now() - interval '1 day' + interval '2 seconds', null),
  ('00000000-0000-4000-8000-00000000a202'::uuid, 'Daily digest', 'completed', now() - interval '2 days',
   now() - interval '2 days' + interval '2 seconds', null),
  ('00000000-0000-4000-8000-00000000a203'::uuid, 'Daily digest', 'failed', now() - interval '3 days',
   now() - interval '3 days' + interval '30 seconds', 'SMTP timeout'),
  ('00000000-0000-4000-8000-00000000a205'::uuid, 'Lead webhook', 'failed', now() - interval '6 days 23 hours',
   now() - interval '6 days 23 hours' + interval '1 second', 'HTTP 500 from hook'),
  ('00000000-0000-4000-8000-00000000a204'::uuid, 'Daily digest', 'failed', now() - interval '10 days',
   now() - interval '10 days' + interval '1 second', 'old failure')$$,
'seed query 3 (last 50 runs) returns exactly A''s runs, latest start first (not started first)');

-- 4. Failed runs in the last 7 days
select results_eq(
tests.seed_query(4),
$$VALUES
  ('00000000-0000-4000-8000-00000000a203'::uuid, 'Daily digest', 'SMTP timeout', now() - interval '3 days',
   '{"step": 0}'::jsonb),
  ('00000000-0000-4000-8000-00000000a205'::uuid, 'Lead webhook', 'HTTP 500 from hook',
   now() - interval '6 days 23 hours', '{"status": 500}'::jsonb)$$,
'seed query 4 (failed in 7 days) returns A''s two recent failures, not the old one, not B''s');

-- 5. Automations with their action count
select results_eq(
tests.seed_query(5),
$$VALUES
  ('00000000-0000-4000-8000-00000000a001'::uuid, 'Daily digest', 'active'::automation_status,
   'schedule'::automation_trigger_type, 3::bigint),
  ('00000000-0000-4000-8000-00000000a004'::uuid, 'Draft idea', 'draft', 'event', 0),
  ('00000000-0000-4000-8000-00000000a002'::uuid, 'Lead webhook', 'active', 'webhook', 1),
  ('00000000-0000-4000-8000-00000000a003'::uuid, 'Manual cleanup', 'paused', 'manual', 1)$$,
'seed query 5 (action counts) returns A''s four automations with their counts, by name');

-- 6. Run success rate per automation
select results_eq(
tests.seed_query(6),
$$VALUES
  ('Daily digest', 5, 2::bigint, 2::bigint),
  ('Draft idea', 0, 0, 0),
  ('Lead webhook', 3, 0, 1),
  ('Manual cleanup', 0, 0, 0)$$,
'seed query 6 (success rate) returns A''s automations with completed and failed counts, by name');

select * from finish();
rollback;
