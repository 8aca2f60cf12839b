-- =============================================================================
-- SCHEMA: the identity module's shape (Skene identity: organizations, users,
-- memberships), and the database-wide security rules: RLS on every table in
-- public, a fixed search_path on every SECURITY DEFINER function, helpers
-- called once per statement from policies.
-- =============================================================================
begin;
select plan(52);

-- -----------------------------------------------------------------------------
-- organizations
-- -----------------------------------------------------------------------------
select has_table('public', 'organizations', 'table organizations exists');
select has_column('public', 'organizations', c, 'organizations.' || c || ' exists')
  from unnest(array['id', 'name', 'slug', 'logo_url', 'domain', 'created_at', 'updated_at', 'metadata']) c;
select col_not_null('public', 'organizations', 'slug', 'organizations.slug is not null');
select col_is_unique('public', 'organizations', array['slug'], 'organizations.slug is unique');

-- -----------------------------------------------------------------------------
-- users
-- -----------------------------------------------------------------------------
select has_table('public', 'users', 'table users exists');
select has_column('public', 'users', c, 'users.' || c || ' exists')
  from unnest(array['id', 'org_id', 'auth_id', 'email', 'full_name', 'timezone', 'is_active']) c;
select col_not_null('public', 'users', 'email', 'users.email is not null');
select col_is_unique('public', 'users', array['auth_id'], 'users.auth_id is unique');
select is(tests.fk_on_delete('public.users', '{auth_id}', 'auth.users'), 'cascade',
          'users.auth_id -> auth.users on delete cascade');
select is(tests.fk_on_delete('public.users', '{org_id}', 'public.organizations'), 'cascade',
          'users.org_id -> organizations on delete cascade');

-- -----------------------------------------------------------------------------
-- memberships
-- -----------------------------------------------------------------------------
select has_table('public', 'memberships', 'table memberships exists');
select has_column('public', 'memberships', c, 'memberships.' || c || ' exists')
  from unnest(array['id', 'org_id', 'user_id', 'team_id', 'role', 'status']) c;
select col_is_unique('public', 'memberships', array['org_id', 'user_id'], 'memberships (org_id, user_id) is unique');
select col_type_is('public', 'memberships', 'role', 'membership_role', 'memberships.role is membership_role');
select col_default_is('public', 'memberships', 'role', 'member'::text, 'memberships.role defaults to member');
select col_type_is('public', 'memberships', 'status', 'membership_status', 'memberships.status is membership_status');
select enum_has_labels('public', 'membership_role', array['owner', 'admin', 'member', 'guest'],
                       'membership_role is owner, admin, member, guest');
select enum_has_labels('public', 'membership_status', array['active', 'invited', 'suspended'],
                       'membership_status is active, invited, suspended');
select is(tests.fk_on_delete('public.memberships', '{org_id}', 'public.organizations'), 'cascade',
          'memberships.org_id -> organizations on delete cascade');
select is(tests.fk_on_delete('public.memberships', '{user_id}', 'public.users'), 'cascade',
          'memberships.user_id -> users on delete cascade');

-- -----------------------------------------------------------------------------
-- Row-level security on every table in public (today's and any added later).
-- -----------------------------------------------------------------------------
select is_empty(
  $$ select c.oid::regclass::text
       from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity $$,
  'every table in schema public has row level security enabled');
select ok((select c.relrowsecurity from pg_catalog.pg_class c where c.oid = t::regclass),
          t || ' has row level security enabled')
  from unnest(array['public.organizations', 'public.users', 'public.memberships',
                    'public.automations', 'public.automation_actions', 'public.automation_runs']) t;

-- -----------------------------------------------------------------------------
-- SECURITY DEFINER functions: a fixed search_path, every one of them.
-- -----------------------------------------------------------------------------
select is_empty(
  $$ select p.oid::regprocedure::text
       from pg_catalog.pg_proc p
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'automations_engine', 'tests') and p.prosecdef
        and not exists (select 1 from unnest(p.proconfig) s where s like 'search_path=%') $$,
  'every SECURITY DEFINER function in public (and automations_engine, tests) sets search_path');
select ok((select p.prosecdef from pg_catalog.pg_proc p where p.oid = f::regprocedure),
          f || ' is SECURITY DEFINER (reads memberships without recursing through RLS)')
  from unnest(array['public.get_user_org_id()', 'public.get_user_role()', 'public.is_admin()']) f;
select ok(not has_function_privilege('anon', 'public.get_user_org_id()', 'execute'),
          'anon cannot execute get_user_org_id()');

-- -----------------------------------------------------------------------------
-- Policies call the helpers as `(select public.f())`, an InitPlan evaluated
-- once per statement, never as a bare per-row call.
-- -----------------------------------------------------------------------------
select is_empty(
  $$ select tablename || ': ' || policyname
       from pg_catalog.pg_policies
      where schemaname = 'public'
        and regexp_replace(coalesce(qual, '') || ' ' || coalesce(with_check, ''),
                           'SELECT (\w+\.)?(get_user_org_id|get_user_role|is_admin|uid)\(\)', '', 'g')
            ~ '(get_user_org_id|get_user_role|is_admin|auth\.uid)\(\)' $$,
  'no policy in public calls get_user_org_id/get_user_role/is_admin/auth.uid per row');
select isnt_empty(
  $$ select 1 from pg_catalog.pg_policies
      where schemaname = 'public' and tablename = 'automations'
        and qual ~ 'SELECT (\w+\.)?get_user_org_id\(\)' $$,
  'automations policies do call get_user_org_id() through a sub-select');

select * from finish();
rollback;
