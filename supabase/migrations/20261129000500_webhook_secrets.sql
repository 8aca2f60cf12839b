-- =============================================================================
-- WEBHOOK SIGNING SECRETS
-- Each webhook automation verifies its sender's signatures (Standard Webhooks
-- by default; GitHub, Stripe, ... per trigger_config.verify) with its own
-- secret. Secrets live in the private engine schema: no API role can select
-- them; rotate_webhook_secret() shows a new one exactly once and
-- set_webhook_secret() stores one a provider issued.
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

-- -----------------------------------------------------------------------------
-- Storing a secret: the one place that writes webhook_secrets, behind the
-- owner/admin checks both public functions share.
-- -----------------------------------------------------------------------------
create function automations_engine.store_webhook_secret(p_automation_id uuid, p_secret text, p_grace interval)
returns void
language plpgsql
security definer
set search_path = ''
as $$
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
comment on function automations_engine.store_webhook_secret(uuid, text, interval) is
  'Checks the caller (service, or an owner/admin of the automation''s org) and stores a webhook secret, keeping the previous one valid for the grace period.';
revoke all on function automations_engine.store_webhook_secret(uuid, text, interval) from public, anon, authenticated;

create or replace function public.rotate_webhook_secret(automation_id uuid, grace_period interval default interval '24 hours')
returns text
language plpgsql
security definer
set search_path = ''
as $$
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
comment on function public.rotate_webhook_secret(uuid, interval) is
  'Admins: creates or replaces the automation''s webhook secret and returns it once (whsec_... for the standard scheme, 64 hex characters for the others). The old one keeps working for grace_period.';
revoke execute on function public.rotate_webhook_secret(uuid, interval) from public, anon;
grant execute on function public.rotate_webhook_secret(uuid, interval) to authenticated, service_role;

create function public.set_webhook_secret(automation_id uuid, secret text, grace interval default interval '24 hours')
returns void
language plpgsql
security definer
set search_path = ''
as $$
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
$$;
comment on function public.set_webhook_secret(uuid, text, interval) is
  'Owners and admins: stores a webhook secret a provider issued (or one you chose); the previous secret keeps working for grace. The secret cannot be read back.';
revoke execute on function public.set_webhook_secret(uuid, text, interval) from public, anon;
grant execute on function public.set_webhook_secret(uuid, text, interval) to authenticated, service_role;

-- -----------------------------------------------------------------------------
-- A changed trigger_config (another verify scheme, filter, headers) must act
-- at once, like a rotation: the webhook function caches each automation's
-- target by rotated_at, and the enqueue compares it.
-- -----------------------------------------------------------------------------
create function automations_engine.webhook_config_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Bumping rotated_at makes every cached copy stale (webhook_enqueue answers
  -- `stale`, the function looks the automation up again) at no cost per
  -- delivery; the secrets themselves do not change.
  update automations_engine.webhook_secrets w set rotated_at = clock_timestamp() where w.automation_id = new.id;
  return null;
end;
$$;
comment on function automations_engine.webhook_config_changed() is
  'AFTER UPDATE of trigger_config on automations: bumps webhook_secrets.rotated_at so webhook functions drop their cached copy of the config.';
revoke all on function automations_engine.webhook_config_changed() from public, anon, authenticated;
create trigger automations_webhook_config_changed
  after update of trigger_config on public.automations
  for each row
  when (old.trigger_config is distinct from new.trigger_config)
  execute function automations_engine.webhook_config_changed();

-- -----------------------------------------------------------------------------
-- What the webhook function needs per request, in one round trip.
-- -----------------------------------------------------------------------------
create function automations_engine.webhook_target(p_automation_id uuid)
returns table (automation_id uuid, org_id uuid, updated_at timestamptz, secrets text[], rotated_at timestamptz,
               previous_expires_at timestamptz, trigger_config jsonb)
language sql
stable
set search_path = ''
as $$
  select a.id, a.org_id, a.updated_at,
         array_remove(array[w.secret, case when w.previous_expires_at > now() then w.previous_secret end], null),
         w.rotated_at,
         case when w.previous_expires_at > now() then w.previous_expires_at end,
         a.trigger_config
    from public.automations a
    join automations_engine.webhook_secrets w on w.automation_id = a.id
   where a.id = p_automation_id and a.status = 'active' and a.trigger_type = 'webhook'
$$;
comment on function automations_engine.webhook_target(uuid) is
  'The active webhook automation, its trigger_config and its valid signing secrets (with rotated_at, the cache key, and when the previous secret expires); no row when unknown, inactive or without a secret.';
revoke all on function automations_engine.webhook_target(uuid) from public, anon, authenticated;
grant execute on function automations_engine.webhook_target(uuid) to service_role;
