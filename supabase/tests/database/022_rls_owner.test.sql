-- =============================================================================
-- RLS, ACTOR: the owner of org A, on automations, automation_actions and
-- automation_runs. Owners have every right of an admin: they delete, in
-- their own org only. The matrix is tests.rls_matrix() (004_rls_matrix), the
-- same for the admin (021): one assertion per table per cell.
-- =============================================================================
begin;
select plan(3 * 13);

select tests.create_two_orgs();
select tests.authenticate_as('a_owner');
select tests.rls_matrix('owner of A', may_delete => true);

select * from finish();
rollback;
