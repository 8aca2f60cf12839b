-- =============================================================================
-- RLS, ACTORS: anon (no JWT) and service_role (the backend's key, BYPASSRLS),
-- on automations, automation_actions and automation_runs, plus what anon can
-- see of the identity tables. Cells shared with the org actors are the
-- tests.rls_*() helpers of 004_rls_matrix (three assertions each).
-- =============================================================================
begin;
select plan(3 * 5 + 3 + 3 * 7 + 2);

select tests.create_two_orgs();

-- -----------------------------------------------------------------------------
-- anon: reads nothing, writes nothing. Whether a write is refused (no
-- privilege, or RLS: 42501) or finds no row (rows=0), nothing changes.
-- -----------------------------------------------------------------------------
select tests.clear_authentication();

select tests.rls_reads('anon', null);
select tests.rls_insert_refused('anon', 'a');
select ok(tests.attempt(tests.sql_touch(t, 'a')) in ('rows=0', 'error=42501'),
          format('anon updates no row of %s', t))
  from tests.automation_tables() t;
select ok(not tests.was_touched(t, 'a'), format('A''s row of %s is unchanged after anon''s update', t))
  from tests.automation_tables() t;
select ok(tests.attempt(tests.sql_delete(t, 'a')) in ('rows=0', 'error=42501')
          and tests.row_exists(t, tests.fixture_id(t, 'a')),
          format('anon deletes no row of %s', t))
  from tests.automation_tables() t;

select is_empty('select id from public.organizations', 'anon reads no organization');
select is_empty('select id from public.users', 'anon reads no user');
select is_empty('select id from public.memberships', 'anon reads no membership');

-- -----------------------------------------------------------------------------
-- service_role: sees and changes every org's rows; RLS does not apply. The
-- triggers and foreign keys still do.
-- -----------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select set_eq(format('select id from %s', tests.qualified(t)),
              array[tests.fixture_id(t, 'a'), tests.fixture_id(t, 'b')],
              format('service_role reads the rows of both orgs in %s', t))
  from tests.automation_tables() t;
select results_eq(tests.sql_insert(t, 'b'), array[tests.get_org_id('org-b')],
                  format('service_role inserts into %s for any org', t))
  from tests.automation_tables() t;
select tests.rls_updates('service_role', 'b');
select throws_ok(tests.sql_move(t, 'a', 'b'), '42501', null,
                 format('service_role cannot move a row of %s to another org either', t))
  from tests.automation_tables() t;

select tests.rls_deletes('service_role', 'b');

select throws_ok(
  $$ insert into public.automation_actions (org_id, automation_id, action_type)
     values (tests.get_org_id('org-a'), tests.fixture_id('public.automations', 'a'), 'log'),
            (tests.get_org_id('org-a'), (select id from public.automations where org_id = tests.get_org_id('org-b')
                                          limit 1), 'log') $$,
  '23503', null, 'even service_role cannot attach an action of org A to an automation of org B');
select throws_ok(
  $$ update public.automation_runs set automation_id = (select id from public.automations
                                                         where org_id = tests.get_org_id('org-b') limit 1)
      where id = tests.fixture_id('public.automation_runs', 'a') $$,
  '23503', null, 'even service_role cannot re-point a run of org A to an automation of org B');

select * from finish();
rollback;
