-- =============================================================================
-- WEBHOOK SIGNING SECRETS
-- Each webhook automation verifies Standard Webhooks signatures with its own
-- `whsec_...` secret. Secrets live in the private engine schema: no API role
-- can select them; rotate_webhook_secret() shows a new one exactly once.
-- =============================================================================

create table automations_engine.webhook_secrets (
  automation_id uuid primary key references public.automations (id) on delete cascade,
  secret text not null,
  -- The secret it replaced stays valid for a grace period, so senders can
  -- switch over without dropped deliveries.
  previous_secret text,
  previous_expires_at timestamptz,
  rotated_at timestamptz not null default now()
);
comment on table automations_engine.webhook_secrets is
  'Signing secrets of webhook automations. Readable only by the service (the webhook function).';
revoke all on automations_engine.webhook_secrets from public, anon, authenticated;
grant select on automations_engine.webhook_secrets to service_role;

create or replace function public.rotate_webhook_secret(automation_id uuid, grace_period interval default interval '24 hours')
returns text
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_org uuid;
  v_secret text;
begin
  if grace_period < interval '0' or grace_period > interval '30 days' then
    raise exception 'grace_period must be between 0 and 30 days, got %', grace_period using errcode = '22023';
  end if;
  -- Same visibility rule as RLS, plus the admin check: an automation of
  -- another org is "not found", a member who is not an admin is refused.
  select a.org_id into v_org from public.automations a where a.id = rotate_webhook_secret.automation_id;
  if not found or (not automations_engine.caller_is_service() and v_org is distinct from (select public.get_user_org_id())) then
    raise exception 'automation % not found', rotate_webhook_secret.automation_id using errcode = 'P0002';
  end if;
  if not automations_engine.caller_is_service() and not (select public.is_admin()) then
    raise exception 'only owners and admins can rotate webhook secrets' using errcode = '42501';
  end if;

  v_secret := 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64');
  insert into automations_engine.webhook_secrets as w (automation_id, secret)
  values (rotate_webhook_secret.automation_id, v_secret)
  on conflict (automation_id) do update
     set previous_secret = w.secret,
         previous_expires_at = now() + grace_period,
         secret = excluded.secret,
         rotated_at = now();
  return v_secret;
end;
$$;
comment on function public.rotate_webhook_secret(uuid, interval) is
  'Admins: creates or replaces the automation''s webhook signing secret and returns it once (whsec_...). The old one keeps working for grace_period.';
revoke execute on function public.rotate_webhook_secret(uuid, interval) from public, anon;
grant execute on function public.rotate_webhook_secret(uuid, interval) to authenticated, service_role;

-- -----------------------------------------------------------------------------
-- What the webhook function needs per request, in one round trip.
-- -----------------------------------------------------------------------------
create function automations_engine.webhook_target(p_automation_id uuid)
returns table (automation_id uuid, org_id uuid, updated_at timestamptz, secrets text[], rotated_at timestamptz,
               previous_expires_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select a.id, a.org_id, a.updated_at,
         array_remove(array[w.secret, case when w.previous_expires_at > now() then w.previous_secret end], null),
         w.rotated_at,
         case when w.previous_expires_at > now() then w.previous_expires_at end
    from public.automations a
    join automations_engine.webhook_secrets w on w.automation_id = a.id
   where a.id = p_automation_id and a.status = 'active' and a.trigger_type = 'webhook'
$$;
comment on function automations_engine.webhook_target(uuid) is
  'The active webhook automation and its valid signing secrets (with rotated_at, the cache key, and when the previous secret expires); no row when unknown, inactive or without a secret.';
revoke all on function automations_engine.webhook_target(uuid) from public, anon, authenticated;
grant execute on function automations_engine.webhook_target(uuid) to service_role;
