// Webhook verification schemes by name, and what the handler needs from them:
// verify a delivery, its idempotency key, and the headers a run keeps.
// Every scheme verifies against all of the automation's valid secrets (the
// current one and, during a rotation's grace period, the previous one).
import type { VerifyConfig, VerifySchemeName } from "../webhook_config.ts";
import { sha256Hex, type DeliveryRequest, type Scheme, type Verified } from "./common.ts";
import { github } from "./github.ts";
import { hmacScheme } from "./hmac.ts";
import { shopify } from "./shopify.ts";
import { slack } from "./slack.ts";
import { standard } from "./standard.ts";
import { stripe } from "./stripe.ts";
import { token } from "./token.ts";
import { twilio } from "./twilio.ts";

export type { DeliveryRequest, Verified } from "./common.ts";
export { slackChallenge } from "./slack.ts";

const SCHEMES: Record<VerifySchemeName, Scheme<any>> = { standard, github, stripe, slack, shopify, twilio, hmac: hmacScheme, token };

const STANDARD: VerifyConfig = { scheme: "standard" };

export function schemeOf(verify: VerifyConfig | undefined): VerifyConfig {
  return verify ?? STANDARD;
}

/** Verifies a delivery or throws a 401 that names the expected header and what was wrong. */
export function verifyDelivery(verify: VerifyConfig | undefined, req: DeliveryRequest, secrets: readonly string[]): Verified {
  const v = schemeOf(verify);
  return SCHEMES[v.scheme].verify(req, secrets, v);
}

/**
 * The run's idempotency key: the body's event id (stripe, slack), else the
 * sender's delivery-id header, else a hash of what was signed, so that an exact
 * replay is still one run.
 */
export function deliveryKey(verify: VerifyConfig | undefined, verified: Verified, payload: unknown): string {
  const v = schemeOf(verify);
  return SCHEMES[v.scheme].payloadKey?.(payload) ?? verified.key ?? `${v.scheme}:sha256:${sha256Hex(verified.signed)}`;
}

/** Never kept, even when listed: runs are readable by every org member. */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

/**
 * trigger.headers: the scheme's event and id headers plus the configured ones,
 * those present, lower-cased. Credentials are left out (and the token scheme's
 * header, which carries the automation's secret).
 */
export function capturedHeaders(verify: VerifyConfig | undefined, extra: readonly string[] | undefined, headers: Headers): Record<string, string> {
  const v = schemeOf(verify);
  const names = [...SCHEMES[v.scheme].headers, ...("id_header" in v && v.id_header ? [v.id_header] : []), ...(extra ?? [])];
  const secretHeader = v.scheme === "token" && v.header ? v.header.toLowerCase() : null;
  const out: Record<string, string> = {};
  for (const n of names) {
    const name = n.toLowerCase();
    if (CREDENTIAL_HEADERS.has(name) || name === secretHeader) continue;
    const value = headers.get(name);
    if (value !== null) out[name] = value.length > 1000 ? value.slice(0, 1000) : value;
  }
  return out;
}
