// What every part needs: an org with a member, a one-step `log` automation
// (the cheap built-in action that still records its output in the step row),
// its webhook signing secret, and a fast Standard Webhooks signer for the
// load generator.
import { createHmac, randomUUID } from "node:crypto";
import type { Db } from "../shared/db/types.ts";
import { signWebhook } from "../shared/triggers/webhook_signature.ts";

/** The one step: resolves a template and records {logged, level, message, data}. Debug level: not printed. */
export const LOG_STEP = { message: "bench run {{trigger.payload.n}}", level: "debug" };

export interface BenchOrg {
  orgId: string;
  userId: string;
  authId: string;
}

export async function createOrg(db: Db, slug: string): Promise<BenchOrg> {
  const authId = randomUUID();
  const [row] = await db.query<{ org_id: string; user_id: string }>(
    `with o as (insert into public.organizations (name, slug) values ($1, $1) returning id),
          au as (insert into auth.users (id, email) values ($2, $1 || '@bench.test') returning id),
          u as (insert into public.users (org_id, auth_id, email)
                select o.id, au.id, $1 || '@bench.test' from o, au returning id, org_id),
          m as (insert into public.memberships (org_id, user_id, role) select org_id, id, 'member' from u)
     select u.org_id, u.id as user_id from u`,
    [slug, authId],
  );
  return { orgId: row!.org_id, userId: row!.user_id, authId };
}

/** An active automation with one `log` step; returns its id (its snapshot exists once this returns). */
export async function createLogAutomation(db: Db, orgId: string, trigger: "webhook" | "manual"): Promise<string> {
  const [a] = await db.query<{ id: string }>(
    `insert into public.automations (org_id, name, trigger_type, status)
     values ($1, 'bench ' || $2, $2::public.automation_trigger_type, 'active') returning id`,
    [orgId, trigger],
  );
  await db.query(
    `insert into public.automation_actions (org_id, automation_id, action_type, action_config, position)
     values ($1, $2, 'log', $3::jsonb, 0)`,
    [orgId, a!.id, JSON.stringify(LOG_STEP)],
  );
  return a!.id;
}

/** Rotate (create) the automation's signing secret, as the service. */
export async function webhookSecret(db: Db, automationId: string): Promise<string> {
  const [r] = await db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [automationId]);
  return r!.s;
}

/**
 * Standard Webhooks signer on node:crypto (the load generator shares 2 cores
 * with the server, so it signs with native HMAC). Checked once against the
 * product's signWebhook so both agree byte for byte.
 */
export function fastSigner(secret: string): (id: string, body: string) => Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const sign = (id: string, body: string, ts = Math.floor(Date.now() / 1000)) => ({
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`,
  });
  const at = new Date();
  const ref = signWebhook(secret, "msg_check", "{}", at);
  const mine = sign("msg_check", "{}", Math.floor(at.getTime() / 1000));
  if (ref["webhook-signature"] !== mine["webhook-signature"]) throw new Error("bench signer disagrees with signWebhook");
  return (id, body) => sign(id, body);
}

let seq = 0;
/** A unique webhook-id per request (the idempotency key: reuse would measure duplicates). */
export const nextWebhookId = (): string => `msg_${process.pid}_${Date.now().toString(36)}_${(seq++).toString(36)}`;
