-- =============================================================================
-- CONFIG VALIDATION (2 of 2): ACTIONS
-- A BEFORE trigger on public.automation_actions (check_action) refuses an
-- action whose type is unknown or whose config or condition is invalid, with
-- SQLSTATE 23514.
--
-- Custom action types: a project that adds its own actions to the worker
-- registers them here, optionally with a config_schema in the same spec
-- format (null: any config):
--   insert into automations_engine.custom_action_types (action_type, description)
--   values ('send_sms', 'SMS through our provider');
-- A row '*' accepts every unregistered type without config checks; `npm test`
-- registers it in its template database, whose tests use ad-hoc probe types.
-- =============================================================================

create table automations_engine.custom_action_types (
  action_type text primary key
    constraint custom_action_types_name check (action_type ~ '^([A-Za-z_][A-Za-z0-9_.:-]{0,62}|\*)$'),
  config_schema jsonb
    constraint custom_action_types_schema check (config_schema is null or jsonb_typeof(config_schema) = 'object'),
  description text,
  created_at timestamptz not null default now()
);
comment on table automations_engine.custom_action_types is
  'Action types a project adds besides the built-in ones. config_schema: {"keys": {"<key>": {"kind": ..., "required": true, '
  '"templated": true, ...}}, "exactly_one": [...], "at_least_one": [...]} as in builtin_action_specs(); null = any config. '
  'A row ''*'' accepts every unregistered type (test databases only). Built-in types always win.';
revoke all on automations_engine.custom_action_types from public, anon, authenticated;
grant select, insert, update, delete on automations_engine.custom_action_types to service_role;

-- -----------------------------------------------------------------------------
-- The built-in types, one spec each.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.builtin_action_specs()
returns jsonb
language sql
immutable
set search_path = ''
as $$
  -- The built-in types, one spec each. Keys: kind (string number integer
  -- boolean object array json enum url http_method headers email recipients
  -- table column row_id uuid date_or_datetime datetime), required, templated,
  -- nullable, values (enum), min_length/max_length (string; trim first if
  -- "trim"), gt/max (number, integer).
  select '{
    "create_task": {"keys": {
      "title": {"kind": "string", "required": true, "trim": true, "min_length": 1, "max_length": 500},
      "description": {"kind": "string", "nullable": true, "max_length": 10000},
      "assignee_id": {"kind": "uuid", "nullable": true, "templated": true},
      "due_at": {"kind": "date_or_datetime", "nullable": true, "templated": true},
      "priority": {"kind": "enum", "values": ["low", "medium", "high", "urgent"], "templated": true}}},
    "delay": {"keys": {
      "seconds": {"kind": "number", "gt": 0, "max": 31536000, "templated": true},
      "until": {"kind": "datetime", "templated": true}},
      "exactly_one": ["seconds", "until"]},
    "log": {"keys": {
      "message": {"kind": "string", "max_length": 10000},
      "level": {"kind": "enum", "values": ["debug", "info", "warn", "error"]},
      "data": {"kind": "json"}}},
    "send_email": {"keys": {
      "to": {"kind": "recipients", "required": true},
      "subject": {"kind": "string", "required": true, "min_length": 1, "max_length": 998},
      "text": {"kind": "string"}, "html": {"kind": "string"},
      "cc": {"kind": "recipients"}, "bcc": {"kind": "recipients"}, "reply_to": {"kind": "email"}},
      "at_least_one": ["text", "html"]},
    "update_field": {"keys": {
      "table": {"kind": "table", "required": true}, "id": {"kind": "row_id", "required": true},
      "field": {"kind": "column", "required": true}, "value": {"kind": "json", "required": true}}},
    "webhook": {"keys": {
      "url": {"kind": "url", "required": true}, "method": {"kind": "http_method", "templated": true},
      "headers": {"kind": "headers", "templated": true}, "body": {"kind": "json"},
      "timeout_ms": {"kind": "integer", "gt": 0, "templated": true}},
      "no_body_with_get": true}
  }'::jsonb
$$;
comment on function automations_engine.builtin_action_specs() is
  'Config spec of each built-in action type, mirroring the zod schemas in shared/actions/*.ts (tests/validation checks they match).';

create or replace function automations_engine.action_types()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array_agg(k order by k) from jsonb_object_keys(automations_engine.builtin_action_specs()) k
$$;
comment on function automations_engine.action_types() is
  'The built-in action types, sorted; equal to actionTypes in shared/actions/registry.ts (a test keeps them in step).';

-- -----------------------------------------------------------------------------
-- One value against its spec: the problem (without the path), or null.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.action_value_problem(p_spec jsonb, p_value jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  -- ECMAScript \s, so that matching does not depend on the database locale.
  c_ws constant text := '\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
  -- ADDRESS in shared/actions/send_email.ts, with x standing for [^<>@\s].
  c_address constant text := replace('^(x+@x+\.x+|[^<>]*<x+@x+\.x+>)$', 'x', '[^<>@' || c_ws || ']');
  c_date constant text := '((\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|(02)-(0[1-9]|1\d|2[0-8])))';
  c_time constant text := 'T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)';
  v_kind text := p_spec ->> 'kind';
  v_type text := jsonb_typeof(p_value);
  v_s text := p_value #>> '{}';
  v_n numeric := case when jsonb_typeof(p_value) = 'number' then (p_value #>> '{}')::numeric end;
  v_host text;
  v_problem text;
begin
  -- Exactly one placeholder and nothing around it (templates.ts: only such a
  -- string resolves to a number, boolean or object).
  if p_spec ->> 'templated' = 'true' and v_type = 'string' and v_s ~ '^\{\{.*\}\}$'
     and strpos(substr(v_s, 3, length(v_s) - 4), '}}') = 0 then
    return null; -- a whole-value placeholder keeps its JSON type once resolved
  elsif v_type = 'null' and p_spec ->> 'nullable' = 'true' or v_kind = 'json' then
    return null;
  end if;
  v_problem := case
    when v_kind in ('string', 'url', 'http_method', 'email', 'table', 'column', 'uuid', 'date_or_datetime', 'datetime') and v_type <> 'string'
      then 'must be a string, got ' || automations_engine.json_shown(p_value)
    when v_kind in ('number', 'integer') and v_type <> 'number'
      then 'must be a number, got ' || automations_engine.json_shown(p_value)
    when v_kind in ('boolean', 'object', 'array') and v_type <> v_kind
      then format('must be %s %s, got %s', case v_kind when 'boolean' then 'a' else 'an' end, v_kind, automations_engine.json_shown(p_value))
    when v_kind = 'enum' and not p_spec -> 'values' @> jsonb_build_array(p_value) or v_kind = 'enum' and v_type <> 'string'
      then format('must be one of %s, got %s', (select string_agg(x::text, ', ') from jsonb_array_elements(p_spec -> 'values') x), p_value::text)
    when v_kind = 'http_method' and upper(v_s) not in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
      then format('must be one of GET, POST, PUT, PATCH, DELETE, got %s', p_value::text)
    when v_kind = 'headers' and v_type <> 'object' then 'must be an object of header names to strings'
    when v_kind = 'headers' then (select format('[%s]: %s', to_jsonb(h.key)::text,
                                           case when jsonb_typeof(h.value) <> 'string' then 'must be a string'
                                                else 'is not a valid header name' end)
                                    from jsonb_each(p_value) h
                                   where jsonb_typeof(h.value) <> 'string' or h.key !~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$' limit 1)
    when v_kind = 'recipients' and v_type = 'array' and jsonb_array_length(p_value) not between 1 and 50
      or v_kind = 'recipients' and v_type not in ('string', 'array')
      then 'must be an email address or a list of 1 to 50 addresses'
    when v_kind = 'recipients' then (select format('%s%s', case when v_type = 'array' then format('[%s]: ', r.i - 1) end,
                                                   automations_engine.action_value_problem('{"kind": "email"}', r.v))
                                       from jsonb_array_elements(case when v_type = 'array' then p_value else jsonb_build_array(p_value) end)
                                            with ordinality as r(v, i)
                                      where automations_engine.action_value_problem('{"kind": "email"}', r.v) is not null limit 1)
    when v_kind = 'row_id' and not coalesce(v_type = 'string' and v_s <> '' or v_n = trunc(v_n) and abs(v_n) <= 9007199254740991, false)
      then 'id must be a string or an integer'
    when v_kind = 'integer' and (v_n <> trunc(v_n) or abs(v_n) > 9007199254740991)
      then 'must be an integer, got ' || v_s
  end;
  if v_problem is null then
    -- Ranges and lengths (strings are trimmed first where the schema trims).
    v_s := case when p_spec ->> 'trim' = 'true' then automations_engine.js_trim(v_s) else v_s end;
    v_problem := case
      when v_type = 'string' and length(v_s) < (p_spec ->> 'min_length')::int then 'must not be empty'
      when v_type = 'string' and length(v_s) > (p_spec ->> 'max_length')::int then format('must be at most %s characters', p_spec ->> 'max_length')
      when v_kind in ('table', 'column') and length(v_s) not between 1 and 200 then 'must be 1 to 200 characters'
      when v_n <= (p_spec ->> 'gt')::numeric then format('must be greater than %s', p_spec ->> 'gt')
      when v_n > (p_spec ->> 'max')::numeric then format('must be at most %s', p_spec ->> 'max')
      when v_kind = 'uuid' and v_s !~ '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$'
        then 'must be a UUID'
      when v_kind = 'datetime' and v_s !~ ('^' || c_date || c_time || '$')
        then 'must be an ISO 8601 date-time with offset, such as "2026-03-01T09:00:00Z"'
      when v_kind = 'date_or_datetime' and v_s !~ ('^' || c_date || '(' || c_time || ')?$')
        then 'must be an ISO 8601 date ("2026-03-01") or date-time with offset ("2026-03-01T09:00:00Z")'
    end;
  end if;
  -- Strings with a placeholder anywhere are judged once resolved; the others now.
  if v_problem is null and v_type = 'string' and v_s !~ '\{\{.*\}\}' then
    v_host := substring(regexp_replace(automations_engine.js_trim(v_s), '[\t\n\r]', '', 'g')
                        from '^[Hh][Tt][Tt][Pp][Ss]?:[/\\]*([^/\\?#]*)');
    v_problem := case
      when v_kind = 'url' and (v_host is null
                               or regexp_replace(v_host, '^.*@', '') !~ '^([^ #%/:<>?@\[\\\]^|\x01-\x1f\x7f]+|\[[0-9A-Fa-f:.]+\])(:[0-9]*)?$'
                               or coalesce(nullif(substring(v_host from ':([0-9]*)$'), ''), '0')::numeric > 65535)
        then 'must be an absolute http:// or https:// URL'
      when v_kind = 'email' and automations_engine.js_trim(v_s) !~ c_address
        then 'must be an email address (a@b.c or Name <a@b.c>)'
      when v_kind = 'table' and lower(regexp_replace(v_s, '^public\.', '')) like 'automation%'
        then 'automation tables change only through the automations API'
      when v_kind = 'table' and lower(regexp_replace(v_s, '^public\.', '')) in ('organizations', 'users', 'memberships')
        then 'identity tables (organizations, users, memberships) cannot be changed by automations'
      when v_kind = 'table' and v_s ~ '^[A-Za-z_][A-Za-z0-9_$]*\.' and v_s !~ '^public\.'
        then 'only tables in schema public can be updated'
      when v_kind = 'column' and v_s in ('id', 'org_id', 'created_at', 'updated_at')
        then format('column %s cannot be set: id, org_id, created_at and updated_at are maintained by the database', v_s)
    end;
  end if;
  return v_problem || case when v_problem is not null and p_spec ->> 'templated' = 'true' then ' (or a {{...}} placeholder)' else '' end;
end;
$$;
comment on function automations_engine.action_value_problem(jsonb, jsonb) is
  'Problem of one action_config value against its spec (see builtin_action_specs), without the path; null when it fits.';

-- -----------------------------------------------------------------------------
-- A whole action_config against its spec: strict keys, required keys, values,
-- and the cross-key rules of the zod schemas' refinements.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.action_config_problems(p_spec jsonb, p_config jsonb)
returns text[]
language sql
immutable
set search_path = ''
as $$
  select case when jsonb_typeof(p_config) is distinct from 'object'
    then array['action_config: must be a JSON object, got ' || automations_engine.json_shown(p_config)]
    else array(
      select p from (
        -- A problem inside the value starts with its own segment: action_config.to[1]: ...
        select 1 as o, k.key as key, 'action_config' || automations_engine.json_key_path(k.key)
               || regexp_replace(coalesce(case when not p_config ? k.key then 'required' end,
                                          automations_engine.action_value_problem(k.spec, p_config -> k.key)), '^(?!\[)', ': ') as p
          from jsonb_each(p_spec -> 'keys') as k(key, spec)
         where p_config ? k.key or k.spec ->> 'required' = 'true'
        union all
        select 2, null, format('action_config: unknown key %s (allowed: %s)', to_jsonb(c.key)::text,
                               (select string_agg(a, ', ' order by a) from jsonb_object_keys(p_spec -> 'keys') a))
          from jsonb_object_keys(p_config) as c(key)
         where not coalesce(p_spec -> 'keys', '{}') ? c.key and coalesce(p_spec ->> 'additional', 'false') <> 'true'
        union all
        select 3, null, format('action_config: give exactly one of %s', (select string_agg(x, ' or ') from jsonb_array_elements_text(p_spec -> 'exactly_one') x))
         where p_spec ? 'exactly_one' and (select count(*) from jsonb_array_elements_text(p_spec -> 'exactly_one') x where p_config ? x) <> 1
        union all
        select 4, null, format('action_config.%s: give %s (or both)', p_spec -> 'at_least_one' ->> 0,
                               (select string_agg(x, ' or ') from jsonb_array_elements_text(p_spec -> 'at_least_one') x))
         where p_spec ? 'at_least_one' and not p_config ?| array(select jsonb_array_elements_text(p_spec -> 'at_least_one'))
        union all
        select 5, null, 'action_config.body: a GET request cannot have a body; use POST or remove body'
         where p_spec ->> 'no_body_with_get' = 'true' and p_config ? 'body' and upper(p_config ->> 'method') = 'GET'
           and jsonb_typeof(p_config -> 'method') = 'string'
      ) problems
      where p is not null
      order by o, key)
  end
$$;
comment on function automations_engine.action_config_problems(jsonb, jsonb) is
  'Problems of an action_config against a spec, each starting with its path (action_config.url: required); empty when it fits.';

-- -----------------------------------------------------------------------------
-- Templates in any string of a config.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.template_problems(p_value jsonb, p_path text default 'action_config', p_depth integer default 0)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
-- Templates in any string of a config, as shared/engine/expressions/template_scan.ts scans
-- them: an unclosed {{, an empty placeholder, a root that is not one of
-- trigger, steps, run, automation, org; and the size limits (64 levels, 1000
-- placeholders, 100000 characters in a string with placeholders).
declare
  v_s text;
  v_out text[] := '{}';
  v_i integer := 1;
  v_open integer;
  v_close integer;
  v_source text;
  v_root text;
  v_key text;
  v_item jsonb;
  v_n integer;
begin
  if p_depth = 0 and (select count(*) from jsonb_path_query(p_value, 'strict $.** ? (@.type() == "string" && @ like_regex "\\{\\{")')) > 0
     and (select sum((length(x #>> '{}') - length(replace(x #>> '{}', '{{', ''))) / 2)
            from jsonb_path_query(p_value, 'strict $.** ? (@.type() == "string")') x) > 1000 then
    return array[p_path || ': too many placeholders: a config may hold at most 1000'];
  end if;
  if jsonb_typeof(p_value) in ('object', 'array') then
    if p_depth >= 64 then
      return array[format('%s: the config is nested deeper than 64 levels', p_path)];
    end if;
    for v_key, v_item in
      select automations_engine.json_key_path(e.key), e.value from jsonb_each(case when jsonb_typeof(p_value) = 'object' then p_value end) e
      union all
      select '[' || (e.i - 1) || ']', e.v from jsonb_array_elements(case when jsonb_typeof(p_value) = 'array' then p_value end) with ordinality e(v, i)
    loop
      v_out := v_out || automations_engine.template_problems(v_item, p_path || v_key, p_depth + 1);
    end loop;
    return v_out;
  end if;
  v_s := case when jsonb_typeof(p_value) = 'string' then p_value #>> '{}' end;
  if v_s is null or strpos(v_s, '{{') = 0 then
    return v_out;
  elsif length(v_s) > 100000 then
    return array[format('%s: a string with placeholders may be at most 100000 characters; this one has %s', p_path, length(v_s))];
  end if;
  loop
    v_n := strpos(substr(v_s, v_i), '{{');
    exit when v_n = 0;
    v_open := v_i + v_n - 1;
    -- \{{ is a literal {{ ; \\{{ is a backslash followed by a placeholder.
    if v_open > v_i and substr(v_s, v_open - 1, 1) = '\' and not (v_open - 1 > v_i and substr(v_s, v_open - 2, 1) = '\') then
      v_i := v_open + 2;
      continue;
    end if;
    v_n := strpos(substr(v_s, v_open + 2), '}}');
    if v_n = 0 then
      return array[format('%s: %s: unclosed placeholder; close it with }} or write \{{ for literal braces', p_path, substr(v_s, v_open, 40))];
    end if;
    v_close := v_open + 2 + v_n - 1;
    v_source := substr(v_s, v_open, v_close + 2 - v_open);
    v_root := substring(automations_engine.js_trim(substr(v_s, v_open + 2, v_close - v_open - 2)) from '^[^.\[]*');
    if v_root = '' then
      return array[format('%s: %s: %s', p_path, left(v_source, 120), case when automations_engine.js_trim(substr(v_source, 3, length(v_source) - 4)) = ''
        then 'empty placeholder; write a path such as {{trigger.payload.id}}' else 'is not a valid path' end)];
    elsif v_root not in ('trigger', 'steps', 'run', 'automation', 'org') then
      return array[format('%s: %s: unknown root "%s"; a path starts with trigger, steps, run, automation, org', p_path, left(v_source, 120), v_root)];
    end if;
    v_i := v_close + 2;
  end loop;
  return v_out;
end;
$$;
comment on function automations_engine.template_problems(jsonb, text, integer) is
  'Template syntax problems in every string of a config (path first); empty when all placeholders parse.';

-- -----------------------------------------------------------------------------
-- Conditions.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.condition_problems(p_condition jsonb)
returns text[]
language sql
immutable
set search_path = ''
as $$
  -- Conditions: {"if": <rule>, "else": "skip" | "stop"} with the operators of
  -- shared/engine/expressions/condition_check.ts (tests/validation checks the list).
  select case
    when p_condition is null then '{}'::text[]
    when jsonb_typeof(p_condition) <> 'object' then array['condition: must be an object {"if": <rule>, "else": "skip" | "stop"}']
    else array(select k from (
      select format('condition: unknown key %s (allowed: if, else)', to_jsonb(k)::text) as k
        from jsonb_object_keys(p_condition) k where k not in ('if', 'else')
      union all
      select 'condition.if: a condition needs an "if" rule' where not p_condition ? 'if'
      union all
      select 'condition.else: must be one of "skip", "stop"; got ' || (p_condition -> 'else')::text
       where p_condition ? 'else' and p_condition -> 'else' not in ('"skip"', '"stop"')
      union all
      select 'condition.if: the rule has more than 1000 parts'
       where (select count(*) from jsonb_path_query(p_condition -> 'if', 'strict $.**')) > 1000
      union all
      select unnest(automations_engine.jsonlogic_problems(p_condition -> 'if', 'condition.if', 'condition',
        '{==,===,!=,!==,<,<=,>,>=,!,!!,and,or,if,?:,??,+,-,*,/,%,max,min,cat,substr,in,merge,length,map,filter,all,some,none,var,missing,missing_some}',
        '{map,filter,all,some,none}', '{trigger,steps,run,automation,org}', true, 0, 32))
       where p_condition ? 'if' and (select count(*) from jsonb_path_query(p_condition -> 'if', 'strict $.**')) <= 1000
    ) problems)
  end
$$;
comment on function automations_engine.condition_problems(jsonb) is
  'Problems of an action''s condition (shape, operators, var roots, size), each starting with its path; empty when usable.';

-- -----------------------------------------------------------------------------
-- Everything about one action row.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.action_problems(p_type text, p_config jsonb, p_condition jsonb)
returns text[]
language plpgsql
stable
set search_path = ''
as $$
declare
  v_spec jsonb := automations_engine.builtin_action_specs() -> p_type;
  v_custom record;
begin
  -- SQL null (not JSON null): the NOT NULL constraint would say it later, but
  -- the checks below would return a null problem and an empty message.
  if p_config is null then
    return array['action_config: is required (a JSON object; use {} for none)'];
  end if;
  if v_spec is null then
    select c.action_type, c.config_schema into v_custom
      from automations_engine.custom_action_types c
     where c.action_type in (p_type, '*')
     order by c.action_type = '*'
     limit 1;
    if not found then
      return array[format('unknown action type %s; known types: %s%s', to_jsonb(p_type)::text,
        array_to_string(automations_engine.action_types(), ', '),
        coalesce('; custom types: ' || (select string_agg(c.action_type, ', ' order by c.action_type)
                                          from automations_engine.custom_action_types c), ''))];
    end if;
    v_spec := v_custom.config_schema;
  end if;
  return case when v_spec is null then '{}' else automations_engine.action_config_problems(v_spec, p_config) end
         || automations_engine.template_problems(p_config)
         || automations_engine.condition_problems(p_condition);
end;
$$;
comment on function automations_engine.action_problems(text, jsonb, jsonb) is
  'Problems of an action (type, action_config, condition), each starting with its path; empty when it may be saved.';

create or replace function automations_engine.check_action()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_problems text[] := automations_engine.action_problems(new.action_type, new.action_config, new.condition);
begin
  -- This BEFORE trigger on public.automation_actions refuses, with SQLSTATE 23514
  -- and the config path in the message, an action whose type is unknown, whose
  -- action_config does not fit its type, whose templates cannot parse or whose
  -- condition is malformed. The zod schemas in shared/actions/*.ts stay the
  -- source of truth at run time; here each built-in type has a compact spec
  -- (builtin_action_specs) mirroring its schema's keys, required keys and value
  -- types. A value that is exactly one placeholder ("{{trigger.payload.n}}")
  -- passes wherever the schema is templated(), as at save time in TypeScript.
  --
  -- Checked only in TypeScript: URL parsing beyond scheme and host (WHATWG URL),
  -- header names inside templated objects, template path grammar beyond the
  -- root name, condition path grammar and arity of non-iterator operators.
  if cardinality(v_problems) > 0 then
    raise exception using
      errcode = '23514',
      message = array_to_string(v_problems, '; '),
      detail = format('action_type %s, action_config %s', to_jsonb(new.action_type)::text, left(new.action_config::text, 500)),
      hint = case when v_problems[1] like 'unknown action type%'
        then 'Use a built-in type, or register a custom one in automations_engine.custom_action_types.'
        else 'Fix the fields named above; a value that is only a placeholder ("{{trigger.payload.x}}") is accepted where a number, boolean or object goes.' end,
      schema = 'public', table = 'automation_actions',
      column = case when v_problems[1] like 'condition%' then 'condition' else 'action_config' end,
      constraint = 'automation_actions_config_valid';
  end if;
  return new;
end;
$$;
comment on function automations_engine.check_action() is
  'BEFORE INSERT/UPDATE on automation_actions: refuses an unknown type, an invalid config or condition with 23514.';

create trigger automation_actions_check_insert
  before insert on public.automation_actions
  for each row execute function automations_engine.check_action();
create trigger automation_actions_check_update
  before update of action_type, action_config, condition on public.automation_actions
  for each row
  when (old.action_type is distinct from new.action_type or old.action_config is distinct from new.action_config
        or old.condition is distinct from new.condition)
  execute function automations_engine.check_action();

revoke all on function
  automations_engine.builtin_action_specs(), automations_engine.action_types(),
  automations_engine.action_value_problem(jsonb, jsonb), automations_engine.action_config_problems(jsonb, jsonb),
  automations_engine.template_problems(jsonb, text, integer), automations_engine.condition_problems(jsonb),
  automations_engine.action_problems(text, jsonb, jsonb), automations_engine.check_action()
  from public, anon, authenticated;
grant execute on function
  automations_engine.builtin_action_specs(), automations_engine.action_types(), automations_engine.action_problems(text, jsonb, jsonb)
  to service_role;
