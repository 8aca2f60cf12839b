// github: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>.
// X-GitHub-Delivery is the same for a redelivery: it is the idempotency key.
import { anyMatch, decodeSignature, headerKey, hmac, rejected, requireHeader, type Scheme } from "./common.ts";

const HEADER = "x-hub-signature-256";

export const github: Scheme<Record<string, never>> = {
  headers: ["x-github-event", "x-github-delivery", "x-github-hook-id"],
  verify(req, secrets) {
    const hint = 'send "sha256=<hex HMAC-SHA256 of the raw body>" made with the secret set on the automation (the webhook\'s "Secret" in GitHub)';
    const value = requireHeader(req, HEADER, hint);
    const sig = value.startsWith("sha256=") ? decodeSignature(value.slice(7), "hex") : null;
    if (!sig) throw rejected(HEADER, "malformed", hint);
    if (!anyMatch(secrets, [sig], (s) => hmac("sha256", s, req.raw))) throw rejected(HEADER, "mismatch", hint);
    return { key: headerKey(req, "x-github-delivery", "github"), signed: req.raw };
  },
};
