-- =============================================================================
-- TEST FIXTURE for the seed's example queries (schema `tests`), NOT rolled
-- back, like 000_helpers and 001_fixtures. 030/031 call it in their own
-- transactions.
-- =============================================================================

begin;

-- -----------------------------------------------------------------------------
-- tests.create_seed_query_fixture(): data for the seed's six example queries.
-- Fixed ids so expected results can be written out literally:
--   00000000-0000-4000-8000-00000000?TNN  with ? = a|b (org), T = 0 automation,
--   1 action, 2 run. Timestamps are relative to now(), which is constant in
--   the test's transaction. B's rows are built to leak visibly: B has the
--   newest automation, the newest run and a failed run inside the 7 days.
-- -----------------------------------------------------------------------------
create or replace function tests.create_seed_query_fixture()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  a uuid := tests.create_org('seed-a', 'Seed A', '00000000-0000-4000-8000-00000000a000');
  b uuid := tests.create_org('seed-b', 'Seed B', '00000000-0000-4000-8000-00000000b000');
  p text := '00000000-0000-4000-8000-00000000';
begin
  perform tests.create_org_member('seed_a_member', a, 'member');
  perform tests.create_org_member('seed_b_member', b, 'member');

  insert into public.automations
    (id, org_id, name, trigger_type, trigger_config, status, last_run_at, run_count, created_at)
  values
    ((p || 'a001')::uuid, a, 'Daily digest', 'schedule', '{"cron": "0 8 * * *", "timezone": "UTC"}',
     'active', now() - interval '1 day', 5, now() - interval '30 days'),
    ((p || 'a002')::uuid, a, 'Lead webhook', 'webhook', '{}', 'active',
     now() - interval '5 minutes', 3, now() - interval '20 days'),
    ((p || 'a003')::uuid, a, 'Manual cleanup', 'manual', '{}', 'paused', null, 0, now() - interval '10 days'),
    ((p || 'a004')::uuid, a, 'Draft idea', 'event', '{"event": "invoice.paid"}', 'draft', null, 0,
     now() - interval '1 day'),
    ((p || 'b001')::uuid, b, 'Billing sync', 'event', '{"table": "invoices", "operations": ["INSERT"]}',
     'active', now() - interval '1 hour', 2, now() - interval '1 hour'),
    ((p || 'b002')::uuid, b, 'Archived flow', 'manual', '{}', 'archived', null, 1, now() - interval '60 days');

  -- Inserted out of position order on purpose.
  insert into public.automation_actions (id, org_id, automation_id, action_type, action_config, position)
  values
    ((p || 'a103')::uuid, a, (p || 'a001')::uuid, 'create_task', '{"title": "Review"}', 2),
    ((p || 'a101')::uuid, a, (p || 'a001')::uuid, 'send_email', '{"to": "team@example.test", "subject": "Digest", "text": "Daily digest"}', 0),
    ((p || 'a102')::uuid, a, (p || 'a001')::uuid, 'webhook', '{"url": "https://example.test/hook"}', 1),
    ((p || 'a104')::uuid, a, (p || 'a002')::uuid, 'update_field', '{"table": "deals", "id": "{{trigger.payload.deal_id}}", "field": "stage", "value": "lead"}', 0),
    ((p || 'a105')::uuid, a, (p || 'a003')::uuid, 'delay', '{"seconds": 60}', 0),
    ((p || 'b101')::uuid, b, (p || 'b001')::uuid, 'webhook', '{"url": "https://b.example.test"}', 0),
    ((p || 'b102')::uuid, b, (p || 'b001')::uuid, 'send_email', '{"to": "b@example.test", "subject": "Invoice", "text": "Paid"}', 1),
    ((p || 'b103')::uuid, b, (p || 'b002')::uuid, 'create_task', '{"title": "B"}', 0);

  insert into public.automation_runs
    (id, org_id, automation_id, status, started_at, completed_at, error_message, result)
  values
    ((p || 'a201')::uuid, a, (p || 'a001')::uuid, 'completed', now() - interval '1 day',
     now() - interval '1 day' + interval '2 seconds', null, '{"sent": 3}'),
    ((p || 'a202')::uuid, a, (p || 'a001')::uuid, 'completed', now() - interval '2 days',
     now() - interval '2 days' + interval '2 seconds', null, '{"sent": 1}'),
    ((p || 'a203')::uuid, a, (p || 'a001')::uuid, 'failed', now() - interval '3 days',
     now() - interval '3 days' + interval '30 seconds', 'SMTP timeout', '{"step": 0}'),
    ((p || 'a204')::uuid, a, (p || 'a001')::uuid, 'failed', now() - interval '10 days',
     now() - interval '10 days' + interval '1 second', 'old failure', null),
    ((p || 'a205')::uuid, a, (p || 'a002')::uuid, 'failed', now() - interval '6 days 23 hours',
     now() - interval '6 days 23 hours' + interval '1 second', 'HTTP 500 from hook', '{"status": 500}'),
    ((p || 'a206')::uuid, a, (p || 'a002')::uuid, 'running', now() - interval '5 minutes', null, null, null),
    ((p || 'a207')::uuid, a, (p || 'a002')::uuid, 'pending', null, null, null, null),
    ((p || 'b201')::uuid, b, (p || 'b001')::uuid, 'failed', now() - interval '1 minute',
     now() - interval '30 seconds', 'B only error', '{"org": "b"}'),
    ((p || 'b202')::uuid, b, (p || 'b001')::uuid, 'completed', now() - interval '1 hour',
     now() - interval '59 minutes', null, '{}'),
    ((p || 'b203')::uuid, b, (p || 'b002')::uuid, 'failed', now() - interval '20 days',
     now() - interval '20 days', 'B old error', null);
end;
$$;
comment on function tests.create_seed_query_fixture() is
  'Orgs seed-a / seed-b (members seed_a_member, seed_b_member) with automations, actions and runs at fixed ids.';

grant execute on all functions in schema tests to anon, authenticated, service_role;

commit;

begin;
select plan(3);
select tests.create_seed_query_fixture();
select is((select count(*)::int from public.automations a join public.organizations o on o.id = a.org_id
            where o.slug in ('seed-a', 'seed-b')), 6, 'the seed-query fixture has 6 automations');
select is((select count(*)::int from public.automation_actions a join public.organizations o on o.id = a.org_id
            where o.slug in ('seed-a', 'seed-b')), 8, 'the seed-query fixture has 8 actions');
select is((select count(*)::int from public.automation_runs a join public.organizations o on o.id = a.org_id
            where o.slug in ('seed-a', 'seed-b')), 10, 'the seed-query fixture has 10 runs');
select * from finish();
rollback;
