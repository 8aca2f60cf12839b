-- =============================================================================
-- TEST HELPERS (schema `tests`)
-- In the style of basejump's supabase_test_helpers: create Supabase users,
-- act as them exactly as PostgREST does (`role` + `request.jwt.claims`), act
-- as service_role or anon. Plus organizations/users/memberships builders
-- (create_org, create_org_member) and an FK introspection helper. This file is NOT rolled back: the files after it (run in sorted
-- order by pg_prove on the same database) use these functions. Every helper
-- is `create or replace`, so running the file twice is harmless.
-- =============================================================================

begin;

create schema if not exists tests;
comment on schema tests is 'pgTAP helpers; exists only in test databases.';
grant usage on schema tests to anon, authenticated, service_role;
alter default privileges in schema tests revoke execute on functions from public;
alter default privileges in schema tests grant execute on functions to anon, authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Supabase users (auth.users) and who the session acts as.
-- -----------------------------------------------------------------------------
create or replace function tests.create_supabase_user(identifier text, email text default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  user_id uuid := gen_random_uuid();
begin
  insert into auth.users (id, email, raw_user_meta_data, raw_app_meta_data)
  values (
    user_id,
    coalesce(email, lower(identifier) || '@example.test'),
    jsonb_build_object('test_identifier', identifier),
    jsonb_build_object('provider', 'email')
  );
  return user_id;
end;
$$;
comment on function tests.create_supabase_user(text, text) is
  'Creates an auth.users row recalled later by identifier; returns its id.';

create or replace function tests.get_supabase_user(identifier text)
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found json;
begin
  select json_build_object('id', u.id, 'email', u.email,
                           'raw_user_meta_data', u.raw_user_meta_data,
                           'raw_app_meta_data', u.raw_app_meta_data)
    into found
    from auth.users u
   where u.raw_user_meta_data ->> 'test_identifier' = identifier
   limit 1;
  if found is null then
    raise exception 'test user with identifier % not found', identifier
      using hint = 'Create it first with tests.create_supabase_user().';
  end if;
  return found;
end;
$$;
comment on function tests.get_supabase_user(text) is 'The auth.users row of a test user, as json.';

create or replace function tests.get_supabase_uid(identifier text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select (tests.get_supabase_user(identifier) ->> 'id')::uuid
$$;
comment on function tests.get_supabase_uid(text) is 'The auth.users id of a test user.';

-- Not SECURITY DEFINER: PostgreSQL refuses `set role` inside one. Switching
-- role is allowed because the session user (postgres) is a member of them all.
create or replace function tests.authenticate_as(identifier text)
returns void
language plpgsql
as $$
declare
  u json := tests.get_supabase_user(identifier);
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', json_build_object(
    'sub', u ->> 'id',
    'role', 'authenticated',
    'aud', 'authenticated',
    'email', u ->> 'email',
    'app_metadata', u -> 'raw_app_meta_data',
    'user_metadata', u -> 'raw_user_meta_data',
    'exp', extract(epoch from now() + interval '1 hour')::bigint
  )::text, true);
end;
$$;
comment on function tests.authenticate_as(text) is
  'Acts as a test user for the rest of the transaction: role authenticated, JWT claims as PostgREST sets them.';

create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'service_role', true);
  perform set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);
end;
$$;
comment on function tests.authenticate_as_service_role() is 'Acts as service_role (BYPASSRLS) with its JWT claims.';

create or replace function tests.clear_authentication()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', null, true);
end;
$$;
comment on function tests.clear_authentication() is 'Acts as anon with no JWT claims.';

-- -----------------------------------------------------------------------------
-- Identity fixtures: organizations, public.users and memberships.
-- -----------------------------------------------------------------------------
create or replace function tests.create_org(slug text, name text default null, id uuid default null)
returns uuid
language sql
security definer
set search_path = ''
as $$
  insert into public.organizations (id, name, slug)
  values (coalesce(id, gen_random_uuid()), coalesce(name, 'Org ' || slug), slug)
  returning organizations.id
$$;
comment on function tests.create_org(text, text, uuid) is 'Creates an organization; returns its id.';

create or replace function tests.get_org_id(slug text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found uuid;
begin
  select o.id into found from public.organizations o where o.slug = get_org_id.slug;
  if found is null then
    raise exception 'test organization % not found', slug;
  end if;
  return found;
end;
$$;
comment on function tests.get_org_id(text) is 'The id of an organization by slug, whatever the caller may see.';

create or replace function tests.create_org_member(
  identifier text,
  org_id uuid,
  role public.membership_role default 'member',
  status public.membership_status default 'active'
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  auth_uid uuid;
  app_user_id uuid;
begin
  select u.id into auth_uid from auth.users u where u.raw_user_meta_data ->> 'test_identifier' = identifier;
  if auth_uid is null then
    auth_uid := tests.create_supabase_user(identifier);
  end if;
  insert into public.users (org_id, auth_id, email, full_name)
  select create_org_member.org_id, u.id, u.email, identifier from auth.users u where u.id = auth_uid
  returning id into app_user_id;
  insert into public.memberships (org_id, user_id, role, status)
  values (create_org_member.org_id, app_user_id, create_org_member.role, create_org_member.status);
  return app_user_id;
end;
$$;
comment on function tests.create_org_member(text, uuid, public.membership_role, public.membership_status) is
  'Creates (or reuses) the auth user `identifier`, its public.users row in org_id and a membership; returns public.users.id.';

create or replace function tests.get_user_id(identifier text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select u.id from public.users u where u.auth_id = tests.get_supabase_uid(identifier)
$$;
comment on function tests.get_user_id(text) is 'The public.users id of a test user.';

-- -----------------------------------------------------------------------------
-- Schema introspection: the ON DELETE action of the foreign key of tbl on
-- exactly cols referencing ref.
-- -----------------------------------------------------------------------------
create or replace function tests.fk_on_delete(tbl regclass, cols name[], ref regclass)
returns text
language sql
stable
set search_path = ''
as $$
  select case c.confdeltype
           when 'a' then 'no action' when 'r' then 'restrict' when 'c' then 'cascade'
           when 'n' then 'set null' when 'd' then 'set default' end
    from pg_catalog.pg_constraint c
   where c.contype = 'f'
     and c.conrelid = tbl
     and c.confrelid = ref
     and array(select a.attname from unnest(c.conkey) with ordinality k(attnum, i)
               join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
               order by k.i) = cols
$$;
comment on function tests.fk_on_delete(regclass, name[], regclass) is
  'ON DELETE action (cascade, set null, ...) of the FK tbl(cols) -> ref, or null if there is none.';

grant execute on all functions in schema tests to anon, authenticated, service_role;

commit;

-- A self-test, rolled back, so pg_prove counts this file and the helpers are
-- known to act as PostgREST would.
begin;
select plan(6);

select tests.create_supabase_user('helper_probe');
select tests.authenticate_as('helper_probe');
select is(current_user::text, 'authenticated', 'authenticate_as switches to role authenticated');
select is(auth.uid(), tests.get_supabase_uid('helper_probe'), 'authenticate_as makes auth.uid() the test user');
select tests.authenticate_as_service_role();
select is(current_user::text, 'service_role', 'authenticate_as_service_role switches to service_role');
select tests.clear_authentication();
select is(current_user::text, 'anon', 'clear_authentication switches to anon');
select is(auth.uid(), null, 'clear_authentication leaves no auth.uid()');
select ok(true, 'test helpers installed in schema tests');

select * from finish();
rollback;
