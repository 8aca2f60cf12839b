// The signed header a run's outbound requests carry, so a call that comes
// back into our own functions (a webhook step posting to automations-run,
// -webhook or -event) counts against the calling run's chain: its budget and
// depth apply across HTTP as they do across table events.
//
//   x-automations-cause: <run_id>.<base64url HMAC-SHA256(secret, "automations-cause:v1:" + run_id)>
//
// The secret is one every function already has (the service role key, else
// the JWT secret, else the shared secret), so the worker that signs and the
// function that verifies agree without new configuration. A header that does
// not verify is ignored (no cause). A valid header copied elsewhere can only
// charge the chain it names, and enqueue ignores a cause of another org.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuthConfig } from "./auth_config.ts";

export const CAUSE_HEADER = "x-automations-cause";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const enc = new TextEncoder();

/** The secret both sides use; undefined when the runtime has none (nothing is signed or trusted). */
export function causeSecret(auth: AuthConfig | undefined): string | undefined {
  return auth?.serviceRoleKey || auth?.jwtSecret || auth?.sharedSecret || undefined;
}

function mac(secret: string, runId: string): string {
  return createHmac("sha256", secret).update(`automations-cause:v1:${runId.toLowerCase()}`).digest("base64url");
}

/** The header value for requests a run makes. */
export function signCause(secret: string, runId: string): string {
  return `${runId}.${mac(secret, runId)}`;
}

/** The causing run id of a request, when its header verifies; otherwise null (treated as no cause). */
export function verifiedCause(req: Request, auth: AuthConfig | undefined): string | null {
  const secret = causeSecret(auth);
  const value = req.headers.get(CAUSE_HEADER)?.trim();
  if (!secret || !value) return null;
  const dot = value.indexOf(".");
  const runId = value.slice(0, dot);
  if (dot < 0 || !UUID.test(runId)) return null;
  const given = enc.encode(value.slice(dot + 1));
  const want = enc.encode(mac(secret, runId));
  return given.byteLength === want.byteLength && timingSafeEqual(given, want) ? runId.toLowerCase() : null;
}

/** JSON for the transaction-local automations.caused_by setting enqueue reads. */
export function causeSetting(runId: string): string {
  return JSON.stringify({ run_id: runId, via: "http" });
}
