-- =============================================================================
-- RLS, ACTOR: a plain member of org A (role member), on automations,
-- automation_actions and automation_runs. Each select below runs one
-- assertion per table (tests.automation_tables()), so every cell of the
-- matrix "member of A x operation x table" is its own test.
-- =============================================================================
begin;
select plan(3 * 13 + 4 + 1 + 3);

select tests.create_two_orgs();
select tests.authenticate_as('a_member');

-- Reads: exactly A's rows, none of B's.
select results_eq(format('select id from %s', tests.qualified(t)),
                  array[tests.fixture_id(t, 'a')],
                  format('member of A reads exactly A''s rows of %s', t))
  from tests.automation_tables() t;
select is_empty(format('select id from %s where org_id = tests.get_org_id(''org-b'') or id = %L',
                       tests.qualified(t), tests.fixture_id(t, 'b')),
                format('member of A sees none of B''s rows of %s', t))
  from tests.automation_tables() t;

-- Inserts: into A yes; into B an RLS error.
select results_eq(tests.sql_insert(t, 'a'), array[tests.get_org_id('org-a')],
                  format('member of A inserts into %s for A', t))
  from tests.automation_tables() t;
select throws_ok(tests.sql_insert(t, 'b'), '42501', null,
                 format('member of A gets 42501 inserting into %s for B', t))
  from tests.automation_tables() t;

-- Updates: A's rows yes; B's rows are invisible, so nothing is updated.
select results_eq(tests.sql_touch(t, 'a'), array[tests.fixture_id(t, 'a')],
                  format('member of A updates A''s row of %s', t))
  from tests.automation_tables() t;
select ok(tests.was_touched(t, 'a'), format('the update of A''s row of %s is stored', t))
  from tests.automation_tables() t;
select is_empty(tests.sql_touch(t, 'b'), format('member of A updates no row of B in %s', t))
  from tests.automation_tables() t;
select ok(not tests.was_touched(t, 'b'), format('B''s row of %s is unchanged', t))
  from tests.automation_tables() t;

-- Moving a row to B (org_id is immutable; RLS WITH CHECK would refuse too).
select throws_ok(tests.sql_move(t, 'a', 'b'), '42501', null,
                 format('member of A cannot move a row of %s to B', t))
  from tests.automation_tables() t;

-- Deletes: members delete nothing, in A or in B; RLS filters silently.
-- Children first, so the automation is still there for its own check.
select is_empty(tests.sql_delete(t, 'a'), format('member of A deletes nothing of A in %s', t))
  from tests.automation_tables() t;
select ok(tests.row_exists(t, tests.fixture_id(t, 'a')), format('A''s row of %s still exists', t))
  from tests.automation_tables() t;
select is_empty(tests.sql_delete(t, 'b'), format('member of A deletes nothing of B in %s', t))
  from tests.automation_tables() t;
select ok(tests.row_exists(t, tests.fixture_id(t, 'b')), format('B''s row of %s still exists', t))
  from tests.automation_tables() t;

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
select results_eq(format('select id from %s', tests.qualified(t)),
                  array[tests.fixture_id(t, 'b')],
                  format('member of B reads exactly B''s rows of %s', t))
  from tests.automation_tables() t;

select * from finish();
rollback;
