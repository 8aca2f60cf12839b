-- =============================================================================
-- THE ACCESS MATRIX OVER ACTORS (schema `tests`), NOT rolled back, like
-- 000-003. Each cell helper runs one kind of statement against each of the
-- three automation tables (tests.automation_tables(), on create_two_orgs()'s
-- fixture) as the role the session acts as, and returns one pgTAP line per
-- table, so `select tests.rls_...(who, ...)` in a test file is three tests.
-- `who` only names the actor in the descriptions ("admin of A"); `org` is
-- the fixture key 'a' or 'b'. tests.rls_matrix() is the whole matrix of an
-- org user, run once per actor by 020 (member), 021 (admin), 022 (owner) and
-- 024 (guest); 023/024 use the cells for anon, service_role and users without
-- an active membership.
-- Not SECURITY DEFINER: the statements must run as the actor.
-- =============================================================================

begin;

-- Reads: exactly org's rows, or nothing at all when org is null.
create or replace function tests.rls_reads(who text, org text)
returns setof text language plpgsql as $$
declare t regclass;
begin
  for t in select * from tests.automation_tables() loop
    if org is null then
      return next is_empty(format('select id from %s', tests.qualified(t)), format('%s reads nothing of %s', who, t));
    else
      return next results_eq(format('select id from %s', tests.qualified(t)), array[tests.fixture_id(t, org)],
                             format('%s reads exactly %s''s rows of %s', who, upper(org), t));
    end if;
  end loop;
end $$;

-- None of org's rows, by org_id or by id, even when asked for by name.
create or replace function tests.rls_sees_none_of(who text, org text)
returns setof text language sql as $$
  select is_empty(format('select id from %s where org_id = tests.get_org_id(%L) or id = %L',
                         tests.qualified(t), 'org-' || org, tests.fixture_id(t, org)),
                  format('%s sees none of %s''s rows of %s', who, upper(org), t))
    from tests.automation_tables() t
$$;

create or replace function tests.rls_inserts(who text, org text)
returns setof text language sql as $$
  select results_eq(tests.sql_insert(t, org), array[tests.get_org_id('org-' || org)],
                    format('%s inserts into %s for %s', who, t, upper(org)))
    from tests.automation_tables() t
$$;

create or replace function tests.rls_insert_refused(who text, org text)
returns setof text language sql as $$
  select throws_ok(tests.sql_insert(t, org), '42501', null,
                   format('%s gets 42501 inserting into %s for %s', who, t, upper(org)))
    from tests.automation_tables() t
$$;

-- Updates of org's rows: returned, then stored (checked around RLS).
create or replace function tests.rls_updates(who text, org text)
returns setof text language plpgsql as $$
begin
  return query select results_eq(tests.sql_touch(t, org), array[tests.fixture_id(t, org)],
                                 format('%s updates %s''s row of %s', who, upper(org), t))
                 from tests.automation_tables() t;
  return query select ok(tests.was_touched(t, org), format('the update of %s''s row of %s is stored', upper(org), t))
                 from tests.automation_tables() t;
end $$;

-- Updates of rows the actor cannot see: nothing updated, nothing changed.
create or replace function tests.rls_updates_none(who text, org text)
returns setof text language plpgsql as $$
begin
  return query select is_empty(tests.sql_touch(t, org), format('%s updates no row of %s in %s', who, upper(org), t))
                 from tests.automation_tables() t;
  return query select ok(not tests.was_touched(t, org), format('%s''s row of %s is unchanged', upper(org), t))
                 from tests.automation_tables() t;
end $$;

-- org_id is immutable (and RLS WITH CHECK would refuse the new org too).
create or replace function tests.rls_move_refused(who text, org text, to_org text)
returns setof text language sql as $$
  select throws_ok(tests.sql_move(t, org, to_org), '42501', null,
                   format('%s cannot move a row of %s to %s', who, t, upper(to_org)))
    from tests.automation_tables() t
$$;

-- Deletes that RLS filters silently: nothing deleted, the row still there.
create or replace function tests.rls_deletes_none(who text, org text)
returns setof text language plpgsql as $$
begin
  return query select is_empty(tests.sql_delete(t, org), format('%s deletes nothing of %s in %s', who, upper(org), t))
                 from tests.automation_tables() t;
  return query select ok(tests.row_exists(t, tests.fixture_id(t, org)),
                         format('%s''s row of %s still exists', upper(org), t))
                 from tests.automation_tables() t;
end $$;

-- Deletes of org's rows, children first (deleting the automation would
-- cascade to them), then each row is gone. The ids are taken first: once a
-- row is deleted, tests.fixture_id() cannot name it.
create or replace function tests.rls_deletes(who text, org text)
returns setof text language plpgsql as $$
declare
  ids uuid[] := array(select tests.fixture_id(t, org) from tests.automation_tables() t);
  tables regclass[] := array(select tests.automation_tables());
  i int;
begin
  for i in reverse cardinality(tables)..1 loop
    return next results_eq(tests.sql_delete(tables[i], org), array[ids[i]],
                           format('%s deletes %s''s row of %s', who, upper(org), tables[i]));
  end loop;
  for i in 1..cardinality(tables) loop
    return next ok(not tests.row_exists(tables[i], ids[i]), format('%s''s row of %s is gone', upper(org), tables[i]));
  end loop;
end $$;

-- The matrix of an active user of org A, 13 cells x 3 tables: reads and
-- writes A's rows, none of B's; deletes A's rows only if may_delete (owner,
-- admin), else nothing (member, guest).
create or replace function tests.rls_matrix(who text, may_delete boolean)
returns setof text language plpgsql as $$
begin
  return query select * from tests.rls_reads(who, 'a');
  return query select * from tests.rls_sees_none_of(who, 'b');
  return query select * from tests.rls_inserts(who, 'a');
  return query select * from tests.rls_insert_refused(who, 'b');
  return query select * from tests.rls_updates(who, 'a');
  return query select * from tests.rls_updates_none(who, 'b');
  return query select * from tests.rls_move_refused(who, 'a', 'b');
  if may_delete then
    return query select * from tests.rls_deletes_none(who, 'b');
    return query select * from tests.rls_deletes(who, 'a');
  else
    return query select * from tests.rls_deletes_none(who, 'a');
    return query select * from tests.rls_deletes_none(who, 'b');
  end if;
end $$;
comment on function tests.rls_matrix(text, boolean) is
  'pgTAP lines (39) of the access matrix of the acting user of org A; may_delete: owner/admin delete A''s rows.';

grant execute on all functions in schema tests to anon, authenticated, service_role;

commit;

-- A self-test, rolled back, so pg_prove counts this file: the helpers exist
-- with the signatures 020-024 call them by.
begin;
select plan(10);
select has_function('tests', f, array['text', 'text'], format('tests.%s(who, org) exists', f))
  from unnest(array['rls_reads', 'rls_sees_none_of', 'rls_inserts', 'rls_insert_refused', 'rls_updates',
                    'rls_updates_none', 'rls_deletes_none', 'rls_deletes']) f;
select has_function('tests', 'rls_move_refused', array['text', 'text', 'text'], 'tests.rls_move_refused(who, org, to_org) exists');
select has_function('tests', 'rls_matrix', array['text', 'boolean'], 'tests.rls_matrix(who, may_delete) exists');
select * from finish();
rollback;
