// shopify: X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>.
// X-Shopify-Webhook-Id is the same on retries: the key.
import { anyMatch, decodeSignature, headerKey, hmac, rejected, requireHeader, type Scheme } from "./common.ts";

const HEADER = "x-shopify-hmac-sha256";

export const shopify: Scheme<Record<string, never>> = {
  headers: ["x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id", "x-shopify-event-id", "x-shopify-api-version"],
  verify(req, secrets) {
    const hint = "send the base64 HMAC-SHA256 of the raw body made with the app's client secret (or the store's webhook signing secret)";
    const value = requireHeader(req, HEADER, hint);
    const sig = decodeSignature(value, "base64");
    if (!sig) throw rejected(HEADER, "malformed", hint);
    if (!anyMatch(secrets, [sig], (s) => hmac("sha256", s, req.raw))) throw rejected(HEADER, "mismatch", hint);
    return { key: headerKey(req, "x-shopify-webhook-id", "shopify"), signed: req.raw };
  },
};
