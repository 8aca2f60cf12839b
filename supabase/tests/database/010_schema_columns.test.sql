-- =============================================================================
-- SCHEMA: every column of the seed's three tables, as the seed and the
-- automations migration define it: type, default (or none), nullability.
-- One row of `seed_columns` per column; each row yields three assertions.
-- Columns added later for the engine are not listed here: the seed's shape
-- must survive them unchanged.
-- =============================================================================
begin;
select plan(3 + 33 * 3);

select has_table('public', 'automations', 'table automations exists');
select has_table('public', 'automation_actions', 'table automation_actions exists');
select has_table('public', 'automation_runs', 'table automation_runs exists');

create temp table seed_columns (
  tbl name,
  col name,
  typ text,
  dflt text,        -- expected default; null = no default
  not_null boolean
) on commit drop;

insert into seed_columns values
  -- automations
  ('automations', 'id',             'uuid',                    'gen_random_uuid()', true),
  ('automations', 'org_id',         'uuid',                    null,                true),
  ('automations', 'creator_id',     'uuid',                    null,                false),
  ('automations', 'name',           'text',                    null,                true),
  ('automations', 'description',    'text',                    null,                false),
  ('automations', 'trigger_type',   'automation_trigger_type', null,                true),
  ('automations', 'trigger_config', 'jsonb',                   '{}',                true),
  ('automations', 'status',         'automation_status',       'draft',             true),
  ('automations', 'last_run_at',    'timestamp with time zone', null,               false),
  ('automations', 'run_count',      'integer',                 '0',                 true),
  ('automations', 'created_at',     'timestamp with time zone', 'now()',            true),
  ('automations', 'updated_at',     'timestamp with time zone', 'now()',            true),
  ('automations', 'metadata',       'jsonb',                   '{}',                true),
  -- automation_actions
  ('automation_actions', 'id',            'uuid',                     'gen_random_uuid()', true),
  ('automation_actions', 'org_id',        'uuid',                     null,                true),
  ('automation_actions', 'automation_id', 'uuid',                     null,                true),
  ('automation_actions', 'action_type',   'text',                     null,                true),
  ('automation_actions', 'action_config', 'jsonb',                    '{}',                true),
  ('automation_actions', 'position',      'integer',                  '0',                 true),
  ('automation_actions', 'created_at',    'timestamp with time zone', 'now()',             true),
  ('automation_actions', 'updated_at',    'timestamp with time zone', 'now()',             true),
  ('automation_actions', 'metadata',      'jsonb',                    '{}',                true),
  -- automation_runs
  ('automation_runs', 'id',            'uuid',                     'gen_random_uuid()', true),
  ('automation_runs', 'org_id',        'uuid',                     null,                true),
  ('automation_runs', 'automation_id', 'uuid',                     null,                true),
  ('automation_runs', 'status',        'run_status',               'pending',           true),
  ('automation_runs', 'started_at',    'timestamp with time zone', null,                false),
  ('automation_runs', 'completed_at',  'timestamp with time zone', null,                false),
  ('automation_runs', 'error_message', 'text',                     null,                false),
  ('automation_runs', 'result',        'jsonb',                    null,                false),
  ('automation_runs', 'created_at',    'timestamp with time zone', 'now()',             true),
  ('automation_runs', 'updated_at',    'timestamp with time zone', 'now()',             true),
  ('automation_runs', 'metadata',      'jsonb',                    '{}',                true);

-- Types.
select col_type_is('public', tbl, col, typ, format('%s.%s is %s', tbl, col, typ))
  from seed_columns order by tbl, col;

-- Defaults (the value or expression), or no default at all.
select case when dflt is null
            then col_hasnt_default('public', tbl, col, format('%s.%s has no default', tbl, col))
            else col_default_is('public', tbl, col, dflt, format('%s.%s defaults to %s', tbl, col, dflt))
       end
  from seed_columns order by tbl, col;

-- Nullability.
select case when not_null
            then col_not_null('public', tbl, col, format('%s.%s is not null', tbl, col))
            else col_is_null('public', tbl, col, format('%s.%s is nullable', tbl, col))
       end
  from seed_columns order by tbl, col;

select * from finish();
rollback;
