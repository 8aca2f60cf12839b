// AppDeps for handler tests, user JWTs signed with the test project's secret,
// and Requests shaped like the ones Supabase routes to a function.
import { SignJWT } from "jose";
import { getAction as registryAction } from "../../shared/actions/registry.ts";
import type { Db } from "../../shared/db/types.ts";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import type { AuthConfig } from "../../shared/http/auth_config.ts";
import { silentLogger } from "../../shared/logger.ts";
import type { AppDeps } from "../../shared/runtime/deps.ts";
import { loadSettings } from "../../shared/settings.ts";

export const TEST_AUTH = Object.freeze({
  serviceRoleKey: "test-service-key",
  sharedSecret: "test-shared-secret",
  jwtSecret: "super-secret-jwt-token-with-at-least-32-characters-long",
}) satisfies AuthConfig;

export interface AppDepsOverrides extends Partial<Omit<AppDeps, "auth">> {
  /** Merged over TEST_AUTH; pass a key as undefined to unset it. */
  auth?: Partial<AuthConfig>;
  /** Extra (test) actions, looked up before the built-in registry. Ignored when getAction is given. */
  actions?: ActionDefinition<any>[];
}

export function appDeps(db: Db, overrides: AppDepsOverrides = {}): AppDeps {
  const { auth, actions = [], ...rest } = overrides;
  const extra = new Map(actions.map((a) => [a.type, a as ActionDefinition<unknown>]));
  return {
    db,
    settings: loadSettings({ AUTOMATIONS_ALLOW_PRIVATE_NETWORK: "true" }),
    logger: silentLogger,
    now: () => new Date(),
    fetch: globalThis.fetch,
    getAction: (type) => extra.get(type) ?? (registryAction(type) as ActionDefinition<unknown> | undefined),
    kick: () => {},
    leaseSeconds: 30,
    maxBodyBytes: 1_048_576,
    ...rest,
    auth: { ...TEST_AUTH, ...auth },
  };
}

export interface SignOptions {
  /** Seconds from now (negative: already expired). Default 3600. */
  expiresInSec?: number;
  secret?: string;
  /** Leave out claims Supabase always sets (e.g. ["exp"], ["sub"]). */
  omit?: string[];
}

/** An HS256 token like GoTrue issues: aud/role authenticated, sub, iat, exp; `claims` override. */
export async function signJwt(claims: Record<string, unknown>, opts: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    aud: "authenticated",
    role: "authenticated",
    iat: now,
    exp: now + (opts.expiresInSec ?? 3600),
    ...claims,
  };
  for (const k of opts.omit ?? []) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(opts.secret ?? TEST_AUTH.jwtSecret));
}

/** A user's access token from fixtures' claims (createUser(...).claims). */
export const userJwt = (claims: { sub: string; [k: string]: unknown }, opts?: SignOptions) => signJwt(claims, opts);

/** The project's anon key: role anon, no sub, no aud. */
export const anonKeyJwt = () => signJwt({ iss: "supabase", role: "anon" }, { omit: ["aud"], expiresInSec: 10 * 365 * 86400 });

export interface FunctionRequestInit {
  method?: string;
  /** Bearer token (user JWT or service key). */
  token?: string;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Appended to /functions/v1/<name>, e.g. "/<automation_id>" or "?budget_ms=100". */
  suffix?: string;
}

/** A Request as Supabase routes it to functions/<name> (no server needed). */
export function functionRequest(name: string, init: FunctionRequestInit = {}): Request {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  let body: string | undefined;
  if (typeof init.body === "string") body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return new Request(`http://127.0.0.1:54321/functions/v1/${name}${init.suffix ?? ""}`, {
    method: init.method ?? "POST",
    headers,
    body,
  });
}
