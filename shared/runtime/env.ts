// Build AppDeps from the environment Supabase gives functions (and the local
// runtime mirrors): SUPABASE_DB_URL, SUPABASE_SERVICE_ROLE_KEY,
// SUPABASE_JWT_SECRET, SUPABASE_URL (JWKS), plus our AUTOMATIONS_* settings.
import { getAction } from "../actions/registry.ts";
import { createPostgresDb } from "../db/postgres.ts";
import type { Db } from "../db/types.ts";
import type { AuthConfig } from "../http/auth_config.ts";
import { jsonLogger, type Logger } from "../logger.ts";
import { loadSettings } from "../settings.ts";
import type { AppDeps } from "./deps.ts";

export type Env = Record<string, string | undefined>;

export function authFromEnv(env: Env): AuthConfig {
  const url = env.SUPABASE_URL?.replace(/\/$/, "");
  return {
    serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY || undefined,
    sharedSecret: env.AUTOMATIONS_SHARED_SECRET || undefined,
    // Hosted Supabase refuses secrets named SUPABASE_*: AUTOMATIONS_JWT_SECRET
    // carries a legacy HS256 project's JWT secret there.
    jwtSecret: env.AUTOMATIONS_JWT_SECRET || env.SUPABASE_JWT_SECRET || undefined,
    // SUPABASE_JWKS_URL="" turns JWKS off (the local runtime signs HS256 only).
    jwksUrl:
      env.SUPABASE_JWKS_URL !== undefined
        ? env.SUPABASE_JWKS_URL || undefined
        : url
          ? `${url}/auth/v1/.well-known/jwks.json`
          : undefined,
  };
}

/** Supabase's pooler (port 6543, or any pooler.supabase.com host to be safe): no prepared statements there. */
export const behindPooler = (url: string): boolean => /:6543\//.test(url) || /pooler\.supabase\.com/.test(url);

/** postgres.js for a database URL; behind Supabase's transaction pooler (port 6543) without prepared statements. */
export function dbFromUrl(url: string, max = 10): Db {
  return createPostgresDb(url, { max, prepare: !behindPooler(url), applicationName: "supabase-automations" });
}

export function depsFromEnv(env: Env, opts: { db?: Db; logger?: Logger; kick?: () => void } = {}): AppDeps {
  // AUTOMATIONS_DB_URL first: hosted Supabase injects SUPABASE_DB_URL (a direct
  // connection) and refuses secrets named SUPABASE_*, so the pooler URL goes here.
  const url = env.AUTOMATIONS_DB_URL || env.SUPABASE_DB_URL || env.DATABASE_URL;
  if (!opts.db && !url) throw new Error("no database URL: set AUTOMATIONS_DB_URL (or SUPABASE_DB_URL) to the project's connection string");
  return {
    db: opts.db ?? dbFromUrl(url!, Number(env.AUTOMATIONS_DB_POOL_SIZE ?? 5)),
    settings: loadSettings(env),
    logger: opts.logger ?? jsonLogger((env.AUTOMATIONS_LOG_LEVEL as "info") ?? "info"),
    now: () => new Date(),
    fetch: globalThis.fetch.bind(globalThis),
    auth: authFromEnv(env),
    getAction,
    kick: opts.kick ?? (() => {}),
    leaseSeconds: Number(env.AUTOMATIONS_LEASE_SECONDS ?? 60),
    workerTimeoutSeconds: Number(env.AUTOMATIONS_WORKER_TIMEOUT_SECONDS ?? 10),
    maxBodyBytes: Number(env.AUTOMATIONS_MAX_BODY_BYTES ?? 1_048_576),
  };
}
