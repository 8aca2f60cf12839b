-- =============================================================================
-- RLS, ACTOR: an admin of org A, on automations, automation_actions and
-- automation_runs. Admins have every right of a member and may also delete,
-- in their own org only. The matrix is tests.rls_matrix() (004_rls_matrix),
-- the same for the owner (022): one assertion per table per cell.
-- =============================================================================
begin;
select plan(3 * 13);

select tests.create_two_orgs();
select tests.authenticate_as('a_admin');
select tests.rls_matrix('admin of A', may_delete => true);

select * from finish();
rollback;
