// Local API keys and the demo user's JWT, signed with the local JWT secret,
// in the same shape as the Supabase CLI's local keys.
import { SignJWT } from "jose";

/** The Supabase CLI's well-known local secret; never use it for a hosted project. */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

export async function signJwt(secret: string, claims: Record<string, unknown>, ttlSeconds: number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("supabase-automations-local")
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

/** Deterministic (fixed iat/exp, like the CLI's demo keys) so the CLI can derive the same service key. */
async function fixedKey(secret: string, role: string): Promise<string> {
  return new SignJWT({ iss: "supabase-demo", role })
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
