-- =============================================================================
-- TEST FIXTURES (schema `tests`), NOT rolled back, like 000_helpers: the
-- two-tenant fixture of the access matrix, lookups that ignore RLS, and the
-- SQL builders that run one statement against each automation table. Each
-- suite calls create_two_orgs() inside its own transaction, so every file
-- starts from the same two tenants and rolls its changes back.
-- =============================================================================

begin;

-- -----------------------------------------------------------------------------
-- tests.create_two_orgs(): the access-matrix fixture.
--   organizations org-a, org-b
--   users a_owner, a_admin, a_member (org-a); b_owner, b_admin, b_member (org-b)
--   per org one automation, one action and one run, tagged metadata.fixture
--   'a' / 'b' so tests.fixture_id('public.automations', 'b') names them.
-- -----------------------------------------------------------------------------
create or replace function tests.create_two_orgs()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  org uuid;
  t text;
  auto uuid;
begin
  foreach t in array array['a', 'b'] loop
    org := tests.create_org('org-' || t, 'Organization ' || upper(t));
    perform tests.create_org_member(t || '_owner', org, 'owner');
    perform tests.create_org_member(t || '_admin', org, 'admin');
    perform tests.create_org_member(t || '_member', org, 'member');
    insert into public.automations (org_id, creator_id, name, trigger_type, metadata)
    values (org, tests.get_user_id(t || '_member'), 'Automation ' || upper(t), 'manual',
            jsonb_build_object('fixture', t))
    returning id into auto;
    insert into public.automation_actions (org_id, automation_id, action_type, action_config, metadata)
    values (org, auto, 'send_email', '{"to": "ops@example.test", "subject": "Fixture", "text": "Hello"}', jsonb_build_object('fixture', t));
    insert into public.automation_runs (org_id, automation_id, metadata)
    values (org, auto, jsonb_build_object('fixture', t));
  end loop;
end;
$$;
comment on function tests.create_two_orgs() is
  'Two orgs with owner/admin/member each and one automation, action and run per org (metadata.fixture a|b).';

-- -----------------------------------------------------------------------------
-- Row lookups that ignore RLS, so a test acting as one tenant can name (and
-- check on) another tenant's rows.
-- -----------------------------------------------------------------------------
create or replace function tests.fixture_id(tbl regclass, key text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found uuid;
begin
  execute format('select id from %s where metadata ->> ''fixture'' = $1', tbl) into found using key;
  if found is null then
    raise exception 'no % row with metadata.fixture = %', tbl, key;
  end if;
  return found;
end;
$$;
comment on function tests.fixture_id(regclass, text) is 'Id of the row of tbl whose metadata.fixture is key (bypasses RLS).';

create or replace function tests.row_exists(tbl regclass, row_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found boolean;
begin
  execute format('select exists (select 1 from %s where id = $1)', tbl) into found using row_id;
  return found;
end;
$$;
comment on function tests.row_exists(regclass, uuid) is 'Whether a row with this id exists in tbl (bypasses RLS).';

-- Runs a statement as the current role and reports what happened, for cells
-- where "refused" and "silently filtered" are both a correct outcome.
create or replace function tests.attempt(sql text)
returns text
language plpgsql
as $$
declare
  n bigint;
begin
  execute sql;
  get diagnostics n = row_count;
  return 'rows=' || n;
exception when others then
  return 'error=' || sqlstate;
end;
$$;
comment on function tests.attempt(text) is
  'Executes sql as the caller: ''rows=N'' (rows affected) or ''error=SQLSTATE''. Changes are kept unless it failed.';

-- -----------------------------------------------------------------------------
-- The access matrix runs the same statement against each of the three
-- automation tables; these build it. `org` / `key` is 'a' or 'b' (fixture).
-- The SQL they return names rows through tests.* lookups, which ignore RLS,
-- so a statement can aim at a row its caller cannot see.
-- -----------------------------------------------------------------------------
create or replace function tests.automation_tables()
returns setof regclass
language sql
stable
as $$
  values ('public.automations'::regclass), ('public.automation_actions'::regclass), ('public.automation_runs'::regclass)
$$;
comment on function tests.automation_tables() is 'The seed''s three tables, in the matrix''s order.';

create or replace function tests.qualified(tbl regclass)
returns text
language sql
stable
as $$
  select format('%I.%I', c.relnamespace::regnamespace, c.relname) from pg_catalog.pg_class c where c.oid = tbl
$$;
comment on function tests.qualified(regclass) is 'schema.table, whatever the search_path.';

create or replace function tests.sql_insert(tbl regclass, org text)
returns text
language sql
stable
as $$
  select case tbl
    when 'public.automations'::regclass then format(
      $q$insert into public.automations (org_id, name, trigger_type, metadata)
         values (tests.get_org_id(%L), 'Inserted', 'manual', '{"fixture": "new"}') returning org_id$q$, 'org-' || org)
    else format(
      $q$insert into %s (org_id, automation_id, %s metadata)
         values (tests.get_org_id(%L), tests.fixture_id('public.automations', %L), %s '{"fixture": "new"}')
         returning org_id$q$,
      tests.qualified(tbl), case when tbl = 'public.automation_actions'::regclass then 'action_type,' else '' end,
      'org-' || org, org, case when tbl = 'public.automation_actions'::regclass then '''log'',' else '' end)
  end
$$;
comment on function tests.sql_insert(regclass, text) is
  'INSERT of one row into tbl for org-<org> (children under that org''s fixture automation), returning org_id.';

create or replace function tests.sql_touch(tbl regclass, key text)
returns text
language sql
stable
as $$
  select format($q$update %s set metadata = metadata || '{"touched": true}'
                    where id = tests.fixture_id(%L, %L) returning id$q$, tests.qualified(tbl), tests.qualified(tbl), key)
$$;
comment on function tests.sql_touch(regclass, text) is 'UPDATE of the fixture row `key` of tbl, returning its id.';

create or replace function tests.sql_delete(tbl regclass, key text)
returns text
language sql
stable
as $$
  select format('delete from %s where id = tests.fixture_id(%L, %L) returning id', tests.qualified(tbl), tests.qualified(tbl), key)
$$;
comment on function tests.sql_delete(regclass, text) is 'DELETE of the fixture row `key` of tbl, returning its id.';

create or replace function tests.sql_move(tbl regclass, key text, to_org text)
returns text
language sql
stable
as $$
  select format('update %s set org_id = tests.get_org_id(%L) where id = tests.fixture_id(%L, %L) returning id',
                tests.qualified(tbl), 'org-' || to_org, tests.qualified(tbl), key)
$$;
comment on function tests.sql_move(regclass, text, text) is 'UPDATE moving the fixture row `key` of tbl to org-<to_org>.';

create or replace function tests.was_touched(tbl regclass, key text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  touched boolean;
begin
  execute format('select coalesce((metadata ->> ''touched'')::boolean, false) from %s where id = $1', tbl)
    into touched using tests.fixture_id(tbl, key);
  return touched;
end;
$$;
comment on function tests.was_touched(regclass, text) is 'Whether tests.sql_touch() changed the row (bypasses RLS).';

grant execute on all functions in schema tests to anon, authenticated, service_role;

commit;

begin;
select plan(4);
select tests.create_two_orgs();
select is((select count(*)::int from public.memberships m join public.organizations o on o.id = m.org_id
            where o.slug in ('org-a', 'org-b')), 6, 'create_two_orgs makes 6 memberships in 2 orgs');
select is((select count(*)::int from public.automations a join public.organizations o on o.id = a.org_id
            where o.slug in ('org-a', 'org-b')), 2, 'create_two_orgs makes one automation per org');
select is(tests.attempt(tests.sql_touch('public.automations', 'a')), 'rows=1', 'attempt() reports rows affected');
select is(tests.attempt('select 1/0'), 'error=22012', 'attempt() reports the SQLSTATE of a failure');
select * from finish();
rollback;
