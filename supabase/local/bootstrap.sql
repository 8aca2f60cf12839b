-- =============================================================================
-- Local Supabase compatibility layer for plain PostgreSQL 15 (and PGlite).
--
-- Hosted Supabase already has everything in this file. It is NOT a migration:
-- `supabase db push` never sees it. The local runtime and the test harness run
-- it once before the migrations so that the very same migrations apply to a
-- bare PostgreSQL. Every statement is idempotent.
--
-- What it provides, matching Supabase:
--   * roles anon, authenticated, service_role (BYPASSRLS) and authenticator,
--     the login role PostgREST switches from;
--   * schema extensions (where Supabase installs extensions);
--   * schema auth with auth.users and auth.uid() / auth.jwt() / auth.role(),
--     reading the `request.jwt.claims` setting exactly as PostgREST sets it;
--   * the default privileges Supabase grants on schema public, so that RLS, not
--     missing grants, is what keeps tenants apart (as on hosted Supabase).
-- =============================================================================

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
-- The database owner (postgres locally) may `set role` to any of them, as the
-- Supabase `postgres` role can.
grant anon, authenticated, service_role to current_user;

create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

-- The columns of GoTrue's auth.users that app code commonly touches.
create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  aud varchar(255) default 'authenticated',
  role varchar(255) default 'authenticated',
  email varchar(255),
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
grant select on auth.users to service_role;

-- Same bodies as Supabase's: the legacy per-claim setting first, then the
-- `request.jwt.claims` JSON that current PostgREST sets.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;

-- Supabase's defaults on schema public: the API roles get table privileges and
-- row-level security decides which rows they see.
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
