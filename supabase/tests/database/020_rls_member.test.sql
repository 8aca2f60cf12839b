-- =============================================================================
-- RLS, ACTOR: a plain member of org A (role member), on automations,
-- automation_actions and automation_runs. The matrix is tests.rls_matrix()
-- (004_rls_matrix): one assertion per table (tests.automation_tables()) per
-- cell, so every cell of "member of A x operation x table" is its own test.
-- =============================================================================
begin;
select plan(3 * 13 + 4 + 1 + 3 + 9);

select tests.create_two_orgs();
select tests.authenticate_as('a_member');

-- Reads and writes A's rows, none of B's; deletes nothing, in A or in B (RLS
-- filters silently). The same matrix as the admin's (021) but for deletes.
select tests.rls_matrix('member of A', may_delete => false);

-- -----------------------------------------------------------------------------
-- Composite FK (org_id, automation_id): a child row with A's org_id (which
-- RLS accepts) cannot hang under B's automation, by insert or by update.
-- -----------------------------------------------------------------------------
select throws_ok(
  $$ insert into public.automation_actions (org_id, automation_id, action_type)
     values (tests.get_org_id('org-a'), tests.fixture_id('public.automations', 'b'), 'log') $$,
  '23503', null, 'member of A cannot attach an action (org A) to B''s automation');
select throws_ok(
  $$ insert into public.automation_runs (org_id, automation_id)
     values (tests.get_org_id('org-a'), tests.fixture_id('public.automations', 'b')) $$,
  '23503', null, 'member of A cannot attach a run (org A) to B''s automation');
select throws_ok(
  $$ update public.automation_actions set automation_id = tests.fixture_id('public.automations', 'b')
      where id = tests.fixture_id('public.automation_actions', 'a') $$,
  '23503', null, 'member of A cannot re-point A''s action to B''s automation');
-- automation_id of a run is not client-writable at all (column privileges of
-- the engine migration), so this one fails before the FK is reached.
select throws_ok(
  $$ update public.automation_runs set automation_id = tests.fixture_id('public.automations', 'b')
      where id = tests.fixture_id('public.automation_runs', 'a') $$,
  '42501', null, 'member of A cannot re-point A''s run to B''s automation');

-- FKs ignore RLS: the composite FK (org_id, creator_id) -> users (org_id, id)
-- is what stops pointing an automation at a user of another org.
select throws_ok(
  $$ update public.automations set creator_id = tests.get_user_id('b_member')
      where id = tests.fixture_id('public.automations', 'a') $$,
  '23503', null, 'member of A cannot make a user of B the creator of A''s automation');

-- -----------------------------------------------------------------------------
-- Flow control (issue 16): a member sets max_concurrency, concurrency_key and
-- rate_limit on their org's automations only; bad values get 23514; the
-- engine's flow_key and the operator's max_running_runs are not theirs.
-- -----------------------------------------------------------------------------
select lives_ok(
  $$ update public.automations
        set max_concurrency = 2, concurrency_key = '{{trigger.payload.customer_id}}',
            rate_limit = '{"limit": 5, "period_seconds": 60}'
      where id = tests.fixture_id('public.automations', 'a') $$,
  'member of A sets the flow control columns of A''s automation');
select results_eq(
  $$ select max_concurrency, concurrency_key, rate_limit from public.automations
      where id = tests.fixture_id('public.automations', 'a') $$,
  $$ values (2, '{{trigger.payload.customer_id}}'::text, '{"limit": 5, "period_seconds": 60}'::jsonb) $$,
  'member of A reads them back');
select is_empty(
  $$ update public.automations set max_concurrency = 1
      where id = tests.fixture_id('public.automations', 'b') returning id $$,
  'member of A cannot set max_concurrency on B''s automation (RLS filters it)');
select lives_ok(
  $$ insert into public.automations (org_id, name, trigger_type, max_concurrency, rate_limit)
     values (tests.get_org_id('org-a'), 'limited', 'manual', 3, '{"limit": 1, "period_seconds": 1}') $$,
  'member of A creates an automation with limits in A');
select throws_ok(
  $$ insert into public.automations (org_id, name, trigger_type, max_concurrency)
     values (tests.get_org_id('org-b'), 'limited', 'manual', 3) $$,
  '42501', null, 'member of A cannot create an automation with limits in B');
select throws_ok(
  $$ update public.automations set max_concurrency = 0 where id = tests.fixture_id('public.automations', 'a') $$,
  '23514', 'max_concurrency must be between 1 and 10000 (or null for no limit), got 0',
  'member of A: max_concurrency 0 is refused when saved');
select throws_ok(
  $$ update public.automations set concurrency_key = '{{steps.0.output.id}}' where id = tests.fixture_id('public.automations', 'a') $$,
  '23514', 'concurrency_key must contain a placeholder such as {{trigger.payload.customer_id}}',
  'member of A: a concurrency_key that does not read the trigger is refused');
select throws_ok(
  $$ update public.automation_runs set flow_key = 'x' where id = tests.fixture_id('public.automation_runs', 'a') $$,
  '42501', null, 'member of A cannot write a run''s flow_key (engine column)');
select throws_ok(
  $$ insert into public.automation_settings (org_id, max_running_runs) values (tests.get_org_id('org-a'), 100) $$,
  '42501', null, 'member of A cannot set the operator''s max_running_runs');

-- -----------------------------------------------------------------------------
-- The mirror image: a member of B reads exactly B's rows.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('b_member');
select tests.rls_reads('member of B', 'b');

select * from finish();
rollback;
