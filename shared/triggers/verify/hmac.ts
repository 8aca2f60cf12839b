// hmac: any other sender that signs with an HMAC. The signature is read from
// `header` (after `prefix`), in `encoding`, over `signed` with its
// placeholders filled: {body} the raw body, {timestamp} the value of
// `timestamp_header` (then checked against tolerance_seconds, default 300),
// {id} the value of `id_header`, which is also the idempotency key.
import { anyMatch, checkTimestamp, decodeSignature, headerKey, hmac as mac, rejected, requireHeader, type Algorithm, type Scheme } from "./common.ts";

export interface HmacOptions {
  header: string;
  algorithm?: Algorithm;
  encoding?: "hex" | "base64";
  prefix?: string;
  timestamp_header?: string;
  signed?: string;
  tolerance_seconds?: number;
  id_header?: string;
}

export const hmacScheme: Scheme<HmacOptions> = {
  headers: [],
  verify(req, secrets, o) {
    const algorithm = o.algorithm ?? "sha256";
    const encoding = o.encoding ?? "hex";
    const prefix = o.prefix ?? "";
    const template = o.signed ?? (o.timestamp_header ? "{timestamp}.{body}" : "{body}");
    const hint = `send "${prefix}<${encoding} HMAC-${algorithm.toUpperCase()} of ${template}>" made with the automation's secret`;
    const header = o.header.toLowerCase();
    const value = requireHeader(req, header, hint);
    const sig = value.startsWith(prefix) ? decodeSignature(value.slice(prefix.length), encoding) : null;
    if (!sig) throw rejected(header, "malformed", hint);
    let timestamp = "";
    if (o.timestamp_header) {
      timestamp = requireHeader(req, o.timestamp_header, "send the Unix seconds the request was signed at");
      checkTimestamp(o.timestamp_header.toLowerCase(), timestamp, req.now, o.tolerance_seconds ?? 300);
    }
    const id = o.id_header ? (req.headers.get(o.id_header) ?? "") : "";
    // One pass over the template, so a placeholder inside the body is not replaced again.
    const signed = template.replace(/\{(body|timestamp|id)\}/g, (_m, name: string) =>
      name === "body" ? req.raw : name === "timestamp" ? timestamp : id,
    );
    if (!anyMatch(secrets, [sig], (s) => mac(algorithm, s, signed))) throw rejected(header, "mismatch", hint);
    return { key: headerKey(req, o.id_header, "hmac"), signed };
  },
};
