// Local API keys and the demo user's JWT, in the same shape as the Supabase
// CLI's local keys but signed with this database's own random secret
// (local/secrets.ts), never with the CLI's public demo secret.
// Explicit environment wins: AUTOMATIONS_JWT_SECRET / SUPABASE_JWT_SECRET,
// SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY.
import { SignJWT } from "jose";
import type { Env } from "../shared/runtime/env.ts";
import { loadOrCreateSecrets, readSecrets, secretsPath } from "./secrets.ts";

export async function signJwt(secret: string, claims: Record<string, unknown>, ttlSeconds: number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("supabase-automations-local")
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

/** Deterministic (fixed iat/exp, like the CLI's keys) so the CLI derives the same service key from the same secret. */
async function fixedKey(secret: string, role: string): Promise<string> {
  return new SignJWT({ iss: "supabase-automations-local", role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(1_700_000_000)
    .setExpirationTime(1_983_812_996)
    .sign(new TextEncoder().encode(secret));
}

export async function localKeys(secret: string) {
  return { anonKey: await fixedKey(secret, "anon"), serviceRoleKey: await fixedKey(secret, "service_role") };
}

export function userJwt(secret: string, authId: string, email: string): Promise<string> {
  return signJwt(secret, { sub: authId, role: "authenticated", aud: "authenticated", email }, 7 * 24 * 3600);
}

export interface ResolvedKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  /** Where the JWT secret came from: an environment variable's name, or the secrets file's path. */
  source: string;
  fromEnv: boolean;
  /** True when this call generated the secrets file. */
  created: boolean;
}

/**
 * The keys of this database's local runtime. `create`: generate the secrets
 * file on first use (the runtime); the CLI only reads it, and says how to get
 * one when it is missing.
 */
export async function resolveLocalKeys(env: Env, root: string, opts: { create: boolean }): Promise<ResolvedKeys> {
  const explicit = env.AUTOMATIONS_JWT_SECRET ? "AUTOMATIONS_JWT_SECRET" : env.SUPABASE_JWT_SECRET ? "SUPABASE_JWT_SECRET" : null;
  let jwtSecret: string;
  let source: string;
  let created = false;
  if (explicit) {
    jwtSecret = env[explicit]!;
    source = explicit;
  } else {
    const path = secretsPath(env, root);
    if (opts.create) {
      const r = loadOrCreateSecrets(path);
      jwtSecret = r.secrets.jwt_secret;
      created = r.created;
    } else {
      const s = readSecrets(path);
      if (!s) {
        throw new Error(
          `no local keys at ${path}: start the runtime once with \`npm start\` (same AUTOMATIONS_DATA_DIR / DATABASE_URL), or set SUPABASE_SERVICE_ROLE_KEY`,
        );
      }
      jwtSecret = s.jwt_secret;
    }
    source = path;
  }
  const signed = await localKeys(jwtSecret);
  return {
    jwtSecret,
    anonKey: env.SUPABASE_ANON_KEY || signed.anonKey,
    serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY || signed.serviceRoleKey,
    source,
    fromEnv: explicit !== null,
    created,
  };
}
