// What `npm start` prints about the demo seed: ids, a signed curl command,
// the demo user's JWT. The secret is the seed's public demo secret.
import { signWebhook } from "../shared/triggers/webhook_signature.ts";

export const DEMO = {
  orgId: "00000000-0000-4000-8000-000000000001",
  authId: "00000000-0000-4000-8000-0000000000a1",
  email: "admin@demo.test",
  webhookAutomationId: "00000000-0000-4000-8000-000000000101",
  webhookSecret: "whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLWRldmVsb3BtZW50LW9ubHk=",
};

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A ready-to-paste curl command with fresh Standard Webhooks headers (valid for 5 minutes). */
export function signedCurl(baseUrl: string, automationId: string, secret: string, body: string): string {
  const id = `msg_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  const h = signWebhook(secret, id, body);
  return [
    `curl -sS -X POST ${baseUrl}/functions/v1/automations-webhook/${automationId}`,
    `  -H 'content-type: application/json'`,
    ...Object.entries(h).map(([k, v]) => `  -H ${shellQuote(`${k}: ${v}`)}`),
    `  -d ${shellQuote(body)}`,
  ].join(" \\\n");
}
