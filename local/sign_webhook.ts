// `npm run automations -- sign-webhook <id> --scheme github|stripe|...`: a
// delivery signed the way each sender signs it, printed as a curl command, to
// try an automation's verify settings locally. Options that a scheme needs
// (twilio's public_url, hmac's header, token's header or query) come with
// --verify '<the trigger_config.verify JSON>'. node:crypto only: the senders'
// SDKs are test-only dependencies.
import { createHmac } from "node:crypto";
import { signWebhook } from "../shared/triggers/webhook_signature.ts";
import { twilioSignedText } from "../shared/triggers/verify/twilio.ts";
import { verifyProblems, type VerifyConfig } from "../shared/triggers/webhook_config.ts";

export interface SignInput {
  automationId: string;
  baseUrl: string;
  secret: string;
  payload: unknown;
  /** A scheme name, or the verify object as JSON text. */
  scheme?: string;
  verify?: string;
  now?: Date;
}

export interface SignedDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function verifyOf(input: SignInput): VerifyConfig {
  let v: unknown = { scheme: input.scheme ?? "standard" };
  if (input.verify) {
    try {
      v = JSON.parse(input.verify);
    } catch (e) {
      throw new Error(`--verify is not valid JSON: ${(e as Error).message}`);
    }
  }
  const problems = verifyProblems(v);
  if (problems.length) {
    const text = problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("; ");
    throw new Error(`${text}${input.verify ? "" : ` (pass --verify '{"scheme": "${input.scheme}", ...}' with the automation's options)`}`);
  }
  return v as VerifyConfig;
}

const hex = (alg: string, key: string, data: string) => createHmac(alg, key).update(data).digest("hex");
const b64 = (alg: string, key: string, data: string) => createHmac(alg, key).update(data).digest("base64");

export function signDelivery(input: SignInput): SignedDelivery {
  const v = verifyOf(input);
  const now = input.now ?? new Date();
  const ts = String(Math.floor(now.getTime() / 1000));
  const id = `local_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  const s = input.secret;
  let url = `${input.baseUrl}/functions/v1/automations-webhook/${input.automationId}`;
  // Twilio posts forms; everyone else here sends JSON.
  const form = v.scheme === "twilio";
  const body = form
    ? new URLSearchParams(Object.entries((input.payload ?? {}) as Record<string, unknown>).map(([k, x]) => [k, String(x)])).toString()
    : JSON.stringify(input.payload);
  const headers: Record<string, string> = { "content-type": form ? "application/x-www-form-urlencoded" : "application/json" };
  switch (v.scheme) {
    case "standard":
      Object.assign(headers, signWebhook(s, id, body, now));
      break;
    case "github":
      Object.assign(headers, { "x-hub-signature-256": `sha256=${hex("sha256", s, body)}`, "x-github-event": "ping", "x-github-delivery": id });
      break;
    case "stripe":
      headers["stripe-signature"] = `t=${ts},v1=${hex("sha256", s, `${ts}.${body}`)}`;
      break;
    case "slack":
      Object.assign(headers, { "x-slack-signature": `v0=${hex("sha256", s, `v0:${ts}:${body}`)}`, "x-slack-request-timestamp": ts });
      break;
    case "shopify":
      Object.assign(headers, { "x-shopify-hmac-sha256": b64("sha256", s, body), "x-shopify-topic": "orders/create", "x-shopify-webhook-id": id });
      break;
    case "twilio":
      Object.assign(headers, { "x-twilio-signature": b64("sha1", s, twilioSignedText(v.public_url, new URLSearchParams(body))), "i-twilio-idempotency-token": id });
      break;
    case "hmac": {
      const template = v.signed ?? (v.timestamp_header ? "{timestamp}.{body}" : "{body}");
      const signed = template.replace(/\{(body|timestamp|id)\}/g, (_m, n: string) => (n === "body" ? body : n === "timestamp" ? ts : id));
      const mac = createHmac(v.algorithm ?? "sha256", s).update(signed).digest(v.encoding ?? "hex");
      headers[v.header.toLowerCase()] = `${v.prefix ?? ""}${mac}`;
      if (v.timestamp_header) headers[v.timestamp_header.toLowerCase()] = ts;
      if (v.id_header) headers[v.id_header.toLowerCase()] = id;
      break;
    }
    case "token":
      if (v.query) url += `?${v.query}=${encodeURIComponent(s)}`;
      else headers[v.header!.toLowerCase()] = v.header!.toLowerCase() === "authorization" ? `Bearer ${s}` : s;
      if (v.id_header) headers[v.id_header.toLowerCase()] = id;
      break;
  }
  return { url, headers, body };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function curlOf(d: SignedDelivery): string {
  return [
    `curl -sS -X POST ${shellQuote(d.url)}`,
    ...Object.entries(d.headers).map(([k, v]) => `  -H ${shellQuote(`${k}: ${v}`)}`),
    `  -d ${shellQuote(d.body)}`,
  ].join(" \\\n");
}
