// Calls that only the project itself may make (schedule tick, worker, event
// ingestion): `Authorization: Bearer <service role key>` as pg_net and
// Database Webhooks send it, or `x-automations-secret: <shared secret>`.
import { timingSafeEqual } from "node:crypto";
import { unauthorized } from "./errors.ts";

const enc = new TextEncoder();

function same(a: string, b: string): boolean {
  const x = enc.encode(a);
  const y = enc.encode(b);
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

export interface ServiceCredentials {
  serviceRoleKey?: string;
  sharedSecret?: string;
}

export function requireService(req: Request, creds: ServiceCredentials): void {
  if (!creds.serviceRoleKey && !creds.sharedSecret) {
    throw unauthorized("this function is not configured: set SUPABASE_SERVICE_ROLE_KEY or AUTOMATIONS_SHARED_SECRET");
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1]?.trim();
  const secret = req.headers.get("x-automations-secret") ?? undefined;
  if (bearer && creds.serviceRoleKey && same(bearer, creds.serviceRoleKey)) return;
  if (secret && creds.sharedSecret && same(secret, creds.sharedSecret)) return;
  if (!bearer && !secret) {
    throw unauthorized("missing credentials: send Authorization: Bearer <service role key> or x-automations-secret");
  }
  throw unauthorized("invalid credentials: the service role key or shared secret does not match");
}
