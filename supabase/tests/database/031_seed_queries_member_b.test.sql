-- =============================================================================
-- THE SEED'S SIX EXAMPLE QUERIES, the mirror image: run unchanged
-- (tests.seed_query(n), 003_seed_queries) by a member of org seed-b, they
-- return exactly B's rows although A has more of everything. Fixture:
-- tests.create_seed_query_fixture() (ids ...b0NN, b1NN, b2NN).
-- =============================================================================
begin;
select plan(7);

select tests.create_seed_query_fixture();
select tests.authenticate_as('seed_b_member');

-- 1. List all active automations for the current org
select results_eq(
tests.seed_query(1),
$$VALUES ('00000000-0000-4000-8000-00000000b001'::uuid, 'Billing sync', 'event'::automation_trigger_type,
          '{"table": "invoices", "operations": ["INSERT"]}'::jsonb, now() - interval '1 hour', 2)$$,
'seed query 1 as a member of B returns B''s one active automation');

-- 2. Get the ordered action steps for a specific automation
select results_eq(
tests.seed_query(2, '00000000-0000-4000-8000-00000000b001'),
$$VALUES
  ('00000000-0000-4000-8000-00000000b101'::uuid, 'webhook', '{"url": "https://b.example.test"}'::jsonb, 0),
  ('00000000-0000-4000-8000-00000000b102'::uuid, 'send_email', '{"to": "b@example.test", "subject": "Invoice", "text": "Paid"}'::jsonb, 1)$$,
'seed query 2 as a member of B returns B''s automation''s actions in order');

select is_empty(
tests.seed_query(2, '00000000-0000-4000-8000-00000000a001'),
'seed query 2 with A''s automation id returns nothing to a member of B');

-- 3. Recent runs across all automations (last 50)
select results_eq(
tests.seed_query(3),
$$VALUES
  ('00000000-0000-4000-8000-00000000b201'::uuid, 'Billing sync', 'failed'::run_status,
   now() - interval '1 minute', now() - interval '30 seconds', 'B only error'),
  ('00000000-0000-4000-8000-00000000b202'::uuid, 'Billing sync', 'completed',
   now() - interval '1 hour', now() - interval '59 minutes', null),
  ('00000000-0000-4000-8000-00000000b203'::uuid, 'Archived flow', 'failed',
   now() - interval '20 days', now() - interval '20 days', 'B old error')$$,
'seed query 3 as a member of B returns exactly B''s three runs, latest first');

-- 4. Failed runs in the last 7 days
select results_eq(
tests.seed_query(4),
$$VALUES ('00000000-0000-4000-8000-00000000b201'::uuid, 'Billing sync', 'B only error',
          now() - interval '1 minute', '{"org": "b"}'::jsonb)$$,
'seed query 4 as a member of B returns B''s one recent failure');

-- 5. Automations with their action count
select results_eq(
tests.seed_query(5),
$$VALUES
  ('00000000-0000-4000-8000-00000000b002'::uuid, 'Archived flow', 'archived'::automation_status,
   'manual'::automation_trigger_type, 1::bigint),
  ('00000000-0000-4000-8000-00000000b001'::uuid, 'Billing sync', 'active', 'event', 2)$$,
'seed query 5 as a member of B returns B''s two automations with their action counts');

-- 6. Run success rate per automation
select results_eq(
tests.seed_query(6),
$$VALUES ('Archived flow', 1, 0::bigint, 1::bigint), ('Billing sync', 2, 1, 1)$$,
'seed query 6 as a member of B returns B''s automations with their run outcomes');

select * from finish();
rollback;
