-- =============================================================================
-- IDENTITY
-- Organizations, their users and memberships, and the helpers every policy of
-- the automations module calls: get_user_org_id(), get_user_role(),
-- is_admin(), set_updated_at(). Shape follows the Skene identity module.
-- If your project already has the identity module, skip this migration.
-- =============================================================================

create extension if not exists pgcrypto with schema extensions;

-- -----------------------------------------------------------------------------
-- set_updated_at(): BEFORE UPDATE trigger keeping updated_at true.
-- -----------------------------------------------------------------------------
create or replace function public.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;
comment on function public.set_updated_at() is
  'BEFORE UPDATE trigger: stamps updated_at with the transaction time.';

-- -----------------------------------------------------------------------------
-- Organizations: the tenant boundary.
-- -----------------------------------------------------------------------------
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  slug text not null unique,
  logo_url text,
  domain text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb
);
comment on table public.organizations is 'Tenants. Every org-scoped row carries org_id pointing here.';

create trigger organizations_set_updated_at
  before update on public.organizations
  for each row execute function public.set_updated_at();

-- -----------------------------------------------------------------------------
-- Users: the app's profile of an auth.users account, in exactly one org.
-- -----------------------------------------------------------------------------
create table public.users (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  auth_id uuid unique references auth.users (id) on delete cascade,
  email text not null,
  full_name text,
  avatar_url text,
  timezone text default 'UTC',
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb
);
comment on table public.users is 'App users; auth_id links to auth.users, org_id is the org they act in.';
create index users_org_id_idx on public.users (org_id);
-- Target of composite foreign keys from org-scoped tables (automations.creator_id):
-- a row may only reference a user of its own org.
alter table public.users add constraint users_org_id_id_key unique (org_id, id);

create trigger users_set_updated_at
  before update on public.users
  for each row execute function public.set_updated_at();

-- -----------------------------------------------------------------------------
-- Memberships: a user's role in an org.
-- -----------------------------------------------------------------------------
create type public.membership_role as enum ('owner', 'admin', 'member', 'guest');
create type public.membership_status as enum ('active', 'invited', 'suspended');

create table public.memberships (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  -- Teams belong to a separate module; no foreign key so this one stands alone.
  team_id uuid,
  role public.membership_role not null default 'member',
  status public.membership_status not null default 'active',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb,
  unique (org_id, user_id)
);
comment on table public.memberships is 'Role (owner/admin/member/guest) and status of a user in an org.';
create index memberships_user_id_idx on public.memberships (user_id);

create trigger memberships_set_updated_at
  before update on public.memberships
  for each row execute function public.set_updated_at();

-- -----------------------------------------------------------------------------
-- Helpers used by every policy.
-- -----------------------------------------------------------------------------
create or replace function public.get_user_org_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  -- Used by every policy, as are get_user_role() and is_admin(). SECURITY
  -- DEFINER so that they can read users and memberships without recursing
  -- through those tables' own policies; search_path is fixed and every name
  -- is schema-qualified. Policies call them as
  -- `(select public.get_user_org_id())` so PostgreSQL evaluates them once per
  -- statement (an InitPlan), not once per row.
  select u.org_id
  from public.users u
  join public.memberships m on m.user_id = u.id and m.org_id = u.org_id
  where u.auth_id = (select auth.uid())
    and u.is_active
    and m.status = 'active'
  limit 1
$$;
comment on function public.get_user_org_id() is
  'The org of the signed-in user (auth.uid()), or null without an active membership.';

create or replace function public.get_user_role()
returns public.membership_role
language sql
stable
security definer
set search_path = ''
as $$
  -- SECURITY DEFINER and called once per statement, as get_user_org_id() says.
  select m.role
  from public.users u
  join public.memberships m on m.user_id = u.id and m.org_id = u.org_id
  where u.auth_id = (select auth.uid())
    and u.is_active
    and m.status = 'active'
  limit 1
$$;
comment on function public.get_user_role() is
  'The signed-in user''s role in their org, or null without an active membership.';

create or replace function public.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  -- SECURITY DEFINER and called once per statement, as get_user_org_id() says.
  select coalesce(public.get_user_role() in ('owner', 'admin'), false)
$$;
comment on function public.is_admin() is 'True when the signed-in user is an owner or admin of their org.';

revoke execute on function public.get_user_org_id(), public.get_user_role(), public.is_admin() from public, anon;
grant execute on function public.get_user_org_id(), public.get_user_role(), public.is_admin() to authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Row-level security.
-- -----------------------------------------------------------------------------
alter table public.organizations enable row level security;
alter table public.users enable row level security;
alter table public.memberships enable row level security;

create policy "Members can view their organization" on public.organizations
  for select to authenticated
  using (id = (select public.get_user_org_id()));

create policy "Admins can update their organization" on public.organizations
  for update to authenticated
  using (id = (select public.get_user_org_id()) and (select public.is_admin()))
  with check (id = (select public.get_user_org_id()));

create policy "Members can view users of their organization" on public.users
  for select to authenticated
  using (org_id = (select public.get_user_org_id()) or auth_id = (select auth.uid()));

create policy "Users can update their own profile, admins any in their org" on public.users
  for update to authenticated
  using (
    auth_id = (select auth.uid())
    or (org_id = (select public.get_user_org_id()) and (select public.is_admin()))
  )
  with check (org_id = (select public.get_user_org_id()));

create policy "Admins can add users to their organization" on public.users
  for insert to authenticated
  with check (org_id = (select public.get_user_org_id()) and (select public.is_admin()));

create policy "Admins can remove users from their organization" on public.users
  for delete to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()));

create policy "Members can view memberships of their organization" on public.memberships
  for select to authenticated
  using (org_id = (select public.get_user_org_id()));

create policy "Admins can add memberships in their organization" on public.memberships
  for insert to authenticated
  with check (
    org_id = (select public.get_user_org_id()) and (select public.is_admin())
    and (role <> 'owner' or (select public.get_user_role()) = 'owner')
  );

create policy "Admins can change memberships in their organization" on public.memberships
  for update to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()))
  with check (
    org_id = (select public.get_user_org_id())
    -- only an owner makes someone an owner
    and (role <> 'owner' or (select public.get_user_role()) = 'owner')
  );

create policy "Admins can remove memberships in their organization" on public.memberships
  for delete to authenticated
  using (org_id = (select public.get_user_org_id()) and (select public.is_admin()));

-- Users edit their profile, not their identity: auth_id and org_id are not
-- client-writable (table-level grant replaced by column-level ones).
revoke update on public.users from anon, authenticated;
grant update (email, full_name, avatar_url, timezone, is_active, metadata) on public.users to authenticated;
