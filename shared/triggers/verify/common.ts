// What every webhook verification scheme shares: the request as a scheme sees
// it, constant-time comparison, HMAC helpers and 401s that say which header
// was expected and what was wrong with it (never the secret or the expected
// signature).
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { badRequest, unauthorized, type HttpError } from "../../http/errors.ts";

export interface DeliveryRequest {
  /** The raw body as text: what senders sign. */
  raw: string;
  headers: Headers;
  /** The URL the function was called with (its query string reaches the token and twilio schemes). */
  url: URL;
  now: Date;
}

export interface Verified {
  /** The sender's own delivery id (e.g. X-GitHub-Delivery), prefixed; null when it sends none. */
  key: string | null;
  /** What the signature covered: its hash is the idempotency key when nothing better exists. */
  signed: string;
}

export interface Scheme<O> {
  /** Headers copied into trigger.headers by default (lower case). */
  headers: readonly string[];
  verify(req: DeliveryRequest, secrets: readonly string[], opts: O): Verified;
  /** A key from the parsed body (Stripe's event id, Slack's event_id), preferred over `Verified.key`. */
  payloadKey?(payload: unknown): string | null;
}

export type Problem = "missing" | "malformed" | "stale" | "mismatch";

/** 401 naming the header and the problem, with what to do about it. */
export function rejected(header: string, problem: Problem, hint: string): HttpError {
  return unauthorized(`${header} header: ${problem}; ${hint}`);
}

export function requireHeader(req: DeliveryRequest, name: string, hint: string): string {
  const v = req.headers.get(name);
  if (v === null || v.trim() === "") throw rejected(name, "missing", hint);
  return v.trim();
}

export type Algorithm = "sha1" | "sha256" | "sha512";

export function hmac(algorithm: Algorithm, key: string | Uint8Array, data: string): Uint8Array {
  return new Uint8Array(createHmac(algorithm, key).update(data, "utf8").digest());
}

export function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

const HEX_RE = /^[0-9a-fA-F]+$/;
const B64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes a signature as sent, or null when it is not valid hex / base64. */
export function decodeSignature(text: string, encoding: "hex" | "base64"): Uint8Array | null {
  if (encoding === "hex") return HEX_RE.test(text) && text.length % 2 === 0 ? new Uint8Array(Buffer.from(text, "hex")) : null;
  return B64_RE.test(text) ? new Uint8Array(Buffer.from(text, text.includes("-") || text.includes("_") ? "base64url" : "base64")) : null;
}

/** Constant time for equal lengths; a length says nothing about the secret. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** Constant-time string comparison (hashed first, so lengths need not match). */
export function textEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(new Uint8Array(ha), new Uint8Array(hb));
}

/** True when any secret's HMAC of `data` equals any of the given signatures. */
export function anyMatch(
  secrets: readonly string[],
  signatures: readonly Uint8Array[],
  sign: (secret: string) => Uint8Array,
): boolean {
  let ok = false;
  for (const secret of secrets) {
    const expected = sign(secret);
    // No early exit: every secret and signature is compared.
    for (const s of signatures) ok = bytesEqual(expected, s) || ok;
  }
  return ok;
}

/** Unix seconds from a timestamp header, or a 401 (malformed / stale). */
export function checkTimestamp(header: string, text: string, now: Date, toleranceSeconds: number): number {
  if (!/^\d{1,12}$/.test(text)) throw rejected(header, "malformed", "expected Unix seconds");
  const t = Number(text);
  const age = Math.floor(now.getTime() / 1000) - t;
  if (Math.abs(age) > toleranceSeconds) {
    throw rejected(
      header,
      "stale",
      age > 0
        ? `the timestamp is ${age} s old, more than the ${toleranceSeconds} s allowed: sign each delivery when you send it`
        : `the timestamp is ${-age} s in the future, more than the ${toleranceSeconds} s allowed: check the sender's clock`,
    );
  }
  return t;
}

/** `<prefix>:<id>` from a sender's delivery-id header, or null when absent. */
export function headerKey(req: DeliveryRequest, header: string | undefined, prefix: string): string | null {
  if (!header) return null;
  const v = req.headers.get(header)?.trim();
  if (!v) return null;
  if (v.length > 200) throw badRequest(`${header} is longer than 200 characters`);
  return `${prefix}:${v}`;
}
