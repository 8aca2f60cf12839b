-- =============================================================================
-- RLS, EDGE ACTORS on the automation tables: a guest of A (a member in the
-- seed's sense: reads and writes, never deletes), a suspended and an invited
-- member of A (no active membership: nothing), and a signed-in user with no
-- org at all (nothing).
-- =============================================================================
begin;
select plan(3 * 5 + 1 + 2);

select tests.create_two_orgs();
select tests.create_org_member('a_guest', tests.get_org_id('org-a'), 'guest');
select tests.create_org_member('a_suspended', tests.get_org_id('org-a'), 'member', 'suspended');
select tests.create_org_member('a_invited', tests.get_org_id('org-a'), 'member', 'invited');
select tests.create_supabase_user('orphan');

-- -----------------------------------------------------------------------------
-- Guest of A.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_guest');
select results_eq(format('select id from %s', tests.qualified(t)), array[tests.fixture_id(t, 'a')],
                  format('guest of A reads exactly A''s rows of %s', t))
  from tests.automation_tables() t;
select is_empty(tests.sql_delete(t, 'a'), format('guest of A deletes nothing of A in %s', t))
  from tests.automation_tables() t;

-- -----------------------------------------------------------------------------
-- Suspended member of A: the membership is not active, so no org at all.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_suspended');
select is_empty(format('select id from %s', tests.qualified(t)),
                format('suspended member of A reads nothing of %s', t))
  from tests.automation_tables() t;
select throws_ok(tests.sql_insert(t, 'a'), '42501', null,
                 format('suspended member of A gets 42501 inserting into %s', t))
  from tests.automation_tables() t;

select tests.authenticate_as('a_invited');
select is_empty('select id from public.automations', 'invited (not yet active) member of A reads no automation');

-- -----------------------------------------------------------------------------
-- A signed-in user with no public.users row and no membership.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('orphan');
select is_empty(format('select id from %s', tests.qualified(t)),
                format('a user without an org reads nothing of %s', t))
  from tests.automation_tables() t;
select throws_ok(tests.sql_insert('public.automations', 'a'), '42501', null,
                 'a user without an org gets 42501 inserting an automation');
select is(public.get_user_org_id(), null, 'get_user_org_id() is null for a user without an org');

select * from finish();
rollback;
