-- =============================================================================
-- RLS, ACTOR: an admin of org A, on automations, automation_actions and
-- automation_runs. Admins have every right of a member and may also delete,
-- in their own org only. One assertion per table per cell.
-- =============================================================================
begin;
select plan(3 * 10);

select tests.create_two_orgs();
-- A's fixture rows, remembered before they are deleted.
create temp table a_rows on commit drop as
  select t, tests.fixture_id(t, 'a') as id, i from tests.automation_tables() with ordinality x(t, i);
grant select on a_rows to authenticated;
select tests.authenticate_as('a_admin');

select results_eq(format('select id from %s', tests.qualified(t)),
                  array[tests.fixture_id(t, 'a')],
                  format('admin of A reads exactly A''s rows of %s', t))
  from tests.automation_tables() t;

select results_eq(tests.sql_insert(t, 'a'), array[tests.get_org_id('org-a')],
                  format('admin of A inserts into %s for A', t))
  from tests.automation_tables() t;
select throws_ok(tests.sql_insert(t, 'b'), '42501', null,
                 format('admin of A gets 42501 inserting into %s for B', t))
  from tests.automation_tables() t;

select results_eq(tests.sql_touch(t, 'a'), array[tests.fixture_id(t, 'a')],
                  format('admin of A updates A''s row of %s', t))
  from tests.automation_tables() t;
select is_empty(tests.sql_touch(t, 'b'), format('admin of A updates no row of B in %s', t))
  from tests.automation_tables() t;
select throws_ok(tests.sql_move(t, 'a', 'b'), '42501', null,
                 format('admin of A cannot move a row of %s to B', t))
  from tests.automation_tables() t;

-- Deletes in B: nothing, silently.
select is_empty(tests.sql_delete(t, 'b'), format('admin of A deletes nothing of B in %s', t))
  from tests.automation_tables() t;
select ok(tests.row_exists(t, tests.fixture_id(t, 'b')), format('B''s row of %s still exists', t))
  from tests.automation_tables() t;

-- Deletes in A: children first (deleting the automation would cascade).

select results_eq(tests.sql_delete(t, 'a'), array[id], format('admin of A deletes A''s row of %s', t))
  from a_rows order by i desc;
select ok(not tests.row_exists(t, id), format('A''s row of %s is gone', t))
  from a_rows order by i;

select * from finish();
rollback;
