// stripe: Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
// (several v1 during a secret roll), within tolerance_seconds (default 300).
// The key is the event id in the body, so a redelivery, which Stripe signs
// anew, is still one run. The secret is Stripe's whsec_... used as it is.
import { anyMatch, checkTimestamp, decodeSignature, hmac, rejected, requireHeader, type Scheme } from "./common.ts";

const HEADER = "stripe-signature";

export interface StripeOptions {
  tolerance_seconds?: number;
}

export const stripe: Scheme<StripeOptions> = {
  headers: [],
  verify(req, secrets, opts) {
    const hint = 'send "t=<unix seconds>,v1=<hex HMAC-SHA256 of \\"<t>.<raw body>\\">" made with the endpoint\'s signing secret (whsec_...)';
    const value = requireHeader(req, HEADER, hint);
    let t: string | undefined;
    const v1: Uint8Array[] = [];
    for (const part of value.split(",")) {
      const eq = part.indexOf("=");
      const k = part.slice(0, eq).trim();
      const v = part.slice(eq + 1).trim();
      if (k === "t") t = v;
      else if (k === "v1") {
        const sig = decodeSignature(v, "hex");
        if (sig) v1.push(sig);
      }
    }
    if (t === undefined || v1.length === 0) throw rejected(HEADER, "malformed", hint);
    checkTimestamp(HEADER, t, req.now, opts.tolerance_seconds ?? 300);
    const signed = `${t}.${req.raw}`;
    if (!anyMatch(secrets, v1, (s) => hmac("sha256", s, signed))) throw rejected(HEADER, "mismatch", hint);
    return { key: null, signed };
  },
  payloadKey(payload) {
    const id = (payload as { id?: unknown } | null)?.id;
    return typeof id === "string" && id.length > 0 && id.length <= 200 ? `stripe:${id}` : null;
  },
};
