// Standard Webhooks verification (webhook-id, webhook-timestamp,
// webhook-signature: HMAC-SHA256 over "<id>.<timestamp>.<body>", ±5 minutes,
// several space-separated signatures allowed) through the `standardwebhooks`
// library. We add: several valid secrets (rotation grace period) and messages
// that tell the sender what to fix.
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { unauthorized } from "../http/errors.ts";

const HINTS: Record<string, string> = {
  "Missing required headers": "missing signature headers: send webhook-id, webhook-timestamp and webhook-signature",
  "Invalid Signature Headers": "webhook-timestamp must be Unix seconds",
  "Message timestamp too old": "webhook-timestamp is more than 5 minutes old: sign each delivery when you send it",
  "Message timestamp too new": "webhook-timestamp is more than 5 minutes in the future: check the sender's clock",
  "No matching signature found": "invalid signature: sign \"<webhook-id>.<webhook-timestamp>.<raw body>\" with the automation's whsec_ secret",
};

export function verifySignature(body: string, headers: Headers, secrets: readonly string[]): void {
  const h: Record<string, string> = {
    "webhook-id": headers.get("webhook-id") ?? "",
    "webhook-timestamp": headers.get("webhook-timestamp") ?? "",
    "webhook-signature": headers.get("webhook-signature") ?? "",
  };
  let first: unknown = null;
  for (const secret of secrets) {
    try {
      // jsonParse off: we verify the raw bytes; parsing (JSON or form) is ours.
      new Webhook(secret).verify(body, h, { jsonParse: false });
      return;
    } catch (e) {
      first ??= e;
      // Header and timestamp problems are the same for every secret.
      if (!(e instanceof WebhookVerificationError) || e.message !== "No matching signature found") break;
    }
  }
  const msg = first instanceof Error ? first.message : "No matching signature found";
  throw unauthorized(HINTS[msg] ?? `invalid signature: ${msg}`);
}

/** Sign a payload (CLI, tests, docs): the three headers a sender must add. */
export function signWebhook(secret: string, id: string, body: string, at: Date = new Date()): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}
