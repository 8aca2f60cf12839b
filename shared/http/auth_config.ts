// The credentials the HTTP layer checks callers against: the service role key
// and shared secret (service_auth.ts) and the keys that sign user JWTs
// (jwt.ts). The runtime fills it from the environment (runtime/env.ts).
export interface AuthConfig {
  serviceRoleKey?: string;
  /** Shared secret for the worker/tick/event functions (x-automations-secret). */
  sharedSecret?: string;
  /** HS256 secret that signs user JWTs (SUPABASE_JWT_SECRET). */
  jwtSecret?: string;
  /** JWKS of the project for asymmetric user JWTs. */
  jwksUrl?: string;
}
