-- =============================================================================
-- SCHEMA: the seed's foreign keys (and what they do on delete), enums in
-- order, defaults in action, the updated_at triggers and org_id immutability.
-- =============================================================================
begin;
select plan(36);

-- -----------------------------------------------------------------------------
-- Foreign keys: ON DELETE action as the seed states it. The composite keys
-- (org_id, automation_id) tie a child row to an automation of its own org.
-- -----------------------------------------------------------------------------
select is(tests.fk_on_delete('public.automations', '{org_id}', 'public.organizations'), 'cascade',
          'automations.org_id -> organizations on delete cascade');
select is(tests.fk_on_delete('public.automations', '{creator_id}', 'public.users'), 'set null',
          'automations.creator_id -> users on delete set null');
select is(tests.fk_on_delete('public.automation_actions', '{org_id}', 'public.organizations'), 'cascade',
          'automation_actions.org_id -> organizations on delete cascade');
select is(tests.fk_on_delete('public.automation_actions', '{automation_id}', 'public.automations'), 'cascade',
          'automation_actions.automation_id -> automations on delete cascade');
select is(tests.fk_on_delete('public.automation_actions', '{org_id,automation_id}', 'public.automations'), 'cascade',
          'automation_actions (org_id, automation_id) -> automations (org_id, id) on delete cascade');
select is(tests.fk_on_delete('public.automation_runs', '{org_id}', 'public.organizations'), 'cascade',
          'automation_runs.org_id -> organizations on delete cascade');
select is(tests.fk_on_delete('public.automation_runs', '{automation_id}', 'public.automations'), 'cascade',
          'automation_runs.automation_id -> automations on delete cascade');
select is(tests.fk_on_delete('public.automation_runs', '{org_id,automation_id}', 'public.automations'), 'cascade',
          'automation_runs (org_id, automation_id) -> automations (org_id, id) on delete cascade');

-- -----------------------------------------------------------------------------
-- Enums: every seed value, in the seed's order.
-- -----------------------------------------------------------------------------
select enum_has_labels('public', 'automation_trigger_type', array['event', 'schedule', 'webhook', 'manual'],
                       'automation_trigger_type is event, schedule, webhook, manual');
select enum_has_labels('public', 'automation_status', array['active', 'paused', 'draft', 'archived'],
                       'automation_status is active, paused, draft, archived');
select enum_has_labels('public', 'run_status', array['pending', 'running', 'completed', 'failed'],
                       'run_status is pending, running, completed, failed');

-- -----------------------------------------------------------------------------
-- Defaults in action: a minimal insert gets draft / 0 / pending.
-- -----------------------------------------------------------------------------
select tests.create_two_orgs();

insert into public.automations (org_id, name, trigger_type, updated_at, metadata)
values (tests.get_org_id('org-a'), 'Stamped', 'manual', '2000-01-01 00:00:00+00', '{"fixture": "stamped"}');
insert into public.automation_actions (org_id, automation_id, action_type, updated_at, metadata)
values (tests.get_org_id('org-a'), tests.fixture_id('public.automations', 'stamped'), 'log',
        '2000-01-01 00:00:00+00', '{"fixture": "stamped"}');
insert into public.automation_runs (org_id, automation_id, updated_at, metadata)
values (tests.get_org_id('org-a'), tests.fixture_id('public.automations', 'stamped'),
        '2000-01-01 00:00:00+00', '{"fixture": "stamped"}');

select is((select status::text from public.automations where metadata ->> 'fixture' = 'stamped'), 'draft',
          'a new automation is a draft');
select is((select run_count from public.automations where metadata ->> 'fixture' = 'stamped'), 0,
          'a new automation has run_count 0');
select is((select position from public.automation_actions where metadata ->> 'fixture' = 'stamped'), 0,
          'a new action has position 0');
select is((select status::text from public.automation_runs where metadata ->> 'fixture' = 'stamped'), 'pending',
          'a new run is pending');

-- -----------------------------------------------------------------------------
-- updated_at: each table has the set_updated_at() trigger, and an update
-- really stamps it. now() is constant inside this transaction, so the rows
-- above were inserted with an old updated_at to see it move.
-- -----------------------------------------------------------------------------
select has_trigger('public', 'automations', 'automations_set_updated_at', 'automations has its updated_at trigger');
select has_trigger('public', 'automation_actions', 'automation_actions_set_updated_at',
                   'automation_actions has its updated_at trigger');
select has_trigger('public', 'automation_runs', 'automation_runs_set_updated_at',
                   'automation_runs has its updated_at trigger');
select trigger_is('public', 'automations', 'automations_set_updated_at', 'public', 'set_updated_at',
                  'automations_set_updated_at calls set_updated_at()');
select trigger_is('public', 'automation_actions', 'automation_actions_set_updated_at', 'public', 'set_updated_at',
                  'automation_actions_set_updated_at calls set_updated_at()');
select trigger_is('public', 'automation_runs', 'automation_runs_set_updated_at', 'public', 'set_updated_at',
                  'automation_runs_set_updated_at calls set_updated_at()');

update public.automations set description = 'touched' where metadata ->> 'fixture' = 'stamped';
update public.automation_actions set position = 1 where metadata ->> 'fixture' = 'stamped';
update public.automation_runs set status = 'running' where metadata ->> 'fixture' = 'stamped';

select is((select updated_at from public.automations where metadata ->> 'fixture' = 'stamped'), now(),
          'updating an automation stamps updated_at');
select is((select updated_at from public.automation_actions where metadata ->> 'fixture' = 'stamped'), now(),
          'updating an action stamps updated_at');
select is((select updated_at from public.automation_runs where metadata ->> 'fixture' = 'stamped'), now(),
          'updating a run stamps updated_at');
select isnt((select created_at from public.automations where metadata ->> 'fixture' = 'stamped'), null,
            'created_at is kept on update');

-- -----------------------------------------------------------------------------
-- org_id is immutable, even for the table owner / service role (no RLS).
-- -----------------------------------------------------------------------------
select throws_ok(
  $$ update public.automations set org_id = tests.get_org_id('org-b') where metadata ->> 'fixture' = 'a' $$,
  '42501', null, 'automations.org_id cannot change, even bypassing RLS');
select throws_ok(
  $$ update public.automation_actions set org_id = tests.get_org_id('org-b') where metadata ->> 'fixture' = 'a' $$,
  '42501', null, 'automation_actions.org_id cannot change, even bypassing RLS');
select throws_ok(
  $$ update public.automation_runs set org_id = tests.get_org_id('org-b') where metadata ->> 'fixture' = 'a' $$,
  '42501', null, 'automation_runs.org_id cannot change, even bypassing RLS');

-- -----------------------------------------------------------------------------
-- The delete actions, for real.
-- -----------------------------------------------------------------------------
delete from public.users where id = tests.get_user_id('a_member');
select is((select creator_id from public.automations where metadata ->> 'fixture' = 'a'), null,
          'deleting the creator sets automations.creator_id to null');
select ok(tests.row_exists('public.automations', tests.fixture_id('public.automations', 'a')),
          'deleting the creator keeps the automation');

delete from public.automations where metadata ->> 'fixture' = 'stamped';
select is((select count(*)::int from public.automation_actions where metadata ->> 'fixture' = 'stamped'), 0,
          'deleting an automation deletes its actions');
select is((select count(*)::int from public.automation_runs where metadata ->> 'fixture' = 'stamped'), 0,
          'deleting an automation deletes its runs');

delete from public.organizations where slug = 'org-b';
select is((select count(*)::int from public.automations where metadata ->> 'fixture' = 'b'), 0,
          'deleting an organization deletes its automations');
select is((select count(*)::int from public.automation_actions where metadata ->> 'fixture' = 'b'), 0,
          'deleting an organization deletes its automation actions');
select is((select count(*)::int from public.automation_runs where metadata ->> 'fixture' = 'b'), 0,
          'deleting an organization deletes its automation runs');
select is((select count(*)::int from public.automations where metadata ->> 'fixture' = 'a'), 1,
          'deleting organization B leaves A''s automations');

select * from finish();
rollback;
