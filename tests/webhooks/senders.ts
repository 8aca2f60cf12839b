// Senders as the real services sign: with their own npm libraries where they
// publish one (stripe, @octokit/webhooks-methods, svix, twilio); Slack, Shopify
// and the generic schemes with Web Crypto / node:crypto, written from their docs.
import { sign as githubSign } from "@octokit/webhooks-methods";
import { createHmac, webcrypto } from "node:crypto";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import twilio from "twilio";

export interface Signed {
  headers: Record<string, string>;
  /** Query string the sender adds to the URL ("?token=..."). */
  query?: string;
}

export interface SignOptions {
  at: Date;
  /** The sender's delivery / event id. */
  id: string;
}

export interface Sender {
  scheme: string;
  verify: Record<string, unknown>;
  /** A secret as the provider issues it (stored with set_webhook_secret). */
  secret: string;
  contentType: string;
  /** A body carrying the delivery id where the sender puts it there (Stripe, Slack). */
  body(id: string): string;
  sign(body: string, secret: string, o: SignOptions): Promise<Signed>;
  /** The header that carries the signature (or token): removed for the "missing" case. */
  header: string;
  /** Whether signatures carry a timestamp that can be stale. */
  timestamped: boolean;
  /** Whether the sender names each delivery (header or body id): a re-signed redelivery is then still one run. */
  namesDeliveries: boolean;
}

const secs = (d: Date) => Math.floor(d.getTime() / 1000);
const stripeClient = new Stripe("sk_test_not_used_for_requests");
export const TWILIO_URL = "https://project-ref.supabase.co/functions/v1/automations-webhook/twilio";

async function shopifyHmac(secret: string, body: string): Promise<string> {
  const key = await webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await webcrypto.subtle.sign("HMAC", key, new TextEncoder().encode(body));
  return Buffer.from(mac).toString("base64");
}

export const SENDERS: Sender[] = [
  {
    scheme: "standard (svix spelling)",
    verify: { scheme: "standard" },
    secret: "whsec_" + Buffer.from("svix-test-secret-0123456789abcdef").toString("base64"),
    contentType: "application/json",
    body: (id) => JSON.stringify({ type: "user.created", data: { id } }),
    sign: async (body, secret, o) => {
      // Svix keys are base64; another scheme's secret is wrapped as one (for the "other headers" case).
      const key = /^whsec_[A-Za-z0-9+/]+=*$/.test(secret) ? secret : "whsec_" + Buffer.from(secret).toString("base64");
      const sig = new SvixWebhook(key).sign(o.id, o.at, body);
      return { headers: { "svix-id": o.id, "svix-timestamp": String(secs(o.at)), "svix-signature": sig } };
    },
    header: "svix-signature",
    timestamped: true,
    namesDeliveries: true,
  },
  {
    scheme: "github",
    verify: { scheme: "github" },
    secret: "a-secret-chosen-for-github-1234",
    contentType: "application/json",
    body: (id) => JSON.stringify({ action: "opened", number: 7, pull_request: { id } }),
    sign: async (body, secret, o) => ({
      headers: { "x-hub-signature-256": await githubSign(secret, body), "x-github-event": "pull_request", "x-github-delivery": o.id },
    }),
    header: "x-hub-signature-256",
    timestamped: false,
    namesDeliveries: true,
  },
  {
    scheme: "stripe",
    verify: { scheme: "stripe" },
    secret: "whsec_stripeIssuedSecretForTests0123456789",
    contentType: "application/json",
    body: (id) => JSON.stringify({ id: `evt_${id}`, object: "event", type: "invoice.paid", data: { object: { amount_paid: 4200 } } }),
    sign: async (body, secret, o) => ({
      headers: { "stripe-signature": stripeClient.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: secs(o.at) }) },
    }),
    header: "stripe-signature",
    timestamped: true,
    namesDeliveries: true,
  },
  {
    scheme: "slack",
    verify: { scheme: "slack" },
    secret: "8f742231b10e8888abcd99yyyzzz85a5",
    contentType: "application/json",
    body: (id) => JSON.stringify({ type: "event_callback", event_id: `Ev${id}`, event: { type: "app_mention", text: "hi" } }),
    sign: async (body, secret, o) => {
      const ts = String(secs(o.at));
      const sig = "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
      return { headers: { "x-slack-signature": sig, "x-slack-request-timestamp": ts } };
    },
    header: "x-slack-signature",
    timestamped: true,
    namesDeliveries: true,
  },
  {
    scheme: "shopify",
    verify: { scheme: "shopify" },
    secret: "shpss_shopifyAppClientSecret0123456789",
    contentType: "application/json",
    body: (id) => JSON.stringify({ id: 820982911946154500, name: `#${id}`, total_price: "10.00" }),
    sign: async (body, secret, o) => ({
      headers: {
        "x-shopify-hmac-sha256": await shopifyHmac(secret, body),
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": "shop.myshopify.com",
        "x-shopify-webhook-id": o.id,
      },
    }),
    header: "x-shopify-hmac-sha256",
    timestamped: false,
    namesDeliveries: true,
  },
  {
    scheme: "twilio",
    verify: { scheme: "twilio", public_url: TWILIO_URL },
    secret: "twilioAuthToken0123456789abcdef01",
    contentType: "application/x-www-form-urlencoded",
    body: (id) => new URLSearchParams({ MessageSid: `SM${id}`, From: "+15550001111", Body: "hello there", To: "+15552223333" }).toString(),
    sign: async (body, secret, o) => {
      const params = Object.fromEntries(new URLSearchParams(body));
      return {
        headers: { "x-twilio-signature": twilio.getExpectedTwilioSignature(secret, TWILIO_URL, params), "i-twilio-idempotency-token": o.id },
      };
    },
    header: "x-twilio-signature",
    timestamped: false,
    namesDeliveries: true,
  },
  {
    scheme: "hmac",
    verify: { scheme: "hmac", header: "X-Signature", algorithm: "sha512", encoding: "base64", prefix: "sha512=", timestamp_header: "X-Timestamp", signed: "{timestamp}:{body}" },
    secret: "generic-hmac-secret-0123456789",
    contentType: "application/json",
    body: (id) => JSON.stringify({ event: "thing.happened", id }),
    sign: async (body, secret, o) => {
      const ts = String(secs(o.at));
      const sig = "sha512=" + createHmac("sha512", secret).update(`${ts}:${body}`).digest("base64");
      return { headers: { "x-signature": sig, "x-timestamp": ts } };
    },
    header: "x-signature",
    timestamped: true,
    namesDeliveries: false,
  },
  {
    scheme: "token",
    verify: { scheme: "token", header: "authorization" },
    secret: "form-tool-shared-token-0123456789",
    contentType: "application/x-www-form-urlencoded",
    body: (id) => new URLSearchParams({ email: `${id}@example.com`, plan: "pro" }).toString(),
    sign: async (_body, secret) => ({ headers: { authorization: `Bearer ${secret}` } }),
    header: "authorization",
    timestamped: false,
    namesDeliveries: false,
  },
];
