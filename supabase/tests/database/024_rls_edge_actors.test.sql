-- =============================================================================
-- RLS, EDGE ACTORS on the automation tables: a guest of A (a member in the
-- seed's sense: reads and writes, never deletes), a suspended and an invited
-- member of A (no active membership: nothing), and a signed-in user with no
-- org at all (nothing).
-- =============================================================================
begin;
select plan(3 * 13 + 3 * 2 + 1 + 3 + 2);

select tests.create_two_orgs();
select tests.create_org_member('a_guest', tests.get_org_id('org-a'), 'guest');
select tests.create_org_member('a_suspended', tests.get_org_id('org-a'), 'member', 'suspended');
select tests.create_org_member('a_invited', tests.get_org_id('org-a'), 'member', 'invited');
select tests.create_supabase_user('orphan');

-- -----------------------------------------------------------------------------
-- Guest of A: the whole matrix of a member (tests.rls_matrix, 004_rls_matrix).
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_guest');
select tests.rls_matrix('guest of A', may_delete => false);

-- -----------------------------------------------------------------------------
-- Suspended member of A: the membership is not active, so no org at all.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_suspended');
select tests.rls_reads('suspended member of A', null);
select tests.rls_insert_refused('suspended member of A', 'a');

select tests.authenticate_as('a_invited');
select is_empty('select id from public.automations', 'invited (not yet active) member of A reads no automation');

-- -----------------------------------------------------------------------------
-- A signed-in user with no public.users row and no membership.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('orphan');
select tests.rls_reads('a user without an org', null);
select throws_ok(tests.sql_insert('public.automations', 'a'), '42501', null,
                 'a user without an org gets 42501 inserting an automation');
select is(public.get_user_org_id(), null, 'get_user_org_id() is null for a user without an org');

select * from finish();
rollback;
