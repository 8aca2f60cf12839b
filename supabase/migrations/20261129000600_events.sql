-- =============================================================================
-- EVENTS
-- Event automations started by database writes, inside the writing transaction:
--
--   create trigger deals_automations
--     after insert or update or delete on public.deals
--     for each row execute function public.automations_table_event();
--
-- The trigger (public.automations_table_event) and the SQL evaluator of the
-- filter language; their function bodies say how each works and why.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- JavaScript values.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.filter_double(p numeric)
returns double precision
language sql immutable parallel safe
as $$
  -- Out-of-range values become what JavaScript makes of them, never an error.
  select case when abs(p) > 1.7976931348623157e308 then sign(p) * 'Infinity'::double precision
              when abs(p) <= 2.4703282292062328e-324 then 0::double precision
              else p::double precision end
$$;
comment on function automations_engine.filter_double(numeric) is
  'numeric to double as JavaScript rounds it: overflow is ±Infinity, underflow 0, never an error.';

create or replace function automations_engine.filter_string_number(p text)
returns double precision
language plpgsql immutable parallel safe
as $$
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
$$;
comment on function automations_engine.filter_string_number(text) is
  'JavaScript Number(string): trimmed decimal, exponent, Infinity, 0x/0o/0b; NULL for NaN.';

create or replace function automations_engine.filter_number(v jsonb)
returns double precision
language sql immutable parallel safe
as $$
  select case jsonb_typeof(v)
    when 'null' then 0
    when 'boolean' then case when v = 'true'::jsonb then 1 else 0 end
    when 'number' then automations_engine.filter_double(v::numeric)
    when 'string' then automations_engine.filter_string_number(v #>> '{}')
  end
$$;
comment on function automations_engine.filter_number(jsonb) is
  'JavaScript +value for a JSON value: null 0, booleans 0/1, strings parsed; NULL (NaN) for objects, arrays, bad text.';

create or replace function automations_engine.filter_number_text(x double precision)
returns text
language plpgsql immutable parallel safe
set extra_float_digits = 1
as $$
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
$$;
comment on function automations_engine.filter_number_text(double precision) is
  'JavaScript String(number) for a double.';

create or replace function automations_engine.filter_js_string(v jsonb)
returns text
language plpgsql immutable parallel safe
as $$
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
comment on function automations_engine.filter_js_string(jsonb) is 'JavaScript String(value) for a JSON value.';

create or replace function automations_engine.filter_truthy(v jsonb)
returns boolean
language sql immutable parallel safe
as $$
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
comment on function automations_engine.filter_truthy(jsonb) is
  'JsonLogic truthiness (json-logic-engine): null, false, 0, "", [] and {} are false; undefined (NULL) too.';

create or replace function automations_engine.filter_strict_eq(a jsonb, b jsonb)
returns boolean
language sql immutable parallel safe
as $$
  -- JavaScript ===: objects and arrays are compared by reference, so two
  -- evaluated values are never the same object.
  select case when a is null or b is null then a is null and b is null
              when jsonb_typeof(a) <> jsonb_typeof(b) then false
              when jsonb_typeof(a) in ('object', 'array') then false
              when jsonb_typeof(a) = 'number' then automations_engine.filter_number(a) = automations_engine.filter_number(b)
              else a = b end
$$;
comment on function automations_engine.filter_strict_eq(jsonb, jsonb) is 'JavaScript === on JSON values.';

create or replace function automations_engine.filter_compare(p_op text, a jsonb, b jsonb)
returns boolean
language plpgsql immutable parallel safe
as $$
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
comment on function automations_engine.filter_compare(text, jsonb, jsonb) is
  'One JsonLogic comparison as json-logic-engine computes it; NULL when JavaScript would throw.';

-- -----------------------------------------------------------------------------
-- Paths and property access, as json-logic-engine's var and missing read them.
-- -----------------------------------------------------------------------------
create or replace function automations_engine.filter_split_path(p text)
returns text[]
language plpgsql immutable parallel safe
as $$
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
comment on function automations_engine.filter_split_path(text) is 'Splits a JsonLogic var path on unescaped dots.';

create or replace function automations_engine.filter_prop(v jsonb, p_key text)
returns jsonb
language sql immutable parallel safe
as $$
  -- value[key] in JavaScript; NULL is undefined.
  select case jsonb_typeof(v)
    when 'object' then v -> p_key
    when 'array' then case when p_key ~ '^(0|[1-9][0-9]{0,8})$' then v -> p_key::int
                           when p_key = 'length' then to_jsonb(jsonb_array_length(v)) end
    when 'string' then case when p_key ~ '^(0|[1-9][0-9]{0,8})$' and p_key::int < length(v #>> '{}')
                                 then to_jsonb(substr(v #>> '{}', p_key::int + 1, 1))
                            when p_key = 'length' then to_jsonb(length(v #>> '{}')) end
  end
$$;
comment on function automations_engine.filter_prop(jsonb, text) is 'JavaScript value[key] on a JSON value; NULL for undefined.';

create or replace function automations_engine.filter_missing(p_keys jsonb, p_data jsonb)
returns jsonb
language plpgsql immutable parallel safe
as $$
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
comment on function automations_engine.filter_missing(jsonb, jsonb) is 'JsonLogic missing: the keys (paths) not present in the data.';

-- -----------------------------------------------------------------------------
-- The evaluator. Returns the rule's value, or NULL when JavaScript would throw.
-- -----------------------------------------------------------------------------
create type automations_engine.filter_step as (result jsonb, budget integer);
comment on type automations_engine.filter_step is
  'One filter_eval answer: the value (NULL where JavaScript would throw, or once the budget ran out) and the work budget left (negative: it ran out).';

create or replace function automations_engine.filter_size(v jsonb)
returns integer
language sql immutable parallel safe
as $$
  -- What a value brought into the evaluation costs: 1 step per 16 bytes of
  -- JSON for strings, arrays and objects (copying and scanning them), 0 for
  -- the small scalars. pg_column_size reads the datum's header: O(1).
  select case when jsonb_typeof(v) in ('string', 'array', 'object') then pg_column_size(v) / 16 else 0 end
$$;
comment on function automations_engine.filter_size(jsonb) is
  'Work steps a value costs the filter evaluator (its size / 16 bytes; 0 for numbers, booleans and null).';

create or replace function automations_engine.filter_eval(p_rule jsonb, p_data jsonb, p_budget integer)
returns automations_engine.filter_step
language plpgsql immutable parallel safe
as $$
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
$$;
comment on function automations_engine.filter_eval(jsonb, jsonb, integer) is
  'Evaluates a JsonLogic rule that filter_check accepted over p_data, as json-logic-engine does, within p_budget steps of work: '
  '(value, budget left); the value is NULL where JavaScript would throw, and NULL with a negative budget when the budget ran out.';

create or replace function automations_engine.filter_args(p_args jsonb, p_data jsonb, p_budget integer)
returns automations_engine.filter_step
language plpgsql immutable parallel safe
as $$
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
comment on function automations_engine.filter_args(jsonb, jsonb, integer) is
  'Evaluated arguments of an eager JsonLogic operator, as an array, with the budget left (filter_eval); NULL when one throws.';

create or replace function automations_engine.filter_check(p_rule jsonb, p_path text default 'filter')
returns text
language plpgsql immutable parallel safe
as $$
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
$$;
comment on function automations_engine.filter_check(jsonb, text) is
  'First reason the SQL evaluator cannot run a JsonLogic rule (unsupported operator, shape), or NULL.';

create or replace function automations_engine.filter_matches(p_filter jsonb, p_data jsonb)
returns boolean
language plpgsql immutable parallel safe
set search_path = ''
as $$
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
comment on function automations_engine.filter_matches(jsonb, jsonb) is
  'Whether an event passes an event trigger filter ({"changed"...} or JsonLogic) over {record, old_record, payload, operation}. '
  'Odd data never raises (a rule that would throw in JavaScript is false); an unsupported operator raises 22023, '
  'a rule that needs more than its work budget on this row 54000.';

-- -----------------------------------------------------------------------------
-- Which automations an event starts (before filters).
-- -----------------------------------------------------------------------------
-- Every write to an attached table asks this question, so it is an index probe.
create index automations_event_table_idx on public.automations (org_id, (trigger_config ->> 'table'))
  where trigger_type = 'event' and status = 'active';
create index automations_event_name_idx on public.automations (org_id, (trigger_config ->> 'event'))
  where trigger_type = 'event' and status = 'active';
comment on index public.automations_event_table_idx is 'Active table-event automations by org and table (match_event_automations).';
comment on index public.automations_event_name_idx is 'Active application-event automations by org and event name (match_event_automations).';

create or replace function automations_engine.match_event_automations(
  p_org_id uuid,
  p_schema text,
  p_table text,
  p_operation text,
  p_event text
)
returns table (id uuid, trigger_config jsonb)
language plpgsql
stable
set search_path = ''
as $$
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
comment on function automations_engine.match_event_automations(uuid, text, text, text, text) is
  'Active event automations of one org for a table event (schema, table, INSERT|UPDATE|DELETE) or an application event name; filters not applied.';

-- -----------------------------------------------------------------------------
-- Could the acting member SELECT this row? (table events carry only rows the
-- automation's acting member can read)
-- -----------------------------------------------------------------------------
create or replace function automations_engine.member_can_select(p_table regclass, p_row jsonb, p_user_id uuid)
returns boolean
language plpgsql
set search_path = ''
as $$
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
$$;
comment on function automations_engine.member_can_select(regclass, jsonb, uuid) is
  'Whether the member (users.id, active in their org) could SELECT the row value (to_jsonb of a row) of the table under its RLS policies '
  'for role authenticated. Null row: true.';

create or replace function automations_engine.acting_member_can_read_event(p_automation_id uuid, p_payload jsonb)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
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
comment on function automations_engine.acting_member_can_read_event(uuid, jsonb) is
  'For a table-event payload {schema, table, record, old_record}: whether the automation''s acting member could select both rows (true without an acting member).';

-- -----------------------------------------------------------------------------
-- The trigger app tables attach.
-- -----------------------------------------------------------------------------
create or replace function public.automations_table_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
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
$$;
comment on function public.automations_table_event() is
  'AFTER INSERT/UPDATE/DELETE FOR EACH ROW trigger: enqueues a run of every matching active event automation of the row''s org '
  '(optional argument: the tenant column, default org_id) in the same transaction as the write. Payload: {type, table, schema, record, old_record}.';

-- -----------------------------------------------------------------------------
-- Privileges. Trigger functions are not callable directly; EXECUTE is checked
-- when a trigger is created. The evaluator and matcher are service-only.
-- -----------------------------------------------------------------------------
revoke all on function public.automations_table_event() from public, anon;
grant execute on function public.automations_table_event() to authenticated, service_role;

-- Like the engine's own functions (previous migration), everything in the
-- engine schema is for the service connection only.
revoke all on all functions in schema automations_engine from public, anon, authenticated;
grant execute on all functions in schema automations_engine to service_role;
