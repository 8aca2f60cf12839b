-- =============================================================================
-- RLS, ACTOR: a plain member of org A (role member), on automations,
-- automation_actions and automation_runs. The matrix is tests.rls_matrix()
-- (004_rls_matrix): one assertion per table (tests.automation_tables()) per
-- cell, so every cell of "member of A x operation x table" is its own test.
-- =============================================================================
begin;
select plan(3 * 13 + 4 + 1 + 3);

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
-- The mirror image: a member of B reads exactly B's rows.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('b_member');
select tests.rls_reads('member of B', 'b');

select * from finish();
rollback;
