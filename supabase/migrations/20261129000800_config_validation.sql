-- =============================================================================
-- CONFIG VALIDATION (1 of 2): TRIGGER CONFIGS
-- A BEFORE trigger on public.automations (check_trigger_config) refuses an
-- invalid trigger_config with SQLSTATE 23514, and the helpers it uses: cron,
-- time zones, JsonLogic filters. Actions: the next migration (000810).
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Small helpers that mirror JavaScript behaviour.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.js_trim(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  -- String.prototype.trim(): ECMAScript WhiteSpace and LineTerminator, not the locale's [[:space:]].
  select regexp_replace(p_text,
    '^[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
    '', 'g')
$$;
comment on function automations_engine.js_trim(text) is
  'String.prototype.trim(): strips ECMAScript whitespace whatever the database locale.';

create or replace function automations_engine.json_shown(p_value jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  -- Like shown() in shared/triggers/config.ts: containers by kind, scalars as JSON, cut at 40 characters.
  select case jsonb_typeof(p_value)
           when 'array' then 'an array'
           when 'object' then 'an object'
           else case when length(p_value::text) > 40 then left(p_value::text, 40) || '...' else p_value::text end
         end
$$;
comment on function automations_engine.json_shown(jsonb) is
  'How a wrong value reads in a message: "an array", "an object", or the JSON scalar (cut at 40 characters).';

-- -----------------------------------------------------------------------------
-- Cron.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.cron_field(p_name text, p_value text, out problem text, out vals text[])
language plpgsql
immutable
set search_path = ''
as $$
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
$$;
comment on function automations_engine.cron_field(text, text) is
  'Parses one cron field as cron-parser does: its values (numbers as text, L forms as written) or a problem.';

create or replace function automations_engine.cron_problem(p_cron text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
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
$$;
comment on function automations_engine.cron_problem(text) is
  'Why a cron expression is not an acceptable schedule (quoting it, as cronProblem() in schedule_times.ts), or null when it is fine.';

-- -----------------------------------------------------------------------------
-- Time zones.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.timezone_problem(p_tz text)
returns text
language plpgsql
stable
set search_path = ''
set "TimeZone" = 'UTC' -- restored on exit, so the set_config below never leaks
as $$
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
$$;
comment on function automations_engine.timezone_problem(text) is
  'Why a time zone name is not accepted for schedules, or null. Its body says how it differs from Intl.';

-- -----------------------------------------------------------------------------
-- JsonLogic rules.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.json_key_path(p_key text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_key ~ '^[A-Za-z_$][A-Za-z0-9_$]*$' then '.' || p_key else '[' || to_jsonb(p_key)::text || ']' end
$$;
comment on function automations_engine.json_key_path(text) is 'A key as a path segment: .name, or ["odd key"].';

create or replace function automations_engine.jsonlogic_problems(
  p_node jsonb, p_at text, p_kind text, p_operators text[], p_iterators text[], p_roots text[],
  p_check_vars boolean default true, p_depth integer default 0, p_max_depth integer default 100)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
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
comment on function automations_engine.jsonlogic_problems(jsonb, text, text, text[], text[], text[], boolean, integer, integer) is
  'Static problems of a JsonLogic rule: operations with other than one key, unknown operators, var roots outside the context.';

create or replace function automations_engine.json_text_length(p_value jsonb)
returns integer
language sql
immutable
set search_path = ''
as $$
  -- JSON.stringify(value).length, the measure of shared/triggers/filter.ts:
  -- jsonb's text form without the space it writes after each ", " and ": "
  -- between tokens (strings are matched whole, so their own ", " stay). It
  -- counts characters where JavaScript counts UTF-16 units (a character
  -- outside the BMP is 1 here, 2 there), and numbers as jsonb spells them.
  select length(regexp_replace(p_value::text, '("(?:[^"\\]|\\.)*")|([,:]) ', '\1\2', 'g'))
$$;
comment on function automations_engine.json_text_length(jsonb) is
  'Length of a JSON value as compact text (JSON.stringify), without the spaces of jsonb''s text form.';

create or replace function automations_engine.filter_problems(p_filter jsonb, p_table_event boolean,
  p_roots text[] default '{record,old_record,payload,operation}')
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
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
comment on function automations_engine.filter_problems(jsonb, boolean, text[]) is
  'Problems of an event or webhook filter (changed shorthand or JsonLogic rule over p_roots), each starting with trigger_config.filter.';

-- -----------------------------------------------------------------------------
-- trigger_config by trigger_type, as shared/triggers/config.ts words it.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.json_value_problem(p_value jsonb, p_expected text, p_min numeric default null, p_max numeric default null)
returns text
language sql
immutable
set search_path = ''
as $$
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
comment on function automations_engine.json_value_problem(jsonb, text, numeric, numeric) is
  'Type (and integer range) problem of one JSON value in zod''s words as config.ts renders them, or null.';

-- -----------------------------------------------------------------------------
-- Webhook settings: verify, headers, filter (shared/triggers/webhook_config.ts).
-- -----------------------------------------------------------------------------
create or replace function automations_engine.webhook_config_problems(c jsonb)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
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
$$;
comment on function automations_engine.webhook_config_problems(jsonb) is
  'Problems of a webhook trigger_config''s verify, headers and filter, each starting with its JSON path. Mirrors shared/triggers/webhook_config.ts.';

create or replace function automations_engine.trigger_config_problems(p_type public.automation_trigger_type, p_config jsonb)
returns text[]
language plpgsql
stable
set search_path = ''
as $$
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
$$;
comment on function automations_engine.trigger_config_problems(public.automation_trigger_type, jsonb) is
  'Problems of a trigger_config for its trigger type, each starting with its JSON path; empty when valid. Mirrors validateTriggerConfig().';

-- -----------------------------------------------------------------------------
-- The trigger.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.check_trigger_config()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
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
comment on function automations_engine.check_trigger_config() is
  'BEFORE INSERT/UPDATE on automations: refuses an invalid trigger_config with 23514 and every problem found.';

create trigger automations_check_trigger_config_insert
  before insert on public.automations
  for each row execute function automations_engine.check_trigger_config();
create trigger automations_check_trigger_config_update
  before update of trigger_type, trigger_config on public.automations
  for each row
  when (old.trigger_type is distinct from new.trigger_type or old.trigger_config is distinct from new.trigger_config)
  execute function automations_engine.check_trigger_config();

revoke all on function
  automations_engine.js_trim(text), automations_engine.json_shown(jsonb), automations_engine.cron_field(text, text),
  automations_engine.cron_problem(text), automations_engine.timezone_problem(text), automations_engine.json_key_path(text),
  automations_engine.jsonlogic_problems(jsonb, text, text, text[], text[], text[], boolean, integer, integer),
  automations_engine.json_text_length(jsonb), automations_engine.filter_problems(jsonb, boolean, text[]),
  automations_engine.json_value_problem(jsonb, text, numeric, numeric),
  automations_engine.trigger_config_problems(public.automation_trigger_type, jsonb), automations_engine.check_trigger_config(),
  automations_engine.webhook_config_problems(jsonb)
  from public, anon, authenticated;
grant execute on function
  automations_engine.cron_problem(text), automations_engine.timezone_problem(text),
  automations_engine.trigger_config_problems(public.automation_trigger_type, jsonb)
  to service_role;
