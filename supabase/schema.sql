-- =============================================================================
-- GENERATED FILE, do not edit: `npm run schema` rebuilds it.
-- The current schema of public and automations_engine after every migration:
-- each table, policy and function as it is now, with the comments that say
-- why. For the history (what changed when), read supabase/migrations/.
--
-- Made by PostgreSQL 15's
--   pg_dump --schema-only --no-owner -n public -n automations_engine
-- of the template database scripts/test.ts builds (local bootstrap + the
-- migrations), without the lines that vary between runs (\restrict keys,
-- versions). `npm test` rewrites it when the migrations changed; with
-- CI=true it fails instead when this file is out of date.
-- =============================================================================

--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: automations_engine; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA automations_engine;

--
-- Name: SCHEMA automations_engine; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA automations_engine IS 'Run engine internals (enqueue, claim, record). Not exposed through the API; called with the service connection.';

--
-- Name: public; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA public;

--
-- Name: SCHEMA public; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA public IS 'standard public schema';

--
-- Name: filter_step; Type: TYPE; Schema: automations_engine; Owner: -
--

CREATE TYPE automations_engine.filter_step AS (
	result jsonb,
	budget integer
);

--
-- Name: TYPE filter_step; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON TYPE automations_engine.filter_step IS 'One filter_eval answer: the value (NULL where JavaScript would throw, or once the budget ran out) and the work budget left (negative: it ran out).';

--
-- Name: automation_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.automation_status AS ENUM (
    'active',
    'paused',
    'draft',
    'archived'
);

--
-- Name: automation_trigger_type; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.automation_trigger_type AS ENUM (
    'event',
    'schedule',
    'webhook',
    'manual'
);

--
-- Name: membership_role; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.membership_role AS ENUM (
    'owner',
    'admin',
    'member',
    'guest'
);

--
-- Name: membership_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.membership_status AS ENUM (
    'active',
    'invited',
    'suspended'
);

--
-- Name: run_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.run_status AS ENUM (
    'pending',
    'running',
    'completed',
    'failed'
);

--
-- Name: run_step_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.run_step_status AS ENUM (
    'completed',
    'failed',
    'skipped',
    'waiting'
);

--
-- Name: acting_member_can_read_event(uuid, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.acting_member_can_read_event(p_automation_id uuid, p_payload jsonb) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_acting uuid;
  v_table regclass;
begin
  -- The same rule for table events that arrive over HTTP (Database Webhooks
  -- posted to automations-event): the automation's acting member must be able
  -- to read the record and the old record. Application events carry no row;
  -- automations of the service have no acting member.
  select a.acting_user_id into v_acting from public.automations a where a.id = p_automation_id;
  if v_acting is null or not (p_payload ? 'table') then
    return true;
  end if;
  v_table := to_regclass(format('%I.%I', coalesce(p_payload ->> 'schema', 'public'), p_payload ->> 'table'));
  if v_table is null then
    return false;  -- no such table here: nothing a member could have read
  end if;
  return automations_engine.member_can_select(v_table, nullif(p_payload -> 'record', 'null'::jsonb), v_acting)
     and automations_engine.member_can_select(v_table, nullif(p_payload -> 'old_record', 'null'::jsonb), v_acting);
end;
$$;

--
-- Name: FUNCTION acting_member_can_read_event(p_automation_id uuid, p_payload jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.acting_member_can_read_event(p_automation_id uuid, p_payload jsonb) IS 'For a table-event payload {schema, table, record, old_record}: whether the automation''s acting member could select both rows (true without an acting member).';

--
-- Name: action_config_problems(jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.action_config_problems(p_spec jsonb, p_config jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
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

--
-- Name: FUNCTION action_config_problems(p_spec jsonb, p_config jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.action_config_problems(p_spec jsonb, p_config jsonb) IS 'Problems of an action_config against a spec, each starting with its path (action_config.url: required); empty when it fits.';

--
-- Name: action_problems(text, jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.action_problems(p_type text, p_config jsonb, p_condition jsonb) RETURNS text[]
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
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

--
-- Name: FUNCTION action_problems(p_type text, p_config jsonb, p_condition jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.action_problems(p_type text, p_config jsonb, p_condition jsonb) IS 'Problems of an action (type, action_config, condition), each starting with its path; empty when it may be saved.';

--
-- Name: action_types(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.action_types() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select array_agg(k order by k) from jsonb_object_keys(automations_engine.builtin_action_specs()) k
$$;

--
-- Name: FUNCTION action_types(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.action_types() IS 'The built-in action types, sorted; equal to actionTypes in shared/actions/registry.ts (a test keeps them in step).';

--
-- Name: action_value_problem(jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.action_value_problem(p_spec jsonb, p_value jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
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
$_$;

--
-- Name: FUNCTION action_value_problem(p_spec jsonb, p_value jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.action_value_problem(p_spec jsonb, p_value jsonb) IS 'Problem of one action_config value against its spec (see builtin_action_specs), without the path; null when it fits.';

--
-- Name: builtin_action_specs(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.builtin_action_specs() RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
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

--
-- Name: FUNCTION builtin_action_specs(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.builtin_action_specs() IS 'Config spec of each built-in action type, mirroring the zod schemas in shared/actions/*.ts (tests/validation checks they match).';

--
-- Name: call_function(text, jsonb, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.call_function(p_function text, p_body jsonb DEFAULT '{}'::jsonb, p_timeout_ms integer DEFAULT 60000) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  v_url text;
  v_key text;
  v_id bigint;
begin
  -- What the pg_cron jobs run: POST <project url>/functions/v1/<function> with
  -- `Authorization: Bearer <service role key>`, both read from Vault at every
  -- call, so rotating either needs no reinstall. pg_net queues the request in
  -- this transaction and its background worker sends it after the commit (a
  -- rolled-back caller sends nothing); the answer lands in net._http_response
  -- under the returned id.
  -- Dynamic SQL: the net and vault schemas exist only where pg_net and Vault
  -- are installed, and static references would not pass plpgsql_check elsewhere.
  if to_regclass('vault.decrypted_secrets') is null or to_regnamespace('net') is null then
    raise exception 'calling % from SQL needs pg_net and Supabase Vault', p_function
      using errcode = '55000', hint = 'enable pg_net (Dashboard > Database > Extensions); see docs/deploy.md section 6';
  end if;
  -- format(%I): a constant query string would be checked by plpgsql_check
  -- (`supabase db lint`) against a database without those schemas.
  execute format($q$
    select max(decrypted_secret) filter (where name = 'automations_project_url'),
           max(decrypted_secret) filter (where name = 'automations_service_role_key')
      from %I.decrypted_secrets
     where name in ('automations_project_url', 'automations_service_role_key')
  $q$, 'vault') into v_url, v_key;
  if v_url is null or v_key is null then
    raise exception 'Vault has no % secret', case when v_url is null then 'automations_project_url' else 'automations_service_role_key' end
      using errcode = '55000',
            hint = 'store it: select vault.create_secret(''<value>'', ''<name>''); see docs/deploy.md section 6';
  end if;
  execute format('select %I.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)', 'net')
    into v_id
    using rtrim(v_url, '/') || '/functions/v1/' || p_function, p_body,
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_key),
          p_timeout_ms;
  return v_id;
end;
$_$;

--
-- Name: FUNCTION call_function(p_function text, p_body jsonb, p_timeout_ms integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.call_function(p_function text, p_body jsonb, p_timeout_ms integer) IS 'POSTs to <Vault automations_project_url>/functions/v1/<p_function> with the Vault service role key through pg_net (sent after commit). Returns the pg_net request id.';

--
-- Name: caller_is_service(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.caller_is_service() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  -- Who is calling a SECURITY DEFINER function? Inside one, current_user is the
  -- owner, so it cannot tell. The `role` setting still holds what PostgREST (or
  -- our asUser) set: anon / authenticated for API users, service_role for the
  -- service key, or whatever API role a project adds; 'none' on a direct
  -- connection, whose caller is then the session user. An allowlist, not a
  -- denylist: only service_role and the owner roles (postgres, supabase_admin,
  -- superusers, the owner of the engine schema, i.e. whoever ran the
  -- migrations) are the service. A project's own role (say api_reader,
  -- granted like authenticated) is a user: it gets its org's rows only.
  select exists (
    select 1
      from pg_catalog.pg_roles ro
     where ro.rolname = case when coalesce(current_setting('role', true), '') in ('', 'none')
                             then session_user::text else current_setting('role', true) end
       and (ro.rolname in ('service_role', 'postgres', 'supabase_admin')
            or ro.rolsuper
            or ro.oid = (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'automations_engine')))
$$;

--
-- Name: FUNCTION caller_is_service(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.caller_is_service() IS 'True when the caller is the service: role service_role, or a direct connection (or role) of postgres, supabase_admin, a superuser or the engine schema''s owner. False for anon, authenticated and any other API role.';

--
-- Name: calling_member(uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.calling_member(p_org_id uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_user uuid;
begin
  -- The public.users row, in p_org_id, of a member calling with a JWT (role
  -- authenticated and a sub); null for the service (a direct connection,
  -- service_role), whose edits leave an automation's acting member unchanged.
  -- The `role` setting still names the API role inside SECURITY DEFINER
  -- functions (create_automation, replace_automation_actions), so edits made
  -- through them count as the member's too.
  if current_setting('role', true) is distinct from 'authenticated' or (select auth.uid()) is null then
    return null;
  end if;
  select u.id into v_user from public.users u where u.auth_id = (select auth.uid()) and u.org_id = p_org_id;
  if v_user is null then
    -- RLS already refuses such a write; never let it fall back to "the service".
    raise exception 'the signed-in user is not a member of organization %', p_org_id using errcode = '42501';
  end if;
  return v_user;
end;
$$;

--
-- Name: FUNCTION calling_member(p_org_id uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.calling_member(p_org_id uuid) IS 'The users.id (in the given org) of the member calling with a JWT; null when the caller is the service.';

--
-- Name: chain_admit(uuid, uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.chain_admit(p_org_id uuid, p_automation_id uuid, OUT root_run_id uuid, OUT chain_depth integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_cause record;
  v_runs bigint;
  v_max integer;
begin
  -- Where a new run of p_automation_id stands in its chain, or 54000 when the
  -- chain may not grow: a run a trigger started directly is a root (NULL, 0).
  chain_depth := 0;
  if coalesce(current_setting('automations.caused_by', true), '') = '' then
    return;
  end if;
  select * into v_cause from automations_engine.run_cause(p_org_id);
  if not found then
    return;
  end if;
  root_run_id := v_cause.root_run_id;
  chain_depth := v_cause.chain_depth + 1;

  v_max := automations_engine.setting(p_org_id, 'max_chain_depth');
  if chain_depth > v_max then
    raise exception 'chain of runs from root run % is % runs deep; at most % are allowed (not starting automation %)',
      root_run_id, chain_depth, v_max, p_automation_id
      using errcode = '54000',
            hint = 'A loop? Add a filter so the automation does not react to its own writes or calls.';
  end if;
  -- One enqueue per chain at a time (transaction lock on the root), so the
  -- count sees every chain run committed before and the budget is exact.
  perform pg_advisory_xact_lock(hashtext('automations.chain'), hashtext(root_run_id::text));
  select count(*) + 1 into v_runs from public.automation_runs r where r.root_run_id = chain_admit.root_run_id;
  v_max := automations_engine.setting(p_org_id, 'chain_run_budget');
  if v_runs >= v_max then
    raise exception 'chain budget of % runs from root run % exhausted (not starting automation %)',
      v_max, root_run_id, p_automation_id
      using errcode = '54000',
            hint = 'A run''s writes or calls keep starting runs. Add a filter, or ask the operator to raise automation_settings.chain_run_budget.';
  end if;
end;
$$;

--
-- Name: FUNCTION chain_admit(p_org_id uuid, p_automation_id uuid, OUT root_run_id uuid, OUT chain_depth integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.chain_admit(p_org_id uuid, p_automation_id uuid, OUT root_run_id uuid, OUT chain_depth integer) IS 'Root and depth for a new run from the causing run (run_cause); raises 54000 past the org''s max_chain_depth or chain_run_budget.';

--
-- Name: check_action(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.check_action() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

--
-- Name: FUNCTION check_action(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.check_action() IS 'BEFORE INSERT/UPDATE on automation_actions: refuses an unknown type, an invalid config or condition with 23514.';

--
-- Name: check_action_limit(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.check_action_limit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v record;
begin
  -- Statement trigger, after the snapshot trigger (names sort), which holds
  -- each touched automation's row lock: concurrent inserts are counted one
  -- after the other, so two of them cannot both squeeze past the limit.
  for v in
    select a.id, a.org_id, count(x.id) as n, automations_engine.setting(a.org_id, 'max_actions_per_automation') as max
      from public.automations a
      join public.automation_actions x on x.automation_id = a.id
     where a.id in (select distinct n.automation_id from new_rows n)
     group by a.id, a.org_id
  loop
    if v.n > v.max then
      raise exception 'automation % would have % actions; at most % are allowed per automation', v.id, v.n, v.max
        using errcode = '54000',
              hint = 'Split the work into several automations, or ask the operator to raise automation_settings.max_actions_per_automation.';
    end if;
  end loop;
  return null;
end;
$$;

--
-- Name: FUNCTION check_action_limit(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.check_action_limit() IS 'AFTER INSERT statement trigger on automation_actions: refuses (54000) an automation with more actions than max_actions_per_automation.';

--
-- Name: check_automation_limit(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.check_automation_limit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_org uuid;
  v_n bigint;
  v_max integer;
begin
  -- One org at a time (transaction lock per org, in id order so two inserts
  -- for the same orgs cannot deadlock); the count then sees every
  -- automation committed before the lock was granted.
  for v_org in select distinct n.org_id from new_rows n order by 1 loop
    perform pg_advisory_xact_lock(hashtext('automations.org_automations'), hashtext(v_org::text));
    select count(*) into v_n from public.automations a where a.org_id = v_org;
    v_max := automations_engine.setting(v_org, 'max_automations');
    if v_n > v_max then
      raise exception 'organization % would have % automations; at most % are allowed', v_org, v_n, v_max
        using errcode = '54000',
              hint = 'Delete automations the org no longer uses, or ask the operator to raise automation_settings.max_automations.';
    end if;
  end loop;
  return null;
end;
$$;

--
-- Name: FUNCTION check_automation_limit(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.check_automation_limit() IS 'AFTER INSERT statement trigger on automations: refuses (54000) more automations in an org than max_automations.';

--
-- Name: check_flow_control(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.check_flow_control() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_problems text[] := automations_engine.flow_control_problems(new.max_concurrency, new.concurrency_key, new.rate_limit);
begin
  -- Checked when saved: clients write these columns through PostgREST, and a
  -- bad value would otherwise surface only as runs that never start.
  if cardinality(v_problems) > 0 then
    raise exception using
      errcode = '23514',
      message = array_to_string(v_problems, '; '),
      hint = 'max_concurrency: 1..10000 or null; concurrency_key: e.g. {{trigger.payload.customer_id}}; rate_limit: {"limit": 100, "period_seconds": 60}',
      schema = 'public', table = 'automations', constraint = 'automations_flow_control_valid';
  end if;
  return new;
end;
$$;

--
-- Name: FUNCTION check_flow_control(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.check_flow_control() IS 'BEFORE INSERT/UPDATE on automations: refuses an invalid max_concurrency, concurrency_key or rate_limit with 23514.';

--
-- Name: check_trigger_config(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.check_trigger_config() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_problems text[] := automations_engine.trigger_config_problems(new.trigger_type, new.trigger_config);
begin
  -- Client apps save automations straight through PostgREST (supabase-js insert
  -- and update under RLS), so "checked when saved" has to happen in the database.
  -- This BEFORE trigger on public.automations refuses an invalid trigger_config
  -- with SQLSTATE 23514 (check_violation, answered as 400) and, where practical,
  -- the words of the TypeScript validator (shared/triggers/config.ts), which
  -- stays the source of truth at run time. Checked here:
  --   schedule  all of it: strict keys, cron, timezone, missed, max_catch_up;
  --   event     strict keys, table xor event, operations, and the filter: its
  --             size (16 KiB of JSON), shape, the changed shorthand, one
  --             operator per JsonLogic operation, known operators, var roots;
  --   webhook   all of it: content types, body size, the verify scheme and its
  --             options, captured headers, and the filter as for events (over
  --             payload and headers);
  --   manual    all of it.
  -- Only in TypeScript: JsonLogic arity (found by running the rule). Actions
  -- are checked by check_action().
  -- tests/validation/config_validation.test.ts runs one corpus through both
  -- languages and asserts they agree, known differences included.
  --
  -- It fires on insert and when trigger_type or trigger_config change, so a
  -- status change never trips over a config saved before this check existed.
  -- SECURITY DEFINER: the helpers it calls are not granted to API roles.
  if cardinality(v_problems) > 0 then
    raise exception using
      errcode = '23514',
      message = array_to_string(v_problems, '; '),
      detail = format('%s trigger_config %s', new.trigger_type, left(new.trigger_config::text, 500)),
      hint = case new.trigger_type
        when 'schedule' then 'schedule: {"cron": "*/5 * * * *", "timezone": "Europe/Berlin", "missed": "skip|once|all", "max_catch_up": 1..1000}'
        when 'event' then 'event: {"table": "deals", "operations": ["INSERT", "UPDATE"], "filter": {...}} or {"event": "invoice.paid", "filter": {...}}'
        when 'webhook' then 'webhook: {} or {"verify": {"scheme": "standard|github|stripe|slack|shopify|twilio|hmac|token", ...}, "headers": ["x-..."], "filter": {...}, "content_types": ["application/json"], "max_body_bytes": 1..1048576}; see docs/webhook-senders.md'
        else 'manual: {}' end,
      schema = 'public', table = 'automations', column = 'trigger_config', constraint = 'automations_trigger_config_valid';
  end if;
  return new;
end;
$$;

--
-- Name: FUNCTION check_trigger_config(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.check_trigger_config() IS 'BEFORE INSERT/UPDATE on automations: refuses an invalid trigger_config with 23514 and every problem found.';

--
-- Name: claim_runs(text, integer, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.claim_runs(p_worker text, p_limit integer DEFAULT 10, p_lease_seconds integer DEFAULT 60) RETURNS TABLE(id uuid, org_id uuid, automation_id uuid, automation_name text, attempt integer, trigger_type public.automation_trigger_type, trigger_payload jsonb, trigger_headers jsonb, actions jsonb, created_at timestamp with time zone, started_at timestamp with time zone, lease_expires_at timestamp with time zone, claim_token uuid)
    LANGUAGE plpgsql
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
#variable_conflict use_column
declare
  -- One token per call: it identifies the claim, and a batch is one claim.
  -- Random, not from a sequence or a transaction id: both can repeat after a
  -- crash that loses unflushed WAL.
  v_token uuid := gen_random_uuid();
  v_groups text[];    -- flow groups with due runs whose automation lock we hold
  v_orgs uuid[];      -- orgs with due runs that this claim considers
  v_ids uuid[];       -- due plain runs (statement 2), then the runs chosen
  v_id_orgs uuid[];
  v_run_ats timestamptz[];
  v_turns bigint[];
  v_backlog boolean;  -- candidates read per org (128 or more plain runs due, or one org)
  v_from uuid;
  v_first_org uuid;   -- lowest and highest org with pending plain runs
  v_last_org uuid;
  v_n integer;
  v_capped boolean;   -- some org considered has max_running_runs
begin
  -- Why the settings (measured with 1,000,000 runs of history; figures and
  -- profiles in docs/performance.md):
  --
  -- plan_cache_mode = force_generic_plan: one plan per backend. PL/pgSQL
  -- caches each statement's plan, but while a statement has parameters
  -- (p_limit, p_worker, ...) PostgreSQL plans it again on every call until a
  -- generic plan looks no worse, and for the claim it never did: planning
  -- against automation_runs' nine indexes cost more than running the
  -- statement (one due run, before the commit: 1.6 ms per call with fresh
  -- plans, 0.6 ms generic). A generic plan does not know p_limit, so it
  -- guesses 10 % of the due rows; joining that guess to automation_runs
  -- became a hash join over the whole table (drain of 20,000 runs: 3,600 ->
  -- 1,150 runs/s). The due ids are therefore looked up with
  -- `id = any (array(...))`, an index lookup per id whatever the estimate.
  --
  -- enable_seqscan = off: the generic plan is made once per backend, with the
  -- table's size at that moment. A worker that first claimed while the table
  -- was small (a fresh install, the webhook bench) got a sequential scan of
  -- automation_runs for the claimed ids and hash joins over every automation
  -- and snapshot, and kept them as the table grew: 2.9 ms per claim of about
  -- 8 runs at 40,000 runs in the webhook bench, against 0.2 ms for the
  -- primary key lookups. Every statement here reads a few rows by an index;
  -- the setting only removes the scan from the planner's choices.
  --
  -- synchronous_commit = off: a claim is the one write in a run's life that
  -- may be lost in a crash without harm (the run is simply pending again and
  -- the next claim takes it), so its commit returns as soon as the WAL is
  -- written to the OS, without waiting for the flush (1-4 ms on the bench
  -- VM's disk, more than the claim's own work). The worker's saves stay
  -- durable, and a save's flush also carries every earlier claim with it.
  -- A lost claim can be handed out again with the same attempt while the
  -- first worker, which already got its answer, is still running the run:
  -- the claim token tells them apart, since every worker write is fenced by
  -- attempt AND token (the first worker's writes are ignored, exactly like
  -- those of a worker whose lease expired).
  -- set_config(..., true) lasts until the end of the caller's transaction
  -- (the function's own SET clauses restore only their own settings), so it
  -- governs the claim's commit: call claim_runs in a transaction of its own,
  -- as the worker does (one statement, autocommit).
  --
  -- Cost, server time without the commit: 16 due runs 1.4-2.6 ms, 100 due
  -- runs 5.7-8.1 ms (about 50-70 us per run: each claimed run gets a new row
  -- version with six index entries, because status and started_at are
  -- indexed).
  perform set_config('synchronous_commit', 'off', true);

  -- Fair across orgs, and flow control (issue 16; docs/engine.md "The claim").
  -- Plain runs (automations without limits, flow_key null) are read by due
  -- time (automation_runs_due_idx) and, under a backlog, per org
  -- (automation_runs_org_due_idx); runs of limited automations per flow
  -- group (automation_runs_flow_due_idx), so neither one org's backlog nor a
  -- group held at its limit is stepped over run by run.
  --
  -- Statement 1: the flow groups with due runs, and for each the automation
  -- lock. Counting running runs (max_concurrency) or recent starts
  -- (rate_limit) and then claiming is a check-then-act: two claimers could
  -- both see one free slot. So a claimer must hold the automation's
  -- transaction-scoped advisory lock (namespace 16001) to claim any of its
  -- limited runs; a claimer that cannot get it skips the automation, as SKIP
  -- LOCKED skips a row (never waits, never deadlocks). The lock is released
  -- at commit, after the claimed runs are visible, and the counts are taken
  -- by a later statement, whose snapshot is newer than the lock: it sees
  -- every claim committed by the lock's previous holder. Without limited
  -- runs this is one index probe.
  with recursive grp as (
    (select d.flow_key from public.automation_runs d
      where d.status = 'pending' and d.flow_key is not null
      order by d.flow_key limit 1)
    union all
    select (select d.flow_key from public.automation_runs d
             where d.status = 'pending' and d.flow_key is not null and d.flow_key > g.flow_key
             order by d.flow_key limit 1)
      from grp g where g.flow_key is not null
  ), due as (
    select g.flow_key, left(g.flow_key, 36)::uuid as automation_id
      from grp g
     where g.flow_key is not null
       and exists (select 1 from public.automation_runs d
                    where d.status = 'pending' and d.flow_key = g.flow_key and d.run_at <= now())
  ), locked as (
    select a.automation_id
      from (select distinct due.automation_id from due) a
     where pg_try_advisory_xact_lock(16001, hashtext(a.automation_id::text))
  )
  select coalesce(array_agg(due.flow_key), '{}') into v_groups
    from due join locked using (automation_id);

  -- Statement 2: which orgs have pending plain runs, from both ends of
  -- automation_runs_org_due_idx (two probes). The same org at both ends (or
  -- none): at most one org can have due plain runs, and without limited
  -- groups the plain claim below is exactly fair. That is the common case
  -- of a drain (one org's backlog) and it skips statements 3 and 4.
  select (select d.org_id from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null
           order by d.org_id limit 1),
         (select d.org_id from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null
           order by d.org_id desc limit 1)
    into v_first_org, v_last_org;
  if v_first_org is null and cardinality(v_groups) = 0 then
    return;
  end if;
  if v_first_org is not distinct from v_last_org then
    -- (With limited groups too, statement 3 reads this org's due runs per
    -- org, as under a backlog.)
    v_orgs := case when v_first_org is null then '{}' else array[v_first_org] end;
    v_ids := '{}';
    v_backlog := true;
  else
    -- Statement 2a: the first 128 due plain runs by due time. Fewer than
    -- 128: they are every due plain run, and the claim ranks them as they
    -- are. 128 (a backlog): their orgs may not be every org with due runs,
    -- so the orgs come from statement 2b. A constant, not p_limit: the
    -- generic plan would guess a limit parameter at 10 % of the due rows.
    select coalesce(array_agg(d.id), '{}'), coalesce(array_agg(d.org_id), '{}'), coalesce(array_agg(d.run_at), '{}'),
           coalesce(array_agg(distinct d.org_id), '{}')
      into v_ids, v_id_orgs, v_run_ats, v_orgs
      from (select d.id, d.org_id, d.run_at from public.automation_runs d
             where d.status = 'pending' and d.flow_key is null and d.run_at <= now()
             order by d.run_at limit 128) d;
    v_backlog := cardinality(v_ids) = 128;
  end if;

  -- Statement 2b (backlog only): the orgs with due plain runs, by a skip
  -- scan over automation_runs_org_due_idx (org_id, run_at): one descent per
  -- org with pending runs, whose first entry is the org's earliest run, so
  -- "is it due" costs nothing more, however large the org's backlog. It
  -- starts at a random uuid and wraps around, 64 descents each way at most:
  -- with more orgs than that, uuid order does not decide which orgs are
  -- seen (each claim sees a random stretch; over claims, every org).
  if v_backlog and v_first_org is distinct from v_last_org then
    v_from := gen_random_uuid();
    with recursive up as (
      (select d.org_id, d.run_at, 1 as n from public.automation_runs d
        where d.status = 'pending' and d.flow_key is null and d.org_id >= v_from
        order by d.org_id, d.run_at limit 1)
      union all
      select x.org_id, x.run_at, u.n + 1
        from up u
        cross join lateral (
          select d.org_id, d.run_at from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null and d.org_id > u.org_id
           order by d.org_id, d.run_at limit 1) x
       where u.n < 64
    ), wrap as (
      (select d.org_id, d.run_at, 1 as n from public.automation_runs d
        where d.status = 'pending' and d.flow_key is null and d.org_id < v_from
        order by d.org_id, d.run_at limit 1)
      union all
      select x.org_id, x.run_at, w.n + 1
        from wrap w
        cross join lateral (
          select d.org_id, d.run_at from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null and d.org_id > w.org_id and d.org_id < v_from
           order by d.org_id, d.run_at limit 1) x
       where w.n < 64
    )
    select coalesce(array_agg(o.org_id), '{}') into v_orgs
      from (select up.org_id, up.run_at from up union all select wrap.org_id, wrap.run_at from wrap) o
     where o.run_at <= now();
  end if;
  if cardinality(v_orgs) = 0 and cardinality(v_groups) = 0 then
    return;
  end if;

  -- Add the orgs of the locked groups. An org with an operator cap
  -- (automation_settings.max_running_runs) is locked like a limited
  -- automation (namespace 16002, same check-then-act); an org whose lock
  -- another claimer holds is skipped this time.
  v_n := cardinality(v_orgs);
  select coalesce(array_agg(o.org_id), '{}'), bool_or(s.org_id is not null) into v_orgs, v_capped
    from (select unnest(v_orgs) as org_id
          union
          select a.org_id from public.automations a
           where a.id = any (array(select left(g, 36)::uuid from unnest(v_groups) g))) o
    left join public.automation_settings s on s.org_id = o.org_id and s.max_running_runs is not null
   where case when s.org_id is null then true
              else pg_try_advisory_xact_lock(16002, hashtext(o.org_id::text)) end;
  if cardinality(v_orgs) = 0 then
    return;
  end if;

  -- One org, no limited runs, no cap: the plain claim by due time, which is
  -- exactly fair (one org), at the cost of the claim before fairness.
  -- (Statement 2a/2b may also find just one org with due runs among several
  -- with pending ones: the same.)
  if cardinality(v_groups) = 0 and v_n = 1 and cardinality(v_orgs) = 1 and not coalesce(v_capped, false) then
    -- Every run in turn 1: statement 4 gives them the plain lease.
    v_ids := array(
      select d.id from public.automation_runs d
       where d.status = 'pending' and d.flow_key is null and d.run_at <= now()
       order by d.run_at
       limit p_limit
         for update skip locked);
    v_turns := array_fill(1::bigint, array[cardinality(v_ids)]);
  else
    -- Statement 3: choose and lock. Candidates: the due plain runs of
    -- statement 2 (or, under a backlog, each org's first 2 x p_limit: more
    -- than one claim takes, so concurrent claimers, which skip each other's
    -- locked rows, still fill their batches), and each locked group's first
    -- due runs up to its free slots (max_concurrency minus its running runs);
    -- then at most the free rate_limit slots per automation (limit minus runs
    -- started in the last period_seconds) and the free max_running_runs slots
    -- per org, in due order. A held-back run is never a candidate: it stays
    -- pending with its attempt unchanged.
    --
    -- The order across orgs is round-robin: an org's k-th candidate goes in
    -- turn k, and within a turn the org claimed least recently goes first.
    -- "Claimed least recently" is read from the org's running run with the
    -- latest lease (automation_runs_org_running_idx, one descent per org),
    -- nothing running first; and the lease of an org's k-th run in a claim is
    -- k-1 microseconds later than its first's, so an org that took 15 runs of
    -- the last batch ranks after one that took 1 of it. Counting each org's
    -- running runs instead cost a claim 1.5 ms with 5,000 runs running in 100
    -- orgs (docs/performance.md). So an org's share of the claims does not
    -- grow with what it has waiting: another org's first run goes before the
    -- flooding org's next one, even in a claim of one. Within an org the order
    -- is due time (run_at, then id).
    with orgs as materialized (
      select o.org_id,
             (select x.lease_expires_at from public.automation_runs x
               where x.status = 'running' and x.org_id = o.org_id
               order by x.lease_expires_at desc limit 1) as last_lease,
             case when v_capped then
               (select s.max_running_runs - (select count(*) from public.automation_runs x
                                              where x.status = 'running' and x.org_id = o.org_id)
                  from public.automation_settings s
                 where s.org_id = o.org_id and s.max_running_runs is not null)
             end as free
        from unnest(v_orgs) as o(org_id)
    ), plain as (
      select u.id, u.org_id, u.run_at
        from unnest(v_ids, v_id_orgs, v_run_ats) as u(id, org_id, run_at)
       where not v_backlog and u.org_id = any (v_orgs)
      union all
      select c.id, c.org_id, c.run_at
        from unnest(v_orgs) as o(org_id)
        cross join lateral (
          select d.id, d.org_id, d.run_at from public.automation_runs d
           where d.org_id = o.org_id and d.status = 'pending' and d.flow_key is null and d.run_at <= now()
           order by d.run_at, d.id
           limit p_limit * 2) c
       where v_backlog
    ), grp as (
      select g.flow_key, a.id as automation_id, a.org_id, a.rate_limit,
             case when a.max_concurrency is null then p_limit
                  else greatest(0, a.max_concurrency - (
                    select count(*) from public.automation_runs x
                     where x.status = 'running' and x.flow_key = g.flow_key))::integer
             end as slots
        from unnest(v_groups) as g(flow_key)
        join public.automations a on a.id = left(g.flow_key, 36)::uuid
       where a.org_id = any (v_orgs)
    ), limited as (
      select c.id, c.org_id, c.run_at, g.automation_id,
             row_number() over (partition by g.automation_id order by c.run_at, c.id) as nth
        from grp g
        cross join lateral (
          select d.id, d.org_id, d.run_at from public.automation_runs d
           where d.flow_key = g.flow_key and d.status = 'pending' and d.run_at <= now()
           order by d.run_at, d.id
           limit least(p_limit, g.slots)) c
       where g.slots > 0
    ), rate as (
      select a.id as automation_id,
             case when a.rate_limit is null then p_limit
                  else greatest(0, (a.rate_limit ->> 'limit')::integer - (
                    select count(*) from public.automation_runs x
                     where x.automation_id = a.id and x.flow_key is not null
                       and x.started_at > now() - make_interval(secs => (a.rate_limit ->> 'period_seconds')::integer)))::integer
             end as slots
        from public.automations a
       where a.id = any (array(select distinct l.automation_id from limited l))
    ), cand as (
      select p.id, p.org_id, p.run_at from plain p
      union all
      select l.id, l.org_id, l.run_at from limited l
        join rate on rate.automation_id = l.automation_id
       where l.nth <= rate.slots
    ), ranked as (
      select c.id, c.run_at, o.last_lease, o.free,
             row_number() over (partition by c.org_id order by c.run_at, c.id) as turn
        from cand c
        join orgs o on o.org_id = c.org_id
    )
    -- The first 4 x p_limit in that order are locked (SKIP LOCKED: rows
    -- another claimer holds are passed over) and the first p_limit taken;
    -- only those candidates are read from the table (status rechecked under
    -- the lock), not every candidate.
    select coalesce(array_agg(t.id), '{}'), coalesce(array_agg(t.turn), '{}') into v_ids, v_turns
      from (select d.id, k.turn
              from (select k.id, k.turn, k.last_lease, k.run_at from ranked k
                     where k.free is null or k.turn <= k.free
                     order by k.turn, k.last_lease nulls first, k.run_at, k.id
                     limit p_limit * 4) k
              join public.automation_runs d on d.id = k.id
             where d.status = 'pending'
             order by k.turn, k.last_lease nulls first, k.run_at, k.id
             limit p_limit
               for update of d skip locked) t;
  end if;
  if cardinality(v_ids) = 0 then
    return;
  end if;

  -- Statement 4: the claim of the chosen runs, with the turn in the lease.
  return query
    with claimed as (
      update public.automation_runs r
         set status = 'running',
             attempt = r.attempt + 1,
             started_at = coalesce(r.started_at, now()),
             lease_expires_at = now() + make_interval(secs => p_lease_seconds)
                                + make_interval(secs => (v_turns[array_position(v_ids, r.id)] - 1) / 1e6),
             locked_by = p_worker,
             claim_token = v_token
       where r.id = any (v_ids)
      returning r.id, r.org_id, r.automation_id, r.attempt, r.trigger_type, r.trigger_payload, r.trigger_headers,
                r.version_id, r.created_at, r.started_at, r.lease_expires_at, r.run_at, r.restricted
    )
    -- A restricted run's real payload is in automation_run_payloads (its row
    -- holds a redaction marker); the join is skipped for the others.
    select c.id, c.org_id, c.automation_id, a.name, c.attempt, c.trigger_type,
           coalesce(p.payload, c.trigger_payload), c.trigger_headers,
           coalesce(v.actions, '[]'::jsonb), c.created_at, c.started_at, c.lease_expires_at, v_token
      from claimed c
      join public.automations a on a.id = c.automation_id
      left join public.automation_versions v on v.id = c.version_id
      left join public.automation_run_payloads p on c.restricted and p.run_id = c.id
     order by c.run_at, c.id;
end;
$$;

--
-- Name: FUNCTION claim_runs(p_worker text, p_limit integer, p_lease_seconds integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.claim_runs(p_worker text, p_limit integer, p_lease_seconds integer) IS 'Claims up to p_limit due pending runs (FOR UPDATE SKIP LOCKED), fair across orgs (round-robin, the org claimed least recently first; due order within an org) and within max_concurrency, rate_limit and the org''s max_running_runs: running, attempt+1, lease and a new claim token set; commits without waiting for the WAL flush. Returns them with their snapshot and the token.';

--
-- Name: concurrency_value(text, public.automation_trigger_type, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.concurrency_value(p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
declare
  v_out text := p_key;
  v_trigger jsonb := jsonb_build_object('type', p_trigger_type, 'payload', coalesce(p_payload, '{}'::jsonb));
  m text[];
  v_value jsonb;
begin
  -- Each placeholder becomes the trigger value at its path: a string as it
  -- is, any other JSON value as its JSON text, a missing path as ''. So runs
  -- whose payload lacks the key share one group (one limit). A value longer
  -- than 200 characters is replaced by its md5, to keep index entries small.
  for m in
    select regexp_matches(p_key, '(\{\{\s*trigger\.((payload)(\.[A-Za-z0-9_$-]+)*|type)\s*\}\})', 'g')
  loop
    v_value := v_trigger #> string_to_array(m[2], '.');
    v_out := replace(v_out, m[1],
      case when v_value is null or jsonb_typeof(v_value) = 'null' then ''
           when jsonb_typeof(v_value) = 'string' then v_value #>> '{}'
           else v_value::text end);
  end loop;
  if length(v_out) > 200 then
    v_out := 'md5:' || md5(v_out);
  end if;
  return v_out;
end;
$_$;

--
-- Name: FUNCTION concurrency_value(p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.concurrency_value(p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb) IS 'A concurrency_key evaluated against a trigger: placeholders replaced by the trigger''s values (missing = ''''); md5 when over 200 characters.';

--
-- Name: condition_problems(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.condition_problems(p_condition jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
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
$_$;

--
-- Name: FUNCTION condition_problems(p_condition jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.condition_problems(p_condition jsonb) IS 'Problems of an action''s condition (shape, operators, var roots, size), each starting with its path; empty when usable.';

--
-- Name: count_finished_runs(uuid[], timestamp with time zone[]); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.count_finished_runs(p_automation_ids uuid[], p_started_at timestamp with time zone[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v record;
begin
  -- run_count / last_run_at: bumped in the same transaction as a run's final
  -- state. One update per automation (not per run) and in automation id order,
  -- so callers finishing many runs at once neither deadlock nor lose counts.
  -- last_run_at is the start of the most recent finished run.
  for v in
    select t.automation_id, count(*)::int as n, max(t.started_at) as at
      from unnest(p_automation_ids, p_started_at) as t(automation_id, started_at)
     group by t.automation_id
     order by t.automation_id
  loop
    update public.automations a
       set run_count = a.run_count + v.n,
           last_run_at = greatest(a.last_run_at, v.at)
     where a.id = v.automation_id;
  end loop;
end;
$$;

--
-- Name: FUNCTION count_finished_runs(p_automation_ids uuid[], p_started_at timestamp with time zone[]); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.count_finished_runs(p_automation_ids uuid[], p_started_at timestamp with time zone[]) IS 'Adds finished runs to their automations'' run_count and last_run_at, one ordered update per automation.';

--
-- Name: cron_field(text, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.cron_field(p_name text, p_value text, OUT problem text, OUT vals text[]) RETURNS record
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
declare
  v text := p_value;
  v_lo int;
  v_hi int;
  v_names text[];
  v_m text[];
  v_i int;
  v_atom text;
  v_parts text[];
  v_range text[];
  v_step numeric;
  v_a int;
  v_b int;
  v_local int[];
begin
  vals := '{}';
  select b.lo, b.hi into v_lo, v_hi
    from (values ('minute', 0, 59), ('hour', 0, 23), ('day-of-month', 1, 31), ('month', 1, 12), ('day-of-week', 0, 7))
         as b(name, lo, hi)
   where b.name = p_name;
  -- Every run of three letters is a name, replaced by its number (as cron-parser does).
  v_names := case p_name when 'month' then '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}'::text[]
                         when 'day-of-week' then '{sun,mon,tue,wed,thu,fri,sat}'::text[] end;
  while v_names is not null loop
    v_m := regexp_match(v, '[A-Za-z]{3}');
    exit when v_m is null;
    v_i := array_position(v_names, lower(v_m[1]));
    if v_i is null then
      problem := format('%s: unknown name "%s"', p_name, v_m[1]);
      return;
    end if;
    v := regexp_replace(v, '[A-Za-z]{3}', (v_i - case p_name when 'month' then 0 else 1 end)::text);
  end loop;
  if strpos(v, 'H') > 0 then
    problem := 'hashed values (H) are not supported';
    return;
  end if;
  if v !~ (case p_name when 'day-of-month' then '^[?,*0-9L/-]+$' when 'day-of-week' then '^[?,*0-9L#/-]+$'
                       else '^[?,*0-9/-]+$' end) then
    problem := format('%s: invalid characters in "%s"', p_name, p_value);
    return;
  end if;
  -- * and ? stand for the whole range only as a whole list item (optionally with a step).
  v := regexp_replace(v, '(^|,)[*?](?=/|,|$)', '\1' || v_lo || '-' || v_hi, 'g');
  if v ~ '[*?]' then
    problem := format('%s: * and ? must be a whole list item (optionally with /step) in "%s"', p_name, p_value);
    return;
  end if;
  foreach v_atom in array string_to_array(v, ',') loop
    if v_atom = '' then
      problem := format('%s: empty list item in "%s"', p_name, p_value);
      return;
    end if;
    v_parts := string_to_array(v_atom, '/');
    if cardinality(v_parts) > 2 then
      problem := format('%s: more than one / in "%s"', p_name, v_atom);
      return;
    elsif cardinality(v_parts) = 2 then
      if v_parts[2] !~ '^[0-9]+$' or v_parts[2]::numeric = 0 then
        problem := format('%s: the step after / must be a positive integer, got "%s"', p_name, v_parts[2]);
        return;
      end if;
      v_step := v_parts[2]::numeric;
      v_range := string_to_array(case when strpos(v_parts[1], '-') = 0 then v_parts[1] || '-' || v_hi else v_parts[1] end, '-');
    else
      v_step := 1;
      v_range := string_to_array(v_atom, '-');
    end if;
    if cardinality(v_range) = 1 then
      if v_atom ~ '^[0-9]+$' then
        if v_atom::numeric < v_lo or v_atom::numeric > v_hi then
          problem := format('%s %s is out of range %s-%s', p_name, v_atom, v_lo, v_hi);
          return;
        end if;
        -- A lone 7 is Sunday (0); inside a range 7 stays 7, as in cron-parser.
        vals := vals || (case when p_name = 'day-of-week' then v_atom::int % 7 else v_atom::int end)::text;
      elsif strpos(v_atom, 'L') > 0 then
        vals := vals || v_atom; -- L forms, checked by cron_problem
      else
        problem := format('%s: "%s" is not a value', p_name, v_atom);
        return;
      end if;
    elsif cardinality(v_range) > 2 or v_range[1] !~ '^[0-9]+$' or v_range[2] !~ '^[0-9]+$' then
      problem := format('%s: "%s" is not a range (n-m)', p_name, v_atom);
      return;
    elsif v_range[1]::numeric < v_lo or v_range[2]::numeric > v_hi then
      problem := format('%s range %s-%s is out of range %s-%s', p_name, v_range[1], v_range[2], v_lo, v_hi);
      return;
    elsif v_range[1]::int > v_range[2]::int then
      problem := format('%s range %s-%s runs backwards', p_name, v_range[1], v_range[2]);
      return;
    else
      v_a := v_range[1]::int;
      v_b := v_range[2]::int;
      v_local := '{}';
      if p_name = 'day-of-week' and v_b % 7 = 0 and (v_b - v_a) % v_step = 0 then
        v_local := array[0];
      end if;
      for v_i in v_a .. v_b by least(v_step, 100)::int loop
        if not v_i = any (v_local) then
          v_local := v_local || v_i;
        end if;
      end loop;
      vals := vals || v_local::text[];
    end if;
  end loop;
end;
$_$;

--
-- Name: FUNCTION cron_field(p_name text, p_value text, OUT problem text, OUT vals text[]); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.cron_field(p_name text, p_value text, OUT problem text, OUT vals text[]) IS 'Parses one cron field as cron-parser does: its values (numbers as text, L forms as written) or a problem.';

--
-- Name: cron_problem(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.cron_problem(p_cron text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
-- Cron. Mirrors cron-parser 5.10 as shared/triggers/schedule_times.ts uses it:
-- five fields or a macro; per item *, ?, n, n-m, each with /step; names
-- JAN-DEC and SUN-SAT (any case); day-of-week 7 = Sunday, nL (last weekday n
-- of the month), n#k (k-th weekday n, k 1-5); day-of-month L; a value listed
-- twice is an error, as in cron-parser. Stricter than TypeScript on purpose:
-- H anywhere (cron-parser would pick a random value) and # with anything but
-- digits 1-5 after it (cron-parser reads "1#2.0" or "1#0x2" as numbers).
-- Measured: 50,000 fuzzed expressions (field-by-field and whole) got the same
-- verdict here and from cronProblem(), except the H cases above.
declare
  c_ws constant text := '[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+';
  c_macros constant text[] := '{@yearly,@annually,@monthly,@weekly,@daily,@hourly}';
  c_days constant int[] := '{31,29,31,30,31,30,31,31,30,31,30,31}';
  c_names constant text[] := '{minute,hour,day-of-month,month,day-of-week}';
  v_prefix constant text := format('invalid cron %s: ', to_jsonb(p_cron)::text);
  v_text text := automations_engine.js_trim(p_cron);
  v_fields text[];
  v_dow text;
  v_hash text[];
  v_field record;
  v_i int;
  v_dom text[];
  v_kept text[];
  v_bad text;
begin
  if left(v_text, 1) = '@' then
    return case when v_text = any (c_macros) then null
                else v_prefix || 'unknown macro (supported: ' || array_to_string(c_macros, ', ') || ')' end;
  end if;
  v_fields := case when v_text = '' then '{}' else regexp_split_to_array(v_text, c_ws) end;
  if cardinality(v_fields) <> 5 then
    return v_prefix || format('expected 5 fields (minute hour day-of-month month day-of-week), got %s%s',
      cardinality(v_fields), case when cardinality(v_fields) = 6 then '; a seconds field is not supported' else '' end);
  end if;
  if exists (select 1 from unnest(v_fields) f where f ~ '(^|,)[Hh]([^A-Za-z]|$)') then
    return v_prefix || 'hashed values (H) are not supported';
  end if;
  if length(v_text) > 1024 then
    return v_prefix || 'longer than 1024 characters';
  end if;
  -- n#k: the k-th weekday n of the month; nothing else may share the field.
  v_dow := v_fields[5];
  if strpos(v_dow, '#') > 0 then
    v_hash := string_to_array(v_dow, '#');
    if v_dow ~ '[,/L-]' then
      return v_prefix || 'day-of-week: # cannot be combined with , - / or L';
    elsif cardinality(v_hash) > 2 or v_hash[2] !~ '^0*[1-5]$' then
      return v_prefix || format('day-of-week: the occurrence after # must be 1-5 in "%s"', v_dow);
    end if;
    v_dow := v_hash[1];
  end if;
  for v_i in 1 .. 5 loop
    select * into v_field from automations_engine.cron_field(c_names[v_i], case when v_i = 5 then v_dow else v_fields[v_i] end);
    if v_field.problem is not null then
      return v_prefix || v_field.problem;
    end if;
    -- A day-of-month beyond a single month's length is dropped (unless that leaves none).
    if v_i = 3 then
      v_dom := v_field.vals;
    elsif v_i = 4 and cardinality(v_field.vals) = 1 then
      v_kept := array(select d from unnest(v_dom) d where d !~ '^[0-9]+$' or d::int <= c_days[v_field.vals[1]::int]);
      v_dom := case when cardinality(v_kept) > 0 then v_kept else v_dom end;
    end if;
    select d into v_bad from unnest(case when v_i = 3 then null else v_field.vals end) d group by d having count(*) > 1 limit 1;
    if v_bad is not null then
      return v_prefix || format('%s: %s is listed twice', c_names[v_i], v_bad);
    end if;
    if v_i = 4 then
      select d into v_bad from unnest(v_dom) d group by d having count(*) > 1 limit 1;
      if v_bad is not null then
        return v_prefix || format('day-of-month: %s is listed twice', v_bad);
      end if;
      select d into v_bad from unnest(v_dom) d where d !~ '^[0-9]+$' and d <> 'L' limit 1;
      if v_bad is not null then
        return v_prefix || format('day-of-month: "%s" is not a day (1-31 or L)', v_bad);
      end if;
      -- With day-of-week "*" the day of month must exist in one of the months.
      if strpos(v_fields[3], 'L') = 0 and v_fields[5] in ('*', '?')
         and (select min(d::int) from unnest(v_dom) d) > (select max(c_days[m::int]) from unnest(v_field.vals) m) then
        return v_prefix || format('day-of-month %s never occurs in month %s', (select min(d::int) from unnest(v_dom) d), v_fields[4]);
      end if;
    end if;
    if v_i = 5 then
      select d into v_bad from unnest(v_field.vals) d where d !~ '^[0-9]+$' and d !~ '^[0-7]L$' limit 1;
      if v_bad is not null then
        return v_prefix || format('day-of-week: "%s" is not a weekday (0-7, or nL for the last weekday n of the month)', v_bad);
      end if;
    end if;
  end loop;
  return null;
end;
$_$;

--
-- Name: FUNCTION cron_problem(p_cron text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.cron_problem(p_cron text) IS 'Why a cron expression is not an acceptable schedule (quoting it, as cronProblem() in schedule_times.ts), or null when it is fine.';

--
-- Name: enqueue(uuid, public.automation_trigger_type, jsonb, text, timestamp with time zone, boolean, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.enqueue(p_automation_id uuid, p_trigger_type public.automation_trigger_type, p_payload jsonb DEFAULT '{}'::jsonb, p_idempotency_key text DEFAULT NULL::text, p_run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_allow_draft boolean DEFAULT false, p_headers jsonb DEFAULT NULL::jsonb) RETURNS TABLE(run_id uuid, created boolean)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_auto record;
  v_id uuid;
  v_chain record;
begin
  select a.id, a.org_id, a.status, a.current_version_id, a.max_attempts,
         automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit, p_trigger_type, p_payload) as flow_key
    into v_auto
    from public.automations a
   where a.id = p_automation_id;
  if not found then
    raise exception 'automation % not found', p_automation_id using errcode = 'P0002';
  end if;
  if not (v_auto.status = 'active' or (p_allow_draft and v_auto.status = 'draft')) then
    raise exception 'automation % is %, not active', p_automation_id, v_auto.status
      using errcode = '55000', hint = 'Set its status to active to let triggers start it.';
  end if;

  -- Set off by another run (its write or signed call back: automations.caused_by)?
  -- Its chain's root and depth, from that run's row; 54000 past the budget.
  select c.root_run_id, c.chain_depth into v_chain from automations_engine.chain_admit(v_auto.org_id, v_auto.id) c;

  -- A unique constraint, not check-then-insert: concurrent duplicates wait for
  -- the first insert and then find its row.
  insert into public.automation_runs
    (org_id, automation_id, trigger_type, trigger_payload, trigger_headers, idempotency_key, version_id, max_attempts, run_at,
     root_run_id, chain_depth, flow_key)
  values
    (v_auto.org_id, v_auto.id, p_trigger_type, coalesce(p_payload, '{}'::jsonb), p_headers, p_idempotency_key,
     v_auto.current_version_id, v_auto.max_attempts, coalesce(p_run_at, now()), v_chain.root_run_id, v_chain.chain_depth,
     v_auto.flow_key)
  on conflict (automation_id, idempotency_key) do nothing
  returning id into v_id;

  if v_id is not null then
    -- Wake listening workers only when the queue was empty: with other due
    -- runs waiting, a worker is either busy (it claims again as soon as it
    -- has room, until a claim comes back short) or was already woken for
    -- them. Skipping the NOTIFY keeps bursts of enqueues from committing one
    -- at a time behind NOTIFY's cluster-wide commit lock. Worst case (an
    -- idle worker racing a concurrent enqueue) is one poll interval. Only a
    -- run the claim would take counts as waiting: runs of limited
    -- automations (flow_key set) never do, and a plain run only when its org
    -- is not at its max_running_runs (the first due one is checked, one
    -- probe; if its org is at its cap, this notifies): a held-back backlog
    -- must not keep workers asleep.
    if coalesce(p_run_at, now()) <= now()
       and not exists (
         select 1
           from (select r.org_id from public.automation_runs r
                  where r.status = 'pending' and r.flow_key is null and r.run_at <= now() and r.id <> v_id
                  order by r.run_at limit 1) f
          where not automations_engine.org_at_cap(f.org_id)) then
      perform pg_notify('automation_runs', v_id::text);
    end if;
    return query select v_id, true;
  else
    return query
      select r.id, false from public.automation_runs r
       where r.automation_id = p_automation_id and r.idempotency_key = p_idempotency_key;
  end if;
end;
$$;

--
-- Name: FUNCTION enqueue(p_automation_id uuid, p_trigger_type public.automation_trigger_type, p_payload jsonb, p_idempotency_key text, p_run_at timestamp with time zone, p_allow_draft boolean, p_headers jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.enqueue(p_automation_id uuid, p_trigger_type public.automation_trigger_type, p_payload jsonb, p_idempotency_key text, p_run_at timestamp with time zone, p_allow_draft boolean, p_headers jsonb) IS 'Creates a pending run of an active automation with its current snapshot (and, for webhooks, the request headers it keeps); the same idempotency key returns the existing run. A run caused by another run (automations.caused_by) joins its chain (root_run_id, chain_depth) or is refused with 54000 (chain_admit). Notifies automation_runs when the due queue was empty.';

--
-- Name: enqueue_schedule(uuid, timestamp with time zone[]); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.enqueue_schedule(p_automation_id uuid, p_fire_times timestamp with time zone[]) RETURNS TABLE(run_id uuid, created boolean)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_at timestamptz;
begin
  foreach v_at in array p_fire_times loop
    return query
      select e.run_id, e.created
        from automations_engine.enqueue(
          p_automation_id, 'schedule',
          jsonb_build_object('scheduled_at', to_jsonb(v_at)),
          'schedule:' || to_char(v_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) e;
  end loop;
  update automations_engine.schedule_state s
     set last_fire_at = greatest(s.last_fire_at, (select max(t) from unnest(p_fire_times) t)),
         updated_at = now()
   where s.automation_id = p_automation_id;
end;
$$;

--
-- Name: FUNCTION enqueue_schedule(p_automation_id uuid, p_fire_times timestamp with time zone[]); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.enqueue_schedule(p_automation_id uuid, p_fire_times timestamp with time zone[]) IS 'One run per fire time (idempotency key schedule:<UTC time>), then advances last_fire_at.';

--
-- Name: extend_lease(uuid, integer, uuid, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer DEFAULT 60) RETURNS boolean
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  update public.automation_runs
     set lease_expires_at = now() + make_interval(secs => p_lease_seconds)
   where id = p_run_id and attempt = p_attempt and claim_token = p_claim_token and status = 'running'
  returning true
$$;

--
-- Name: FUNCTION extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer) IS 'Heartbeat: keeps a long step''s run leased to its worker. False when the claim (attempt + token) is stale.';

--
-- Name: fill_client_flow_key(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.fill_client_flow_key() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- Runs inserted directly by clients (no snapshot yet; fill_run_defaults
  -- completes them) get their flow group here, so a client insert cannot
  -- bypass the automation's limits. SECURITY DEFINER: flow_key() is not
  -- granted to API roles. The engine's own inserts bring their flow_key.
  select automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit,
                                     coalesce(new.trigger_type, 'manual'), new.trigger_payload)
    into new.flow_key
    from public.automations a where a.id = new.automation_id;
  return new;
end;
$$;

--
-- Name: FUNCTION fill_client_flow_key(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.fill_client_flow_key() IS 'BEFORE INSERT on automation_runs without a snapshot (client inserts): sets flow_key from the automation''s limits.';

--
-- Name: fill_run_defaults(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.fill_run_defaults() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_auto record;
begin
  -- Runs inserted directly by clients (the seed lets members insert runs) are
  -- manual runs: fill in the snapshot and retry policy so the engine can run them.
  -- SECURITY INVOKER on purpose: current_user tells a client insert (checked)
  -- from the engine's own (which always brings its snapshot).
  if new.version_id is not null then
    return new;
  end if;
  select a.status, a.current_version_id, a.max_attempts into v_auto
    from public.automations a where a.id = new.automation_id;
  -- An allowlist like caller_is_service(): any API role (anon, authenticated
  -- or a project's own) is checked, only the service and owner roles are not.
  if found and not coalesce((select ro.rolsuper or ro.rolname in ('service_role', 'postgres', 'supabase_admin')
                               from pg_catalog.pg_roles ro where ro.rolname = current_user), false)
     and v_auto.status not in ('active', 'draft') then
    raise exception 'automation % is %; only active or draft automations can run', new.automation_id, v_auto.status
      using errcode = '55000';
  end if;
  new.version_id := v_auto.current_version_id;
  new.max_attempts := coalesce(v_auto.max_attempts, new.max_attempts);
  new.trigger_type := coalesce(new.trigger_type, 'manual');
  return new;
end;
$$;

--
-- Name: FUNCTION fill_run_defaults(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.fill_run_defaults() IS 'BEFORE INSERT on automation_runs: a run inserted without a snapshot gets the automation''s current one.';

--
-- Name: filter_args(jsonb, jsonb, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_args(p_args jsonb, p_data jsonb, p_budget integer) RETURNS automations_engine.filter_step
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
declare
  v_r automations_engine.filter_step;
begin
  -- Arguments of an eager operator, always as an array (coerceArray). One
  -- that throws makes the operator throw, as in JavaScript.
  if jsonb_typeof(p_args) = 'array' then
    return automations_engine.filter_eval(p_args, p_data, p_budget);
  elsif jsonb_typeof(p_args) = 'object' then
    v_r := automations_engine.filter_eval(p_args, p_data, p_budget);
    if v_r.result is null or jsonb_typeof(v_r.result) = 'array' then return v_r; end if;
    return (jsonb_build_array(v_r.result), v_r.budget);
  end if;
  return (jsonb_build_array(p_args), p_budget);
end;
$$;

--
-- Name: FUNCTION filter_args(p_args jsonb, p_data jsonb, p_budget integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_args(p_args jsonb, p_data jsonb, p_budget integer) IS 'Evaluated arguments of an eager JsonLogic operator, as an array, with the budget left (filter_eval); NULL when one throws.';

--
-- Name: filter_check(jsonb, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_check(p_rule jsonb, p_path text DEFAULT 'filter'::text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $_$
declare
  v_keys jsonb;
  v_op text;
  v_args jsonb;
  v_problem text;
begin
  -- Fast path, once per rule: every key of every object is a supported
  -- operator (no preserve, whose data may hold any keys), each object has
  -- one key, no comparison has more than 3 arguments. jsonpath walks the
  -- tree without a query per node; the walk below then only finds the message.
  if p_path = 'filter' then
    v_keys := jsonb_path_query_array(p_rule, 'strict $.** ? (@.type() == "object").keyvalue().key');
    if v_keys <@ '["var", "missing", "missing_some", "if", "?:", "??", "and", "or", "!", "not", "!!",
                   "==", "===", "!=", "!==", "<", "<=", ">", ">=", "in"]'::jsonb
       and jsonb_array_length(v_keys) = jsonb_array_length(jsonb_path_query_array(
             p_rule, 'strict $.** ? (@.type() == "object" && exists(@.*)).type()'))
       and not jsonb_path_exists(p_rule, 'strict $.** ? (@.type() == "object").keyvalue()
             ? (@.key like_regex "^[=!<>]" && @.value.type() == "array" && @.value.size() > 3)') then
      return null;
    end if;
  end if;
  if jsonb_typeof(p_rule) = 'array' then
    for i in 0 .. jsonb_array_length(p_rule) - 1 loop
      v_problem := automations_engine.filter_check(p_rule -> i, p_path || '[' || i || ']');
      if v_problem is not null then return v_problem; end if;
    end loop;
    return null;
  end if;
  if jsonb_typeof(p_rule) is distinct from 'object' or p_rule = '{}'::jsonb then return null; end if;
  v_keys := jsonb_path_query_array(p_rule, '$.keyvalue().key');
  if jsonb_array_length(v_keys) <> 1 then
    return p_path || ': a JsonLogic operation has exactly one key, the operator';
  end if;
  v_op := v_keys ->> 0;
  v_args := p_rule -> v_op;
  if v_op = 'preserve' then return null; end if;  -- its argument is data
  if v_op <> all (array['var', 'missing', 'missing_some', 'if', '?:', '??', 'and', 'or', '!', 'not', '!!',
                        '==', '===', '!=', '!==', '<', '<=', '>', '>=', 'in']) then
    return format('%s: operator "%s" is not supported in filters of table events (they are evaluated in SQL); '
                  'use var, missing, missing_some, preserve, if, ??, and, or, !, !!, ==, ===, !=, !==, <, <=, >, >=, in',
                  p_path, v_op);
  end if;
  if v_op in ('==', '===', '!=', '!==', '<', '<=', '>', '>=') and jsonb_typeof(v_args) = 'array'
     and jsonb_array_length(v_args) > 3 then
    return format('%s.%s: a comparison takes 2 or 3 arguments', p_path, v_op);
  end if;
  return automations_engine.filter_check(v_args, p_path || '.' || v_op);
end;
$_$;

--
-- Name: FUNCTION filter_check(p_rule jsonb, p_path text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_check(p_rule jsonb, p_path text) IS 'First reason the SQL evaluator cannot run a JsonLogic rule (unsupported operator, shape), or NULL.';

--
-- Name: filter_compare(text, jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_compare(p_op text, a jsonb, b jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
declare
  v_ta text := jsonb_typeof(a);
  v_tb text := jsonb_typeof(b);
  na double precision;
  nb double precision;
begin
  if a is null or b is null then return null; end if;
  if p_op in ('===', '!==') then
    return (p_op = '===') = automations_engine.filter_strict_eq(a, b);
  end if;
  if v_ta in ('string', 'null') and v_tb in ('string', 'null') then
    if p_op in ('==', '!=') then return (p_op = '==') = (a = b); end if;
    if v_ta = 'string' and v_tb = 'string' then
      -- JavaScript compares strings by code unit; "C" compares by code point.
      return case p_op when '<' then (a #>> '{}') < (b #>> '{}') collate "C"
                       when '<=' then (a #>> '{}') <= (b #>> '{}') collate "C"
                       when '>' then (a #>> '{}') > (b #>> '{}') collate "C"
                       else (a #>> '{}') >= (b #>> '{}') collate "C" end;
    end if;
  else
    -- json-logic-engine: anything else compares as numbers, and an object,
    -- array or non-numeric text throws (NULL) instead of being coerced.
    if v_ta in ('object', 'array') or automations_engine.filter_number(a) is null then return null; end if;
    if v_tb in ('object', 'array') then return null; end if;
    if automations_engine.filter_number(b) is null and v_ta <> 'null' then return null; end if;
  end if;
  na := automations_engine.filter_number(a);
  nb := automations_engine.filter_number(b);
  return coalesce(case p_op when '==' then na = nb when '!=' then na <> nb when '<' then na < nb
                            when '<=' then na <= nb when '>' then na > nb when '>=' then na >= nb end,
                  p_op = '!=');
end;
$$;

--
-- Name: FUNCTION filter_compare(p_op text, a jsonb, b jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_compare(p_op text, a jsonb, b jsonb) IS 'One JsonLogic comparison as json-logic-engine computes it; NULL when JavaScript would throw.';

--
-- Name: filter_double(numeric); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_double(p numeric) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  -- Out-of-range values become what JavaScript makes of them, never an error.
  select case when abs(p) > 1.7976931348623157e308 then sign(p) * 'Infinity'::double precision
              when abs(p) <= 2.4703282292062328e-324 then 0::double precision
              else p::double precision end
$$;

--
-- Name: FUNCTION filter_double(p numeric); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_double(p numeric) IS 'numeric to double as JavaScript rounds it: overflow is ±Infinity, underflow 0, never an error.';

--
-- Name: filter_eval(jsonb, jsonb, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_eval(p_rule jsonb, p_data jsonb, p_budget integer) RETURNS automations_engine.filter_step
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $_$
declare
  v_op text;
  v_args jsonb;
  v_n int;
  v_a jsonb;
  v_b jsonb;
  v_list jsonb;
  v_items jsonb[] := '{}';
  v_path text;
  v_part text;
  v_cmp boolean;
  v_r automations_engine.filter_step;
  -- This node's step; the rest of the budget goes to the children in turn.
  v_left integer := p_budget - 1;
  i int := 0;
begin
  -- Values are JavaScript's: SQL NULL stands for JavaScript's undefined / NaN /
  -- "this threw"; JSON null is 'null'::jsonb. Numbers are doubles, as in
  -- JavaScript.
  --
  -- Work budget: filters are written by members and run inside other
  -- people's writes, so one evaluation may spend only p_budget steps: 1 per
  -- node of the rule, plus the size of what `var` reads (filter_size), the
  -- characters of a computed path, the items `in` scans and the keys
  -- `missing` checks. The rule has no loops, so each node runs at most once,
  -- and the steps bound the work: nodes x data otherwise (300 `in`s over a
  -- 10,000-item column took 12 s). A step is 1 to 4 us of work. Once the
  -- budget is negative every call returns (NULL, budget) at once;
  -- filter_matches turns that into an error.
  --
  -- Cost: the trigger runs on every write of an attached table, so the helpers
  -- are small SQL functions PostgreSQL can inline into the evaluator's cached
  -- plans. They have no `set search_path` for that reason (a SET clause
  -- prevents inlining and costs a GUC save/restore per call); every name in
  -- them is schema-qualified, and only the service and the entry points
  -- (filter_matches and automations_table_event, which pin search_path = '')
  -- call them.
  if v_left < 0 then return (null::jsonb, v_left); end if;
  if jsonb_typeof(p_rule) = 'array' then
    -- Collected in a jsonb[] (appended in place) and converted once: appending
    -- to a jsonb array copies it each time, quadratic in a long literal list.
    for j in 0 .. jsonb_array_length(p_rule) - 1 loop
      v_r := automations_engine.filter_eval(p_rule -> j, p_data, v_left);
      if v_r.result is null then return v_r; end if;
      v_left := v_r.budget;
      v_items := v_items || v_r.result;
    end loop;
    return (to_jsonb(v_items), v_left);
  end if;
  if jsonb_typeof(p_rule) is distinct from 'object' or p_rule = '{}'::jsonb then
    return (p_rule, v_left);
  end if;
  -- One key, the operator (filter_check made sure). jsonpath keeps this a
  -- simple expression: no query per node.
  v_op := jsonb_path_query_first(p_rule, '$.keyvalue().key') #>> '{}';
  v_args := p_rule -> v_op;
  v_n := case when jsonb_typeof(v_args) = 'array' then jsonb_array_length(v_args) end;

  if v_op = 'preserve' then
    return (v_args, v_left);
  elsif v_op = 'var' then
    if jsonb_typeof(v_args) in ('array', 'object') then
      v_r := automations_engine.filter_eval(v_args, p_data, v_left);
      if v_r.result is null then return v_r; end if;
      v_a := v_r.result;
      v_left := v_r.budget;
    else
      v_a := v_args;
    end if;
    if jsonb_typeof(v_a) = 'array' then
      v_b := coalesce(v_a -> 1, 'null');  -- the default
      v_a := v_a -> 0;
    else
      v_b := 'null'::jsonb;
    end if;
    v_list := null;
    if v_a is null or v_a in ('null'::jsonb, '""'::jsonb) then
      v_list := p_data;
    elsif jsonb_typeof(v_a) = 'string' and v_a #>> '{}' !~ '\\|(^|\.)([[:space:]+-]|0[0-9]|\.|$)' then
      -- Fast path for plain paths such as "record.status": found is found. Parts
      -- JavaScript reads differently from #> (" 1", "-1", "01", escapes) walk.
      v_list := p_data #> string_to_array(v_a #>> '{}', '.');
    end if;
    if v_list is null then
      -- The walk, as json-logic-engine does it; splitting costs a step per character.
      v_path := automations_engine.filter_js_string(v_a);
      v_left := v_left - length(v_path);
      if v_left < 0 then return (null::jsonb, v_left); end if;
      v_list := p_data;
      foreach v_part in array automations_engine.filter_split_path(v_path) loop
        if v_list is null or jsonb_typeof(v_list) = 'null' then
          v_list := v_b;
          exit;
        end if;
        v_list := automations_engine.filter_prop(v_list, v_part);
      end loop;
      v_list := coalesce(v_list, v_b);
    end if;
    v_left := v_left - automations_engine.filter_size(v_list);
    return (case when v_left >= 0 then v_list end, v_left);
  elsif v_op in ('missing', 'missing_some', 'in') then
    v_r := automations_engine.filter_args(v_args, p_data, v_left);
    if v_r.result is null then return v_r; end if;
    v_a := v_r.result;
    v_left := v_r.budget;
    -- A key costs about as much as 32 nodes (its text is converted, split
    -- and walked in PL/pgSQL: ~100 us), an item `in` compares about 1.
    if v_op = 'missing' then
      v_left := v_left - 32 * jsonb_array_length(v_a) - automations_engine.filter_size(v_a);
      return (case when v_left >= 0 then automations_engine.filter_missing(v_a, p_data) end, v_left);
    elsif v_op = 'missing_some' then
      if jsonb_typeof(v_a -> 1) is distinct from 'array' then return (null::jsonb, v_left); end if;
      v_left := v_left - 32 * jsonb_array_length(v_a -> 1) - automations_engine.filter_size(v_a -> 1);
      if v_left < 0 then return (null::jsonb, v_left); end if;
      v_b := automations_engine.filter_missing(v_a -> 1, p_data);
      return (case when jsonb_array_length(v_a -> 1) - jsonb_array_length(v_b) >= automations_engine.filter_number(v_a -> 0)
                   then '[]'::jsonb else v_b end, v_left);
    end if;
    v_b := v_a -> 1;  -- in: the haystack; `(array || [])` makes a falsy one empty
    if v_b is null or v_b in ('null'::jsonb, 'false'::jsonb, '""'::jsonb)
       or (jsonb_typeof(v_b) = 'number' and automations_engine.filter_number(v_b) = 0) then
      return ('false'::jsonb, v_left);
    elsif jsonb_typeof(v_b) = 'array' then
      v_left := v_left - jsonb_array_length(v_b);  -- one comparison per item
      if v_left < 0 then return (null::jsonb, v_left); end if;
      return (to_jsonb(exists (select 1 from jsonb_array_elements(v_b) e where automations_engine.filter_strict_eq(e, v_a -> 0))), v_left);
    elsif jsonb_typeof(v_b) = 'string' then
      return (to_jsonb(strpos(v_b #>> '{}', automations_engine.filter_js_string(v_a -> 0)) > 0), v_left);
    end if;
    return (null::jsonb, v_left);  -- .includes is not a function
  elsif v_op in ('!', 'not', '!!') then
    if jsonb_typeof(v_args) in ('array', 'object') then
      v_r := automations_engine.filter_eval(v_args, p_data, v_left);
      if v_r.result is null then return v_r; end if;
      v_a := v_r.result;
      v_left := v_r.budget;
      if jsonb_typeof(v_a) = 'array' then v_a := v_a -> 0; end if;
    else
      v_a := v_args;
    end if;
    return (to_jsonb((v_op = '!!') = coalesce(automations_engine.filter_truthy(v_a), false)), v_left);
  elsif v_op in ('and', 'or', '??', 'if', '?:') then
    if v_n is null then return (null::jsonb, v_left); end if;
    if v_op in ('if', '?:') then
      while i + 1 < v_n loop
        v_r := automations_engine.filter_eval(v_args -> i, p_data, v_left);
        if v_r.result is null then return v_r; end if;
        v_left := v_r.budget;
        if automations_engine.filter_truthy(v_r.result) then
          return automations_engine.filter_eval(v_args -> (i + 1), p_data, v_left);
        end if;
        i := i + 2;
      end loop;
      if i < v_n then return automations_engine.filter_eval(v_args -> i, p_data, v_left); end if;
      return ('null'::jsonb, v_left);
    end if;
    v_r := ('null'::jsonb, v_left);
    while i < v_n loop
      v_r := automations_engine.filter_eval(v_args -> i, p_data, v_r.budget);
      if v_r.result is null then return v_r; end if;
      if (v_op = 'and' and not automations_engine.filter_truthy(v_r.result))
         or (v_op = 'or' and automations_engine.filter_truthy(v_r.result))
         or (v_op = '??' and v_r.result <> 'null'::jsonb) then
        return v_r;
      end if;
      i := i + 1;
    end loop;
    return v_r;
  elsif v_op in ('==', '===', '!=', '!==', '<', '<=', '>', '>=') then
    -- 2 arguments, or 3 as a chain a op b op c (the engine's optimised form).
    if v_n is null or v_n < 2 or v_n > 3 then return (null::jsonb, v_left); end if;
    v_r := automations_engine.filter_eval(v_args -> 0, p_data, v_left);
    if v_r.result is null then return v_r; end if;
    v_a := v_r.result;
    v_r := automations_engine.filter_eval(v_args -> 1, p_data, v_r.budget);
    if v_r.result is null then return v_r; end if;
    v_b := v_r.result;
    v_cmp := automations_engine.filter_compare(v_op, v_a, v_b);
    if v_cmp is null then return (null::jsonb, v_r.budget); end if;
    if v_n = 2 or not v_cmp then return (to_jsonb(v_cmp), v_r.budget); end if;
    v_r := automations_engine.filter_eval(v_args -> 2, p_data, v_r.budget);
    if v_r.result is null then return v_r; end if;
    return (to_jsonb(automations_engine.filter_compare(v_op, v_b, v_r.result)), v_r.budget);
  end if;
  raise exception 'JsonLogic operator "%" is not supported in SQL-evaluated filters', v_op using errcode = '22023';
end;
$_$;

--
-- Name: FUNCTION filter_eval(p_rule jsonb, p_data jsonb, p_budget integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_eval(p_rule jsonb, p_data jsonb, p_budget integer) IS 'Evaluates a JsonLogic rule that filter_check accepted over p_data, as json-logic-engine does, within p_budget steps of work: (value, budget left); the value is NULL where JavaScript would throw, and NULL with a negative budget when the budget ran out.';

--
-- Name: filter_js_string(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_js_string(v jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
begin
  return case jsonb_typeof(v)
    when 'string' then v #>> '{}'
    when 'number' then automations_engine.filter_number_text(automations_engine.filter_number(v))
    when 'boolean' then v #>> '{}'
    when 'null' then 'null'
    when 'object' then '[object Object]'
    when 'array' then (select coalesce(string_agg(case when jsonb_typeof(e) = 'null' then ''
                                                      else automations_engine.filter_js_string(e) end, ',' order by i), '')
                         from jsonb_array_elements(v) with ordinality as t(e, i))
    else 'undefined'
  end;
end;
$$;

--
-- Name: FUNCTION filter_js_string(v jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_js_string(v jsonb) IS 'JavaScript String(value) for a JSON value.';

--
-- Name: filter_matches(jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_matches(p_filter jsonb, p_data jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO ''
    AS $$
declare
  v_before jsonb;
  v_after jsonb;
  v_problem text;
  v_step automations_engine.filter_step;
  c_budget constant integer := 20000;
begin
  -- Filter language in SQL: the {"changed": col, "from"?, "to"?} shorthand and
  -- the JsonLogic operators var, missing, missing_some, preserve, if, ?:, ??,
  -- and, or, !, not, !!, ==, ===, !=, !==, <, <=, >, >= (2 or 3 arguments) and
  -- in, with json-logic-engine's semantics (JavaScript coercions; a rule that
  -- throws in JavaScript, such as {"==": ["abc", 1]}, does not match). Other
  -- operators raise 22023, and the trigger then skips that automation with a
  -- WARNING; automations_engine.filter_check() names the problem, for
  -- save-time validation of table-event filters. Filters see
  -- {record, old_record, payload: null, operation}, as in TypeScript.
  --
  if p_filter is null or p_filter = 'null'::jsonb then return true; end if;
  if jsonb_typeof(p_filter) <> 'object' then
    raise exception 'a filter must be a JSON object (a JsonLogic rule or {"changed": ...}), got %', jsonb_typeof(p_filter)
      using errcode = '22023';
  end if;
  if p_filter ? 'changed' then
    if jsonb_typeof(p_filter -> 'changed') <> 'string' then
      raise exception 'filter.changed must be a column name, got %', p_filter -> 'changed' using errcode = '22023';
    end if;
    -- INSERT is a change from null, DELETE a change to null; values compare as JSON.
    v_before := coalesce(p_data #> array['old_record', p_filter ->> 'changed'], 'null');
    v_after := coalesce(p_data #> array['record', p_filter ->> 'changed'], 'null');
    return v_before <> v_after
       and (not p_filter ? 'from' or v_before = p_filter -> 'from')
       and (not p_filter ? 'to' or v_after = p_filter -> 'to');
  end if;
  v_problem := automations_engine.filter_check(p_filter);
  if v_problem is not null then
    raise exception '%', v_problem using errcode = '22023';
  end if;
  -- A rule over its work budget (filter_eval) is refused, not guessed at: the
  -- trigger skips that automation with a WARNING naming it, as for any
  -- failing filter. 20,000 steps: the nodes of any filter a save allows (16
  -- KiB, at most ~8,000 nodes) fit with room to spare, and so does an `in`
  -- over a 10,000-item column; spending it all took up to 0.1 s on the dev
  -- container (a 300-fold `in` over 10,000 items took 12 s unbudgeted).
  v_step := automations_engine.filter_eval(p_filter, p_data, c_budget);
  if v_step.budget < 0 then
    raise exception 'the filter needs more than % steps of work on this row; simplify it or test less data', c_budget
      using errcode = '54000';
  end if;
  return coalesce(automations_engine.filter_truthy(v_step.result), false);
end;
$$;

--
-- Name: FUNCTION filter_matches(p_filter jsonb, p_data jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_matches(p_filter jsonb, p_data jsonb) IS 'Whether an event passes an event trigger filter ({"changed"...} or JsonLogic) over {record, old_record, payload, operation}. Odd data never raises (a rule that would throw in JavaScript is false); an unsupported operator raises 22023, a rule that needs more than its work budget on this row 54000.';

--
-- Name: filter_missing(jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_missing(p_keys jsonb, p_data jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
declare
  v_out jsonb[] := '{}';
  v_key jsonb;
  v_cur jsonb;
  v_part text;
  v_found boolean;
begin
  -- The missing keys are collected in a jsonb[] (appended in place): growing a
  -- jsonb array copies it each time, quadratic in the number of keys.
  for v_key in select e from jsonb_array_elements(p_keys) e loop
    v_cur := p_data;
    v_found := true;
    foreach v_part in array automations_engine.filter_split_path(automations_engine.filter_js_string(v_key)) loop
      -- JavaScript falsiness here (not JsonLogic's): 0, "", false, null stop the walk.
      if jsonb_typeof(v_cur) = 'null' or v_cur in ('false'::jsonb, '""'::jsonb)
         or (jsonb_typeof(v_cur) = 'number' and automations_engine.filter_number(v_cur) = 0) then
        v_found := false;
        exit;
      end if;
      v_cur := automations_engine.filter_prop(v_cur, v_part);
      if v_cur is null then v_found := false; exit; end if;
    end loop;
    if not v_found then v_out := v_out || v_key; end if;
  end loop;
  return to_jsonb(v_out);
end;
$$;

--
-- Name: FUNCTION filter_missing(p_keys jsonb, p_data jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_missing(p_keys jsonb, p_data jsonb) IS 'JsonLogic missing: the keys (paths) not present in the data.';

--
-- Name: filter_number(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_number(v jsonb) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case jsonb_typeof(v)
    when 'null' then 0
    when 'boolean' then case when v = 'true'::jsonb then 1 else 0 end
    when 'number' then automations_engine.filter_double(v::numeric)
    when 'string' then automations_engine.filter_string_number(v #>> '{}')
  end
$$;

--
-- Name: FUNCTION filter_number(v jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_number(v jsonb) IS 'JavaScript +value for a JSON value: null 0, booleans 0/1, strings parsed; NULL (NaN) for objects, arrays, bad text.';

--
-- Name: filter_number_text(double precision); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_number_text(x double precision) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET extra_float_digits TO '1'
    AS $_$
declare
  m text[];
  v_digits text;
  v_n int;
  v_k int;
begin
  if x is null then return 'NaN'; end if;
  if x = 0 then return '0'; end if;
  if x = 'Infinity' then return 'Infinity'; end if;
  if x = '-Infinity' then return '-Infinity'; end if;
  -- float8out prints the shortest round-trip digits, as JavaScript does; only
  -- the layout differs (JavaScript: exponent from 1e21 up and below 1e-6).
  m := regexp_match(abs(x)::text, '^([0-9]+)(?:\.([0-9]+))?(?:e([+-][0-9]+))?$');
  v_digits := m[1] || coalesce(m[2], '');
  v_n := length(m[1]) - (length(v_digits) - length(ltrim(v_digits, '0'))) + coalesce(m[3]::int, 0);
  v_digits := rtrim(ltrim(v_digits, '0'), '0');
  v_k := length(v_digits);
  return case when x < 0 then '-' else '' end || case
    when v_k <= v_n and v_n <= 21 then v_digits || repeat('0', v_n - v_k)
    when 0 < v_n and v_n <= 21 then left(v_digits, v_n) || '.' || substr(v_digits, v_n + 1)
    when -6 < v_n and v_n <= 0 then '0.' || repeat('0', -v_n) || v_digits
    else left(v_digits, 1) || case when v_k > 1 then '.' || substr(v_digits, 2) else '' end
         || 'e' || case when v_n - 1 >= 0 then '+' else '-' end || abs(v_n - 1)::text
  end;
end;
$_$;

--
-- Name: FUNCTION filter_number_text(x double precision); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_number_text(x double precision) IS 'JavaScript String(number) for a double.';

--
-- Name: filter_problems(jsonb, boolean, text[]); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_problems(p_filter jsonb, p_table_event boolean, p_roots text[] DEFAULT '{record,old_record,payload,operation}'::text[]) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
declare
  c_at constant text := 'trigger_config.filter';
  -- json-logic-engine 5's default operators (tests/validation checks this list against the library).
  c_operators constant text[] := '{+,*,/,-,%,throw,max,min,in,preserve,if,<,<=,>,>=,==,===,!=,!==,or,??,try,and,substr,length,exists,val,map,some,all,none,merge,filter,reduce,!,!!,cat,keys,pipe,eachKey,every,?:,not,get,var,missing,missing_some}';
  v_out text[] := '{}';
  v_column jsonb := p_filter -> 'changed';
  v_size integer;
begin
  if jsonb_typeof(p_filter) is distinct from 'object' then
    return array[c_at || ': must be a JSON object: a JsonLogic rule or {"changed": "<column>", "to": ...}'];
  end if;
  -- A stored rule is an editor's input, not a program: 16 KiB of JSON, as in
  -- TypeScript (MAX_FILTER_CHARS), checked first so a huge rule is not walked.
  v_size := automations_engine.json_text_length(p_filter);
  if v_size > 16384 then
    return array[format('%s: is %s characters; the limit is 16384', c_at, v_size)];
  end if;
  if v_column is null then
    v_out := automations_engine.jsonlogic_problems(p_filter, c_at, 'filter', c_operators,
      '{map,filter,reduce,some,all,none,every,eachKey}', p_roots);
    -- Table-event filters run inside PostgreSQL (automations_table_event):
    -- only what the SQL evaluator supports is accepted for them.
    if p_table_event and cardinality(v_out) = 0 then
      v_column := to_jsonb(automations_engine.filter_check(p_filter));
      if v_column <> 'null'::jsonb then
        v_out := array[c_at || ': ' || regexp_replace(v_column #>> '{}', '^filter(\.\S+)?: ', '')];
      end if;
    end if;
    return v_out;
  end if;
  if not p_table_event then
    v_out := v_out || (c_at || '.changed: the changed shorthand applies to table events only; for application events write a JsonLogic rule over payload');
  end if;
  if jsonb_typeof(v_column) <> 'string' or length(v_column #>> '{}') not between 1 and 63 then
    v_out := v_out || (c_at || '.changed: must be a column name (1 to 63 characters)');
  end if;
  return v_out || array(select format('%s: unknown key "%s" in the changed shorthand (allowed: changed, from, to)', c_at, k)
                          from jsonb_object_keys(p_filter) k where k not in ('changed', 'from', 'to'));
end;
$$;

--
-- Name: FUNCTION filter_problems(p_filter jsonb, p_table_event boolean, p_roots text[]); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_problems(p_filter jsonb, p_table_event boolean, p_roots text[]) IS 'Problems of an event or webhook filter (changed shorthand or JsonLogic rule over p_roots), each starting with trigger_config.filter.';

--
-- Name: filter_prop(jsonb, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_prop(v jsonb, p_key text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  -- value[key] in JavaScript; NULL is undefined.
  select case jsonb_typeof(v)
    when 'object' then v -> p_key
    when 'array' then case when p_key ~ '^(0|[1-9][0-9]{0,8})$' then v -> p_key::int
                           when p_key = 'length' then to_jsonb(jsonb_array_length(v)) end
    when 'string' then case when p_key ~ '^(0|[1-9][0-9]{0,8})$' and p_key::int < length(v #>> '{}')
                                 then to_jsonb(substr(v #>> '{}', p_key::int + 1, 1))
                            when p_key = 'length' then to_jsonb(length(v #>> '{}')) end
  end
$_$;

--
-- Name: FUNCTION filter_prop(v jsonb, p_key text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_prop(v jsonb, p_key text) IS 'JavaScript value[key] on a JSON value; NULL for undefined.';

--
-- Name: filter_size(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_size(v jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  -- What a value brought into the evaluation costs: 1 step per 16 bytes of
  -- JSON for strings, arrays and objects (copying and scanning them), 0 for
  -- the small scalars. pg_column_size reads the datum's header: O(1).
  select case when jsonb_typeof(v) in ('string', 'array', 'object') then pg_column_size(v) / 16 else 0 end
$$;

--
-- Name: FUNCTION filter_size(v jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_size(v jsonb) IS 'Work steps a value costs the filter evaluator (its size / 16 bytes; 0 for numbers, booleans and null).';

--
-- Name: filter_split_path(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_split_path(p text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
declare
  v_parts text[] := '{}'::text[];
  v_cur text := '';
  v_ch text;
  i int := 1;
begin
  -- "a.b" -> {a,b}; "a\.b" -> {a.b}; "\\" is a backslash (splitPath in json-logic-engine).
  while i <= length(p) loop
    v_ch := substr(p, i, 1);
    if v_ch = '\' and substr(p, i + 1, 1) in ('.', '/', '\') then
      v_cur := v_cur || substr(p, i + 1, 1);
      i := i + 1;
    elsif v_ch = '.' then
      v_parts := v_parts || v_cur;
      v_cur := '';
    else
      v_cur := v_cur || v_ch;
    end if;
    i := i + 1;
  end loop;
  if cardinality(v_parts) <> length(p) then v_parts := v_parts || v_cur; end if;
  return v_parts;
end;
$$;

--
-- Name: FUNCTION filter_split_path(p text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_split_path(p text) IS 'Splits a JsonLogic var path on unescaped dots.';

--
-- Name: filter_strict_eq(jsonb, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_strict_eq(a jsonb, b jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  -- JavaScript ===: objects and arrays are compared by reference, so two
  -- evaluated values are never the same object.
  select case when a is null or b is null then a is null and b is null
              when jsonb_typeof(a) <> jsonb_typeof(b) then false
              when jsonb_typeof(a) in ('object', 'array') then false
              when jsonb_typeof(a) = 'number' then automations_engine.filter_number(a) = automations_engine.filter_number(b)
              else a = b end
$$;

--
-- Name: FUNCTION filter_strict_eq(a jsonb, b jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_strict_eq(a jsonb, b jsonb) IS 'JavaScript === on JSON values.';

--
-- Name: filter_string_number(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_string_number(p text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $_$
declare
  -- ECMAScript StrWhiteSpaceChar: what Number(" 12 ") ignores.
  v_ws constant text := chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(32) || chr(160) || chr(5760)
    || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) || chr(8197) || chr(8198) || chr(8199)
    || chr(8200) || chr(8201) || chr(8202) || chr(8232) || chr(8233) || chr(8239) || chr(8287) || chr(12288) || chr(65279);
  s text := btrim(p, v_ws);
  m text[];
  v_digits text;
  v_base int;
  v_exp bigint;
  v_mag bigint;
  v_n numeric := 0;
begin
  if s = '' then return 0; end if;
  if s in ('Infinity', '+Infinity') then return 'Infinity'::double precision; end if;
  if s = '-Infinity' then return '-Infinity'::double precision; end if;
  m := regexp_match(s, '^0([xXoObB])([0-9a-fA-F]+)$');
  if m is not null then
    v_base := case lower(m[1]) when 'x' then 16 when 'o' then 8 else 2 end;
    v_digits := ltrim(lower(m[2]), '0');
    if (v_base = 8 and v_digits ~ '[89a-f]') or (v_base = 2 and v_digits ~ '[2-9a-f]') then return null; end if;
    if length(v_digits) * (case v_base when 16 then 4 when 8 then 3 else 1 end) > 1100 then return 'Infinity'::double precision; end if;
    for i in 1 .. length(v_digits) loop
      v_n := v_n * v_base + strpos('0123456789abcdef', substr(v_digits, i, 1)) - 1;
    end loop;
    return automations_engine.filter_double(v_n);
  end if;
  m := regexp_match(s, '^([+-]?)([0-9]*)\.?([0-9]*)(?:[eE]([+-]?[0-9]+))?$');
  if m is null or m[2] || m[3] = '' then return null; end if;
  v_digits := m[2] || m[3];
  if v_digits !~ '[1-9]' then return 0; end if;
  -- value = 0.<significant digits> * 10^v_mag; decide huge and tiny values
  -- before numeric parses them (its exponent range is limited).
  v_exp := case when m[4] is null then 0
                when length(ltrim(m[4], '+-0')) > 8 then case when m[4] like '-%' then -1e9 else 1e9 end
                else m[4]::bigint end;
  v_mag := length(m[2]) - (length(v_digits) - length(ltrim(v_digits, '0'))) + v_exp;
  if v_mag > 310 then return case when m[1] = '-' then '-Infinity' else 'Infinity' end::double precision; end if;
  if v_mag < -330 then return 0; end if;
  return automations_engine.filter_double((m[1] || '0.' || left(ltrim(v_digits, '0'), 60) || 'e' || v_mag)::numeric);
end;
$_$;

--
-- Name: FUNCTION filter_string_number(p text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_string_number(p text) IS 'JavaScript Number(string): trimmed decimal, exponent, Infinity, 0x/0o/0b; NULL for NaN.';

--
-- Name: filter_truthy(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.filter_truthy(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  -- json-logic-engine's truthiness: [] and {} are false, unlike plain JavaScript.
  select case jsonb_typeof(v)
    when 'null' then false
    when 'boolean' then v = 'true'::jsonb
    when 'number' then automations_engine.filter_number(v) <> 0
    when 'string' then v <> '""'::jsonb
    when 'array' then jsonb_array_length(v) > 0
    when 'object' then v <> '{}'::jsonb
    else false
  end
$$;

--
-- Name: FUNCTION filter_truthy(v jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.filter_truthy(v jsonb) IS 'JsonLogic truthiness (json-logic-engine): null, false, 0, "", [] and {} are false; undefined (NULL) too.';

--
-- Name: flow_control_problems(integer, text, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.flow_control_problems(p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
declare
  v text[] := '{}';
  v_rest text;
begin
  -- The same rules and words as flowControlProblems() in
  -- shared/engine/flow_control.ts (tests/validation/config_validation.test.ts
  -- runs one corpus through both). A concurrency key may only read the
  -- trigger, because it is evaluated once, in SQL, when the run is enqueued:
  -- placeholders {{trigger.payload.<path>}} or {{trigger.type}}, a path being
  -- dot-separated names of letters, digits, _, $ and -.
  if p_max_concurrency is not null and (p_max_concurrency < 1 or p_max_concurrency > 10000) then
    v := array_append(v, format('max_concurrency must be between 1 and 10000 (or null for no limit), got %s', p_max_concurrency));
  end if;
  if p_concurrency_key is not null then
    v_rest := regexp_replace(p_concurrency_key,
      '\{\{\s*trigger\.(payload(\.[A-Za-z0-9_$-]+)*|type)\s*\}\}', '', 'g');
    if length(p_concurrency_key) > 500 then
      v := array_append(v, format('concurrency_key must be at most 500 characters, got %s', length(p_concurrency_key)));
    elsif v_rest = p_concurrency_key then
      v := array_append(v, 'concurrency_key must contain a placeholder such as {{trigger.payload.customer_id}}');
    elsif v_rest ~ '\{\{|\}\}' then
      v := array_append(v, 'concurrency_key may only use {{trigger.payload.<path>}} and {{trigger.type}} placeholders (a path of names separated by dots)');
    end if;
  end if;
  if p_rate_limit is not null then
    if jsonb_typeof(p_rate_limit) <> 'object' or (p_rate_limit - 'limit' - 'period_seconds') <> '{}'::jsonb then
      v := array_append(v, 'rate_limit must be an object {"limit": n, "period_seconds": s} with no other keys');
    else
      if (case when jsonb_typeof(p_rate_limit -> 'limit') is distinct from 'number' then true
              else (p_rate_limit ->> 'limit')::numeric <> trunc((p_rate_limit ->> 'limit')::numeric)
                   or (p_rate_limit ->> 'limit')::numeric not between 1 and 1000000 end) then
        v := array_append(v, 'rate_limit.limit must be a whole number between 1 and 1000000');
      end if;
      if (case when jsonb_typeof(p_rate_limit -> 'period_seconds') is distinct from 'number' then true
              else (p_rate_limit ->> 'period_seconds')::numeric <> trunc((p_rate_limit ->> 'period_seconds')::numeric)
                   or (p_rate_limit ->> 'period_seconds')::numeric not between 1 and 86400 end) then
        v := array_append(v, 'rate_limit.period_seconds must be a whole number between 1 and 86400');
      end if;
    end if;
  end if;
  return v;
end;
$_$;

--
-- Name: FUNCTION flow_control_problems(p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.flow_control_problems(p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb) IS 'Problems with an automation''s max_concurrency, concurrency_key and rate_limit (empty when valid); the words of shared/engine/flow_control.ts.';

--
-- Name: flow_key(uuid, integer, text, jsonb, public.automation_trigger_type, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.flow_key(p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb, p_trigger_type public.automation_trigger_type, p_payload jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  -- null: no limits, the run is claimed by org alone. Otherwise the
  -- automation id (36 characters, which claim_runs reads back with left()),
  -- then ':' and the key's value when max_concurrency applies per key.
  select case
    when p_max_concurrency is null and p_rate_limit is null then null
    when p_max_concurrency is null or p_concurrency_key is null then p_automation_id::text
    else p_automation_id::text || ':' || automations_engine.concurrency_value(p_concurrency_key, p_trigger_type, p_payload)
  end
$$;

--
-- Name: FUNCTION flow_key(p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb, p_trigger_type public.automation_trigger_type, p_payload jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.flow_key(p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb, p_trigger_type public.automation_trigger_type, p_payload jsonb) IS 'A run''s flow-control group: null without limits, else automation id[:concurrency key value].';

--
-- Name: has_claimable_runs(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.has_claimable_runs() RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
begin
  -- The claim's rules without its locks: a due run counts only if it is not
  -- held back (its org under max_running_runs; its flow group under
  -- max_concurrency; its automation under rate_limit). A held-back backlog
  -- is not work: counting it made kick_worker call the worker every second
  -- for claims that come back empty.
  --
  -- 1. Plain runs. Usually settled by the first due run (one probe): its org
  --    has no cap, or is under it.
  if exists (
       select 1
         from (select d.org_id from public.automation_runs d
                where d.status = 'pending' and d.flow_key is null and d.run_at <= now()
                order by d.run_at limit 1) f
        where not automations_engine.org_at_cap(f.org_id)) then
    return true;
  end if;
  -- Otherwise (the first due run's org is at its cap, or nothing is due):
  -- the other orgs with pending plain runs, one index descent each
  -- (automation_runs_org_due_idx; the org's first entry is its earliest run).
  if exists (
       with recursive o as (
         (select d.org_id, d.run_at from public.automation_runs d
           where d.status = 'pending' and d.flow_key is null
           order by d.org_id, d.run_at limit 1)
         union all
         select x.org_id, x.run_at
           from o
           cross join lateral (
             select d.org_id, d.run_at from public.automation_runs d
              where d.status = 'pending' and d.flow_key is null and d.org_id > o.org_id
              order by d.org_id, d.run_at limit 1) x
       )
       select 1 from o where o.run_at <= now() and not automations_engine.org_at_cap(o.org_id)) then
    return true;
  end if;
  -- 2. Runs of limited automations: a flow group with a due run and a free
  --    slot under max_concurrency, rate_limit and the org's cap.
  return exists (
    with recursive grp as (
      (select d.flow_key from public.automation_runs d
        where d.status = 'pending' and d.flow_key is not null
        order by d.flow_key limit 1)
      union all
      select (select d.flow_key from public.automation_runs d
               where d.status = 'pending' and d.flow_key is not null and d.flow_key > g.flow_key
               order by d.flow_key limit 1)
        from grp g where g.flow_key is not null
    )
    select 1
      from grp g
      join public.automations a on a.id = left(g.flow_key, 36)::uuid
     where g.flow_key is not null
       and exists (select 1 from public.automation_runs d
                    where d.status = 'pending' and d.flow_key = g.flow_key and d.run_at <= now())
       and (a.max_concurrency is null
            or a.max_concurrency > (select count(*) from public.automation_runs x
                                     where x.status = 'running' and x.flow_key = g.flow_key))
       and (a.rate_limit is null
            or (a.rate_limit ->> 'limit')::integer > (
                 select count(*) from public.automation_runs x
                  where x.automation_id = a.id and x.flow_key is not null
                    and x.started_at > now() - make_interval(secs => (a.rate_limit ->> 'period_seconds')::integer)))
       and not automations_engine.org_at_cap(a.org_id));
end;
$$;

--
-- Name: FUNCTION has_claimable_runs(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.has_claimable_runs() IS 'True when claim_runs would take a run now: a due run not held back by max_running_runs, max_concurrency or rate_limit. kick_worker''s check.';

--
-- Name: insert_actions(uuid, uuid, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.insert_actions(p_org_id uuid, p_automation_id uuid, p_actions jsonb) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_n integer;
begin
  -- p_actions: [{action_type, action_config?, name?, condition?, retry?, template_missing?, position?}]
  if p_actions is null or jsonb_typeof(p_actions) <> 'array' then
    raise exception 'actions must be a JSON array of {action_type, action_config, ...}' using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_actions) e where jsonb_typeof(e) <> 'object' or not e ? 'action_type') then
    raise exception 'every action must be an object with an action_type' using errcode = '22023';
  end if;
  -- One statement, so the snapshot trigger writes one version.
  insert into public.automation_actions
    (org_id, automation_id, action_type, action_config, name, condition, retry, template_missing, position)
  select p_org_id, p_automation_id, e ->> 'action_type', coalesce(e -> 'action_config', '{}'::jsonb),
         e ->> 'name', e -> 'condition', e -> 'retry', coalesce(e ->> 'template_missing', 'error'),
         coalesce((e ->> 'position')::integer, (i - 1)::integer)
    from jsonb_array_elements(p_actions) with ordinality as t(e, i);
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;

--
-- Name: FUNCTION insert_actions(p_org_id uuid, p_automation_id uuid, p_actions jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.insert_actions(p_org_id uuid, p_automation_id uuid, p_actions jsonb) IS 'Inserts an ordered action list for an automation in one statement (one snapshot).';

--
-- Name: install_cron(text, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.install_cron(p_schedule text DEFAULT '* * * * *'::text, p_kick_schedule text DEFAULT '1 seconds'::text) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
-- Hosted Supabase: pg_cron + pg_net call the schedule tick and the worker
-- every minute (call_function: URL and key come from Vault at each call, so
-- rotating them needs no reinstall), and kick_worker() every second so that
-- runs queued in SQL start within about a second (migration 001500):
--   select vault.create_secret('https://<ref>.supabase.co', 'automations_project_url');
--   select vault.create_secret('<service role key>', 'automations_service_role_key');
--   select automations_engine.install_cron();
-- cron.schedule replaces a job of the same name, so running it again leaves
-- one set of jobs. p_kick_schedule null removes the kick (runs queued in SQL
-- then wait for the next worker call). Harmless where pg_cron or pg_net is
-- missing: it says what to enable.
declare
  v_cron_version text;
  v_kick text;
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     or not exists (select 1 from pg_extension where extname = 'pg_net') then
    return 'pg_cron and pg_net are not both enabled: enable them (Dashboard > Database > Extensions), then run select automations_engine.install_cron();';
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    return 'Supabase Vault is not available: store automations_project_url and automations_service_role_key in Vault first';
  end if;
  select extversion into v_cron_version from pg_extension where extname = 'pg_cron';
  -- Dynamic SQL: the cron schema exists only where pg_cron is installed, and
  -- static references would not even pass `supabase db lint` elsewhere.
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-schedule-tick', p_schedule, 'select automations_engine.call_function(''automations-schedule-tick'')';
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-worker', p_schedule, 'select automations_engine.call_function(''automations-worker'')';
  if p_kick_schedule is null then
    perform automations_engine.uninstall_cron(array['automations-kick', 'automations-cron-history']);
    v_kick := 'no automations-kick (runs queued in SQL wait for the next worker call); ';
  elsif string_to_array(v_cron_version, '.')::int[] < array[1, 5] then
    -- Seconds schedules came with pg_cron 1.5; hosted Supabase runs 1.6.
    v_kick := 'no automations-kick: pg_cron ' || v_cron_version || ' has no seconds schedules (1.5 or later has); ';
  else
    execute format('select %I.schedule($1, $2, $3)', 'cron')
      using 'automations-kick', p_kick_schedule, 'select automations_engine.kick_worker()';
    -- A job every second writes 86,400 rows a day to cron.job_run_details;
    -- keep a day of the automations jobs' history.
    execute format('select %I.schedule($1, $2, $3)', 'cron')
      using 'automations-cron-history', '41 * * * *',
            'delete from cron.job_run_details where end_time < now() - interval ''1 day'''
            || ' and jobid in (select jobid from cron.job where jobname like ''automations-%'')';
    v_kick := 'scheduled automations-kick (' || p_kick_schedule || ') and automations-cron-history (41 * * * *); ';
  end if;
  -- Retention (a later migration) is a plain SQL job; schedule it alongside.
  return 'scheduled automations-schedule-tick and automations-worker (' || p_schedule || '); '
         || v_kick || automations_engine.install_retention_cron();
end;
$_$;

--
-- Name: FUNCTION install_cron(p_schedule text, p_kick_schedule text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.install_cron(p_schedule text, p_kick_schedule text) IS 'Schedules the tick and worker functions with pg_cron + pg_net (URL and key read from Vault per call), the kick (kick_worker(), every second) and its history cleanup. Returns what it did or what is missing.';

--
-- Name: install_retention_cron(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.install_retention_cron(p_schedule text DEFAULT '17 * * * *'::text) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
begin
  -- Hosted Supabase: schedule the job with pg_cron (pure SQL, no pg_net):
  --   select automations_engine.install_retention_cron();
  -- Harmless where pg_cron is missing: it says what to enable. The local runtime
  -- calls pruneRuns() from shared/engine/sql/retention.ts instead.
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not enabled: enable it (Dashboard > Database > Extensions), then run select automations_engine.install_retention_cron();';
  end if;
  -- Dynamic SQL built at run time: the cron schema only exists where pg_cron
  -- does, so a static reference would not even pass plpgsql_check elsewhere.
  execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'automations-retention', p_schedule, 'call automations_engine.prune_runs_job()';
  return 'scheduled automations-retention (' || p_schedule || '): call automations_engine.prune_runs_job()';
end;
$_$;

--
-- Name: FUNCTION install_retention_cron(p_schedule text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.install_retention_cron(p_schedule text) IS 'Schedules the retention job (call automations_engine.prune_runs_job()) with pg_cron, hourly by default. Returns what it did or what is missing.';

--
-- Name: is_database_action(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.is_database_action(p_action_type text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  -- Actions that read or write app tables under the acting member's rights:
  -- the built-in update_field and create_task, and custom types registered
  -- with writes_database (plpgsql: that table is created by a later migration).
  return p_action_type in ('update_field', 'create_task')
      or exists (select 1 from automations_engine.custom_action_types c
                  where c.action_type = p_action_type and c.writes_database);
end;
$$;

--
-- Name: FUNCTION is_database_action(p_action_type text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.is_database_action(p_action_type text) IS 'True for action types that run SQL as the acting member: update_field, create_task, custom types with writes_database.';

--
-- Name: js_trim(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.js_trim(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
  -- String.prototype.trim(): ECMAScript WhiteSpace and LineTerminator, not the locale's [[:space:]].
  select regexp_replace(p_text,
    '^[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
    '', 'g')
$_$;

--
-- Name: FUNCTION js_trim(p_text text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.js_trim(p_text text) IS 'String.prototype.trim(): strips ECMAScript whitespace whatever the database locale.';

--
-- Name: json_key_path(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.json_key_path(p_key text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
  select case when p_key ~ '^[A-Za-z_$][A-Za-z0-9_$]*$' then '.' || p_key else '[' || to_jsonb(p_key)::text || ']' end
$_$;

--
-- Name: FUNCTION json_key_path(p_key text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.json_key_path(p_key text) IS 'A key as a path segment: .name, or ["odd key"].';

--
-- Name: json_shown(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.json_shown(p_value jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  -- Like shown() in shared/triggers/config.ts: containers by kind, scalars as JSON, cut at 40 characters.
  select case jsonb_typeof(p_value)
           when 'array' then 'an array'
           when 'object' then 'an object'
           else case when length(p_value::text) > 40 then left(p_value::text, 40) || '...' else p_value::text end
         end
$$;

--
-- Name: FUNCTION json_shown(p_value jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.json_shown(p_value jsonb) IS 'How a wrong value reads in a message: "an array", "an object", or the JSON scalar (cut at 40 characters).';

--
-- Name: json_text_length(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.json_text_length(p_value jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  -- JSON.stringify(value).length, the measure of shared/triggers/filter.ts:
  -- jsonb's text form without the space it writes after each ", " and ": "
  -- between tokens (strings are matched whole, so their own ", " stay). It
  -- counts characters where JavaScript counts UTF-16 units (a character
  -- outside the BMP is 1 here, 2 there), and numbers as jsonb spells them.
  select length(regexp_replace(p_value::text, '("(?:[^"\\]|\\.)*")|([,:]) ', '\1\2', 'g'))
$$;

--
-- Name: FUNCTION json_text_length(p_value jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.json_text_length(p_value jsonb) IS 'Length of a JSON value as compact text (JSON.stringify), without the spaces of jsonb''s text form.';

--
-- Name: json_value_problem(jsonb, text, numeric, numeric); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.json_value_problem(p_value jsonb, p_expected text, p_min numeric DEFAULT NULL::numeric, p_max numeric DEFAULT NULL::numeric) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select case
    when p_expected in ('string', 'boolean', 'array', 'object') and jsonb_typeof(p_value) is distinct from p_expected
      then format('must be %s %s, got %s', case when p_expected in ('array', 'object') then 'an' else 'a' end, p_expected,
                  automations_engine.json_shown(p_value))
    when p_expected <> 'integer' then null
    when n is null then 'must be a number, got ' || automations_engine.json_shown(p_value)
    when n <> trunc(n) or abs(n) > 9007199254740991 then 'must be an integer, got ' || automations_engine.json_shown(p_value)
    when n < p_min then format('must be at least %s', p_min)
    when n > p_max then format('must be at most %s', p_max)
  end
  from (select case when jsonb_typeof(p_value) = 'number' then (p_value #>> '{}')::numeric end as n) as x
$$;

--
-- Name: FUNCTION json_value_problem(p_value jsonb, p_expected text, p_min numeric, p_max numeric); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.json_value_problem(p_value jsonb, p_expected text, p_min numeric, p_max numeric) IS 'Type (and integer range) problem of one JSON value in zod''s words as config.ts renders them, or null.';

--
-- Name: jsonlogic_problems(jsonb, text, text, text[], text[], text[], boolean, integer, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.jsonlogic_problems(p_node jsonb, p_at text, p_kind text, p_operators text[], p_iterators text[], p_roots text[], p_check_vars boolean DEFAULT true, p_depth integer DEFAULT 0, p_max_depth integer DEFAULT 100) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
-- JsonLogic rules (event filters here, action conditions in the next
-- migration): one operator per operation, known operators only, and var paths
-- that start at a root of the context. Arity and path grammar are checked in
-- TypeScript only. Deeper than p_max_depth is refused (filters: 100, a limit
-- of this walk; conditions: 32, as in TypeScript).
declare
  v_out text[] := '{}';
  v_keys text[];
  v_op text;
  v_args jsonb;
  v_here text;
  v_name text;
  v_root text;
  v_i integer;
begin
  if p_depth > p_max_depth then
    return array[format('%s: the rule is nested deeper than %s levels', p_at, p_max_depth)];
  end if;
  if jsonb_typeof(p_node) = 'array' then
    for v_i in 0 .. jsonb_array_length(p_node) - 1 loop
      v_out := v_out || automations_engine.jsonlogic_problems(p_node -> v_i, p_at || '[' || v_i || ']', p_kind,
        p_operators, p_iterators, p_roots, p_check_vars, p_depth + 1, p_max_depth);
    end loop;
    return v_out;
  elsif jsonb_typeof(p_node) is distinct from 'object' then
    return v_out;
  end if;
  v_keys := array(select jsonb_object_keys(p_node));
  if cardinality(v_keys) <> 1 then
    return array[format('%s: a JsonLogic operation has exactly one key, the operator; got %s (%s); wrap literal objects in {"preserve": ...}',
      p_at, cardinality(v_keys), coalesce(nullif(array_to_string(v_keys, ', '), ''), 'none'))];
  end if;
  v_op := v_keys[1];
  v_args := p_node -> v_op;
  v_here := p_at || automations_engine.json_key_path(v_op);
  if not v_op = any (p_operators) then
    return array[format('%s: unknown JsonLogic operator %s', v_here, to_jsonb(v_op)::text)];
  elsif v_op = 'preserve' then
    return v_out; -- its argument is data
  end if;
  if v_op = 'var' and p_check_vars then
    v_name := case when jsonb_typeof(v_args) = 'array' then v_args ->> 0 else v_args #>> '{}' end;
    if jsonb_typeof(case when jsonb_typeof(v_args) = 'array' then v_args -> 0 else v_args end) = 'string' then
      -- Filters split on "." (shared/triggers/filter.ts); conditions read the first path name.
      v_root := substring(v_name from case p_kind when 'filter' then '^[^.]*' else '^[^.\[]*' end);
      if v_root <> '' and not v_root = any (p_roots) then
        v_out := v_out || case p_kind
          when 'filter' then format('%s: "%s" is not in the filter context (%s); did you mean "record.%s" or "payload.%s"?',
                                    v_here, v_name, array_to_string(p_roots, ', '), v_name, v_name)
          else format('%s: unknown root "%s" in "%s"; a path starts with %s', v_here, v_root, left(v_name, 120), array_to_string(p_roots, ', '))
        end;
      end if;
    end if;
  end if;
  if v_op = any (p_iterators) and p_kind = 'condition'
     and (jsonb_typeof(v_args) is distinct from 'array' or jsonb_array_length(v_args) <> 2) then
    return v_out || format('%s: %s takes [array, rule applied to each item]', v_here, v_op);
  end if;
  if jsonb_typeof(v_args) = 'array' then
    for v_i in 0 .. jsonb_array_length(v_args) - 1 loop
      v_out := v_out || automations_engine.jsonlogic_problems(v_args -> v_i, v_here || '[' || v_i || ']', p_kind, p_operators,
        p_iterators, p_roots, p_check_vars and not (v_op = any (p_iterators) and v_i > 0), p_depth + 2, p_max_depth);
    end loop;
  elsif not (v_op = 'var' and p_kind = 'condition') then
    v_out := v_out || automations_engine.jsonlogic_problems(v_args, v_here, p_kind, p_operators, p_iterators, p_roots,
      p_check_vars, p_depth + 1, p_max_depth);
  end if;
  return v_out;
end;
$$;

--
-- Name: FUNCTION jsonlogic_problems(p_node jsonb, p_at text, p_kind text, p_operators text[], p_iterators text[], p_roots text[], p_check_vars boolean, p_depth integer, p_max_depth integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.jsonlogic_problems(p_node jsonb, p_at text, p_kind text, p_operators text[], p_iterators text[], p_roots text[], p_check_vars boolean, p_depth integer, p_max_depth integer) IS 'Static problems of a JsonLogic rule: operations with other than one key, unknown operators, var roots outside the context.';

--
-- Name: kick_worker(interval); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.kick_worker(p_min_interval interval DEFAULT '00:00:01'::interval) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  v_state automations_engine.worker_kick;
  v_answered boolean;
  v_useful boolean;
  v_id bigint;
begin
  -- Called every second by pg_cron (job automations-kick). Cheap when idle:
  -- a few index probes (automation_runs_due_idx, _org_due_idx, _flow_due_idx,
  -- _lease_idx) and nothing written. Returns the pg_net request id of the
  -- call it made, or null when it made none.
  --
  -- 1. Work for a worker: a due pending run the claim would take, or a
  --    running one whose lease expired (the worker hands it back and runs it
  --    again). Runs held back by max_concurrency, rate_limit or the org's
  --    max_running_runs are not work (has_claimable_runs, flow control
  --    migration): a held-back backlog would otherwise have the worker called
  --    every second for claims that come back empty.
  if not automations_engine.has_claimable_runs()
     and not exists (select 1 from public.automation_runs where status = 'running' and lease_expires_at < now()) then
    return null;
  end if;
  if to_regclass('net._http_response') is null then
    return null; -- no pg_net: the worker's own schedule (or the local runtime) runs the queue
  end if;
  -- 2. One kicker at a time: a concurrent caller skips instead of waiting.
  select * into v_state from automations_engine.worker_kick for update skip locked;
  if not found then
    return null;
  end if;
  -- 3. At most one call per p_min_interval, however many runs are queued.
  if v_state.last_kick_at > clock_timestamp() - p_min_interval then
    return null;
  end if;
  -- 4. At most one call in flight: the last one has no answer yet (within
  --    pg_net's 60 s timeout, after which it records a timeout). A worker
  --    call drains until nothing is due, so runs queued while it works are
  --    claimed by it; the once-a-minute automations-worker job is separate.
  -- 5. Back off to one call per 15 s while calls fail (say a wrong key in
  --    Vault: 401, or the function is not deployed): otherwise a broken
  --    install would cost 86,400 failed calls a day. A call that ran nothing
  --    is not a failure: another worker (a webhook's background drain, the
  --    minute job) may simply have taken the runs first.
  if v_state.request_id is not null and v_state.last_kick_at > clock_timestamp() - interval '65 seconds' then
    -- format(%I): not checked by plpgsql_check where pg_net is absent.
    execute format(
      $q$select count(*) > 0,
                coalesce(bool_or(status_code = 200), false)
           from %I._http_response where id = $1$q$, 'net')
      into v_answered, v_useful using v_state.request_id;
    if not v_answered then
      return null;
    end if;
    if not v_useful and v_state.last_kick_at > clock_timestamp() - interval '15 seconds' then
      return null;
    end if;
  end if;
  v_id := automations_engine.call_function('automations-worker', '{}'::jsonb, 60000);
  update automations_engine.worker_kick
     set last_kick_at = clock_timestamp(), request_id = v_id, kicks = kicks + 1;
  return v_id;
end;
$_$;

--
-- Name: FUNCTION kick_worker(p_min_interval interval); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.kick_worker(p_min_interval interval) IS 'Calls automations-worker through pg_net when runs are due and not held back by a limit (or leases expired), at most one call in flight and one per p_min_interval (one per 15 s after a failed call). pg_cron runs it every second (automations-kick). Returns the request id or null.';

--
-- Name: mark_restricted_run(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.mark_restricted_run() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- Every run records who it acts as (the automation's acting member now; the
  -- engine checks at each database step that they are still an active
  -- member). A run is restricted when its data comes from the database under
  -- someone's rights: a table event (the row; from the SQL trigger or a
  -- Database Webhook), or a snapshot with a database
  -- action (what the steps read and return). Set for every insert path
  -- (enqueue, webhook batches, clients' own inserts); neither is client-writable.
  -- SECURITY DEFINER: clients' inserts fire it too.
  select a.acting_user_id into new.acting_user_id from public.automations a where a.id = new.automation_id;
  -- Application events ({event, id, payload}) are posted by the service, not
  -- read from a table, so only table events ({table, record, ...}) count.
  new.restricted := coalesce(new.trigger_type = 'event' and new.trigger_payload ? 'table', false)
    or exists (select 1 from public.automation_versions v, jsonb_array_elements(v.actions) x
                where v.id = new.version_id and automations_engine.is_database_action(x ->> 'action_type'));
  return new;
end;
$$;

--
-- Name: FUNCTION mark_restricted_run(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.mark_restricted_run() IS 'BEFORE INSERT on automation_runs (after fill_defaults): sets acting_user_id and restricted.';

--
-- Name: match_event_automations(uuid, text, text, text, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.match_event_automations(p_org_id uuid, p_schema text, p_table text, p_operation text, p_event text) RETURNS TABLE(id uuid, trigger_config jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  -- plpgsql, not sql: its plans are cached per session, and the trigger calls
  -- this on every write of an attached table.
  if p_event is not null then
    -- An application event: trigger_config.event is its name.
    return query
      select a.id, a.trigger_config
        from public.automations a
       where a.org_id = p_org_id and a.trigger_type = 'event' and a.status = 'active'
         and (a.trigger_config ->> 'event') = p_event
       order by a.id;
  end if;
  if p_table is not null then
    -- A table event: trigger_config.table is "deals" (schema public) or
    -- "sales.deals"; no operations means all three.
    return query
      select a.id, a.trigger_config
        from public.automations a
       where a.org_id = p_org_id and a.trigger_type = 'event' and a.status = 'active'
         and (a.trigger_config ->> 'table') = any (array[coalesce(p_schema, 'public') || '.' || p_table,
                                                         case when coalesce(p_schema, 'public') = 'public' then p_table end])
         and (jsonb_typeof(a.trigger_config -> 'operations') is distinct from 'array'
              or (a.trigger_config -> 'operations') ? upper(p_operation))
       order by a.id;
  end if;
end;
$$;

--
-- Name: FUNCTION match_event_automations(p_org_id uuid, p_schema text, p_table text, p_operation text, p_event text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.match_event_automations(p_org_id uuid, p_schema text, p_table text, p_operation text, p_event text) IS 'Active event automations of one org for a table event (schema, table, INSERT|UPDATE|DELETE) or an application event name; filters not applied.';

--
-- Name: member_can_select(regclass, jsonb, uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.member_can_select(p_table regclass, p_row jsonb, p_user_id uuid) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  v_member record;
  v_rls boolean;
  v_permissive text;
  v_restrictive text;
  v_ok boolean;
  v_prev_claims text := coalesce(current_setting('request.jwt.claims', true), '');
  v_prev_sub text := coalesce(current_setting('request.jwt.claim.sub', true), '');
  v_prev_role text := coalesce(current_setting('request.jwt.claim.role', true), '');
begin
  -- The table-event trigger is SECURITY DEFINER and cannot SET ROLE, so it
  -- asks the catalog what RLS would answer for role authenticated: the
  -- table's SELECT (and ALL) policies that apply to authenticated,
  -- permissive ones OR'ed, restrictive ones AND'ed, evaluated on the row
  -- value with request.jwt.claims set to the member's (then restored).
  -- No policy with RLS on: invisible. RLS off: visible when authenticated
  -- holds the table's SELECT privilege (column grants alone are not enough:
  -- the payload has every column). Known limit, documented in docs/engine.md:
  -- subqueries inside a policy read other tables as the function's owner
  -- (without those tables' RLS), and current_user is the owner.
  if p_row is null then
    return true;
  end if;
  select u.auth_id, u.email, coalesce(u.is_active and m.status = 'active', false) as active
    into v_member
    from public.users u
    left join public.memberships m on m.user_id = u.id and m.org_id = u.org_id
   where u.id = p_user_id;
  if not found or v_member.auth_id is null or not v_member.active then
    return false;
  end if;
  if not has_table_privilege('authenticated', p_table, 'SELECT') then
    return false;
  end if;
  select c.relrowsecurity into v_rls from pg_catalog.pg_class c where c.oid = p_table;
  if not v_rls then
    return true;
  end if;
  select string_agg(format('(%s)', coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'false')), ' or ')
           filter (where p.polpermissive),
         string_agg(format('(%s)', coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'false')), ' and ')
           filter (where not p.polpermissive)
    into v_permissive, v_restrictive
    from pg_catalog.pg_policy p
   where p.polrelid = p_table
     and p.polcmd in ('r', '*')
     and (0::oid = any (p.polroles)
          or exists (select 1 from unnest(p.polroles) as r(oid) where pg_catalog.pg_has_role('authenticated', r.oid, 'MEMBER')));
  if v_permissive is null then
    return false;
  end if;

  perform set_config('request.jwt.claims',
                     jsonb_build_object('sub', v_member.auth_id, 'role', 'authenticated', 'email', v_member.email)::text, true),
          set_config('request.jwt.claim.sub', v_member.auth_id::text, true),
          set_config('request.jwt.claim.role', 'authenticated', true);
  begin
    -- Aliased as the table, so a policy that names its columns table.col reads the row.
    execute format('select exists (select 1 from jsonb_populate_record(null::%s, $1) as %I where (%s) and (%s))',
                   p_table, (select c.relname from pg_catalog.pg_class c where c.oid = p_table),
                   v_permissive, coalesce(v_restrictive, 'true'))
      into v_ok using p_row;
  exception when others then
    perform set_config('request.jwt.claims', v_prev_claims, true),
            set_config('request.jwt.claim.sub', v_prev_sub, true),
            set_config('request.jwt.claim.role', v_prev_role, true);
    raise;
  end;
  perform set_config('request.jwt.claims', v_prev_claims, true),
          set_config('request.jwt.claim.sub', v_prev_sub, true),
          set_config('request.jwt.claim.role', v_prev_role, true);
  return coalesce(v_ok, false);
end;
$_$;

--
-- Name: FUNCTION member_can_select(p_table regclass, p_row jsonb, p_user_id uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.member_can_select(p_table regclass, p_row jsonb, p_user_id uuid) IS 'Whether the member (users.id, active in their org) could SELECT the row value (to_jsonb of a row) of the table under its RLS policies for role authenticated. Null row: true.';

--
-- Name: on_actions_changed(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.on_actions_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct n.automation_id) into v_ids from new_rows n;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct o.automation_id) into v_ids from old_rows o;
  else
    select array_agg(distinct t.automation_id) into v_ids
      from (select automation_id from new_rows union select automation_id from old_rows) t;
  end if;
  perform automations_engine.snapshot_actions(v_ids);
  return null;
end;
$$;

--
-- Name: FUNCTION on_actions_changed(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.on_actions_changed() IS 'Statement trigger on automation_actions: one new snapshot per touched automation per statement.';

--
-- Name: org_at_cap(uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.org_at_cap(p_org_id uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  -- The org has automation_settings.max_running_runs and that many runs
  -- running (automation_runs_org_running_idx). No row, or no cap: false.
  select coalesce((
    select s.max_running_runs <= (select count(*) from public.automation_runs x
                                   where x.status = 'running' and x.org_id = s.org_id)
      from public.automation_settings s
     where s.org_id = p_org_id and s.max_running_runs is not null), false)
$$;

--
-- Name: FUNCTION org_at_cap(p_org_id uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.org_at_cap(p_org_id uuid) IS 'True when the org runs as many runs as its automation_settings.max_running_runs allows (the claim holds its other runs back).';

--
-- Name: prune_runs(integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.prune_runs(p_batch_size integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_ids uuid[];
  v_runs integer := 0;
  v_steps integer := 0;
  v_versions integer := 0;
  v_found integer;
begin
  -- How locks stay short:
  --   * This function deletes ONE bounded batch per call and returns. Called
  --     on its own (autocommit), each batch is its own short transaction: the
  --     row locks of a batch (up to p_batch_size runs and their steps) are
  --     released within milliseconds, and rows another session holds are
  --     skipped (FOR UPDATE SKIP LOCKED), never waited for.
  --   * Only completed/failed runs are ever chosen: pending and running runs,
  --     the only rows enqueue/claim/save_progress touch, are never locked. New
  --     runs keep flowing (their inserts take no lock a delete conflicts with).
  --   * Loops live outside a transaction: the procedure prune_runs_job() (what
  --     pg_cron calls) COMMITs after every batch, and shared/engine/sql/retention.ts
  --     calls prune_runs() repeatedly from TypeScript (the local runtime).
  --     A function looping over batches would hold every lock until it returned.
  -- Deleting a run frees its idempotency key: exactly-once recording per key
  -- holds for as long as the run is retained.
  if p_batch_size is null or p_batch_size not between 1 and 50000 then
    raise exception 'p_batch_size must be between 1 and 50000, got %', p_batch_size
      using errcode = '22023', hint = 'Call it repeatedly with a few thousand at most.';
  end if;

  -- Expired terminal runs, per org (index automation_runs_retention_idx), at
  -- most p_batch_size in all. Picked first, locked second: two plain plans.
  select coalesce(array_agg(k.id), '{}') into v_ids
    from (select c.id
            from public.organizations o
            left join public.automation_settings s on s.org_id = o.id
           cross join lateral (
             (select x.id from public.automation_runs x
               where x.org_id = o.id and x.status = 'completed'
                 and coalesce(x.completed_at, x.created_at)
                     < now() - make_interval(days => coalesce(s.run_retention_days, 30))
               limit p_batch_size)
             union all
             (select x.id from public.automation_runs x
               where x.org_id = o.id and x.status = 'failed'
                 and coalesce(x.completed_at, x.created_at)
                     < now() - make_interval(days => coalesce(s.failed_run_retention_days, 90))
               limit p_batch_size)
           ) c
           limit p_batch_size) k;
  v_found := cardinality(v_ids);

  -- Lock them without waiting: a row another session holds (a client editing
  -- a run's metadata, a concurrent pruner) is left for the next batch. Status
  -- is re-checked under the lock, so a run that is not terminal is never deleted.
  select coalesce(array_agg(r.id), '{}') into v_ids
    from (select r.id from public.automation_runs r
           where r.id = any (v_ids) and r.status in ('completed', 'failed')
             for update skip locked) r;

  if cardinality(v_ids) > 0 then
    -- Steps explicitly (the foreign key would cascade anyway) so they are counted.
    delete from public.automation_run_steps st where st.run_id = any (v_ids);
    get diagnostics v_steps = row_count;
    delete from public.automation_runs r where r.id = any (v_ids);
    get diagnostics v_runs = row_count;
  end if;

  -- Once the runs backlog is cleared: snapshots that are not current, that no
  -- run references, and that were superseded over an hour ago (so an enqueue
  -- that read the old current_version_id just before an edit still finds it).
  if v_found < p_batch_size then
    with doomed as (
      select v.id from public.automation_versions v
       where not exists (select 1 from public.automations a where a.current_version_id = v.id)
         and not exists (select 1 from public.automation_runs r where r.version_id = v.id)
         and exists (select 1 from public.automation_versions n
                      where n.automation_id = v.automation_id and n.created_at > v.created_at
                        and n.created_at < now() - interval '1 hour')
       limit p_batch_size
       for update skip locked
    )
    delete from public.automation_versions v using doomed where v.id = doomed.id;
    get diagnostics v_versions = row_count;
  end if;

  -- more: a full batch was found (and progress made, so rows held by a long
  -- transaction cannot keep a caller looping), or a full batch of snapshots.
  return jsonb_build_object(
    'deleted_runs', v_runs, 'deleted_steps', v_steps, 'deleted_versions', v_versions,
    'more', (v_found >= p_batch_size and v_runs > 0) or v_versions >= p_batch_size);
end;
$$;

--
-- Name: FUNCTION prune_runs(p_batch_size integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.prune_runs(p_batch_size integer) IS 'Deletes one batch (<= p_batch_size) of expired completed/failed runs with their steps, then unused superseded snapshots. Returns {deleted_runs, deleted_steps, deleted_versions, more}. Call it outside a transaction, repeatedly while more is true.';

--
-- Name: prune_runs_job(integer, integer, integer); Type: PROCEDURE; Schema: automations_engine; Owner: -
--

CREATE PROCEDURE automations_engine.prune_runs_job(IN p_batch_size integer DEFAULT 1000, IN p_max_batches integer DEFAULT 500, IN p_max_seconds integer DEFAULT 300)
    LANGUAGE plpgsql
    AS $$
declare
  v_started timestamptz := pg_catalog.clock_timestamp();
  v_batch jsonb;
  v_batches integer := 0;
  v_runs bigint := 0;
  v_versions bigint := 0;
begin
  -- prune_runs_job: what pg_cron calls. A PROCEDURE so it can COMMIT between
  -- batches. PostgreSQL forbids transaction control in a routine with a SET
  -- clause, so this one cannot pin search_path: every name in it is
  -- schema-qualified instead (it is SECURITY INVOKER and only the service may
  -- call it). Must be CALLed on its own, not inside a transaction block.
  loop
    v_batch := automations_engine.prune_runs(p_batch_size);
    commit;
    v_batches := v_batches + 1;
    v_runs := v_runs + (v_batch ->> 'deleted_runs')::bigint;
    v_versions := v_versions + (v_batch ->> 'deleted_versions')::bigint;
    exit when not (v_batch ->> 'more')::boolean
           or v_batches >= p_max_batches
           or pg_catalog.clock_timestamp() - v_started >= pg_catalog.make_interval(secs => p_max_seconds);
  end loop;
  raise log 'automations retention: % runs and % snapshots deleted in % batches', v_runs, v_versions, v_batches;
end;
$$;

--
-- Name: PROCEDURE prune_runs_job(IN p_batch_size integer, IN p_max_batches integer, IN p_max_seconds integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON PROCEDURE automations_engine.prune_runs_job(IN p_batch_size integer, IN p_max_batches integer, IN p_max_seconds integer) IS 'Retention job: prune_runs() batch after batch, committing after each, until done or p_max_batches / p_max_seconds. Run as `call automations_engine.prune_runs_job()` in its own transaction (pg_cron does).';

--
-- Name: record_chain_refusal(uuid, uuid, uuid, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  -- One row per chain, counting its refused runs; the org reads it
  -- (automation_chain_refusals) and the refused write itself went through.
  insert into public.automation_chain_refusals as c (root_run_id, org_id, last_automation_id, last_reason)
  select r.id, r.org_id, p_automation_id, p_reason
    from public.automation_runs r
   where r.id = p_root_run_id and r.org_id = p_org_id
  on conflict (root_run_id) do update
    set refused_runs = c.refused_runs + 1, last_automation_id = excluded.last_automation_id,
        last_reason = excluded.last_reason, last_refused_at = now();
$$;

--
-- Name: FUNCTION record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text) IS 'Counts a run a chain was refused (budget or depth) on automation_chain_refusals; a root of another org or a deleted root records nothing.';

--
-- Name: redaction_marker(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.redaction_marker(p_payload jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  -- What members see in a restricted run's trigger_payload: the kind of event,
  -- never a row value.
  select jsonb_strip_nulls(jsonb_build_object(
    'redacted', true,
    'reason', 'this run carries data read under its acting member''s rights; only that member (and the service) reads it, in automation_run_payloads',
    'type', case when jsonb_typeof(p_payload -> 'type') = 'string' then p_payload -> 'type' end,
    'table', case when jsonb_typeof(p_payload -> 'table') = 'string' then p_payload -> 'table' end,
    'schema', case when jsonb_typeof(p_payload -> 'schema') = 'string' then p_payload -> 'schema' end))
$$;

--
-- Name: FUNCTION redaction_marker(p_payload jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.redaction_marker(p_payload jsonb) IS 'The trigger_payload a restricted run shows: {redacted, reason, type, table, schema}, no row values.';

--
-- Name: release_expired_leases(integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.release_expired_leases(p_limit integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_n integer;
  v_ids uuid[];
  v_starts timestamptz[];
begin
  -- Runs go back to the queue when their worker is presumed dead, by either
  -- rule, whichever comes first:
  --   * its heartbeat row is older than its timeout (~10 s after a crash);
  --   * the run's lease expired (a claimer without a heartbeat row, or a
  --     live process stuck on this run without renewing it).
  -- Either way it counts as a failed attempt (so a run that kills every
  -- worker, e.g. by exhausting its memory, ends at the attempt cap instead of
  -- looping) and the run is claimable again at once; completed steps are kept
  -- and not repeated. Fencing is unchanged: the next claim gets attempt + 1
  -- and a new claim token, so a worker that was only slow loses its writes.
  -- The scan covers running runs only (partial index automation_runs_lease_idx):
  -- at most the workers' total concurrency, whatever the history size.
  with expired as (
    select r.id, w.worker_id is not null as dead, w.timeout_seconds
      from public.automation_runs r
      left join automations_engine.workers w
        on w.worker_id = r.locked_by
       and w.heartbeat_at < now() - make_interval(secs => w.timeout_seconds)
     where r.status = 'running'
       and (r.lease_expires_at < now() or w.worker_id is not null)
     order by r.lease_expires_at
     limit p_limit
     for update of r skip locked
  )
  , released as (
  update public.automation_runs r
     set status = case when r.failed_attempts + 1 >= r.max_attempts then 'failed' else 'pending' end::public.run_status,
         failed_attempts = r.failed_attempts + 1,
         completed_at = case when r.failed_attempts + 1 >= r.max_attempts then now() end,
         error_message = format('the worker running attempt %s stopped responding (%s); %s', r.attempt,
           case when expired.dead then format('worker %s sent no heartbeat for %s s', r.locked_by, expired.timeout_seconds)
                else 'lease expired' end,
           case when r.failed_attempts + 1 >= r.max_attempts
                then format('gave up after %s attempts', r.failed_attempts + 1) else 'retrying' end),
         run_at = now(),
         lease_expires_at = null,
         locked_by = null
    from expired
   where r.id = expired.id
  returning r.automation_id, r.started_at, r.status
  )
  select count(*)::int,
         array_agg(automation_id) filter (where status = 'failed'),
         array_agg(started_at) filter (where status = 'failed')
    into v_n, v_ids, v_starts
    from released;
  if v_ids is not null then
    perform automations_engine.count_finished_runs(v_ids, v_starts);
  end if;
  -- Retention of liveness rows: a dead worker's row stays a day (which
  -- process died, when), then goes. Clean stops deleted theirs already.
  delete from automations_engine.workers w where w.heartbeat_at < now() - interval '1 day';
  return v_n;
end;
$$;

--
-- Name: FUNCTION release_expired_leases(p_limit integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.release_expired_leases(p_limit integer) IS 'Reaper: running runs whose worker is dead (no heartbeat within its timeout) or whose lease expired go back to pending (or fail at the attempt cap), counting a failed attempt; deletes liveness rows silent for a day.';

--
-- Name: release_run(uuid, integer, uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid) RETURNS boolean
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  -- Graceful shutdown: hand the run back untouched, not counted as a failure.
  -- Its completed steps stay done; the next claim resumes after them.
  update public.automation_runs
     set status = 'pending', run_at = now(), lease_expires_at = null, locked_by = null
   where id = p_run_id and attempt = p_attempt and claim_token = p_claim_token and status = 'running'
  returning true
$$;

--
-- Name: FUNCTION release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid) IS 'Returns a claimed run to the queue without counting a failure (worker shutting down). False when the claim (attempt + token) is stale.';

--
-- Name: require_org_access(uuid, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.require_org_access(p_org_id uuid, p_what text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  -- Which automation/run may the caller touch? Service callers any; users only
  -- their org's. Same answer as RLS, for SECURITY DEFINER functions.
  if p_org_id is null
     or (not automations_engine.caller_is_service() and p_org_id is distinct from (select public.get_user_org_id())) then
    raise exception '% not found', p_what using errcode = 'P0002';
  end if;
end;
$$;

--
-- Name: FUNCTION require_org_access(p_org_id uuid, p_what text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.require_org_access(p_org_id uuid, p_what text) IS 'Raises P0002 "<what> not found" unless the caller is the service or a member of p_org_id.';

--
-- Name: retry_delay(integer, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.retry_delay(p_failed_attempts integer, p_base_seconds integer) RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  -- Backoff: base * 2^(failures-1) seconds, capped at one hour. Deterministic so
  -- that history explains itself ("retrying at ...") and tests can check it.
  select make_interval(secs => least(3600, p_base_seconds * power(2, greatest(p_failed_attempts, 1) - 1)))
$$;

--
-- Name: FUNCTION retry_delay(p_failed_attempts integer, p_base_seconds integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.retry_delay(p_failed_attempts integer, p_base_seconds integer) IS 'Delay before the next attempt after the Nth failure: base * 2^(N-1) seconds, at most one hour.';

--
-- Name: run_acting_member(uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.run_acting_member(p_run_id uuid) RETURNS TABLE(acting_user_id uuid, auth_id uuid, email text, active boolean, automation_name text)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  -- Looked up before each database step (the role is taken at run time): a
  -- member who left, was suspended or deactivated since the run was created
  -- is no longer active, and the step fails.
  select r.acting_user_id, u.auth_id, u.email,
         coalesce(u.auth_id is not null and u.is_active and u.org_id = r.org_id and m.status = 'active', false),
         a.name
    from public.automation_runs r
    join public.automations a on a.id = r.automation_id
    left join public.users u on u.id = r.acting_user_id
    left join public.memberships m on m.user_id = u.id and m.org_id = r.org_id
   where r.id = p_run_id
$$;

--
-- Name: FUNCTION run_acting_member(p_run_id uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.run_acting_member(p_run_id uuid) IS 'Who a run acts as (null: the service) and whether they are still an active member of the run''s org.';

--
-- Name: run_cause(uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.run_cause(p_org_id uuid) RETURNS TABLE(cause_run_id uuid, root_run_id uuid, chain_depth integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_text text := nullif(current_setting('automations.caused_by', true), '');
  v_id uuid;
begin
  -- The causing run, as the server knows it. automations.caused_by is set
  -- (transaction-local) by a run's own writes (withRunCause) and by the HTTP
  -- handlers from a verified x-automations-cause header. Only its run_id is
  -- used: root and depth come from that run's row, and a run of another org
  -- (or none at all) is no cause. Anyone able to set the setting can only
  -- charge their own org's chains.
  if v_text is null then
    return;
  end if;
  begin
    v_id := (v_text::jsonb ->> 'run_id')::uuid;
  exception when others then
    return;  -- not JSON, or not a uuid: no cause
  end;
  return query
    select r.id, coalesce(r.root_run_id, r.id), r.chain_depth
      from public.automation_runs r
     where r.id = v_id and r.org_id = p_org_id;
end;
$$;

--
-- Name: FUNCTION run_cause(p_org_id uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.run_cause(p_org_id uuid) IS 'The run that caused the current transaction''s enqueue (automations.caused_by run_id), with its chain root and depth; no row when none, or of another org.';

--
-- Name: save_progress(uuid, integer, uuid, jsonb, text, text, boolean, jsonb, timestamp with time zone, integer, integer, integer, boolean); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.save_progress(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_steps jsonb DEFAULT '[]'::jsonb, p_outcome text DEFAULT NULL::text, p_error text DEFAULT NULL::text, p_retryable boolean DEFAULT false, p_result jsonb DEFAULT NULL::jsonb, p_run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_lease_seconds integer DEFAULT 60, p_max_attempts integer DEFAULT NULL::integer, p_backoff_seconds integer DEFAULT NULL::integer, p_count boolean DEFAULT true) RETURNS public.run_status
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
-- Records finished steps and, optionally, the run's outcome. p_outcome:
--   null        steps only; the lease is extended;
--   'completed' the run is done;
--   'failed'    p_retryable decides retry vs final; p_run_at is a receiver's
--               Retry-After; p_max_attempts / p_backoff_seconds are the
--               failing step's own retry policy;
--   'wait'      a delay step: sleep until p_run_at.
-- p_count false: the caller (save_progress_many) adds the run to its
-- automation's counters itself, once per batch.
-- Returns the run's new status, or null when fenced out (stale claim).
declare
  v_run record;
  v_status public.run_status;
  v_cap integer;
  v_retry_at timestamptz;
begin
  -- The fence: this claim must still own the run. FOR UPDATE orders us
  -- after a concurrent reaper or re-claim, which bumps attempt / status and
  -- replaces the claim token.
  select r.id, r.org_id, r.automation_id, r.started_at, r.failed_attempts, r.max_attempts, a.retry_backoff_seconds
    into v_run
    from public.automation_runs r
    join public.automations a on a.id = r.automation_id
   where r.id = p_run_id and r.attempt = p_attempt and r.status = 'running'
     and r.claim_token = p_claim_token
   for update of r;
  if not found then
    return null;
  end if;

  -- Completed steps are final: a late duplicate never overwrites one.
  insert into public.automation_run_steps as s
    (run_id, step_index, org_id, action_id, action_type, name, status, attempt,
     input, output, error_message, started_at, completed_at)
  select p_run_id, x.step_index, v_run.org_id, x.action_id, x.action_type, x.name, x.status, p_attempt,
         x.input, x.output, x.error_message, coalesce(x.started_at, now()), x.completed_at
    from jsonb_to_recordset(coalesce(p_steps, '[]'::jsonb)) as x(
      step_index integer, action_id uuid, action_type text, name text, status public.run_step_status,
      input jsonb, output jsonb, error_message text, started_at timestamptz, completed_at timestamptz)
  on conflict (run_id, step_index) do update
     set status = excluded.status, attempt = excluded.attempt, input = excluded.input,
         output = excluded.output, error_message = excluded.error_message,
         started_at = excluded.started_at, completed_at = excluded.completed_at
   where s.status <> 'completed';

  if p_outcome is null then
    update public.automation_runs
       set lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     where id = p_run_id;
    return 'running';
  elsif p_outcome = 'completed' then
    update public.automation_runs
       set status = 'completed', completed_at = now(), result = p_result, error_message = null,
           lease_expires_at = null, locked_by = null
     where id = p_run_id;
    if p_count then
      perform automations_engine.count_finished_runs(array[v_run.automation_id], array[v_run.started_at]);
    end if;
    return 'completed';
  elsif p_outcome = 'wait' then
    -- A delay step: give the worker back and resume at p_run_at. Not a failure.
    update public.automation_runs
       set status = 'pending', run_at = coalesce(p_run_at, now()), lease_expires_at = null, locked_by = null
     where id = p_run_id;
    return 'pending';
  elsif p_outcome = 'failed' then
    v_cap := coalesce(p_max_attempts, v_run.max_attempts);
    if p_retryable and v_run.failed_attempts + 1 < v_cap then
      -- Exponential backoff with ±25% jitter, so runs that failed together
      -- (a receiver's outage) do not all come back in the same second; never
      -- sooner than the receiver's Retry-After.
      -- Retry-After is honoured up to a day: a receiver cannot park a run forever.
      v_retry_at := greatest(
        now() + automations_engine.retry_delay(v_run.failed_attempts + 1,
                                               coalesce(p_backoff_seconds, v_run.retry_backoff_seconds))
                * (0.75 + random() * 0.5),
        case when p_run_at is not null then least(p_run_at, now() + interval '1 day') end);
      update public.automation_runs r
         set status = 'pending',
             failed_attempts = r.failed_attempts + 1,
             run_at = v_retry_at,
             error_message = format('attempt %s of %s failed: %s (retrying at %s)',
                                    r.failed_attempts + 1, v_cap, p_error,
                                    to_char(v_retry_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
             lease_expires_at = null, locked_by = null
       where r.id = p_run_id;
      v_status := 'pending';
    else
      update public.automation_runs r
         set status = 'failed', failed_attempts = r.failed_attempts + 1, completed_at = now(),
             error_message = p_error, result = p_result, lease_expires_at = null, locked_by = null
       where r.id = p_run_id;
      if p_count then
        perform automations_engine.count_finished_runs(array[v_run.automation_id], array[v_run.started_at]);
      end if;
      v_status := 'failed';
    end if;
    return v_status;
  else
    raise exception 'unknown outcome %: use completed, failed, wait or null', p_outcome using errcode = '22023';
  end if;
end;
$$;

--
-- Name: FUNCTION save_progress(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_steps jsonb, p_outcome text, p_error text, p_retryable boolean, p_result jsonb, p_run_at timestamp with time zone, p_lease_seconds integer, p_max_attempts integer, p_backoff_seconds integer, p_count boolean); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.save_progress(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_steps jsonb, p_outcome text, p_error text, p_retryable boolean, p_result jsonb, p_run_at timestamp with time zone, p_lease_seconds integer, p_max_attempts integer, p_backoff_seconds integer, p_count boolean) IS 'Fenced write of a worker: step rows plus an optional outcome (completed / failed with retry / wait). Null when the claim (attempt + claim token) is stale.';

--
-- Name: save_progress_many(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.save_progress_many(p_items jsonb) RETURNS TABLE(run_id uuid, status public.run_status)
    LANGUAGE plpgsql
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
#variable_conflict use_column
declare
  v_item jsonb;
  v_done uuid[];
  v_slow_finished uuid[] := '{}';
  v_ids uuid[];
  v_starts timestamptz[];
begin
  -- Many save_progress calls in one transaction: the worker records a batch
  -- of finished runs with one commit instead of one per run (commits waiting
  -- on the WAL flush were 70-85 % of backend time in the drain).
  -- Items: [{run_id, attempt, claim_token, steps, outcome, error, retryable,
  -- result, run_at, lease_seconds, max_attempts, backoff_seconds}], the
  -- parameters of save_progress. Each item is fenced on its own: a stale
  -- claim gets a null status and changes nothing. An error in any item rolls
  -- back the batch; the caller then saves the items one by one.
  --
  -- The common case, runs that completed, takes a fixed number of statements
  -- per batch instead of four per run: one fenced lock of all of them, one
  -- insert of all their step rows, one update of all the runs (in the drain
  -- profile the per-run statements, each planned and executed once per run,
  -- were most of the database's time). Other outcomes (failed, wait, steps
  -- only) are rarer and go through save_progress() one by one, so their logic
  -- (retries, backoff, Retry-After) stays in one place.
  --
  -- Runs are locked in run id order, so concurrent batches do not deadlock;
  -- the counters of the runs that finished are added at the end with one
  -- update per automation in automation id order (count_finished_runs).
  -- The runs completed set-based hand their automation and start time to
  -- that update straight from the update's RETURNING: reading them again by
  -- `id = any (array)` had a cached plan that was a sequential scan whenever
  -- it was first planned on a small table (1.9 ms per batch, 40 % of the
  -- function, in the webhook bench). enable_seqscan = off keeps the remaining
  -- lookup of the rare one-by-one outcomes on the primary key (claim_runs
  -- explains why a generic plan made on a small table needs it).
  if jsonb_typeof(p_items) is distinct from 'array' then
    raise exception 'save_progress_many expects a JSON array of items, got %', coalesce(jsonb_typeof(p_items), 'null')
      using errcode = '22023';
  end if;

  -- Completed runs, set-based. A run id that appears twice in one batch goes
  -- the slow way (an insert cannot touch the same step row twice).
  -- The fence is the same as save_progress's: this claim still owns the
  -- run (attempt, claim token and status), and FOR UPDATE, taken in run id order, orders
  -- us after a concurrent reaper, cancel or re-claim.
  with given as (
    select x, count(*) over (partition by x ->> 'run_id') as copies
      from jsonb_array_elements(p_items) as x
  ), items as (
    select (x ->> 'run_id')::uuid as run_id, (x ->> 'attempt')::integer as attempt,
           (x ->> 'claim_token')::uuid as claim_token,
           coalesce(x -> 'steps', '[]'::jsonb) as steps, x -> 'result' as result
      from given
     where x ->> 'outcome' = 'completed' and copies = 1
  ), fenced as (
    select r.id, r.org_id, i.attempt, i.steps, i.result
      from public.automation_runs r
      join items i on i.run_id = r.id
     where r.attempt = i.attempt and r.status = 'running' and r.claim_token = i.claim_token
     order by r.id
       for update of r
  ), steps as (
    -- Completed steps are final: a late duplicate never overwrites one.
    insert into public.automation_run_steps as s
      (run_id, step_index, org_id, action_id, action_type, name, status, attempt,
       input, output, error_message, started_at, completed_at)
    select f.id, x.step_index, f.org_id, x.action_id, x.action_type, x.name, x.status, f.attempt,
           x.input, x.output, x.error_message, coalesce(x.started_at, now()), x.completed_at
      from fenced f
     cross join lateral jsonb_to_recordset(f.steps) as x(
        step_index integer, action_id uuid, action_type text, name text, status public.run_step_status,
        input jsonb, output jsonb, error_message text, started_at timestamptz, completed_at timestamptz)
    on conflict (run_id, step_index) do update
       set status = excluded.status, attempt = excluded.attempt, input = excluded.input,
           output = excluded.output, error_message = excluded.error_message,
           started_at = excluded.started_at, completed_at = excluded.completed_at
     where s.status <> 'completed'
  ), done as (
    update public.automation_runs r
       set status = 'completed', completed_at = now(), result = f.result, error_message = null,
           lease_expires_at = null, locked_by = null
      from fenced f
     where r.id = f.id
    returning r.id, r.automation_id, r.started_at
  )
  select coalesce(array_agg(done.id), '{}'), coalesce(array_agg(done.automation_id), '{}'),
         coalesce(array_agg(done.started_at), '{}')
    into v_done, v_ids, v_starts
    from done;

  foreach run_id in array v_done loop
    status := 'completed';
    return next;
  end loop;

  -- Everything else, one by one in run id order (completed items fenced out
  -- above are tried again here and get their null).
  for v_item in
    select x.value from jsonb_array_elements(p_items) as x(value)
     where not ((x.value ->> 'run_id')::uuid = any (v_done))
     order by (x.value ->> 'run_id')::uuid
  loop
    run_id := (v_item ->> 'run_id')::uuid;
    status := automations_engine.save_progress(
      run_id,
      (v_item ->> 'attempt')::integer,
      (v_item ->> 'claim_token')::uuid,
      coalesce(v_item -> 'steps', '[]'::jsonb),
      v_item ->> 'outcome',
      v_item ->> 'error',
      coalesce((v_item ->> 'retryable')::boolean, false),
      v_item -> 'result',
      (v_item ->> 'run_at')::timestamptz,
      coalesce((v_item ->> 'lease_seconds')::integer, 60),
      (v_item ->> 'max_attempts')::integer,
      (v_item ->> 'backoff_seconds')::integer,
      false);
    if status in ('completed', 'failed') then
      v_slow_finished := v_slow_finished || run_id;
    end if;
    return next;
  end loop;

  -- run_count / last_run_at: one ordered update per automation for the batch.
  if cardinality(v_slow_finished) > 0 then
    select v_ids || array_agg(r.automation_id), v_starts || array_agg(r.started_at) into v_ids, v_starts
      from public.automation_runs r where r.id = any (v_slow_finished);
  end if;
  if cardinality(v_ids) > 0 then
    perform automations_engine.count_finished_runs(v_ids, v_starts);
  end if;
end;
$$;

--
-- Name: FUNCTION save_progress_many(p_items jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.save_progress_many(p_items jsonb) IS 'save_progress for a batch of runs in one transaction: completed runs set-based (one lock, one step insert, one update for the batch), other outcomes one by one; one counter update per automation. Returns each run''s new status (null when fenced out).';

--
-- Name: schedule_candidates(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.schedule_candidates() RETURNS TABLE(automation_id uuid, trigger_config jsonb, last_fire_at timestamp with time zone, since timestamp with time zone)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
begin
  insert into automations_engine.schedule_state (automation_id)
  select a.id from public.automations a
   where a.trigger_type = 'schedule' and a.status = 'active'
  on conflict do nothing;

  -- A paused automation starts afresh when reactivated: its pause is not a
  -- backlog to catch up on.
  delete from automations_engine.schedule_state s
   using public.automations a
   where a.id = s.automation_id and (a.status <> 'active' or a.trigger_type <> 'schedule');

  return query
    select a.id, a.trigger_config, s.last_fire_at, s.since
      from public.automations a
      join automations_engine.schedule_state s on s.automation_id = a.id
     where a.trigger_type = 'schedule' and a.status = 'active';
end;
$$;

--
-- Name: FUNCTION schedule_candidates(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.schedule_candidates() IS 'Active schedule automations with their last fire time; starts tracking new ones, forgets inactive ones.';

--
-- Name: set_acting_user(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.set_acting_user() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_member uuid := automations_engine.calling_member(new.org_id);
begin
  -- An automation acts as the last member who inserted it or changed what
  -- starts it or whether it runs (its actions: snapshot_actions). Not its
  -- creator: a guest's edit of an admin's automation must not keep the
  -- admin's rights. The service's edits leave it alone (it may set it).
  -- SECURITY DEFINER: members' writes fire it, and the engine schema is not theirs.
  if v_member is not null then
    if tg_op = 'INSERT'
       or new.trigger_type is distinct from old.trigger_type
       or new.trigger_config is distinct from old.trigger_config
       or new.status is distinct from old.status then
      new.acting_user_id := v_member;
    end if;
    -- Otherwise unchanged, or set by snapshot_actions (members themselves
    -- cannot write the column: it is outside their column grants).
  elsif tg_op = 'UPDATE' and old.acting_user_id is not null and new.acting_user_id is null
        and pg_trigger_depth() > 1 and new.status <> 'archived' then
    -- The acting member's users row was deleted (the foreign key's SET NULL,
    -- one trigger level down). Null would mean "runs as the service": pause
    -- instead, until a member edits it (and so becomes its acting member).
    new.status := 'paused';
  end if;
  return new;
end;
$$;

--
-- Name: FUNCTION set_acting_user(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.set_acting_user() IS 'BEFORE INSERT/UPDATE on automations: a member''s insert or change of trigger_type, trigger_config or status makes them the acting member; deleting the acting member''s user pauses the automation.';

--
-- Name: setting(uuid, text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.setting(p_org_id uuid, p_name text) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v integer;
begin
  -- The one place the defaults live. Definer: called from triggers that run
  -- as the member saving an automation, who may read the row anyway (RLS).
  select case p_name
           when 'max_actions_per_automation' then s.max_actions_per_automation
           when 'max_automations' then s.max_automations
           when 'chain_run_budget' then s.chain_run_budget
           when 'max_chain_depth' then s.max_chain_depth
           when 'max_running_runs' then s.max_running_runs
         end
    into v
    from public.automation_settings s
   where s.org_id = p_org_id;
  if v is not null then
    return v;
  end if;
  case p_name
    when 'max_actions_per_automation' then return 50;
    when 'max_automations' then return 1000;
    when 'chain_run_budget' then return 100;
    when 'max_chain_depth' then return 10;
    when 'max_running_runs' then return null;
    else
      raise exception 'unknown automation setting "%"', p_name using errcode = '22023',
        hint = 'Settings: max_actions_per_automation, max_automations, chain_run_budget, max_chain_depth, max_running_runs.';
  end case;
end;
$$;

--
-- Name: FUNCTION setting(p_org_id uuid, p_name text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.setting(p_org_id uuid, p_name text) IS 'Effective limit for an org: its automation_settings column, else the default (50 actions per automation, 1000 automations, chain budget 100 runs, chain depth 10, running runs unlimited).';

--
-- Name: snapshot_actions(uuid[]); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.snapshot_actions(p_automation_ids uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- Lock the automations first (sorted, so concurrent editors queue rather
  -- than deadlock). Under READ COMMITTED the next statement then sees every
  -- edit committed before the lock was granted, so two concurrent edits never
  -- leave a snapshot that misses one of them. Deleted automations (cascades)
  -- are simply not found.
  perform 1 from public.automations a
   where a.id = any (p_automation_ids)
   order by a.id
   for update;

  with snap as (
    insert into public.automation_versions (org_id, automation_id, actions)
    select a.org_id, a.id,
           coalesce((
             select jsonb_agg(jsonb_build_object(
                      'id', x.id, 'name', x.name, 'action_type', x.action_type,
                      'action_config', x.action_config, 'condition', x.condition,
                      'retry', x.retry, 'template_missing', x.template_missing, 'position', x.position)
                    order by x.position, x.created_at, x.id)
               from public.automation_actions x
              where x.automation_id = a.id), '[]'::jsonb)
      from public.automations a
     where a.id = any (p_automation_ids)
    returning id, automation_id
  )
  -- A member's change of the actions makes them the acting member (see
  -- set_acting_user); the service's leaves it unchanged.
  update public.automations a
     set current_version_id = snap.id,
         acting_user_id = coalesce(automations_engine.calling_member(a.org_id), a.acting_user_id)
    from snap
   where a.id = snap.automation_id;
end;
$$;

--
-- Name: FUNCTION snapshot_actions(p_automation_ids uuid[]); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.snapshot_actions(p_automation_ids uuid[]) IS 'Writes a new immutable snapshot of the given automations'' actions and points current_version_id at it.';

--
-- Name: store_restricted_payload(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.store_restricted_payload() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- AFTER, not BEFORE: an insert that loses its idempotency conflict must
  -- leave no payload row. One extra (HOT) row version per restricted run.
  -- SECURITY DEFINER: clients may not write automation_run_payloads themselves.
  insert into public.automation_run_payloads (run_id, org_id, payload)
  values (new.id, new.org_id, new.trigger_payload);
  update public.automation_runs r
     set trigger_payload = automations_engine.redaction_marker(new.trigger_payload)
   where r.id = new.id;
  return null;
end;
$$;

--
-- Name: FUNCTION store_restricted_payload(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.store_restricted_payload() IS 'AFTER INSERT on restricted runs: moves the trigger payload to automation_run_payloads and leaves the redaction marker.';

--
-- Name: store_restricted_result(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.store_restricted_result() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- The engine's result is {output: <last step output>, stopped?: {step,
  -- reason}}: the output is step data, kept with the payload; members see
  -- that there is a result and why a run stopped, not what it holds.
  update public.automation_run_payloads p set result = new.result where p.run_id = new.id;
  new.result := jsonb_strip_nulls(jsonb_build_object(
    'redacted', true,
    'reason', 'the result of a restricted run is in automation_run_payloads',
    'stopped', new.result -> 'stopped'));
  return new;
end;
$$;

--
-- Name: FUNCTION store_restricted_result(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.store_restricted_result() IS 'BEFORE UPDATE of a restricted run''s result: the result goes to automation_run_payloads, the row keeps a marker.';

--
-- Name: store_webhook_secret(uuid, text, interval); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_org uuid;
begin
  -- Callers: rotate_webhook_secret (a secret we generate) and
  -- set_webhook_secret (one the provider issued). Both answer the same way to
  -- the same mistakes, so the checks live here.
  if p_grace is null or p_grace < interval '0' or p_grace > interval '30 days' then
    raise exception 'grace_period must be between 0 and 30 days, got %', p_grace using errcode = '22023';
  end if;
  -- Same visibility rule as RLS, plus the admin check: an automation of
  -- another org is "not found", a member who is not an admin is refused.
  select a.org_id into v_org from public.automations a where a.id = p_automation_id;
  if not found or (not automations_engine.caller_is_service() and v_org is distinct from (select public.get_user_org_id())) then
    raise exception 'automation % not found', p_automation_id using errcode = 'P0002';
  end if;
  if not automations_engine.caller_is_service() and not (select public.is_admin()) then
    raise exception 'only owners and admins can set or rotate webhook secrets' using errcode = '42501';
  end if;
  -- The secret it replaces stays valid for p_grace: senders switch over
  -- without dropped deliveries. rotated_at is also the webhook function's
  -- cache key, so the new secret takes effect at once.
  insert into automations_engine.webhook_secrets as w (automation_id, secret)
  values (p_automation_id, p_secret)
  on conflict (automation_id) do update
     set previous_secret = w.secret,
         previous_expires_at = now() + p_grace,
         secret = excluded.secret,
         rotated_at = clock_timestamp();
end;
$$;

--
-- Name: FUNCTION store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval) IS 'Checks the caller (service, or an owner/admin of the automation''s org) and stores a webhook secret, keeping the previous one valid for the grace period.';

--
-- Name: sync_flow_keys(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.sync_flow_keys() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- A run's group is computed at enqueue; when the automation's limits
  -- change, its pending runs must follow (or runs queued before a limit was
  -- set would bypass it), and so must its running ones, which the new limit
  -- counts. Finished runs keep theirs. Reads the automation's runs through
  -- (automation_id, created_at): a one-off cost per change of limits.
  update public.automation_runs r
     set flow_key = automations_engine.flow_key(new.id, new.max_concurrency, new.concurrency_key, new.rate_limit,
                                                coalesce(r.trigger_type, 'manual'), r.trigger_payload)
   where r.automation_id = new.id and r.status in ('pending', 'running')
     and r.flow_key is distinct from automations_engine.flow_key(new.id, new.max_concurrency, new.concurrency_key,
                                                new.rate_limit, coalesce(r.trigger_type, 'manual'), r.trigger_payload);
  return null;
end;
$$;

--
-- Name: FUNCTION sync_flow_keys(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.sync_flow_keys() IS 'AFTER UPDATE of an automation''s limits: rewrites the flow_key of its pending and running runs.';

--
-- Name: template_problems(jsonb, text, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.template_problems(p_value jsonb, p_path text DEFAULT 'action_config'::text, p_depth integer DEFAULT 0) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
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
$_$;

--
-- Name: FUNCTION template_problems(p_value jsonb, p_path text, p_depth integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.template_problems(p_value jsonb, p_path text, p_depth integer) IS 'Template syntax problems in every string of a config (path first); empty when all placeholders parse.';

--
-- Name: timezone_problem(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.timezone_problem(p_tz text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    SET "TimeZone" TO 'UTC'
    AS $_$
declare
  v_name text;
begin
  -- Time zones. TypeScript accepts what Intl accepts (IANA names and aliases,
  -- any case). Here: a name PostgreSQL loads from its tz database (any case),
  -- minus what only PostgreSQL has (posix/..., Factory, localtime, posixrules)
  -- and minus POSIX specs like "UTC+3", which PostgreSQL also takes but Intl
  -- does not. Measured difference (Node 20, ICU 78, tzdata 2025): ICU also
  -- knows a few legacy IDs PostgreSQL lacks (the Java 3-letter IDs such as
  -- "PST" or "IST", SystemV/..., US/Pacific-New); those are refused here, so
  -- use the IANA name. set_config instead of pg_timezone_names: ~0.05 ms, not ~90.
  begin
    v_name := pg_catalog.set_config('TimeZone', p_tz, true);
  exception when others then
    v_name := null;
  end;
  if v_name is null or p_tz = ''
     or v_name ~ '^posix/' or v_name in ('Factory', 'localtime', 'posixrules')
     -- Digits: only the tz database's own names, never a POSIX spec.
     or (v_name ~ '[0-9]' and v_name !~ '^(Etc/GMT([+-]?0|-(1[0-4]|[1-9])|\+(1[0-2]|[1-9]))|GMT[+-]?0|EST5EDT|CST6CDT|MST7MDT|PST8PDT)$')
  then
    return format('unknown timezone %s%s', to_jsonb(p_tz)::text,
      case when p_tz ~* '^(UTC|GMT)?[\t\n\v\f\r \u00a0\u2000-\u200a\u3000]*[+-][0-9]'
           then '; for a fixed offset use "Etc/GMT-3" style names (sign inverted)'
           else '; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"' end);
  end if;
  return null;
end;
$_$;

--
-- Name: FUNCTION timezone_problem(p_tz text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.timezone_problem(p_tz text) IS 'Why a time zone name is not accepted for schedules, or null. Its body says how it differs from Intl.';

--
-- Name: trigger_config_problems(public.automation_trigger_type, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb) RETURNS text[]
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
declare
  c constant jsonb := case when p_config is null or p_config = 'null'::jsonb then '{}'::jsonb else p_config end;
  v_allowed text[];
  v_out text[] := '{}';
  v jsonb;
  v_p text;
  v_i integer;
  v_unknown text;
  v_check record;
begin
  if jsonb_typeof(c) <> 'object' then
    return array['trigger_config: must be a JSON object, got ' || automations_engine.json_shown(c)];
  end if;
  v_allowed := case p_type when 'schedule' then '{cron,timezone,missed,max_catch_up}'::text[]
                           when 'event' then '{table,operations,event,filter}'::text[]
                           when 'webhook' then '{content_types,max_body_bytes,verify,headers,filter}'::text[]
                           else '{}'::text[] end;
  -- Plain type and range checks: (key, expected type, min, max) per trigger type.
  for v_check in
    select x.key, x.expected, x.lo, x.hi from (values
      ('schedule', 'cron', 'string', null, null), ('schedule', 'timezone', 'string', null, null),
      ('schedule', 'missed', 'enum', null, null), ('schedule', 'max_catch_up', 'integer', 1, 1000),
      ('event', 'table', 'string', null, null), ('event', 'operations', 'array', null, null),
      ('event', 'event', 'string', null, null),
      ('webhook', 'content_types', 'array', null, null), ('webhook', 'max_body_bytes', 'integer', 1, 1048576))
      as x(type, key, expected, lo, hi)
    where x.type = p_type::text
  loop
    v := c -> v_check.key;
    if v is null then
      if v_check.key = 'cron' then v_out := v_out || 'trigger_config.cron: is required'::text; end if;
      continue;
    end if;
    v_p := case when v_check.expected = 'enum'
                then case when v #>> '{}' in ('skip', 'once', 'all') and jsonb_typeof(v) = 'string' then null
                          else 'must be one of "skip", "once", "all"; got ' || v::text end
                else automations_engine.json_value_problem(v, v_check.expected, v_check.lo, v_check.hi) end;
    if v_p is null and v_check.key = 'cron' then
      v_p := automations_engine.cron_problem(v #>> '{}');
    elsif v_p is null and v_check.key = 'timezone' then
      v_p := automations_engine.timezone_problem(v #>> '{}');
    elsif v_p is null and v_check.key = 'table' and v #>> '{}' !~ '^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$' then
      v_p := 'must be a table name, optionally with its schema ("deals" or "public.deals")';
    elsif v_p is null and v_check.key = 'event' then
      v_p := case when v #>> '{}' = '' then 'must not be empty'
                  when length(v #>> '{}') > 200 then 'must be at most 200 characters'
                  when v #>> '{}' !~ '^[A-Za-z0-9_.:-]*$' then 'may contain only letters, digits and _ . : - (like "invoice.paid")' end;
    elsif v_p is null and jsonb_typeof(v) = 'array' then
      v_p := case when jsonb_array_length(v) = 0 then 'must not be empty' end;
      for v_i in 0 .. jsonb_array_length(v) - 1 loop
        if v_check.key = 'operations' and (jsonb_typeof(v -> v_i) <> 'string' or v ->> v_i not in ('INSERT', 'UPDATE', 'DELETE')) then
          v_out := v_out || format('trigger_config.operations[%s]: must be one of "INSERT", "UPDATE", "DELETE"; got %s', v_i, v -> v_i);
        elsif v_check.key = 'operations' and exists (select 1 from generate_series(0, v_i - 1) j where v -> j = v -> v_i) then
          v_out := v_out || format('trigger_config.operations[%s]: %s is listed twice', v_i, v -> v_i);
        elsif v_check.key = 'content_types' and (jsonb_typeof(v -> v_i) <> 'string'
              or v ->> v_i not in ('application/json', 'application/x-www-form-urlencoded')) then
          v_out := v_out || format('trigger_config.content_types[%s]: must be one of "application/json", "application/x-www-form-urlencoded"; got %s', v_i, v -> v_i);
        end if;
      end loop;
    end if;
    if v_p is not null then
      v_out := v_out || format('trigger_config.%s: %s', v_check.key, v_p);
    end if;
  end loop;
  if p_type = 'event' then
    if (c ? 'table') = (c ? 'event') then
      v_out := v_out || ('trigger_config: give exactly one of "table" (database events) or "event" (application events)'
                         || case when c ? 'table' then ', not both' else '' end);
    end if;
    if not c ? 'table' and c ? 'operations' then
      v_out := v_out || 'trigger_config.operations: applies to table events only'::text;
    end if;
    if c ? 'filter' then
      v_out := v_out || automations_engine.filter_problems(c -> 'filter', c ? 'table');
    end if;
  end if;
  if p_type = 'webhook' then
    v_out := v_out || automations_engine.webhook_config_problems(c);
  end if;
  select string_agg(format('unknown key "%s"', k), ', ') into v_unknown from jsonb_object_keys(c) k where not k = any (v_allowed);
  if v_unknown is not null then
    v_out := v_out || format('trigger_config: %s (allowed: %s)', v_unknown,
                             coalesce(nullif(array_to_string(v_allowed, ', '), ''), 'none'));
  end if;
  return v_out;
end;
$_$;

--
-- Name: FUNCTION trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb) IS 'Problems of a trigger_config for its trigger type, each starting with its JSON path; empty when valid. Mirrors validateTriggerConfig().';

--
-- Name: uninstall_cron(text[]); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.uninstall_cron(p_jobs text[] DEFAULT NULL::text[]) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  v_removed text[];
begin
  -- Removes the pg_cron jobs install_cron made (p_jobs: only those named).
  -- Harmless where pg_cron is missing.
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not enabled: no jobs to remove';
  end if;
  execute format(
    'select coalesce(array_agg(jobname order by jobname) filter (where %I.unschedule(jobid)), ''{}'')
       from %I.job
      where jobname = any ($1)', 'cron', 'cron')
    into v_removed
    using coalesce(p_jobs, array['automations-schedule-tick', 'automations-worker', 'automations-kick',
                                 'automations-cron-history', 'automations-retention']);
  return case when cardinality(v_removed) = 0 then 'no automations jobs were scheduled'
              else 'unscheduled ' || array_to_string(v_removed, ', ') end;
end;
$_$;

--
-- Name: FUNCTION uninstall_cron(p_jobs text[]); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.uninstall_cron(p_jobs text[]) IS 'Unschedules the pg_cron jobs install_cron made (all of them, or those named). Returns what it removed.';

--
-- Name: webhook_config_changed(); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.webhook_config_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- Bumping rotated_at makes every cached copy stale (webhook_enqueue answers
  -- `stale`, the function looks the automation up again) at no cost per
  -- delivery; the secrets themselves do not change.
  update automations_engine.webhook_secrets w set rotated_at = clock_timestamp() where w.automation_id = new.id;
  return null;
end;
$$;

--
-- Name: FUNCTION webhook_config_changed(); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.webhook_config_changed() IS 'AFTER UPDATE of trigger_config on automations: bumps webhook_secrets.rotated_at so webhook functions drop their cached copy of the config.';

--
-- Name: webhook_config_problems(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.webhook_config_problems(c jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
declare
  c_at constant text := 'trigger_config.verify';
  c_schemes constant text[] := '{standard,github,stripe,slack,shopify,twilio,hmac,token}';
  c_header_re constant text := '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
  c_header_msg constant text := 'must be a header name (letters, digits and - _ .)';
  v jsonb := c -> 'verify';
  v_scheme text;
  v_allowed text[];
  v_key text;
  v_val jsonb;
  v_p text;
  v_unknown text;
  v_ph text;
  v_out text[] := '{}';
  v_i integer;
begin
  -- The webhook trigger's verify / headers / filter, in the words of
  -- webhook_config.ts (tests/validation/config_validation.test.ts runs both
  -- on one corpus). A bad scheme option would otherwise be a 401 on every
  -- delivery, with the sender retrying for days: refuse it when saved.
  if v is not null then
    if jsonb_typeof(v) <> 'object' then
      v_out := v_out || (c_at || ': must be an object, got ' || automations_engine.json_shown(v));
    elsif not v ? 'scheme' then
      v_out := v_out || (c_at || '.scheme: is required (one of "standard", "github", "stripe", "slack", "shopify", "twilio", "hmac", "token")');
    elsif jsonb_typeof(v -> 'scheme') <> 'string' or not (v ->> 'scheme') = any (c_schemes) then
      v_out := v_out || (c_at || '.scheme: must be one of "standard", "github", "stripe", "slack", "shopify", "twilio", "hmac", "token"; got '
                         || automations_engine.json_shown(v -> 'scheme'));
    else
      v_scheme := v ->> 'scheme';
      -- The options each scheme takes, in webhook_config.ts's VERIFY_OPTIONS order.
      v_allowed := case v_scheme
        when 'stripe' then '{tolerance_seconds}'::text[]
        when 'twilio' then '{public_url}'::text[]
        when 'hmac' then '{header,algorithm,encoding,prefix,timestamp_header,signed,tolerance_seconds,id_header}'::text[]
        when 'token' then '{header,query,id_header}'::text[]
        else '{}'::text[] end;
      select string_agg(format('unknown key "%s"', k), ', ') into v_unknown
        from jsonb_object_keys(v) k where k <> 'scheme' and not k = any (v_allowed);
      if v_unknown is not null then
        v_out := v_out || format('%s: %s (allowed for %s: %s)', c_at, v_unknown, v_scheme, array_to_string('{scheme}'::text[] || v_allowed, ', '));
      end if;
      foreach v_key in array v_allowed loop
        v_val := v -> v_key;
        continue when v_val is null;
        v_p := case
          when v_key = 'tolerance_seconds' then
            coalesce(automations_engine.json_value_problem(v_val, 'integer', 1, 86400),
                     case when v_scheme = 'hmac' and not v ? 'timestamp_header' then 'applies only with timestamp_header' end)
          when v_key in ('header', 'timestamp_header', 'id_header', 'query', 'public_url', 'prefix', 'signed')
               and jsonb_typeof(v_val) <> 'string' then 'must be a string, got ' || automations_engine.json_shown(v_val)
          when v_key in ('header', 'timestamp_header', 'id_header') then
            case when v_val #>> '{}' !~ c_header_re then c_header_msg end
          when v_key = 'query' then
            case when v_val #>> '{}' !~ '^[A-Za-z0-9_.-]{1,64}$' then 'must be a query parameter name (letters, digits and - _ .)' end
          when v_key = 'public_url' then
            case when v_val #>> '{}' !~* '^https?://[^\s/?#]+\S*$' then 'must be an absolute http:// or https:// URL' end
          when v_key = 'algorithm' then
            case when jsonb_typeof(v_val) <> 'string' or not (v_val #>> '{}') = any ('{sha1,sha256,sha512}')
                 then 'must be one of "sha1", "sha256", "sha512"; got ' || automations_engine.json_shown(v_val) end
          when v_key = 'encoding' then
            case when jsonb_typeof(v_val) <> 'string' or not (v_val #>> '{}') = any ('{hex,base64}')
                 then 'must be one of "hex", "base64"; got ' || automations_engine.json_shown(v_val) end
          when v_key = 'prefix' then
            case when length(v_val #>> '{}') > 64 then 'must be at most 64 characters' end
          when v_key = 'signed' then
            case when length(v_val #>> '{}') > 200 then 'must be at most 200 characters' end
        end;
        if v_p is null and v_key = 'signed' then
          select m[1] into v_ph from regexp_matches(v_val #>> '{}', '\{([^{}]*)\}', 'g') as m
           where not m[1] = any ('{body,timestamp,id}') limit 1;
          v_p := case
            when v_ph is not null then format('unknown placeholder {%s} (allowed: {body}, {timestamp}, {id})', v_ph)
            when position('{body}' in v_val #>> '{}') = 0 then 'must contain {body}'
            when position('{timestamp}' in v_val #>> '{}') > 0 and not v ? 'timestamp_header' then '{timestamp} needs timestamp_header'
            when position('{id}' in v_val #>> '{}') > 0 and not v ? 'id_header' then '{id} needs id_header' end;
        end if;
        if v_p is not null then
          v_out := v_out || format('%s.%s: %s', c_at, v_key, v_p);
        end if;
      end loop;
      if v_scheme = 'twilio' and not v ? 'public_url' then
        v_out := v_out || (c_at || '.public_url: is required (the URL Twilio calls, exactly as configured in Twilio)');
      end if;
      if v_scheme = 'hmac' and not v ? 'header' then
        v_out := v_out || (c_at || '.header: is required (the header that carries the signature)');
      end if;
      if v_scheme = 'token' and (v ? 'header') = (v ? 'query') then
        v_out := v_out || (c_at || ': give exactly one of "header" or "query"');
      end if;
    end if;
  end if;

  v := c -> 'headers';
  if v is not null then
    if jsonb_typeof(v) <> 'array' then
      v_out := v_out || ('trigger_config.headers: must be an array, got ' || automations_engine.json_shown(v));
    elsif jsonb_array_length(v) > 20 then
      v_out := v_out || 'trigger_config.headers: must have at most 20 items'::text;
    else
      for v_i in 0 .. jsonb_array_length(v) - 1 loop
        if jsonb_typeof(v -> v_i) <> 'string' or (v ->> v_i) !~ c_header_re then
          v_out := v_out || format('trigger_config.headers[%s]: %s', v_i, c_header_msg);
        end if;
      end loop;
    end if;
  end if;

  -- The filter sees the parsed body and the kept headers; it runs in
  -- TypeScript (the webhook function), so all of JsonLogic is allowed.
  if c ? 'filter' then
    v_out := v_out || automations_engine.filter_problems(c -> 'filter', false, '{payload,headers}');
  end if;
  return v_out;
end;
$_$;

--
-- Name: FUNCTION webhook_config_problems(c jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.webhook_config_problems(c jsonb) IS 'Problems of a webhook trigger_config''s verify, headers and filter, each starting with its JSON path. Mirrors shared/triggers/webhook_config.ts.';

--
-- Name: webhook_enqueue(uuid, timestamp with time zone, jsonb, text, jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.webhook_enqueue(p_automation_id uuid, p_rotated_at timestamp with time zone, p_payload jsonb, p_idempotency_key text, p_headers jsonb DEFAULT NULL::jsonb) RETURNS TABLE(run_id uuid, created boolean, stale boolean)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- The webhook function caches each automation's signing secrets
  -- (webhook_target) and enqueues with this one statement: one round trip per
  -- delivery. The check below makes a rotation or a pause take effect at once:
  -- the caller refetches the target when told `stale`.
  -- The secrets the caller verified with are still the current ones, and the
  -- automation is still an active webhook automation: otherwise nothing is
  -- written and the caller looks the target up again.
  if not exists (
    select 1
      from public.automations a
      join automations_engine.webhook_secrets w on w.automation_id = a.id
     where a.id = p_automation_id and a.status = 'active' and a.trigger_type = 'webhook'
       and w.rotated_at = p_rotated_at) then
    return query select null::uuid, false, true;
    return;
  end if;
  return query
    select e.run_id, e.created, false
      from automations_engine.enqueue(p_automation_id, 'webhook', p_payload, p_idempotency_key, null, false, p_headers) e;
end;
$$;

--
-- Name: FUNCTION webhook_enqueue(p_automation_id uuid, p_rotated_at timestamp with time zone, p_payload jsonb, p_idempotency_key text, p_headers jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.webhook_enqueue(p_automation_id uuid, p_rotated_at timestamp with time zone, p_payload jsonb, p_idempotency_key text, p_headers jsonb) IS 'Enqueues a verified webhook delivery if the secrets it was verified with (rotated_at) are still current and the automation is an active webhook automation; otherwise returns stale and writes nothing.';

--
-- Name: webhook_enqueue_many(jsonb); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.webhook_enqueue_many(p_items jsonb) RETURNS TABLE(run_id uuid, created boolean, stale boolean)
    LANGUAGE plpgsql
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
declare
  v_aids uuid[];
  v_keys text[];
  v_valid boolean[];
  v_created uuid[];
  v_new uuid[];
  v_keyless boolean;
begin
  -- Under a burst, most of PostgreSQL's time per webhook delivery went to the
  -- statement around the insert, not the insert: an executor start-up for each
  -- of webhook_enqueue's and enqueue's statements, a transaction and a commit
  -- (with its WAL flush) per delivery. The webhook handler now groups the
  -- deliveries that arrive while earlier ones are being written
  -- (shared/db/batcher.ts) and writes them with this function: one statement,
  -- one transaction, one flush for all of them. Measured with pgbench, CPU per
  -- delivery without the flush: 0.21 ms one at a time (webhook_enqueue), 0.10 ms
  -- in batches of 8, 0.06 ms marginal. A delivery that arrives alone still goes
  -- through webhook_enqueue (cheaper for one).
  --
  -- Same answers as calling webhook_enqueue for each item in order:
  --   - stale (nothing written) when the automation is not an active webhook
  --     automation or its secrets were rotated since the caller verified with
  --     them (rotated_at differs);
  --   - created when the idempotency key is new for the automation, else the
  --     existing run's id with created = false; two items with the same key in
  --     one batch get one run, the first item creates it;
  --   - one NOTIFY on automation_runs when the due queue was otherwise empty.
  -- Either every item is applied or the call fails and nothing is: the caller
  -- then sends each item on its own, so one bad item fails only its delivery.
  --
  -- plan_cache_mode = force_generic_plan: one plan per backend, made once: the
  -- statement is planned the same way for every batch (its input is one jsonb
  -- array), and replanning a four-CTE statement per call cost more than a small
  -- batch saves.
  -- enable_seqscan = off: the generic plan is made with whatever size the
  -- tables have at the time. claim_runs once kept a sequential scan planned on
  -- a near-empty table (see the comments in its body). This statement chose
  -- its indexes even without this setting in tests/engine/plan_stability.test.ts;
  -- it stays as a guard, because every lookup here is by primary or unique key
  -- and a sequential scan is never the right choice.
  --
  -- Statement 1: verify every item's target and insert the new runs. An item
  -- is valid when its automation is an active webhook automation whose
  -- current secrets are the ones the caller verified with (rotated_at). The
  -- unique key (automation_id, idempotency_key) decides what is new, as in
  -- enqueue(): concurrent duplicates wait for the first insert and are then
  -- skipped. Within the batch, only the first item of a key is inserted
  -- (a second one in the same INSERT would be skipped anyway, but then
  -- nothing would tell which item created the run).
  with item as (
    select t.ord,
           (t.x ->> 'automation_id')::uuid as automation_id,
           (t.x ->> 'rotated_at')::timestamptz as rotated_at,
           t.x -> 'payload' as payload,
           t.x -> 'headers' as headers,
           t.x ->> 'idempotency_key' as idempotency_key
      from jsonb_array_elements(p_items) with ordinality as t(x, ord)
  ),
  target as (
    select i.ord, i.automation_id, i.idempotency_key, i.payload, i.headers,
           a.org_id, a.current_version_id, a.max_attempts,
           automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit, 'webhook', i.payload) as flow_key,
           row_number() over (partition by i.automation_id, i.idempotency_key order by i.ord) as copy
      from item i
      join public.automations a
        on a.id = i.automation_id and a.status = 'active' and a.trigger_type = 'webhook'
      join automations_engine.webhook_secrets w
        on w.automation_id = a.id and w.rotated_at = i.rotated_at
  ),
  ins as (
    insert into public.automation_runs
      (org_id, automation_id, trigger_type, trigger_payload, trigger_headers, idempotency_key, version_id, max_attempts, run_at, flow_key)
    select t.org_id, t.automation_id, 'webhook', coalesce(t.payload, '{}'::jsonb), t.headers, t.idempotency_key,
           t.current_version_id, t.max_attempts, now(), t.flow_key
      from target t
     where t.copy = 1
     order by t.ord
    on conflict (automation_id, idempotency_key) do nothing
    returning id, automation_id, idempotency_key
  )
  select array_agg(i.automation_id order by i.ord),
         array_agg(i.idempotency_key order by i.ord),
         array_agg(t.ord is not null order by i.ord),
         array_agg(n.id order by i.ord),
         bool_or(i.idempotency_key is null)
    into v_aids, v_keys, v_valid, v_created, v_keyless
    from item i
    left join target t on t.ord = i.ord
    left join ins n
      on t.copy = 1 and n.automation_id = t.automation_id and n.idempotency_key = t.idempotency_key;

  -- Deliveries are matched to their run by key, so every item needs one
  -- (the handler always sends webhook:<webhook-id>). Raising rolls back the
  -- inserts above.
  if v_keyless then
    raise exception 'webhook_enqueue_many: every item needs an idempotency_key'
      using errcode = '22023';
  end if;

  -- The same wake-up rule as enqueue(): notify only when another due run
  -- the claim would take was waiting (not held back by a limit), so bursts
  -- do not serialise on NOTIFY's commit lock.
  v_new := array_remove(v_created, null);
  if cardinality(v_new) > 0
     and not exists (
       select 1
         from (select r.org_id from public.automation_runs r
                where r.status = 'pending' and r.flow_key is null and r.run_at <= now() and r.id <> all (v_new)
                order by r.run_at limit 1) f
        where not automations_engine.org_at_cap(f.org_id)) then
    perform pg_notify('automation_runs', v_new[1]::text);
  end if;

  -- Statement 2: the items that created nothing but were valid are
  -- duplicates: answer with the existing run. A separate statement, so its
  -- snapshot sees a concurrent delivery's run that statement 1 waited for,
  -- and this batch's own earlier copies.
  return query
    select coalesce(u.cid, r.id), u.cid is not null, not u.valid
      from unnest(v_aids, v_keys, v_valid, v_created) with ordinality as u(aid, k, valid, cid, ord)
      left join public.automation_runs r
        on u.valid and u.cid is null and r.automation_id = u.aid and r.idempotency_key = u.k
     order by u.ord;
end;
$$;

--
-- Name: FUNCTION webhook_enqueue_many(p_items jsonb); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.webhook_enqueue_many(p_items jsonb) IS 'webhook_enqueue for a batch of verified deliveries [{automation_id, rotated_at, payload, headers, idempotency_key}] in one statement and one commit; answers (run_id, created, stale) in item order.';

--
-- Name: webhook_target(uuid); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.webhook_target(p_automation_id uuid) RETURNS TABLE(automation_id uuid, org_id uuid, updated_at timestamp with time zone, secrets text[], rotated_at timestamp with time zone, previous_expires_at timestamp with time zone, trigger_config jsonb)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select a.id, a.org_id, a.updated_at,
         array_remove(array[w.secret, case when w.previous_expires_at > now() then w.previous_secret end], null),
         w.rotated_at,
         case when w.previous_expires_at > now() then w.previous_expires_at end,
         a.trigger_config
    from public.automations a
    join automations_engine.webhook_secrets w on w.automation_id = a.id
   where a.id = p_automation_id and a.status = 'active' and a.trigger_type = 'webhook'
$$;

--
-- Name: FUNCTION webhook_target(p_automation_id uuid); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.webhook_target(p_automation_id uuid) IS 'The active webhook automation, its trigger_config and its valid signing secrets (with rotated_at, the cache key, and when the previous secret expires); no row when unknown, inactive or without a secret.';

--
-- Name: worker_heartbeat(text, integer, text, text, integer); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.worker_heartbeat(p_worker text, p_timeout_seconds integer DEFAULT 10, p_kind text DEFAULT 'loop'::text, p_host text DEFAULT NULL::text, p_pid integer DEFAULT NULL::integer) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- One row per worker process, renewed every few seconds (not per run).
  -- Returns what the worker must do:
  --   'alive'      renewed; carry on;
  --   'registered' a new worker id; carry on;
  --   'dead'       the last beat is older than the worker's timeout, so the
  --                reaper may already have handed its runs to someone else.
  --                The row is NOT refreshed: reviving it would keep its runs
  --                from being released. The worker must abandon every run it
  --                holds (fencing rejects its writes anyway) and carry on
  --                under a new worker id.
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker id must be 1 to 200 characters, got %', coalesce(length(p_worker)::text, 'null')
      using errcode = '22023';
  end if;
  if p_timeout_seconds is null or p_timeout_seconds not between 2 and 3600 then
    raise exception 'worker timeout must be between 2 and 3600 seconds, got %', p_timeout_seconds
      using errcode = '22023', hint = 'Beat several times within it; 10 s is the default.';
  end if;
  update automations_engine.workers w
     set heartbeat_at = now(), timeout_seconds = p_timeout_seconds
   where w.worker_id = p_worker
     and w.heartbeat_at >= now() - make_interval(secs => w.timeout_seconds);
  if found then
    return 'alive';
  end if;
  insert into automations_engine.workers (worker_id, kind, host, pid, timeout_seconds)
  values (p_worker, p_kind, p_host, p_pid, p_timeout_seconds)
  on conflict (worker_id) do nothing;
  return case when found then 'registered' else 'dead' end;
end;
$$;

--
-- Name: FUNCTION worker_heartbeat(p_worker text, p_timeout_seconds integer, p_kind text, p_host text, p_pid integer); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.worker_heartbeat(p_worker text, p_timeout_seconds integer, p_kind text, p_host text, p_pid integer) IS 'Liveness beat of one worker process (every few seconds): alive / registered, or dead when it was silent longer than its timeout (it must abandon its runs and re-register under a new id).';

--
-- Name: worker_stopped(text); Type: FUNCTION; Schema: automations_engine; Owner: -
--

CREATE FUNCTION automations_engine.worker_stopped(p_worker text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- A clean stop handed every run back (release_run): the row goes. If a run
  -- is still held under this id (its release failed), the row is aged past
  -- its timeout instead, so the next reaper pass releases that run now
  -- rather than when its lease runs out.
  if exists (select 1 from public.automation_runs r
              where r.status = 'running' and r.locked_by = p_worker) then
    update automations_engine.workers w
       set heartbeat_at = now() - make_interval(secs => w.timeout_seconds + 1)
     where w.worker_id = p_worker;
  else
    delete from automations_engine.workers w where w.worker_id = p_worker;
  end if;
end;
$$;

--
-- Name: FUNCTION worker_stopped(p_worker text); Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON FUNCTION automations_engine.worker_stopped(p_worker text) IS 'A worker ended cleanly: deletes its liveness row (or marks it dead at once if it still holds a run).';

--
-- Name: automations_table_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.automations_table_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  -- The tenant column: org_id, or the trigger's argument (..._table_event('tenant_id')).
  v_org_column text := coalesce(tg_argv[0], 'org_id');
  v_new jsonb;
  v_old jsonb;
  v_org text;
  v_payload jsonb;
  v_context jsonb;
  v_auto record;
  v_ok boolean;
  v_error text;
  v_acting uuid;
  -- Set (transaction-local) by a run's own writes: {run_id, automation_id, step_index}.
  -- Shown in the payload for information only: enqueue() takes the chain's
  -- root and depth from that run's row (automations_engine.chain_admit).
  v_cause text := nullif(current_setting('automations.caused_by', true), '');
begin
  -- Finds the active event automations of the row's org that name
  -- the table and operation, evaluates each filter here in SQL, and enqueues a
  -- run per match in the same transaction as the write: no event is lost, and a
  -- rolled-back write leaves no run. The automations-event function does the
  -- same for Database Webhooks and application events over HTTP, with the
  -- TypeScript evaluator of shared/triggers/filter.ts; both read the filter
  -- language the same way (tests/triggers/event_handler.test.ts checks parity).
  --
  if tg_level <> 'ROW' or tg_when <> 'AFTER' then
    raise exception 'public.automations_table_event() must be attached AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW (it is % % on %.%)',
      tg_when, tg_level, tg_table_schema, tg_table_name using errcode = '39P01';
  end if;
  if tg_op <> 'DELETE' then v_new := to_jsonb(new); end if;
  if tg_op <> 'INSERT' then v_old := to_jsonb(old); end if;

  -- Automations belong to an org; the row says which. A table without the
  -- column is a setup mistake worth failing loudly on (the first write shows
  -- it), not a silent "never fires".
  if not coalesce(v_new, v_old) ? v_org_column then
    raise exception 'automations: %.% has no "%" column, so its events cannot be matched to an organization',
      tg_table_schema, tg_table_name, v_org_column
      using errcode = '42703',
            hint = 'Add an org_id uuid column, or name the tenant column: execute function public.automations_table_event(''tenant_id'').';
  end if;
  v_org := coalesce(v_new, v_old) ->> v_org_column;
  if v_org is null then
    return null;  -- a row of no org: no automation can own it
  end if;
  if v_org !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' then
    raise exception 'automations: %.%.% is %, not an organization id (uuid)', tg_table_schema, tg_table_name, v_org_column, v_org
      using errcode = '22P02';
  end if;

  for v_auto in
    select m.id, m.trigger_config -> 'filter' as filter
      from automations_engine.match_event_automations(v_org::uuid, tg_table_schema, tg_table_name, tg_op, null) m
  loop
    if v_payload is null then
      -- The same payload as a Supabase Database Webhook, so automations work
      -- with either; plus caused_by when a run's own write fired it.
      v_payload := jsonb_build_object('type', tg_op, 'table', tg_table_name, 'schema', tg_table_schema,
                                      'record', v_new, 'old_record', v_old);
      if v_cause is not null and v_cause ~ '^\s*\{' then
        begin
          v_payload := v_payload || jsonb_build_object('caused_by', v_cause::jsonb);
        exception when invalid_text_representation then
          null;  -- not JSON: nothing to show
        end;
      end if;
      v_context := jsonb_build_object('record', v_new, 'old_record', v_old, 'payload', null, 'operation', tg_op);
    end if;
    v_ok := true;
    if v_auto.filter is not null and v_auto.filter <> 'null'::jsonb then
      -- A broken filter must not block the business write: warn and skip
      -- this automation only (the exception block is a read-only subtransaction).
      begin
        v_ok := automations_engine.filter_matches(v_auto.filter, v_context);
      exception when others then
        get stacked diagnostics v_error = message_text;
        raise warning 'automation % was not started by % on %.%: its trigger_config.filter failed: %',
          v_auto.id, tg_op, tg_table_schema, tg_table_name, v_error
          using hint = 'Fix the filter; table-event filters support the changed shorthand and the JsonLogic operators listed in automations_engine.filter_check.';
        v_ok := false;
      end;
    end if;
    if v_ok then
      -- A run carries the row (old and new): only when the automation's
      -- acting member could read it (null: created by the service).
      select a.acting_user_id into v_acting from public.automations a where a.id = v_auto.id;
      if v_acting is not null
         and not (automations_engine.member_can_select(tg_relid, v_new, v_acting)
                  and automations_engine.member_can_select(tg_relid, v_old, v_acting)) then
        raise warning 'automation % was not started by % on %.%: the member it acts as cannot read this row (row-level security), or is no longer an active member',
          v_auto.id, tg_op, tg_table_schema, tg_table_name
          using hint = 'An automation acts as the last member who changed it; runs carry only rows that member can select.';
        v_ok := false;
      end if;
    end if;
    if v_ok then
      -- Paused or deleted since it matched (a concurrent commit): skip it
      -- rather than fail the business write.
      begin
        perform automations_engine.enqueue(v_auto.id, 'event', v_payload, null, null, false);
      exception when sqlstate '55000' or sqlstate 'P0002' then
        null;
      when sqlstate '54000' then
        -- The chain this write belongs to is over its budget or depth (a
        -- loop, or fan-out): the write stands, the run is not started, and
        -- the refusal is counted where the org can read it.
        get stacked diagnostics v_error = message_text;
        raise warning 'automations: %', v_error
          using hint = 'Add a filter so the automation does not react to its own writes; see automation_chain_refusals.';
        perform automations_engine.record_chain_refusal(v_org::uuid, c.root_run_id, v_auto.id, v_error)
           from automations_engine.run_cause(v_org::uuid) c;
      end;
    end if;
  end loop;
  return null;
end;
$_$;

--
-- Name: FUNCTION automations_table_event(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.automations_table_event() IS 'AFTER INSERT/UPDATE/DELETE FOR EACH ROW trigger: enqueues a run of every matching active event automation of the row''s org (optional argument: the tenant column, default org_id) in the same transaction as the write. Payload: {type, table, schema, record, old_record}.';

--
-- Name: cancel_run(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.cancel_run(run_id uuid, reason text DEFAULT NULL::text) RETURNS public.run_status
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_run record;
  v_who text;
begin
  select r.id, r.org_id, r.automation_id, r.status, r.started_at into v_run
    from public.automation_runs r where r.id = cancel_run.run_id for update;
  perform automations_engine.require_org_access(v_run.org_id, format('run %s', cancel_run.run_id));
  if v_run.status not in ('pending', 'running') then
    raise exception 'run % is already %; only pending or running runs can be cancelled', cancel_run.run_id, v_run.status
      using errcode = '55000';
  end if;
  v_who := coalesce((select u.email from public.users u where u.auth_id = (select auth.uid())), 'the service');
  -- Ends failed (the seed's run_status has no "cancelled"). A worker still
  -- running it is fenced out: its writes require status running.
  update public.automation_runs r
     set status = 'failed', completed_at = now(), lease_expires_at = null, locked_by = null,
         error_message = format('cancelled by %s%s', v_who, coalesce(': ' || nullif(btrim(reason), ''), '')),
         metadata = r.metadata || jsonb_build_object('cancelled', true)
   where r.id = v_run.id;
  perform automations_engine.count_finished_runs(array[v_run.automation_id], array[coalesce(v_run.started_at, now())]);
  return 'failed';
end;
$$;

--
-- Name: FUNCTION cancel_run(run_id uuid, reason text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.cancel_run(run_id uuid, reason text) IS 'Cancels a pending or running run: it ends failed with "cancelled by <who>: <reason>"; a worker running it stops at its next write.';

--
-- Name: create_automation(text, public.automation_trigger_type, jsonb, jsonb, public.automation_status, text, jsonb, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb DEFAULT '{}'::jsonb, actions jsonb DEFAULT '[]'::jsonb, status public.automation_status DEFAULT 'draft'::public.automation_status, description text DEFAULT NULL::text, metadata jsonb DEFAULT '{}'::jsonb, org_id uuid DEFAULT NULL::uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_org uuid;
  v_creator uuid;
  v_id uuid;
begin
  if automations_engine.caller_is_service() then
    v_org := create_automation.org_id;
    if v_org is null then
      raise exception 'org_id is required when the service creates an automation' using errcode = '22023';
    end if;
  else
    v_org := (select public.get_user_org_id());
    if v_org is null then
      raise exception 'you are not an active member of an organization' using errcode = '42501';
    end if;
    if create_automation.org_id is not null and create_automation.org_id <> v_org then
      raise exception 'organization % not found', create_automation.org_id using errcode = 'P0002';
    end if;
    select u.id into v_creator from public.users u where u.auth_id = (select auth.uid());
  end if;
  if coalesce(btrim(name), '') = '' then
    raise exception 'name must not be empty' using errcode = '22023';
  end if;

  insert into public.automations (org_id, creator_id, name, description, trigger_type, trigger_config, status, metadata)
  values (v_org, v_creator, name, description, trigger_type, coalesce(trigger_config, '{}'::jsonb),
          coalesce(status, 'draft'), coalesce(metadata, '{}'::jsonb))
  returning id into v_id;
  perform automations_engine.insert_actions(v_org, v_id, coalesce(actions, '[]'::jsonb));
  return v_id;
end;
$$;

--
-- Name: FUNCTION create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb, actions jsonb, status public.automation_status, description text, metadata jsonb, org_id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb, actions jsonb, status public.automation_status, description text, metadata jsonb, org_id uuid) IS 'Creates an automation of the caller''s org with its ordered actions in one transaction; any invalid part rejects the whole.';

--
-- Name: get_user_org_id(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.get_user_org_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

--
-- Name: FUNCTION get_user_org_id(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.get_user_org_id() IS 'The org of the signed-in user (auth.uid()), or null without an active membership.';

--
-- Name: get_user_role(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.get_user_role() RETURNS public.membership_role
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  -- SECURITY DEFINER and called once per statement, as get_user_org_id() says.
  select m.role
  from public.users u
  join public.memberships m on m.user_id = u.id and m.org_id = u.org_id
  where u.auth_id = (select auth.uid())
    and u.is_active
    and m.status = 'active'
  limit 1
$$;

--
-- Name: FUNCTION get_user_role(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.get_user_role() IS 'The signed-in user''s role in their org, or null without an active membership.';

--
-- Name: is_admin(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.is_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  -- SECURITY DEFINER and called once per statement, as get_user_org_id() says.
  select coalesce(public.get_user_role() in ('owner', 'admin'), false)
$$;

--
-- Name: FUNCTION is_admin(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.is_admin() IS 'True when the signed-in user is an owner or admin of their org.';

--
-- Name: may_read_restricted_run(uuid, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  -- Who may read what a restricted run carries: the member it acted as, and
  -- nobody else through the API (the service, e.g. the dashboard, reads all).
  -- Not the org's admins as such: the data came from the database under the
  -- acting member's rights, and a table may hide rows from admins that its
  -- owner sees (`user_id = auth.uid()` policies); the randomized model check
  -- (tests/security/rls_random_runs.test.ts) found exactly that leak when
  -- admins could read every restricted run. An admin who needs a run's data
  -- edits the automation (becoming its acting member) and runs it again.
  -- SECURITY DEFINER so a policy can read users without recursing; in public
  -- (not the engine schema) because policies run with the reader's privileges.
  select p_org_id = (select public.get_user_org_id())
     and exists (select 1 from public.users u
                  where u.id = p_acting_user_id and u.auth_id = (select auth.uid()))
$$;

--
-- Name: FUNCTION may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid) IS 'True for the run''s acting member (while an active member of the org): the only API reader of a restricted run''s payload, result and steps.';

--
-- Name: prevent_org_id_change(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.prevent_org_id_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- org_id never changes: moving a row between tenants would leak it. The RLS
  -- WITH CHECK already stops members; this also stops service-role code.
  if new.org_id is distinct from old.org_id then
    raise exception 'org_id of % % cannot change', tg_table_name, old.id
      using errcode = '42501', hint = 'Create the row in the other organization instead.';
  end if;
  return new;
end;
$$;

--
-- Name: FUNCTION prevent_org_id_change(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.prevent_org_id_change() IS 'BEFORE UPDATE trigger: org_id is immutable.';

--
-- Name: replace_automation_actions(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.replace_automation_actions(automation_id uuid, actions jsonb) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_org uuid;
begin
  -- Lock the automation: concurrent replaces apply one after the other.
  select a.org_id into v_org from public.automations a where a.id = replace_automation_actions.automation_id for update;
  perform automations_engine.require_org_access(v_org, format('automation %s', replace_automation_actions.automation_id));
  -- Replacing deletes every current action, and RLS lets only admins delete
  -- actions: a member or guest may fill an automation that has none, but not
  -- wipe one (they edit steps with UPDATE, add them with INSERT).
  if not automations_engine.caller_is_service() and not (select public.is_admin())
     and exists (select 1 from public.automation_actions x where x.automation_id = replace_automation_actions.automation_id) then
    raise exception 'only owners and admins can replace the actions of automation %: replacing deletes its current actions',
      replace_automation_actions.automation_id
      using errcode = '42501', hint = 'Edit single actions with update/insert on automation_actions, or ask an admin.';
  end if;
  delete from public.automation_actions x where x.automation_id = replace_automation_actions.automation_id;
  return automations_engine.insert_actions(v_org, replace_automation_actions.automation_id, actions);
end;
$$;

--
-- Name: FUNCTION replace_automation_actions(automation_id uuid, actions jsonb); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.replace_automation_actions(automation_id uuid, actions jsonb) IS 'Replaces an automation''s whole ordered action list atomically. Runs already queued keep their snapshot. Deleting the current actions needs an owner or admin (42501), as a plain DELETE does; anyone in the org may fill an automation without actions.';

--
-- Name: retry_run(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.retry_run(run_id uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_run record;
begin
  select r.id, r.org_id, r.automation_id, r.status into v_run
    from public.automation_runs r where r.id = retry_run.run_id for update;
  perform automations_engine.require_org_access(v_run.org_id, format('run %s', retry_run.run_id));
  if v_run.status <> 'failed' then
    raise exception 'run % is %; only failed runs can be retried', retry_run.run_id, v_run.status using errcode = '55000';
  end if;
  -- Completed steps stay done, so the run resumes at the step that failed,
  -- with the same snapshot and payload and a fresh attempt budget.
  update public.automation_runs r
     set status = 'pending', run_at = now(), failed_attempts = 0, completed_at = null,
         error_message = null, result = null
   where r.id = v_run.id;
  -- It was counted when it failed; it will be counted again when it ends.
  update public.automations a set run_count = greatest(a.run_count - 1, 0) where a.id = v_run.automation_id;
  perform pg_notify('automation_runs', v_run.id::text);
  return v_run.id;
end;
$$;

--
-- Name: FUNCTION retry_run(run_id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.retry_run(run_id uuid) IS 'Puts a failed run back in the queue; it resumes at its failed step (completed steps are not repeated).';

--
-- Name: rotate_webhook_secret(uuid, interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.rotate_webhook_secret(automation_id uuid, grace_period interval DEFAULT '24:00:00'::interval) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_scheme text;
  v_secret text;
begin
  -- A secret in the form the automation's verify scheme expects: standard
  -- (Standard Webhooks, Svix) keys are "whsec_" + base64 of 32 random bytes;
  -- every other scheme uses the secret's text as the HMAC key or token, so a
  -- random token of 64 hex characters (GitHub, Shopify, hmac, token). Stripe,
  -- Slack and Twilio issue their own secrets: set_webhook_secret stores those.
  select coalesce(a.trigger_config -> 'verify' ->> 'scheme', 'standard') into v_scheme
    from public.automations a where a.id = rotate_webhook_secret.automation_id;
  v_secret := case when v_scheme = 'standard' then 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64')
                   else encode(extensions.gen_random_bytes(32), 'hex') end;
  perform automations_engine.store_webhook_secret(rotate_webhook_secret.automation_id, v_secret, grace_period);
  return v_secret;
end;
$$;

--
-- Name: FUNCTION rotate_webhook_secret(automation_id uuid, grace_period interval); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.rotate_webhook_secret(automation_id uuid, grace_period interval) IS 'Admins: creates or replaces the automation''s webhook secret and returns it once (whsec_... for the standard scheme, 64 hex characters for the others). The old one keeps working for grace_period.';

--
-- Name: run_automation(uuid, jsonb, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.run_automation(automation_id uuid, payload jsonb DEFAULT '{}'::jsonb, idempotency_key text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_org uuid;
  v_status public.automation_status;
  v_run uuid;
  v_key text;
begin
  -- Keys of manual runs live in their own namespace (manual:<key>), so a
  -- caller can never take the key a webhook delivery (webhook:<id>), an event
  -- (event:<id>) or a schedule fire time (schedule:<time>) will use and
  -- silently swallow it. A key spelled like one is a mistake worth saying.
  if idempotency_key is not null then
    if idempotency_key ~* '^(webhook|schedule|event|manual):' then
      raise exception 'idempotency_key % starts with a trigger prefix (webhook:, schedule:, event:, manual:), which only the engine uses',
        idempotency_key using errcode = '22023', hint = 'Use your own key, e.g. an order id; it is stored as manual:<key>.';
    end if;
    if length(idempotency_key) > 248 then
      raise exception 'idempotency_key is longer than 248 characters' using errcode = '22023';
    end if;
    v_key := 'manual:' || idempotency_key;
  end if;
  -- RLS decides visibility: an automation of another org is "not found".
  select a.org_id, a.status into v_org, v_status
    from public.automations a
   where a.id = run_automation.automation_id
     and (a.org_id = (select public.get_user_org_id()) or automations_engine.caller_is_service());
  if not found then
    raise exception 'automation % not found', run_automation.automation_id using errcode = 'P0002';
  end if;
  -- Manual runs may test a draft; paused and archived automations do not run.
  select e.run_id into v_run
    from automations_engine.enqueue(run_automation.automation_id, 'manual', payload, v_key, null, true) e;
  return v_run;
end;
$$;

--
-- Name: FUNCTION run_automation(automation_id uuid, payload jsonb, idempotency_key text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.run_automation(automation_id uuid, payload jsonb, idempotency_key text) IS 'Starts a manual run of an automation of the caller''s org (active or draft). Returns the run id; the same idempotency_key returns the same run (stored as manual:<key>; keys starting with webhook:, schedule:, event: or manual: are refused with 22023).';

--
-- Name: set_automation_status(uuid, public.automation_status); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.set_automation_status(automation_id uuid, status public.automation_status) RETURNS public.automation_status
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_status public.automation_status;
begin
  -- Invoker: RLS decides which automations the caller may update.
  update public.automations a set status = set_automation_status.status
   where a.id = set_automation_status.automation_id
  returning a.status into v_status;
  if not found then
    raise exception 'automation % not found', set_automation_status.automation_id using errcode = 'P0002';
  end if;
  return v_status;
end;
$$;

--
-- Name: FUNCTION set_automation_status(automation_id uuid, status public.automation_status); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.set_automation_status(automation_id uuid, status public.automation_status) IS 'Sets an automation''s status (active, paused, draft, archived) under RLS.';

--
-- Name: set_updated_at(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  new.updated_at = now();
  return new;
end;
$$;

--
-- Name: FUNCTION set_updated_at(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.set_updated_at() IS 'BEFORE UPDATE trigger: stamps updated_at with the transaction time.';

--
-- Name: set_webhook_secret(uuid, text, interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.set_webhook_secret(automation_id uuid, secret text, grace interval DEFAULT '24:00:00'::interval) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_scheme text;
begin
  -- Stripe, Slack, Shopify and Twilio issue the signing secret; GitHub and
  -- generic senders let you choose it. It is stored, never returned: nobody
  -- can read a secret back. Mistakes a paste makes are refused here, where
  -- they can be named, rather than as a 401 on every delivery.
  if secret is null or length(secret) < 8 or length(secret) > 1024 then
    raise exception 'secret must be 8 to 1024 characters, got %', coalesce(length(secret)::text, 'null')
      using errcode = '22023';
  end if;
  if secret <> btrim(secret, E' \t\r\n') then
    raise exception 'secret starts or ends with whitespace; paste it without spaces or line breaks' using errcode = '22023';
  end if;
  select coalesce(a.trigger_config -> 'verify' ->> 'scheme', 'standard') into v_scheme
    from public.automations a where a.id = set_webhook_secret.automation_id;
  -- Standard Webhooks keys are base64, optionally after "whsec_" (the form
  -- Svix and Standard Webhooks senders show).
  if v_scheme = 'standard' and (regexp_replace(secret, '^whsec_', '') !~ '^[A-Za-z0-9+/]+={0,2}$'
                                or length(regexp_replace(secret, '^whsec_', '')) % 4 <> 0) then
    raise exception 'a standard (Standard Webhooks / Svix) secret is whsec_ followed by base64'
      using errcode = '22023', hint = 'For another sender, set trigger_config.verify.scheme first (github, stripe, slack, shopify, twilio, hmac, token).';
  end if;
  perform automations_engine.store_webhook_secret(set_webhook_secret.automation_id, secret, grace);
end;
$_$;

--
-- Name: FUNCTION set_webhook_secret(automation_id uuid, secret text, grace interval); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.set_webhook_secret(automation_id uuid, secret text, grace interval) IS 'Owners and admins: stores a webhook secret a provider issued (or one you chose); the previous secret keeps working for grace. The secret cannot be read back.';

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: custom_action_types; Type: TABLE; Schema: automations_engine; Owner: -
--

CREATE TABLE automations_engine.custom_action_types (
    action_type text NOT NULL,
    config_schema jsonb,
    description text,
    writes_database boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT custom_action_types_name CHECK ((action_type ~ '^([A-Za-z_][A-Za-z0-9_.:-]{0,62}|\*)$'::text)),
    CONSTRAINT custom_action_types_schema CHECK (((config_schema IS NULL) OR (jsonb_typeof(config_schema) = 'object'::text)))
);

--
-- Name: TABLE custom_action_types; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON TABLE automations_engine.custom_action_types IS 'Action types a project adds besides the built-in ones. config_schema: {"keys": {"<key>": {"kind": ..., "required": true, "templated": true, ...}}, "exactly_one": [...], "at_least_one": [...]} as in builtin_action_specs(); null = any config. A row ''*'' accepts every unregistered type (test databases only). Built-in types always win.';

--
-- Name: schedule_state; Type: TABLE; Schema: automations_engine; Owner: -
--

CREATE TABLE automations_engine.schedule_state (
    automation_id uuid NOT NULL,
    last_fire_at timestamp with time zone,
    since timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE schedule_state; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON TABLE automations_engine.schedule_state IS 'Per schedule automation: the last fire time enqueued, so a tick knows what is due (and what was missed).';

--
-- Name: webhook_secrets; Type: TABLE; Schema: automations_engine; Owner: -
--

CREATE TABLE automations_engine.webhook_secrets (
    automation_id uuid NOT NULL,
    secret text NOT NULL,
    previous_secret text,
    previous_expires_at timestamp with time zone,
    rotated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE webhook_secrets; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON TABLE automations_engine.webhook_secrets IS 'Signing secrets of webhook automations. Readable only by the service (the webhook function).';

--
-- Name: worker_kick; Type: TABLE; Schema: automations_engine; Owner: -
--

CREATE TABLE automations_engine.worker_kick (
    id boolean DEFAULT true NOT NULL,
    last_kick_at timestamp with time zone,
    request_id bigint,
    kicks bigint DEFAULT 0 NOT NULL,
    CONSTRAINT worker_kick_id_check CHECK (id)
);

--
-- Name: TABLE worker_kick; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON TABLE automations_engine.worker_kick IS 'One row: the last worker call kick_worker() made through pg_net (when, its net._http_response id) and how many it made.';

--
-- Name: workers; Type: TABLE; Schema: automations_engine; Owner: -
--

CREATE TABLE automations_engine.workers (
    worker_id text NOT NULL,
    kind text DEFAULT 'loop'::text NOT NULL,
    host text,
    pid integer,
    timeout_seconds integer DEFAULT 10 NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT workers_kind CHECK ((kind = ANY (ARRAY['loop'::text, 'drain'::text]))),
    CONSTRAINT workers_timeout_range CHECK (((timeout_seconds >= 2) AND (timeout_seconds <= 3600))),
    CONSTRAINT workers_worker_id_length CHECK (((length(worker_id) >= 1) AND (length(worker_id) <= 200)))
);

--
-- Name: TABLE workers; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON TABLE automations_engine.workers IS 'Liveness of worker processes: a heartbeat every few seconds; silent for timeout_seconds = dead, its runs are released. Clean stops delete their row; dead rows are kept a day (diagnosis), then deleted by the reaper.';

--
-- Name: COLUMN workers.worker_id; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON COLUMN automations_engine.workers.worker_id IS 'What claim_runs stores in automation_runs.locked_by.';

--
-- Name: COLUMN workers.timeout_seconds; Type: COMMENT; Schema: automations_engine; Owner: -
--

COMMENT ON COLUMN automations_engine.workers.timeout_seconds IS 'Seconds without a heartbeat after which the worker counts as dead and its runs go back to the queue.';

--
-- Name: automation_actions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_actions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    automation_id uuid NOT NULL,
    action_type text NOT NULL,
    action_config jsonb DEFAULT '{}'::jsonb NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    name text,
    condition jsonb,
    retry jsonb,
    template_missing text DEFAULT 'error'::text NOT NULL,
    CONSTRAINT automation_actions_condition_shape CHECK (((condition IS NULL) OR ((jsonb_typeof(condition) = 'object'::text) AND (condition ? 'if'::text) AND (COALESCE((condition ->> 'else'::text), 'skip'::text) = ANY (ARRAY['skip'::text, 'stop'::text]))))),
    CONSTRAINT automation_actions_name_format CHECK (((name IS NULL) OR (name ~ '^[A-Za-z_][A-Za-z0-9_-]{0,62}$'::text))),
    CONSTRAINT automation_actions_retry_shape CHECK (((retry IS NULL) OR ((jsonb_typeof(retry) = 'object'::text) AND (((retry - 'max_attempts'::text) - 'backoff_seconds'::text) = '{}'::jsonb) AND ((NOT (retry ? 'max_attempts'::text)) OR ((jsonb_typeof((retry -> 'max_attempts'::text)) = 'number'::text) AND ((((retry ->> 'max_attempts'::text))::numeric >= (1)::numeric) AND (((retry ->> 'max_attempts'::text))::numeric <= (25)::numeric)))) AND ((NOT (retry ? 'backoff_seconds'::text)) OR ((jsonb_typeof((retry -> 'backoff_seconds'::text)) = 'number'::text) AND ((((retry ->> 'backoff_seconds'::text))::numeric >= (1)::numeric) AND (((retry ->> 'backoff_seconds'::text))::numeric <= (3600)::numeric))))))),
    CONSTRAINT automation_actions_template_missing CHECK ((template_missing = ANY (ARRAY['error'::text, 'empty'::text])))
);

--
-- Name: TABLE automation_actions; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_actions IS 'Steps of an automation, executed in position order (ties broken by created_at, then id).';

--
-- Name: COLUMN automation_actions.name; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_actions.name IS 'Optional step name, unique within the automation; templates use {{steps.<name>.output...}}.';

--
-- Name: COLUMN automation_actions.condition; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_actions.condition IS '{"if": <JsonLogic rule>, "else": "skip"|"stop"}: when the rule is false the step is skipped, or the run stops as completed.';

--
-- Name: COLUMN automation_actions.retry; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_actions.retry IS '{"max_attempts": n, "backoff_seconds": s}: overrides the automation''s retry policy when this step fails.';

--
-- Name: COLUMN automation_actions.template_missing; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_actions.template_missing IS 'What a placeholder whose path is missing becomes: error (the step fails, default) or empty (null / "").';

--
-- Name: automation_chain_refusals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_chain_refusals (
    root_run_id uuid NOT NULL,
    org_id uuid NOT NULL,
    refused_runs integer DEFAULT 1 NOT NULL,
    last_automation_id uuid,
    last_reason text NOT NULL,
    first_refused_at timestamp with time zone DEFAULT now() NOT NULL,
    last_refused_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE automation_chain_refusals; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_chain_refusals IS 'Runs a chain wanted to start past its budget or depth, per root run (written by the table-event trigger and the HTTP handlers).';

--
-- Name: automation_run_payloads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_run_payloads (
    run_id uuid NOT NULL,
    org_id uuid NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    result jsonb
);

--
-- Name: TABLE automation_run_payloads; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_run_payloads IS 'Trigger payload and result of restricted runs (automation_runs.restricted); readable by the run''s acting member (and the service).';

--
-- Name: automation_run_steps; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_run_steps (
    run_id uuid NOT NULL,
    step_index integer NOT NULL,
    org_id uuid NOT NULL,
    action_id uuid,
    action_type text NOT NULL,
    name text,
    status public.run_step_status NOT NULL,
    attempt integer NOT NULL,
    input jsonb,
    output jsonb,
    error_message text,
    started_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone
);

--
-- Name: TABLE automation_run_steps; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_run_steps IS 'Step history of each run; written by the engine as each step ends. A completed step is never executed again.';

--
-- Name: automation_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_runs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    automation_id uuid NOT NULL,
    status public.run_status DEFAULT 'pending'::public.run_status NOT NULL,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    error_message text,
    result jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    trigger_type public.automation_trigger_type,
    trigger_payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    trigger_headers jsonb,
    idempotency_key text,
    version_id uuid,
    run_at timestamp with time zone DEFAULT now() NOT NULL,
    attempt integer DEFAULT 0 NOT NULL,
    failed_attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 3 NOT NULL,
    lease_expires_at timestamp with time zone,
    locked_by text,
    claim_token uuid,
    flow_key text,
    root_run_id uuid,
    chain_depth integer DEFAULT 0 NOT NULL,
    acting_user_id uuid,
    restricted boolean DEFAULT false NOT NULL,
    CONSTRAINT automation_runs_chain_depth_range CHECK ((chain_depth >= 0)),
    CONSTRAINT automation_runs_idempotency_key_length CHECK ((length(idempotency_key) <= 255))
)
WITH (fillfactor='70');

--
-- Name: TABLE automation_runs; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_runs IS 'Run history: one row per execution with status, timings, error and result.';

--
-- Name: COLUMN automation_runs.trigger_payload; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.trigger_payload IS 'What started the run; templates read it as {{trigger.payload...}}.';

--
-- Name: COLUMN automation_runs.trigger_headers; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.trigger_headers IS 'Webhook runs: the request headers the automation keeps (its verify scheme''s event and id headers plus trigger_config.headers), lower-case names; templates read them as {{trigger.headers.x-github-event}}. Stored so a retry sees what the first attempt saw. Null for other triggers.';

--
-- Name: COLUMN automation_runs.idempotency_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.idempotency_key IS 'webhook-id, event id, schedule fire time or caller-supplied key; unique per automation.';

--
-- Name: COLUMN automation_runs.version_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.version_id IS 'The snapshot of actions this run executes.';

--
-- Name: COLUMN automation_runs.run_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.run_at IS 'Not claimed before this time (retry backoff, delay steps).';

--
-- Name: COLUMN automation_runs.attempt; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.attempt IS 'Times the run was claimed. With claim_token, the fence: a worker''s writes only apply while both match its claim.';

--
-- Name: COLUMN automation_runs.failed_attempts; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.failed_attempts IS 'Failed attempts so far (step errors and lost workers).';

--
-- Name: COLUMN automation_runs.lease_expires_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.lease_expires_at IS 'While running: the claiming worker must finish or extend by then, or the run is released for another attempt.';

--
-- Name: COLUMN automation_runs.claim_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.claim_token IS 'Random token of the claim that holds this run (engine). Every worker write is fenced by attempt and this token, so a claim lost in a crash cannot be honoured twice.';

--
-- Name: COLUMN automation_runs.flow_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.flow_key IS 'Engine: the run''s flow-control group (automation id[:concurrency key value]); null when its automation has no limits.';

--
-- Name: COLUMN automation_runs.root_run_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.root_run_id IS 'The first run of this run''s chain (set by the engine); NULL for a run a trigger started directly, which is itself a root.';

--
-- Name: COLUMN automation_runs.chain_depth; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.chain_depth IS 'How many runs led to this one (0 for a root). Set by the engine from the causing run: its chain_depth + 1.';

--
-- Name: COLUMN automation_runs.acting_user_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.acting_user_id IS 'Who the run acts as (the automation''s acting member when the run was created; null = the service). No foreign key on purpose: a deleted user must fail the run, not turn it into a service run.';

--
-- Name: COLUMN automation_runs.restricted; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_runs.restricted IS 'True when the run''s data came from the database under someone''s rights (table events, or a snapshot with a database action): its trigger_payload and result are redacted here and kept in automation_run_payloads, and its steps are readable by its acting member only.';

--
-- Name: automation_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_settings (
    org_id uuid NOT NULL,
    run_retention_days integer DEFAULT 30 NOT NULL,
    failed_run_retention_days integer DEFAULT 90 NOT NULL,
    max_actions_per_automation integer,
    max_automations integer,
    chain_run_budget integer,
    max_chain_depth integer,
    max_running_runs integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT automation_settings_chain_run_budget_positive CHECK ((chain_run_budget > 0)),
    CONSTRAINT automation_settings_failed_run_retention_range CHECK (((failed_run_retention_days >= 1) AND (failed_run_retention_days <= 3650))),
    CONSTRAINT automation_settings_max_actions_positive CHECK ((max_actions_per_automation > 0)),
    CONSTRAINT automation_settings_max_automations_positive CHECK ((max_automations > 0)),
    CONSTRAINT automation_settings_max_chain_depth_range CHECK ((max_chain_depth >= 0)),
    CONSTRAINT automation_settings_max_running_runs_positive CHECK ((max_running_runs > 0)),
    CONSTRAINT automation_settings_run_retention_range CHECK (((run_retention_days >= 1) AND (run_retention_days <= 3650)))
);

--
-- Name: TABLE automation_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_settings IS 'Per-org automation settings; an org without a row uses the defaults (30 / 90 days; limits: automations_engine.setting()). Admins write the retention columns; only the service writes the limit columns.';

--
-- Name: COLUMN automation_settings.run_retention_days; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.run_retention_days IS 'Completed runs (and their steps) are deleted this many days after they completed (1..3650).';

--
-- Name: COLUMN automation_settings.failed_run_retention_days; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.failed_run_retention_days IS 'Failed runs (and their steps) are deleted this many days after they failed (1..3650). Kept longer by default.';

--
-- Name: COLUMN automation_settings.max_actions_per_automation; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.max_actions_per_automation IS 'Most actions (steps) one automation may have. NULL: 50.';

--
-- Name: COLUMN automation_settings.max_automations; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.max_automations IS 'Most automations the org may have (any status). NULL: 1000.';

--
-- Name: COLUMN automation_settings.chain_run_budget; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.chain_run_budget IS 'Most runs in one chain, its root included: runs set off by a run''s writes or its signed calls back into our functions. NULL: 100.';

--
-- Name: COLUMN automation_settings.max_chain_depth; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.max_chain_depth IS 'Most runs between a chain''s root and its deepest run. NULL: 10.';

--
-- Name: COLUMN automation_settings.max_running_runs; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automation_settings.max_running_runs IS 'Operator setting: at most this many runs of the org running at once (null = no cap). The claim holds the rest pending; set by the service, members can read it.';

--
-- Name: automation_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automation_versions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    automation_id uuid NOT NULL,
    actions jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE automation_versions; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automation_versions IS 'Immutable snapshots of an automation''s actions; each run executes the snapshot it was created with.';

--
-- Name: automations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.automations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    creator_id uuid,
    name text NOT NULL,
    description text,
    trigger_type public.automation_trigger_type NOT NULL,
    trigger_config jsonb DEFAULT '{}'::jsonb NOT NULL,
    status public.automation_status DEFAULT 'draft'::public.automation_status NOT NULL,
    last_run_at timestamp with time zone,
    run_count integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    max_attempts integer DEFAULT 3 NOT NULL,
    retry_backoff_seconds integer DEFAULT 10 NOT NULL,
    max_concurrency integer,
    concurrency_key text,
    rate_limit jsonb,
    current_version_id uuid,
    acting_user_id uuid,
    CONSTRAINT automations_max_attempts_range CHECK (((max_attempts >= 1) AND (max_attempts <= 25))),
    CONSTRAINT automations_retry_backoff_range CHECK (((retry_backoff_seconds >= 1) AND (retry_backoff_seconds <= 3600)))
);

--
-- Name: TABLE automations; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.automations IS 'Automations: what starts them (trigger_type + trigger_config) and whether they may run (status).';

--
-- Name: COLUMN automations.trigger_config; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.trigger_config IS 'schedule {cron, timezone, missed}; event {table, operations, filter} or {event, filter}; webhook/manual {}.';

--
-- Name: COLUMN automations.run_count; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.run_count IS 'Runs finished so far (counted with each run''s final state).';

--
-- Name: COLUMN automations.max_attempts; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.max_attempts IS 'How many times a run may fail (a retryable step error or a lost worker) before it ends failed.';

--
-- Name: COLUMN automations.retry_backoff_seconds; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.retry_backoff_seconds IS 'First retry delay; doubles per failed attempt, capped at one hour.';

--
-- Name: COLUMN automations.max_concurrency; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.max_concurrency IS 'At most this many runs of the automation running at once (per concurrency_key value when that is set); null = no limit.';

--
-- Name: COLUMN automations.concurrency_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.concurrency_key IS 'Template over the trigger, e.g. {{trigger.payload.customer_id}}: max_concurrency then applies per value. Evaluated once per run at enqueue (automation_runs.flow_key).';

--
-- Name: COLUMN automations.rate_limit; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.rate_limit IS '{"limit": n, "period_seconds": s}: at most n runs of the automation start (first claim, started_at) in any s-second window; the rest wait pending.';

--
-- Name: COLUMN automations.current_version_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.current_version_id IS 'Snapshot new runs execute; maintained by triggers on automation_actions.';

--
-- Name: COLUMN automations.acting_user_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.automations.acting_user_id IS 'The member whose rights the automation''s database actions run under: the last member who inserted it or changed its trigger_type, trigger_config, status or actions. Maintained by the database (not client-writable); null = created by the service, whose database actions run as the service. Deleting that user pauses the automation.';

--
-- Name: memberships; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.memberships (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    team_id uuid,
    role public.membership_role DEFAULT 'member'::public.membership_role NOT NULL,
    status public.membership_status DEFAULT 'active'::public.membership_status NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL
);

--
-- Name: TABLE memberships; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.memberships IS 'Role (owner/admin/member/guest) and status of a user in an org.';

--
-- Name: organizations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    logo_url text,
    domain text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL
);

--
-- Name: TABLE organizations; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.organizations IS 'Tenants. Every org-scoped row carries org_id pointing here.';

--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    auth_id uuid,
    email text NOT NULL,
    full_name text,
    avatar_url text,
    timezone text DEFAULT 'UTC'::text,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL
);

--
-- Name: TABLE users; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.users IS 'App users; auth_id links to auth.users, org_id is the org they act in.';

--
-- Name: custom_action_types custom_action_types_pkey; Type: CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.custom_action_types
    ADD CONSTRAINT custom_action_types_pkey PRIMARY KEY (action_type);

--
-- Name: schedule_state schedule_state_pkey; Type: CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.schedule_state
    ADD CONSTRAINT schedule_state_pkey PRIMARY KEY (automation_id);

--
-- Name: webhook_secrets webhook_secrets_pkey; Type: CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.webhook_secrets
    ADD CONSTRAINT webhook_secrets_pkey PRIMARY KEY (automation_id);

--
-- Name: worker_kick worker_kick_pkey; Type: CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.worker_kick
    ADD CONSTRAINT worker_kick_pkey PRIMARY KEY (id);

--
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (worker_id);

--
-- Name: automation_actions automation_actions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_actions
    ADD CONSTRAINT automation_actions_pkey PRIMARY KEY (id);

--
-- Name: automation_chain_refusals automation_chain_refusals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_chain_refusals
    ADD CONSTRAINT automation_chain_refusals_pkey PRIMARY KEY (root_run_id);

--
-- Name: automation_run_payloads automation_run_payloads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_run_payloads
    ADD CONSTRAINT automation_run_payloads_pkey PRIMARY KEY (run_id);

--
-- Name: automation_run_steps automation_run_steps_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_run_steps
    ADD CONSTRAINT automation_run_steps_pkey PRIMARY KEY (run_id, step_index);

--
-- Name: automation_runs automation_runs_idempotency_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_runs
    ADD CONSTRAINT automation_runs_idempotency_key UNIQUE (automation_id, idempotency_key);

--
-- Name: automation_runs automation_runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_runs
    ADD CONSTRAINT automation_runs_pkey PRIMARY KEY (id);

--
-- Name: automation_settings automation_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_settings
    ADD CONSTRAINT automation_settings_pkey PRIMARY KEY (org_id);

--
-- Name: automation_versions automation_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_versions
    ADD CONSTRAINT automation_versions_pkey PRIMARY KEY (id);

--
-- Name: automations automations_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_org_id_id_key UNIQUE (org_id, id);

--
-- Name: automations automations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_pkey PRIMARY KEY (id);

--
-- Name: memberships memberships_org_id_user_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_org_id_user_id_key UNIQUE (org_id, user_id);

--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (id);

--
-- Name: organizations organizations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);

--
-- Name: organizations organizations_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organizations
    ADD CONSTRAINT organizations_slug_key UNIQUE (slug);

--
-- Name: users users_auth_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_auth_id_key UNIQUE (auth_id);

--
-- Name: users users_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_org_id_id_key UNIQUE (org_id, id);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: workers_heartbeat_idx; Type: INDEX; Schema: automations_engine; Owner: -
--

CREATE INDEX workers_heartbeat_idx ON automations_engine.workers USING btree (heartbeat_at);

--
-- Name: automation_actions_automation_name_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX automation_actions_automation_name_key ON public.automation_actions USING btree (automation_id, name) WHERE (name IS NOT NULL);

--
-- Name: automation_actions_automation_position_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_actions_automation_position_idx ON public.automation_actions USING btree (automation_id, "position", created_at, id);

--
-- Name: automation_actions_org_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_actions_org_id_idx ON public.automation_actions USING btree (org_id);

--
-- Name: automation_chain_refusals_org_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_chain_refusals_org_idx ON public.automation_chain_refusals USING btree (org_id, last_refused_at DESC);

--
-- Name: automation_run_payloads_org_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_run_payloads_org_idx ON public.automation_run_payloads USING btree (org_id);

--
-- Name: automation_run_steps_org_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_run_steps_org_idx ON public.automation_run_steps USING btree (org_id);

--
-- Name: automation_runs_automation_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_automation_created_idx ON public.automation_runs USING btree (automation_id, created_at DESC);

--
-- Name: automation_runs_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_due_idx ON public.automation_runs USING btree (run_at) WHERE ((status = 'pending'::public.run_status) AND (flow_key IS NULL));

--
-- Name: automation_runs_flow_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_flow_due_idx ON public.automation_runs USING btree (flow_key, run_at, id) WHERE ((status = 'pending'::public.run_status) AND (flow_key IS NOT NULL));

--
-- Name: automation_runs_flow_running_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_flow_running_idx ON public.automation_runs USING btree (flow_key) WHERE ((status = 'running'::public.run_status) AND (flow_key IS NOT NULL));

--
-- Name: automation_runs_flow_starts_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_flow_starts_idx ON public.automation_runs USING btree (automation_id, started_at) WHERE (flow_key IS NOT NULL);

--
-- Name: automation_runs_lease_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_lease_idx ON public.automation_runs USING btree (lease_expires_at) WHERE (status = 'running'::public.run_status);

--
-- Name: automation_runs_org_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_org_due_idx ON public.automation_runs USING btree (org_id, run_at, id) WHERE ((status = 'pending'::public.run_status) AND (flow_key IS NULL));

--
-- Name: automation_runs_org_failed_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_org_failed_idx ON public.automation_runs USING btree (org_id, started_at DESC) WHERE (status = 'failed'::public.run_status);

--
-- Name: automation_runs_org_running_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_org_running_idx ON public.automation_runs USING btree (org_id, lease_expires_at) WHERE (status = 'running'::public.run_status);

--
-- Name: automation_runs_org_started_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_org_started_idx ON public.automation_runs USING btree (org_id, started_at DESC) INCLUDE (automation_id, status, id);

--
-- Name: INDEX automation_runs_org_started_idx; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON INDEX public.automation_runs_org_started_idx IS 'An org''s runs by start time (RLS + "recent runs"); covers automation_id, status and id so per-automation counts of an org are index-only.';

--
-- Name: automation_runs_retention_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_retention_idx ON public.automation_runs USING btree (org_id, status, COALESCE(completed_at, created_at)) WHERE (status = ANY (ARRAY['completed'::public.run_status, 'failed'::public.run_status]));

--
-- Name: INDEX automation_runs_retention_idx; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON INDEX public.automation_runs_retention_idx IS 'Retention: expired completed/failed runs of an org.';

--
-- Name: automation_runs_root_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_root_idx ON public.automation_runs USING btree (root_run_id) WHERE (root_run_id IS NOT NULL);

--
-- Name: automation_runs_version_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_runs_version_id_idx ON public.automation_runs USING btree (version_id);

--
-- Name: INDEX automation_runs_version_id_idx; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON INDEX public.automation_runs_version_id_idx IS 'Retention: whether any run still uses a snapshot.';

--
-- Name: automation_versions_automation_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automation_versions_automation_idx ON public.automation_versions USING btree (automation_id, created_at DESC);

--
-- Name: automations_acting_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_acting_user_id_idx ON public.automations USING btree (acting_user_id);

--
-- Name: automations_active_trigger_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_active_trigger_idx ON public.automations USING btree (trigger_type) WHERE (status = 'active'::public.automation_status);

--
-- Name: automations_creator_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_creator_id_idx ON public.automations USING btree (creator_id);

--
-- Name: automations_current_version_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_current_version_id_idx ON public.automations USING btree (current_version_id);

--
-- Name: INDEX automations_current_version_id_idx; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON INDEX public.automations_current_version_id_idx IS 'Retention: whether a snapshot is some automation''s current one.';

--
-- Name: automations_event_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_event_name_idx ON public.automations USING btree (org_id, ((trigger_config ->> 'event'::text))) WHERE ((trigger_type = 'event'::public.automation_trigger_type) AND (status = 'active'::public.automation_status));

--
-- Name: INDEX automations_event_name_idx; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON INDEX public.automations_event_name_idx IS 'Active application-event automations by org and event name (match_event_automations).';

--
-- Name: automations_event_table_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_event_table_idx ON public.automations USING btree (org_id, ((trigger_config ->> 'table'::text))) WHERE ((trigger_type = 'event'::public.automation_trigger_type) AND (status = 'active'::public.automation_status));

--
-- Name: INDEX automations_event_table_idx; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON INDEX public.automations_event_table_idx IS 'Active table-event automations by org and table (match_event_automations).';

--
-- Name: automations_org_id_status_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX automations_org_id_status_idx ON public.automations USING btree (org_id, status);

--
-- Name: memberships_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_user_id_idx ON public.memberships USING btree (user_id);

--
-- Name: users_org_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX users_org_id_idx ON public.users USING btree (org_id);

--
-- Name: automation_actions automation_actions_check_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_check_insert BEFORE INSERT ON public.automation_actions FOR EACH ROW EXECUTE FUNCTION automations_engine.check_action();

--
-- Name: automation_actions automation_actions_check_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_check_update BEFORE UPDATE OF action_type, action_config, condition ON public.automation_actions FOR EACH ROW WHEN (((old.action_type IS DISTINCT FROM new.action_type) OR (old.action_config IS DISTINCT FROM new.action_config) OR (old.condition IS DISTINCT FROM new.condition))) EXECUTE FUNCTION automations_engine.check_action();

--
-- Name: automation_actions automation_actions_org_id_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_org_id_immutable BEFORE UPDATE OF org_id ON public.automation_actions FOR EACH ROW EXECUTE FUNCTION public.prevent_org_id_change();

--
-- Name: automation_actions automation_actions_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_set_updated_at BEFORE UPDATE ON public.automation_actions FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

--
-- Name: automation_actions automation_actions_snapshot_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_snapshot_delete AFTER DELETE ON public.automation_actions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION automations_engine.on_actions_changed();

--
-- Name: automation_actions automation_actions_snapshot_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_snapshot_insert AFTER INSERT ON public.automation_actions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION automations_engine.on_actions_changed();

--
-- Name: automation_actions automation_actions_snapshot_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_snapshot_update AFTER UPDATE ON public.automation_actions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION automations_engine.on_actions_changed();

--
-- Name: automation_actions automation_actions_step_limit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_actions_step_limit AFTER INSERT ON public.automation_actions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION automations_engine.check_action_limit();

--
-- Name: automation_runs automation_runs_client_flow_key; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_client_flow_key BEFORE INSERT ON public.automation_runs FOR EACH ROW WHEN ((new.version_id IS NULL)) EXECUTE FUNCTION automations_engine.fill_client_flow_key();

--
-- Name: automation_runs automation_runs_fill_defaults; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_fill_defaults BEFORE INSERT ON public.automation_runs FOR EACH ROW EXECUTE FUNCTION automations_engine.fill_run_defaults();

--
-- Name: automation_runs automation_runs_mark_restricted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_mark_restricted BEFORE INSERT ON public.automation_runs FOR EACH ROW EXECUTE FUNCTION automations_engine.mark_restricted_run();

--
-- Name: automation_runs automation_runs_org_id_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_org_id_immutable BEFORE UPDATE OF org_id ON public.automation_runs FOR EACH ROW EXECUTE FUNCTION public.prevent_org_id_change();

--
-- Name: automation_runs automation_runs_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_set_updated_at BEFORE UPDATE ON public.automation_runs FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

--
-- Name: automation_runs automation_runs_store_restricted_payload; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_store_restricted_payload AFTER INSERT ON public.automation_runs FOR EACH ROW WHEN (new.restricted) EXECUTE FUNCTION automations_engine.store_restricted_payload();

--
-- Name: automation_runs automation_runs_store_restricted_result; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_runs_store_restricted_result BEFORE UPDATE OF result ON public.automation_runs FOR EACH ROW WHEN ((new.restricted AND (new.result IS NOT NULL) AND (new.result IS DISTINCT FROM old.result))) EXECUTE FUNCTION automations_engine.store_restricted_result();

--
-- Name: automation_settings automation_settings_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automation_settings_set_updated_at BEFORE UPDATE ON public.automation_settings FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

--
-- Name: TRIGGER automation_settings_set_updated_at ON automation_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TRIGGER automation_settings_set_updated_at ON public.automation_settings IS 'Keeps updated_at true.';

--
-- Name: automations automations_check_flow_control_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_check_flow_control_insert BEFORE INSERT ON public.automations FOR EACH ROW WHEN (((new.max_concurrency IS NOT NULL) OR (new.concurrency_key IS NOT NULL) OR (new.rate_limit IS NOT NULL))) EXECUTE FUNCTION automations_engine.check_flow_control();

--
-- Name: automations automations_check_flow_control_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_check_flow_control_update BEFORE UPDATE OF max_concurrency, concurrency_key, rate_limit ON public.automations FOR EACH ROW WHEN (((old.max_concurrency IS DISTINCT FROM new.max_concurrency) OR (old.concurrency_key IS DISTINCT FROM new.concurrency_key) OR (old.rate_limit IS DISTINCT FROM new.rate_limit))) EXECUTE FUNCTION automations_engine.check_flow_control();

--
-- Name: automations automations_check_trigger_config_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_check_trigger_config_insert BEFORE INSERT ON public.automations FOR EACH ROW EXECUTE FUNCTION automations_engine.check_trigger_config();

--
-- Name: automations automations_check_trigger_config_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_check_trigger_config_update BEFORE UPDATE OF trigger_type, trigger_config ON public.automations FOR EACH ROW WHEN (((old.trigger_type IS DISTINCT FROM new.trigger_type) OR (old.trigger_config IS DISTINCT FROM new.trigger_config))) EXECUTE FUNCTION automations_engine.check_trigger_config();

--
-- Name: automations automations_org_id_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_org_id_immutable BEFORE UPDATE OF org_id ON public.automations FOR EACH ROW EXECUTE FUNCTION public.prevent_org_id_change();

--
-- Name: automations automations_org_limit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_org_limit AFTER INSERT ON public.automations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION automations_engine.check_automation_limit();

--
-- Name: automations automations_set_acting_user; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_set_acting_user BEFORE INSERT OR UPDATE OF trigger_type, trigger_config, status, acting_user_id ON public.automations FOR EACH ROW EXECUTE FUNCTION automations_engine.set_acting_user();

--
-- Name: automations automations_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_set_updated_at BEFORE UPDATE ON public.automations FOR EACH ROW WHEN (((((to_jsonb(old.*) - 'run_count'::text) - 'last_run_at'::text) - 'updated_at'::text) IS DISTINCT FROM (((to_jsonb(new.*) - 'run_count'::text) - 'last_run_at'::text) - 'updated_at'::text))) EXECUTE FUNCTION public.set_updated_at();

--
-- Name: automations automations_sync_flow_keys; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_sync_flow_keys AFTER UPDATE OF max_concurrency, concurrency_key, rate_limit ON public.automations FOR EACH ROW WHEN (((old.max_concurrency IS DISTINCT FROM new.max_concurrency) OR (old.concurrency_key IS DISTINCT FROM new.concurrency_key) OR (old.rate_limit IS DISTINCT FROM new.rate_limit))) EXECUTE FUNCTION automations_engine.sync_flow_keys();

--
-- Name: automations automations_webhook_config_changed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER automations_webhook_config_changed AFTER UPDATE OF trigger_config ON public.automations FOR EACH ROW WHEN ((old.trigger_config IS DISTINCT FROM new.trigger_config)) EXECUTE FUNCTION automations_engine.webhook_config_changed();

--
-- Name: memberships memberships_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER memberships_set_updated_at BEFORE UPDATE ON public.memberships FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

--
-- Name: organizations organizations_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER organizations_set_updated_at BEFORE UPDATE ON public.organizations FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

--
-- Name: users users_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

--
-- Name: schedule_state schedule_state_automation_id_fkey; Type: FK CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.schedule_state
    ADD CONSTRAINT schedule_state_automation_id_fkey FOREIGN KEY (automation_id) REFERENCES public.automations(id) ON DELETE CASCADE;

--
-- Name: webhook_secrets webhook_secrets_automation_id_fkey; Type: FK CONSTRAINT; Schema: automations_engine; Owner: -
--

ALTER TABLE ONLY automations_engine.webhook_secrets
    ADD CONSTRAINT webhook_secrets_automation_id_fkey FOREIGN KEY (automation_id) REFERENCES public.automations(id) ON DELETE CASCADE;

--
-- Name: automation_actions automation_actions_automation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_actions
    ADD CONSTRAINT automation_actions_automation_id_fkey FOREIGN KEY (automation_id) REFERENCES public.automations(id) ON DELETE CASCADE;

--
-- Name: automation_actions automation_actions_org_id_automation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_actions
    ADD CONSTRAINT automation_actions_org_id_automation_id_fkey FOREIGN KEY (org_id, automation_id) REFERENCES public.automations(org_id, id) ON DELETE CASCADE;

--
-- Name: automation_actions automation_actions_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_actions
    ADD CONSTRAINT automation_actions_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automation_chain_refusals automation_chain_refusals_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_chain_refusals
    ADD CONSTRAINT automation_chain_refusals_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automation_chain_refusals automation_chain_refusals_root_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_chain_refusals
    ADD CONSTRAINT automation_chain_refusals_root_run_id_fkey FOREIGN KEY (root_run_id) REFERENCES public.automation_runs(id) ON DELETE CASCADE;

--
-- Name: automation_run_payloads automation_run_payloads_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_run_payloads
    ADD CONSTRAINT automation_run_payloads_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automation_run_payloads automation_run_payloads_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_run_payloads
    ADD CONSTRAINT automation_run_payloads_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.automation_runs(id) ON DELETE CASCADE;

--
-- Name: automation_run_steps automation_run_steps_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_run_steps
    ADD CONSTRAINT automation_run_steps_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automation_run_steps automation_run_steps_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_run_steps
    ADD CONSTRAINT automation_run_steps_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.automation_runs(id) ON DELETE CASCADE;

--
-- Name: automation_runs automation_runs_automation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_runs
    ADD CONSTRAINT automation_runs_automation_id_fkey FOREIGN KEY (automation_id) REFERENCES public.automations(id) ON DELETE CASCADE;

--
-- Name: automation_runs automation_runs_org_id_automation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_runs
    ADD CONSTRAINT automation_runs_org_id_automation_id_fkey FOREIGN KEY (org_id, automation_id) REFERENCES public.automations(org_id, id) ON DELETE CASCADE;

--
-- Name: automation_runs automation_runs_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_runs
    ADD CONSTRAINT automation_runs_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automation_runs automation_runs_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_runs
    ADD CONSTRAINT automation_runs_version_id_fkey FOREIGN KEY (version_id) REFERENCES public.automation_versions(id);

--
-- Name: automation_settings automation_settings_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_settings
    ADD CONSTRAINT automation_settings_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automation_versions automation_versions_org_id_automation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_versions
    ADD CONSTRAINT automation_versions_org_id_automation_id_fkey FOREIGN KEY (org_id, automation_id) REFERENCES public.automations(org_id, id) ON DELETE CASCADE;

--
-- Name: automation_versions automation_versions_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automation_versions
    ADD CONSTRAINT automation_versions_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: automations automations_acting_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_acting_user_id_fkey FOREIGN KEY (acting_user_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: automations automations_creator_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_creator_id_fkey FOREIGN KEY (creator_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: automations automations_current_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_current_version_id_fkey FOREIGN KEY (current_version_id) REFERENCES public.automation_versions(id) ON DELETE SET NULL;

--
-- Name: automations automations_org_id_creator_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_org_id_creator_id_fkey FOREIGN KEY (org_id, creator_id) REFERENCES public.users(org_id, id) ON DELETE SET NULL (creator_id);

--
-- Name: automations automations_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.automations
    ADD CONSTRAINT automations_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: memberships memberships_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: users users_auth_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_auth_id_fkey FOREIGN KEY (auth_id) REFERENCES auth.users(id) ON DELETE CASCADE;

--
-- Name: users users_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

--
-- Name: memberships Admins can add memberships in their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Admins can add memberships in their organization" ON public.memberships FOR INSERT TO authenticated WITH CHECK (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin) AND ((role <> 'owner'::public.membership_role) OR (( SELECT public.get_user_role() AS get_user_role) = 'owner'::public.membership_role))));

--
-- Name: users Admins can add users to their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Admins can add users to their organization" ON public.users FOR INSERT TO authenticated WITH CHECK (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: memberships Admins can change memberships in their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Admins can change memberships in their organization" ON public.memberships FOR UPDATE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin))) WITH CHECK (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ((role <> 'owner'::public.membership_role) OR (( SELECT public.get_user_role() AS get_user_role) = 'owner'::public.membership_role))));

--
-- Name: memberships Admins can remove memberships in their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Admins can remove memberships in their organization" ON public.memberships FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: users Admins can remove users from their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Admins can remove users from their organization" ON public.users FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: organizations Admins can update their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Admins can update their organization" ON public.organizations FOR UPDATE TO authenticated USING (((id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin))) WITH CHECK ((id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: memberships Members can view memberships of their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Members can view memberships of their organization" ON public.memberships FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: organizations Members can view their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Members can view their organization" ON public.organizations FOR SELECT TO authenticated USING ((id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: users Members can view users of their organization; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Members can view users of their organization" ON public.users FOR SELECT TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) OR (auth_id = ( SELECT auth.uid() AS uid))));

--
-- Name: automation_settings Org admins can change their automation settings; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can change their automation settings" ON public.automation_settings FOR UPDATE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin))) WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_settings Org admins can create their automation settings; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can create their automation settings" ON public.automation_settings FOR INSERT TO authenticated WITH CHECK (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: automation_actions Org admins can delete automation actions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can delete automation actions" ON public.automation_actions FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: automation_runs Org admins can delete automation runs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can delete automation runs" ON public.automation_runs FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: automations Org admins can delete automations; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can delete automations" ON public.automations FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)));

--
-- Name: automation_run_steps Org admins can delete steps of finished runs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can delete steps of finished runs" ON public.automation_run_steps FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin) AND (EXISTS ( SELECT 1
   FROM public.automation_runs r
  WHERE ((r.id = automation_run_steps.run_id) AND (r.status = ANY (ARRAY['completed'::public.run_status, 'failed'::public.run_status])))))));

--
-- Name: automation_settings Org admins can reset their automation settings to the defaults; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org admins can reset their automation settings to the defaults" ON public.automation_settings FOR DELETE TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin) AND (num_nonnulls(max_actions_per_automation, max_automations, chain_run_budget, max_chain_depth, max_running_runs) = 0)));

--
-- Name: automation_actions Org members can create automation actions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can create automation actions" ON public.automation_actions FOR INSERT TO authenticated WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_runs Org members can create automation runs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can create automation runs" ON public.automation_runs FOR INSERT TO authenticated WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automations Org members can create automations; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can create automations" ON public.automations FOR INSERT TO authenticated WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_actions Org members can update automation actions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can update automation actions" ON public.automation_actions FOR UPDATE TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id))) WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_runs Org members can update automation runs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can update automation runs" ON public.automation_runs FOR UPDATE TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id))) WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automations Org members can update automations; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can update automations" ON public.automations FOR UPDATE TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id))) WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_actions Org members can view automation actions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view automation actions" ON public.automation_actions FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_runs Org members can view automation runs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view automation runs" ON public.automation_runs FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_versions Org members can view automation versions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view automation versions" ON public.automation_versions FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automations Org members can view automations; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view automations" ON public.automations FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_run_steps Org members can view run steps; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view run steps" ON public.automation_run_steps FOR SELECT TO authenticated USING (((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND (EXISTS ( SELECT 1
   FROM public.automation_runs r
  WHERE ((r.id = automation_run_steps.run_id) AND ((NOT r.restricted) OR public.may_read_restricted_run(r.org_id, r.acting_user_id)))))));

--
-- Name: automation_settings Org members can view their automation settings; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view their automation settings" ON public.automation_settings FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_chain_refusals Org members can view their org's chain refusals; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Org members can view their org's chain refusals" ON public.automation_chain_refusals FOR SELECT TO authenticated USING ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_run_payloads The acting member can view restricted payloads; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "The acting member can view restricted payloads" ON public.automation_run_payloads FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.automation_runs r
  WHERE ((r.id = automation_run_payloads.run_id) AND public.may_read_restricted_run(r.org_id, r.acting_user_id)))));

--
-- Name: users Users can update their own profile, admins any in their org; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "Users can update their own profile, admins any in their org" ON public.users FOR UPDATE TO authenticated USING (((auth_id = ( SELECT auth.uid() AS uid)) OR ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)) AND ( SELECT public.is_admin() AS is_admin)))) WITH CHECK ((org_id = ( SELECT public.get_user_org_id() AS get_user_org_id)));

--
-- Name: automation_actions; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_actions ENABLE ROW LEVEL SECURITY;

--
-- Name: automation_chain_refusals; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_chain_refusals ENABLE ROW LEVEL SECURITY;

--
-- Name: automation_run_payloads; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_run_payloads ENABLE ROW LEVEL SECURITY;

--
-- Name: automation_run_steps; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_run_steps ENABLE ROW LEVEL SECURITY;

--
-- Name: automation_runs; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_runs ENABLE ROW LEVEL SECURITY;

--
-- Name: automation_settings; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: automation_versions; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automation_versions ENABLE ROW LEVEL SECURITY;

--
-- Name: automations; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.automations ENABLE ROW LEVEL SECURITY;

--
-- Name: memberships; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: organizations; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.organizations ENABLE ROW LEVEL SECURITY;

--
-- Name: users; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA automations_engine; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA automations_engine TO service_role;

--
-- Name: SCHEMA public; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA public TO anon;
GRANT USAGE ON SCHEMA public TO authenticated;
GRANT USAGE ON SCHEMA public TO service_role;

--
-- Name: FUNCTION acting_member_can_read_event(p_automation_id uuid, p_payload jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.acting_member_can_read_event(p_automation_id uuid, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.acting_member_can_read_event(p_automation_id uuid, p_payload jsonb) TO service_role;

--
-- Name: FUNCTION action_config_problems(p_spec jsonb, p_config jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.action_config_problems(p_spec jsonb, p_config jsonb) FROM PUBLIC;

--
-- Name: FUNCTION action_problems(p_type text, p_config jsonb, p_condition jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.action_problems(p_type text, p_config jsonb, p_condition jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.action_problems(p_type text, p_config jsonb, p_condition jsonb) TO service_role;

--
-- Name: FUNCTION action_types(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.action_types() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.action_types() TO service_role;

--
-- Name: FUNCTION action_value_problem(p_spec jsonb, p_value jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.action_value_problem(p_spec jsonb, p_value jsonb) FROM PUBLIC;

--
-- Name: FUNCTION builtin_action_specs(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.builtin_action_specs() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.builtin_action_specs() TO service_role;

--
-- Name: FUNCTION call_function(p_function text, p_body jsonb, p_timeout_ms integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.call_function(p_function text, p_body jsonb, p_timeout_ms integer) FROM PUBLIC;

--
-- Name: FUNCTION caller_is_service(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.caller_is_service() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.caller_is_service() TO service_role;

--
-- Name: FUNCTION calling_member(p_org_id uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.calling_member(p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.calling_member(p_org_id uuid) TO service_role;

--
-- Name: FUNCTION chain_admit(p_org_id uuid, p_automation_id uuid, OUT root_run_id uuid, OUT chain_depth integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.chain_admit(p_org_id uuid, p_automation_id uuid, OUT root_run_id uuid, OUT chain_depth integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.chain_admit(p_org_id uuid, p_automation_id uuid, OUT root_run_id uuid, OUT chain_depth integer) TO service_role;

--
-- Name: FUNCTION check_action(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.check_action() FROM PUBLIC;

--
-- Name: FUNCTION check_action_limit(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.check_action_limit() FROM PUBLIC;

--
-- Name: FUNCTION check_automation_limit(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.check_automation_limit() FROM PUBLIC;

--
-- Name: FUNCTION check_flow_control(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.check_flow_control() FROM PUBLIC;

--
-- Name: FUNCTION check_trigger_config(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.check_trigger_config() FROM PUBLIC;

--
-- Name: FUNCTION claim_runs(p_worker text, p_limit integer, p_lease_seconds integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.claim_runs(p_worker text, p_limit integer, p_lease_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.claim_runs(p_worker text, p_limit integer, p_lease_seconds integer) TO service_role;

--
-- Name: FUNCTION concurrency_value(p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.concurrency_value(p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.concurrency_value(p_key text, p_trigger_type public.automation_trigger_type, p_payload jsonb) TO service_role;

--
-- Name: FUNCTION condition_problems(p_condition jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.condition_problems(p_condition jsonb) FROM PUBLIC;

--
-- Name: FUNCTION count_finished_runs(p_automation_ids uuid[], p_started_at timestamp with time zone[]); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.count_finished_runs(p_automation_ids uuid[], p_started_at timestamp with time zone[]) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.count_finished_runs(p_automation_ids uuid[], p_started_at timestamp with time zone[]) TO service_role;

--
-- Name: FUNCTION cron_field(p_name text, p_value text, OUT problem text, OUT vals text[]); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.cron_field(p_name text, p_value text, OUT problem text, OUT vals text[]) FROM PUBLIC;

--
-- Name: FUNCTION cron_problem(p_cron text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.cron_problem(p_cron text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.cron_problem(p_cron text) TO service_role;

--
-- Name: FUNCTION enqueue(p_automation_id uuid, p_trigger_type public.automation_trigger_type, p_payload jsonb, p_idempotency_key text, p_run_at timestamp with time zone, p_allow_draft boolean, p_headers jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.enqueue(p_automation_id uuid, p_trigger_type public.automation_trigger_type, p_payload jsonb, p_idempotency_key text, p_run_at timestamp with time zone, p_allow_draft boolean, p_headers jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.enqueue(p_automation_id uuid, p_trigger_type public.automation_trigger_type, p_payload jsonb, p_idempotency_key text, p_run_at timestamp with time zone, p_allow_draft boolean, p_headers jsonb) TO service_role;

--
-- Name: FUNCTION enqueue_schedule(p_automation_id uuid, p_fire_times timestamp with time zone[]); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.enqueue_schedule(p_automation_id uuid, p_fire_times timestamp with time zone[]) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.enqueue_schedule(p_automation_id uuid, p_fire_times timestamp with time zone[]) TO service_role;

--
-- Name: FUNCTION extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.extend_lease(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_lease_seconds integer) TO service_role;

--
-- Name: FUNCTION fill_client_flow_key(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.fill_client_flow_key() FROM PUBLIC;

--
-- Name: FUNCTION fill_run_defaults(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.fill_run_defaults() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.fill_run_defaults() TO service_role;

--
-- Name: FUNCTION filter_args(p_args jsonb, p_data jsonb, p_budget integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_args(p_args jsonb, p_data jsonb, p_budget integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_args(p_args jsonb, p_data jsonb, p_budget integer) TO service_role;

--
-- Name: FUNCTION filter_check(p_rule jsonb, p_path text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_check(p_rule jsonb, p_path text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_check(p_rule jsonb, p_path text) TO service_role;

--
-- Name: FUNCTION filter_compare(p_op text, a jsonb, b jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_compare(p_op text, a jsonb, b jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_compare(p_op text, a jsonb, b jsonb) TO service_role;

--
-- Name: FUNCTION filter_double(p numeric); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_double(p numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_double(p numeric) TO service_role;

--
-- Name: FUNCTION filter_eval(p_rule jsonb, p_data jsonb, p_budget integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_eval(p_rule jsonb, p_data jsonb, p_budget integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_eval(p_rule jsonb, p_data jsonb, p_budget integer) TO service_role;

--
-- Name: FUNCTION filter_js_string(v jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_js_string(v jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_js_string(v jsonb) TO service_role;

--
-- Name: FUNCTION filter_matches(p_filter jsonb, p_data jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_matches(p_filter jsonb, p_data jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_matches(p_filter jsonb, p_data jsonb) TO service_role;

--
-- Name: FUNCTION filter_missing(p_keys jsonb, p_data jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_missing(p_keys jsonb, p_data jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_missing(p_keys jsonb, p_data jsonb) TO service_role;

--
-- Name: FUNCTION filter_number(v jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_number(v jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_number(v jsonb) TO service_role;

--
-- Name: FUNCTION filter_number_text(x double precision); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_number_text(x double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_number_text(x double precision) TO service_role;

--
-- Name: FUNCTION filter_problems(p_filter jsonb, p_table_event boolean, p_roots text[]); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_problems(p_filter jsonb, p_table_event boolean, p_roots text[]) FROM PUBLIC;

--
-- Name: FUNCTION filter_prop(v jsonb, p_key text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_prop(v jsonb, p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_prop(v jsonb, p_key text) TO service_role;

--
-- Name: FUNCTION filter_size(v jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_size(v jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_size(v jsonb) TO service_role;

--
-- Name: FUNCTION filter_split_path(p text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_split_path(p text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_split_path(p text) TO service_role;

--
-- Name: FUNCTION filter_strict_eq(a jsonb, b jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_strict_eq(a jsonb, b jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_strict_eq(a jsonb, b jsonb) TO service_role;

--
-- Name: FUNCTION filter_string_number(p text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_string_number(p text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_string_number(p text) TO service_role;

--
-- Name: FUNCTION filter_truthy(v jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.filter_truthy(v jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.filter_truthy(v jsonb) TO service_role;

--
-- Name: FUNCTION flow_control_problems(p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.flow_control_problems(p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.flow_control_problems(p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb) TO service_role;

--
-- Name: FUNCTION flow_key(p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb, p_trigger_type public.automation_trigger_type, p_payload jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.flow_key(p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb, p_trigger_type public.automation_trigger_type, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.flow_key(p_automation_id uuid, p_max_concurrency integer, p_concurrency_key text, p_rate_limit jsonb, p_trigger_type public.automation_trigger_type, p_payload jsonb) TO service_role;

--
-- Name: FUNCTION has_claimable_runs(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.has_claimable_runs() FROM PUBLIC;

--
-- Name: FUNCTION insert_actions(p_org_id uuid, p_automation_id uuid, p_actions jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.insert_actions(p_org_id uuid, p_automation_id uuid, p_actions jsonb) FROM PUBLIC;

--
-- Name: FUNCTION install_cron(p_schedule text, p_kick_schedule text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.install_cron(p_schedule text, p_kick_schedule text) FROM PUBLIC;

--
-- Name: FUNCTION install_retention_cron(p_schedule text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.install_retention_cron(p_schedule text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.install_retention_cron(p_schedule text) TO service_role;

--
-- Name: FUNCTION is_database_action(p_action_type text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.is_database_action(p_action_type text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.is_database_action(p_action_type text) TO service_role;

--
-- Name: FUNCTION js_trim(p_text text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.js_trim(p_text text) FROM PUBLIC;

--
-- Name: FUNCTION json_key_path(p_key text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.json_key_path(p_key text) FROM PUBLIC;

--
-- Name: FUNCTION json_shown(p_value jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.json_shown(p_value jsonb) FROM PUBLIC;

--
-- Name: FUNCTION json_text_length(p_value jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.json_text_length(p_value jsonb) FROM PUBLIC;

--
-- Name: FUNCTION json_value_problem(p_value jsonb, p_expected text, p_min numeric, p_max numeric); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.json_value_problem(p_value jsonb, p_expected text, p_min numeric, p_max numeric) FROM PUBLIC;

--
-- Name: FUNCTION jsonlogic_problems(p_node jsonb, p_at text, p_kind text, p_operators text[], p_iterators text[], p_roots text[], p_check_vars boolean, p_depth integer, p_max_depth integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.jsonlogic_problems(p_node jsonb, p_at text, p_kind text, p_operators text[], p_iterators text[], p_roots text[], p_check_vars boolean, p_depth integer, p_max_depth integer) FROM PUBLIC;

--
-- Name: FUNCTION kick_worker(p_min_interval interval); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.kick_worker(p_min_interval interval) FROM PUBLIC;

--
-- Name: FUNCTION mark_restricted_run(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.mark_restricted_run() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.mark_restricted_run() TO service_role;

--
-- Name: FUNCTION match_event_automations(p_org_id uuid, p_schema text, p_table text, p_operation text, p_event text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.match_event_automations(p_org_id uuid, p_schema text, p_table text, p_operation text, p_event text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.match_event_automations(p_org_id uuid, p_schema text, p_table text, p_operation text, p_event text) TO service_role;

--
-- Name: FUNCTION member_can_select(p_table regclass, p_row jsonb, p_user_id uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.member_can_select(p_table regclass, p_row jsonb, p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.member_can_select(p_table regclass, p_row jsonb, p_user_id uuid) TO service_role;

--
-- Name: FUNCTION on_actions_changed(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.on_actions_changed() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.on_actions_changed() TO service_role;

--
-- Name: FUNCTION org_at_cap(p_org_id uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.org_at_cap(p_org_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION prune_runs(p_batch_size integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.prune_runs(p_batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.prune_runs(p_batch_size integer) TO service_role;

--
-- Name: PROCEDURE prune_runs_job(IN p_batch_size integer, IN p_max_batches integer, IN p_max_seconds integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON PROCEDURE automations_engine.prune_runs_job(IN p_batch_size integer, IN p_max_batches integer, IN p_max_seconds integer) FROM PUBLIC;
GRANT ALL ON PROCEDURE automations_engine.prune_runs_job(IN p_batch_size integer, IN p_max_batches integer, IN p_max_seconds integer) TO service_role;

--
-- Name: FUNCTION record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.record_chain_refusal(p_org_id uuid, p_root_run_id uuid, p_automation_id uuid, p_reason text) TO service_role;

--
-- Name: FUNCTION redaction_marker(p_payload jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.redaction_marker(p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.redaction_marker(p_payload jsonb) TO service_role;

--
-- Name: FUNCTION release_expired_leases(p_limit integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.release_expired_leases(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.release_expired_leases(p_limit integer) TO service_role;

--
-- Name: FUNCTION release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.release_run(p_run_id uuid, p_attempt integer, p_claim_token uuid) TO service_role;

--
-- Name: FUNCTION require_org_access(p_org_id uuid, p_what text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.require_org_access(p_org_id uuid, p_what text) FROM PUBLIC;

--
-- Name: FUNCTION retry_delay(p_failed_attempts integer, p_base_seconds integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.retry_delay(p_failed_attempts integer, p_base_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.retry_delay(p_failed_attempts integer, p_base_seconds integer) TO service_role;

--
-- Name: FUNCTION run_acting_member(p_run_id uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.run_acting_member(p_run_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.run_acting_member(p_run_id uuid) TO service_role;

--
-- Name: FUNCTION run_cause(p_org_id uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.run_cause(p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.run_cause(p_org_id uuid) TO service_role;

--
-- Name: FUNCTION save_progress(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_steps jsonb, p_outcome text, p_error text, p_retryable boolean, p_result jsonb, p_run_at timestamp with time zone, p_lease_seconds integer, p_max_attempts integer, p_backoff_seconds integer, p_count boolean); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.save_progress(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_steps jsonb, p_outcome text, p_error text, p_retryable boolean, p_result jsonb, p_run_at timestamp with time zone, p_lease_seconds integer, p_max_attempts integer, p_backoff_seconds integer, p_count boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.save_progress(p_run_id uuid, p_attempt integer, p_claim_token uuid, p_steps jsonb, p_outcome text, p_error text, p_retryable boolean, p_result jsonb, p_run_at timestamp with time zone, p_lease_seconds integer, p_max_attempts integer, p_backoff_seconds integer, p_count boolean) TO service_role;

--
-- Name: FUNCTION save_progress_many(p_items jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.save_progress_many(p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.save_progress_many(p_items jsonb) TO service_role;

--
-- Name: FUNCTION schedule_candidates(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.schedule_candidates() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.schedule_candidates() TO service_role;

--
-- Name: FUNCTION set_acting_user(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.set_acting_user() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.set_acting_user() TO service_role;

--
-- Name: FUNCTION setting(p_org_id uuid, p_name text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.setting(p_org_id uuid, p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.setting(p_org_id uuid, p_name text) TO service_role;

--
-- Name: FUNCTION snapshot_actions(p_automation_ids uuid[]); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.snapshot_actions(p_automation_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.snapshot_actions(p_automation_ids uuid[]) TO service_role;

--
-- Name: FUNCTION store_restricted_payload(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.store_restricted_payload() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.store_restricted_payload() TO service_role;

--
-- Name: FUNCTION store_restricted_result(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.store_restricted_result() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.store_restricted_result() TO service_role;

--
-- Name: FUNCTION store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval) TO service_role;

--
-- Name: FUNCTION sync_flow_keys(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.sync_flow_keys() FROM PUBLIC;

--
-- Name: FUNCTION template_problems(p_value jsonb, p_path text, p_depth integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.template_problems(p_value jsonb, p_path text, p_depth integer) FROM PUBLIC;

--
-- Name: FUNCTION timezone_problem(p_tz text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.timezone_problem(p_tz text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.timezone_problem(p_tz text) TO service_role;

--
-- Name: FUNCTION trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb) TO service_role;

--
-- Name: FUNCTION uninstall_cron(p_jobs text[]); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.uninstall_cron(p_jobs text[]) FROM PUBLIC;

--
-- Name: FUNCTION webhook_config_changed(); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.webhook_config_changed() FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.webhook_config_changed() TO service_role;

--
-- Name: FUNCTION webhook_config_problems(c jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.webhook_config_problems(c jsonb) FROM PUBLIC;

--
-- Name: FUNCTION webhook_enqueue(p_automation_id uuid, p_rotated_at timestamp with time zone, p_payload jsonb, p_idempotency_key text, p_headers jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.webhook_enqueue(p_automation_id uuid, p_rotated_at timestamp with time zone, p_payload jsonb, p_idempotency_key text, p_headers jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.webhook_enqueue(p_automation_id uuid, p_rotated_at timestamp with time zone, p_payload jsonb, p_idempotency_key text, p_headers jsonb) TO service_role;

--
-- Name: FUNCTION webhook_enqueue_many(p_items jsonb); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.webhook_enqueue_many(p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.webhook_enqueue_many(p_items jsonb) TO service_role;

--
-- Name: FUNCTION webhook_target(p_automation_id uuid); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.webhook_target(p_automation_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.webhook_target(p_automation_id uuid) TO service_role;

--
-- Name: FUNCTION worker_heartbeat(p_worker text, p_timeout_seconds integer, p_kind text, p_host text, p_pid integer); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.worker_heartbeat(p_worker text, p_timeout_seconds integer, p_kind text, p_host text, p_pid integer) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.worker_heartbeat(p_worker text, p_timeout_seconds integer, p_kind text, p_host text, p_pid integer) TO service_role;

--
-- Name: FUNCTION worker_stopped(p_worker text); Type: ACL; Schema: automations_engine; Owner: -
--

REVOKE ALL ON FUNCTION automations_engine.worker_stopped(p_worker text) FROM PUBLIC;
GRANT ALL ON FUNCTION automations_engine.worker_stopped(p_worker text) TO service_role;

--
-- Name: FUNCTION automations_table_event(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.automations_table_event() FROM PUBLIC;
GRANT ALL ON FUNCTION public.automations_table_event() TO authenticated;
GRANT ALL ON FUNCTION public.automations_table_event() TO service_role;

--
-- Name: FUNCTION cancel_run(run_id uuid, reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.cancel_run(run_id uuid, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.cancel_run(run_id uuid, reason text) TO authenticated;
GRANT ALL ON FUNCTION public.cancel_run(run_id uuid, reason text) TO service_role;

--
-- Name: FUNCTION create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb, actions jsonb, status public.automation_status, description text, metadata jsonb, org_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb, actions jsonb, status public.automation_status, description text, metadata jsonb, org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb, actions jsonb, status public.automation_status, description text, metadata jsonb, org_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.create_automation(name text, trigger_type public.automation_trigger_type, trigger_config jsonb, actions jsonb, status public.automation_status, description text, metadata jsonb, org_id uuid) TO service_role;

--
-- Name: FUNCTION get_user_org_id(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.get_user_org_id() FROM PUBLIC;
GRANT ALL ON FUNCTION public.get_user_org_id() TO authenticated;
GRANT ALL ON FUNCTION public.get_user_org_id() TO service_role;

--
-- Name: FUNCTION get_user_role(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.get_user_role() FROM PUBLIC;
GRANT ALL ON FUNCTION public.get_user_role() TO authenticated;
GRANT ALL ON FUNCTION public.get_user_role() TO service_role;

--
-- Name: FUNCTION is_admin(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.is_admin() FROM PUBLIC;
GRANT ALL ON FUNCTION public.is_admin() TO authenticated;
GRANT ALL ON FUNCTION public.is_admin() TO service_role;

--
-- Name: FUNCTION may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.may_read_restricted_run(p_org_id uuid, p_acting_user_id uuid) TO service_role;

--
-- Name: FUNCTION prevent_org_id_change(); Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON FUNCTION public.prevent_org_id_change() TO anon;
GRANT ALL ON FUNCTION public.prevent_org_id_change() TO authenticated;
GRANT ALL ON FUNCTION public.prevent_org_id_change() TO service_role;

--
-- Name: FUNCTION replace_automation_actions(automation_id uuid, actions jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.replace_automation_actions(automation_id uuid, actions jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.replace_automation_actions(automation_id uuid, actions jsonb) TO authenticated;
GRANT ALL ON FUNCTION public.replace_automation_actions(automation_id uuid, actions jsonb) TO service_role;

--
-- Name: FUNCTION retry_run(run_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.retry_run(run_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.retry_run(run_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.retry_run(run_id uuid) TO service_role;

--
-- Name: FUNCTION rotate_webhook_secret(automation_id uuid, grace_period interval); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.rotate_webhook_secret(automation_id uuid, grace_period interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.rotate_webhook_secret(automation_id uuid, grace_period interval) TO authenticated;
GRANT ALL ON FUNCTION public.rotate_webhook_secret(automation_id uuid, grace_period interval) TO service_role;

--
-- Name: FUNCTION run_automation(automation_id uuid, payload jsonb, idempotency_key text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.run_automation(automation_id uuid, payload jsonb, idempotency_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.run_automation(automation_id uuid, payload jsonb, idempotency_key text) TO authenticated;
GRANT ALL ON FUNCTION public.run_automation(automation_id uuid, payload jsonb, idempotency_key text) TO service_role;

--
-- Name: FUNCTION set_automation_status(automation_id uuid, status public.automation_status); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.set_automation_status(automation_id uuid, status public.automation_status) FROM PUBLIC;
GRANT ALL ON FUNCTION public.set_automation_status(automation_id uuid, status public.automation_status) TO authenticated;
GRANT ALL ON FUNCTION public.set_automation_status(automation_id uuid, status public.automation_status) TO service_role;

--
-- Name: FUNCTION set_updated_at(); Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON FUNCTION public.set_updated_at() TO anon;
GRANT ALL ON FUNCTION public.set_updated_at() TO authenticated;
GRANT ALL ON FUNCTION public.set_updated_at() TO service_role;

--
-- Name: FUNCTION set_webhook_secret(automation_id uuid, secret text, grace interval); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.set_webhook_secret(automation_id uuid, secret text, grace interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.set_webhook_secret(automation_id uuid, secret text, grace interval) TO authenticated;
GRANT ALL ON FUNCTION public.set_webhook_secret(automation_id uuid, secret text, grace interval) TO service_role;

--
-- Name: TABLE custom_action_types; Type: ACL; Schema: automations_engine; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE automations_engine.custom_action_types TO service_role;

--
-- Name: TABLE webhook_secrets; Type: ACL; Schema: automations_engine; Owner: -
--

GRANT SELECT ON TABLE automations_engine.webhook_secrets TO service_role;

--
-- Name: TABLE automation_actions; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.automation_actions TO anon;
GRANT ALL ON TABLE public.automation_actions TO authenticated;
GRANT ALL ON TABLE public.automation_actions TO service_role;

--
-- Name: TABLE automation_chain_refusals; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.automation_chain_refusals TO service_role;
GRANT SELECT ON TABLE public.automation_chain_refusals TO authenticated;

--
-- Name: TABLE automation_run_payloads; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.automation_run_payloads TO service_role;
GRANT SELECT ON TABLE public.automation_run_payloads TO authenticated;

--
-- Name: TABLE automation_run_steps; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_run_steps TO anon;
GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_run_steps TO authenticated;
GRANT ALL ON TABLE public.automation_run_steps TO service_role;

--
-- Name: TABLE automation_runs; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_runs TO anon;
GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_runs TO authenticated;
GRANT ALL ON TABLE public.automation_runs TO service_role;

--
-- Name: COLUMN automation_runs.org_id; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(org_id) ON TABLE public.automation_runs TO authenticated;

--
-- Name: COLUMN automation_runs.automation_id; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(automation_id) ON TABLE public.automation_runs TO authenticated;

--
-- Name: COLUMN automation_runs.metadata; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(metadata),UPDATE(metadata) ON TABLE public.automation_runs TO authenticated;

--
-- Name: COLUMN automation_runs.trigger_payload; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(trigger_payload) ON TABLE public.automation_runs TO authenticated;

--
-- Name: TABLE automation_settings; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_settings TO authenticated;
GRANT ALL ON TABLE public.automation_settings TO service_role;

--
-- Name: COLUMN automation_settings.org_id; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(org_id) ON TABLE public.automation_settings TO authenticated;

--
-- Name: COLUMN automation_settings.run_retention_days; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(run_retention_days),UPDATE(run_retention_days) ON TABLE public.automation_settings TO authenticated;

--
-- Name: COLUMN automation_settings.failed_run_retention_days; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(failed_run_retention_days),UPDATE(failed_run_retention_days) ON TABLE public.automation_settings TO authenticated;

--
-- Name: TABLE automation_versions; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_versions TO anon;
GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automation_versions TO authenticated;
GRANT ALL ON TABLE public.automation_versions TO service_role;

--
-- Name: TABLE automations; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automations TO anon;
GRANT SELECT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.automations TO authenticated;
GRANT ALL ON TABLE public.automations TO service_role;

--
-- Name: COLUMN automations.id; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(id) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.org_id; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(org_id),UPDATE(org_id) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.creator_id; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(creator_id),UPDATE(creator_id) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.name; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.description; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.trigger_type; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(trigger_type),UPDATE(trigger_type) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.trigger_config; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(trigger_config),UPDATE(trigger_config) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.status; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(status),UPDATE(status) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.metadata; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(metadata),UPDATE(metadata) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.max_attempts; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(max_attempts),UPDATE(max_attempts) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.retry_backoff_seconds; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(retry_backoff_seconds),UPDATE(retry_backoff_seconds) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.max_concurrency; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(max_concurrency),UPDATE(max_concurrency) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.concurrency_key; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(concurrency_key),UPDATE(concurrency_key) ON TABLE public.automations TO authenticated;

--
-- Name: COLUMN automations.rate_limit; Type: ACL; Schema: public; Owner: -
--

GRANT INSERT(rate_limit),UPDATE(rate_limit) ON TABLE public.automations TO authenticated;

--
-- Name: TABLE memberships; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.memberships TO anon;
GRANT ALL ON TABLE public.memberships TO authenticated;
GRANT ALL ON TABLE public.memberships TO service_role;

--
-- Name: TABLE organizations; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.organizations TO anon;
GRANT ALL ON TABLE public.organizations TO authenticated;
GRANT ALL ON TABLE public.organizations TO service_role;

--
-- Name: TABLE users; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.users TO anon;
GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.users TO authenticated;
GRANT ALL ON TABLE public.users TO service_role;

--
-- Name: COLUMN users.email; Type: ACL; Schema: public; Owner: -
--

GRANT UPDATE(email) ON TABLE public.users TO authenticated;

--
-- Name: COLUMN users.full_name; Type: ACL; Schema: public; Owner: -
--

GRANT UPDATE(full_name) ON TABLE public.users TO authenticated;

--
-- Name: COLUMN users.avatar_url; Type: ACL; Schema: public; Owner: -
--

GRANT UPDATE(avatar_url) ON TABLE public.users TO authenticated;

--
-- Name: COLUMN users.timezone; Type: ACL; Schema: public; Owner: -
--

GRANT UPDATE(timezone) ON TABLE public.users TO authenticated;

--
-- Name: COLUMN users.is_active; Type: ACL; Schema: public; Owner: -
--

GRANT UPDATE(is_active) ON TABLE public.users TO authenticated;

--
-- Name: COLUMN users.metadata; Type: ACL; Schema: public; Owner: -
--

GRANT UPDATE(metadata) ON TABLE public.users TO authenticated;

--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES  TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES  TO authenticated;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES  TO service_role;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS  TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS  TO authenticated;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS  TO service_role;

--
-- Name: DEFAULT PRIVILEGES FOR TABLES; Type: DEFAULT ACL; Schema: public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES  TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES  TO authenticated;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES  TO service_role;

--
-- PostgreSQL database dump complete
--
