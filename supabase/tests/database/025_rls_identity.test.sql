-- =============================================================================
-- RLS on the identity tables: members see their own org, its users and its
-- memberships only, cannot change the org or anyone's role; admins and
-- owners change their own org and memberships in it, never another org's.
-- =============================================================================
begin;
select plan(20);

select tests.create_two_orgs();

-- -----------------------------------------------------------------------------
-- Member of A.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_member');

select results_eq('select id from public.organizations', array[tests.get_org_id('org-a')],
                  'member of A sees exactly organization A');
select set_eq('select id from public.users',
              array[tests.get_user_id('a_owner'), tests.get_user_id('a_admin'), tests.get_user_id('a_member')],
              'member of A sees exactly the users of A');
select set_eq('select user_id from public.memberships',
              array[tests.get_user_id('a_owner'), tests.get_user_id('a_admin'), tests.get_user_id('a_member')],
              'member of A sees exactly the memberships of A');
select is_empty($$ update public.organizations set name = 'Renamed by member' returning id $$,
                'member of A cannot update organization A');
select is((select name from public.organizations), 'Organization A', 'organization A keeps its name');
select is_empty($$ update public.organizations set name = 'Renamed' where id = tests.get_org_id('org-b') returning id $$,
                'member of A cannot update organization B');
select is_empty($$ update public.memberships set role = 'admin' where user_id = tests.get_user_id('a_member')
                   returning id $$,
                'member of A cannot promote themself to admin');
select throws_ok($$ insert into public.memberships (org_id, user_id, role)
                    values (tests.get_org_id('org-a'), tests.get_user_id('b_member'), 'owner') $$,
                 '42501', null, 'member of A cannot add memberships');
select results_eq($$ update public.users set full_name = 'A Member' where auth_id = auth.uid() returning full_name $$,
                  array['A Member'], 'member of A updates their own profile');
select throws_ok($$ update public.users set org_id = tests.get_org_id('org-b') where auth_id = auth.uid() $$,
                 '42501', null, 'member of A cannot move themself to organization B');
select is(public.is_admin(), false, 'is_admin() is false for a member');

-- -----------------------------------------------------------------------------
-- Admin of A.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_admin');

select is(public.is_admin(), true, 'is_admin() is true for an admin');
select results_eq($$ update public.organizations set name = 'Renamed by admin' returning name $$,
                  array['Renamed by admin'], 'admin of A updates organization A');
select is_empty($$ update public.organizations set name = 'Renamed' where id = tests.get_org_id('org-b') returning id $$,
                'admin of A cannot update organization B');
select results_eq($$ update public.memberships set role = 'admin' where user_id = tests.get_user_id('a_member')
                     returning role::text $$,
                  array['admin'], 'admin of A changes a role in A');
select is_empty($$ update public.memberships set role = 'member' where user_id = tests.get_user_id('b_admin')
                   returning id $$,
                'admin of A cannot change a role in B');
select throws_ok($$ insert into public.memberships (org_id, user_id, role)
                    values (tests.get_org_id('org-b'), tests.get_user_id('a_member'), 'owner') $$,
                 '42501', null, 'admin of A cannot add memberships to organization B');

-- -----------------------------------------------------------------------------
-- Owner of A, and B's admin for the mirror image.
-- -----------------------------------------------------------------------------
select tests.authenticate_as('a_owner');
select is(public.get_user_role()::text, 'owner', 'get_user_role() is owner for the owner');
select results_eq($$ update public.organizations set name = 'Renamed by owner' returning name $$,
                  array['Renamed by owner'], 'owner of A updates organization A');

select tests.authenticate_as('b_admin');
select results_eq('select name from public.organizations', array['Organization B'],
                  'admin of B sees exactly organization B, untouched');

select * from finish();
rollback;
