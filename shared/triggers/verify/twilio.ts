// twilio: X-Twilio-Signature: <base64 HMAC-SHA1 of the URL Twilio called +
// each form parameter's name and value, sorted by name>. Behind Supabase's
// gateway the function cannot know that URL, so it is an option (public_url);
// the request's own query string is appended when public_url has none. JSON
// bodies are signed through the URL instead: its bodySHA256 parameter must
// be the hex SHA-256 of the body.
import { anyMatch, decodeSignature, headerKey, hmac, rejected, requireHeader, sha256Hex, textEqual, type Scheme } from "./common.ts";

const HEADER = "x-twilio-signature";

export interface TwilioOptions {
  public_url: string;
}

/** What Twilio signs: the URL, then each parameter (sorted by name; repeated values sorted) as name + value. */
export function twilioSignedText(url: string, params: URLSearchParams | null): string {
  if (!params) return url;
  const names = [...new Set(params.keys())].sort();
  let out = url;
  for (const name of names) {
    for (const v of [...new Set(params.getAll(name))].sort()) out += name + v;
  }
  return out;
}

export const twilio: Scheme<TwilioOptions> = {
  headers: ["i-twilio-idempotency-token"],
  verify(req, secrets, opts) {
    const hint = `send the base64 HMAC-SHA1 of "${opts.public_url}" and the sorted form parameters, made with the account's Auth Token`;
    const value = requireHeader(req, HEADER, hint);
    const sig = decodeSignature(value, "base64");
    if (!sig) throw rejected(HEADER, "malformed", hint);
    const url = opts.public_url.includes("?") ? opts.public_url : opts.public_url + req.url.search;
    const form = (req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
    if (!form) {
      const bodyHash = new URL(url).searchParams.get("bodySHA256");
      if (bodyHash === null || !textEqual(bodyHash.toLowerCase(), sha256Hex(req.raw))) {
        throw rejected(HEADER, "mismatch", "a JSON body must be covered by the URL's bodySHA256 parameter (hex SHA-256 of the body)");
      }
    }
    const signed = twilioSignedText(url, form ? new URLSearchParams(req.raw) : null);
    if (!anyMatch(secrets, [sig], (s) => hmac("sha1", s, signed))) throw rejected(HEADER, "mismatch", hint);
    return { key: headerKey(req, "i-twilio-idempotency-token", "twilio"), signed };
  },
};
