// slack: X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<X-Slack-Request-Timestamp>:<raw body>">,
// within 5 minutes. Events API deliveries carry event_id (the same on Slack's
// retries): the key. The url_verification handshake is answered by the handler.
import { anyMatch, checkTimestamp, decodeSignature, hmac, rejected, requireHeader, type Scheme } from "./common.ts";

const HEADER = "x-slack-signature";
const TS = "x-slack-request-timestamp";

export const slack: Scheme<Record<string, never>> = {
  headers: ["x-slack-retry-num", "x-slack-retry-reason"],
  verify(req, secrets) {
    const hint = 'send "v0=<hex HMAC-SHA256 of \\"v0:<timestamp>:<raw body>\\">" made with the app\'s Signing Secret';
    const value = requireHeader(req, HEADER, hint);
    const ts = requireHeader(req, TS, "send the Unix seconds the request was signed at");
    const sig = value.startsWith("v0=") ? decodeSignature(value.slice(3), "hex") : null;
    if (!sig) throw rejected(HEADER, "malformed", hint);
    checkTimestamp(TS, ts, req.now, 300);
    const signed = `v0:${ts}:${req.raw}`;
    if (!anyMatch(secrets, [sig], (s) => hmac("sha256", s, signed))) throw rejected(HEADER, "mismatch", hint);
    return { key: null, signed };
  },
  payloadKey(payload) {
    const id = (payload as { event_id?: unknown } | null)?.event_id;
    return typeof id === "string" && id.length > 0 && id.length <= 200 ? `slack:${id}` : null;
  },
};

/** Slack's url_verification handshake, verified like any delivery: answered with its challenge and no run. */
export function slackChallenge(payload: unknown): string | null {
  const p = payload as { type?: unknown; challenge?: unknown } | null;
  return p?.type === "url_verification" && typeof p.challenge === "string" ? p.challenge : null;
}
