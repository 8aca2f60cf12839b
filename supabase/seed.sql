-- =============================================================================
-- DEMO SEED (local development: `npm start` on a fresh database, or
-- `supabase db reset`). An org with an admin and three
-- automations: webhook (create_task, then send_email), schedule (every
-- minute), event (on tasks insert). Fixed ids so the docs can name them.
-- The demo webhook secret is public: never use it outside local development.
-- =============================================================================

insert into public.organizations (id, name, slug)
values ('00000000-0000-4000-8000-000000000001', 'Demo Org', 'demo');

insert into auth.users (id, email)
values ('00000000-0000-4000-8000-0000000000a1', 'admin@demo.test');

insert into public.users (id, org_id, auth_id, email, full_name)
values ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-000000000001',
        '00000000-0000-4000-8000-0000000000a1', 'admin@demo.test', 'Demo Admin');

insert into public.memberships (org_id, user_id, role)
values ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b1', 'admin');

-- The tasks table comes from seed/tasks_module.sql (loaded first).

-- -----------------------------------------------------------------------------
-- Automations.
-- -----------------------------------------------------------------------------
-- Created as the demo admin, who is their acting member (as when a member
-- creates one through the API): the admin reads what restricted runs carry
-- (the task step's output, the lead's payload) in the console and the CLI.
insert into public.automations (id, org_id, creator_id, acting_user_id, name, description, trigger_type, trigger_config, status)
values
  ('00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1',
   'New lead: task + email', 'POST a lead to the webhook: creates a follow-up task, then emails the lead.',
   'webhook', '{}', 'active'),
  ('00000000-0000-4000-8000-000000000102', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1',
   'Every minute', 'A heartbeat that logs each fire time.',
   'schedule', '{"cron": "* * * * *", "timezone": "UTC", "missed": "skip"}', 'active'),
  ('00000000-0000-4000-8000-000000000103', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1',
   'On new task', 'Runs whenever a task is inserted (SQL trigger, same transaction).',
   'event', '{"table": "tasks", "operations": ["INSERT"]}', 'active');

-- The task step tolerates a lead without a message (template_missing = empty).
insert into public.automation_actions (org_id, automation_id, name, action_type, action_config, position, template_missing)
values
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000101', 'task', 'create_task',
   '{"title": "Follow up with {{trigger.payload.name}}", "description": "{{trigger.payload.message}}", "priority": "high"}', 0, 'empty'),
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000101', 'email', 'send_email',
   '{"to": "{{trigger.payload.email}}", "subject": "Thanks, {{trigger.payload.name}}", "text": "We will be in touch. (task {{steps.task.output.task_id}})"}', 1, 'error'),
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000102', 'beat', 'log',
   '{"message": "scheduled run at {{trigger.payload.scheduled_at}}"}', 0, 'error'),
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000103', 'note', 'log',
   '{"message": "new task: {{trigger.payload.record.title}}"}', 0, 'error');

-- The webhook automation's signing secret (demo only; rotate_webhook_secret() makes real ones).
insert into automations_engine.webhook_secrets (automation_id, secret)
values ('00000000-0000-4000-8000-000000000101', 'whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLWRldmVsb3BtZW50LW9ubHk=');

-- Database events from tasks, matched and enqueued in the business transaction.
create trigger tasks_automations_event
  after insert or update or delete on public.tasks
  for each row execute function public.automations_table_event();
