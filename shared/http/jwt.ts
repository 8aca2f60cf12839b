// Verify a signed-in user's `Authorization: Bearer <access token>` as
// Supabase issues it: HS256 with the project's JWT secret (SUPABASE_JWT_SECRET),
// or an asymmetric key (RS256/ES256, Supabase's signing keys) from the
// project's JWKS. The token header's `alg` picks the key source; jose pins the
// algorithm family to the key type, so an HS256 token can never be checked
// against a public key (algorithm confusion).
//
// Every rejection is a 401 that says what was wrong; a JWKS that cannot be
// fetched is our problem, not the caller's, so it is a 503.
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWSAlgorithm,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from "jose";
import type { JwtClaims } from "../db/as_user.ts";
import type { AuthConfig } from "./auth_config.ts";
import { HttpError, unauthorized, unavailable } from "./errors.ts";

/** Asymmetric algorithms accepted through the JWKS (Supabase signing keys). */
const ASYMMETRIC: readonly JWSAlgorithm[] = ["RS256", "ES256"];

export interface UserJwtOptions {
  /** The clock expiry is judged by (AppDeps.now); defaults to the system clock. */
  now?: () => Date;
  /** fetch for the JWKS request (AppDeps.fetch); defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSec?: number;
}

export type VerifyUser = (req: Request) => Promise<JwtClaims>;

/**
 * Build the verifier once per handler: the remote JWKS is created here, not
 * per request, so jose's key cache (10 min, refetch on an unknown kid after a
 * 30 s cooldown) is shared by every request the handler serves.
 */
export function createUserJwtVerifier(auth: Pick<AuthConfig, "jwtSecret" | "jwksUrl">, opts: UserJwtOptions = {}): VerifyUser {
  const secret = auth.jwtSecret ? new TextEncoder().encode(auth.jwtSecret) : null;
  let jwks: JWTVerifyGetKey | null = null;
  if (auth.jwksUrl) {
    const doFetch = opts.fetch;
    // A wrong URL is a deployment error: fail when the handler is built, not per request.
    if (!URL.canParse(auth.jwksUrl)) throw new Error(`the JWKS URL ${JSON.stringify(auth.jwksUrl)} is not a valid URL`);
    jwks = createRemoteJWKSet(new URL(auth.jwksUrl), {
      timeoutDuration: 5000,
      ...(doFetch ? { [customFetch]: (url: string, init: RequestInit) => doFetch(url, init) } : {}),
    });
  }
  const now = opts.now ?? (() => new Date());
  const clockTolerance = opts.clockToleranceSec ?? 0;

  return async (req) => {
    const token = bearerToken(req);
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw unauthorized("malformed token: the Authorization bearer is not a JWT (expected three base64url parts)");
    }
    // From the unverified header: only compared, and quoted shortened.
    const alg = typeof header.alg === "string" ? header.alg.slice(0, 32) : "(none)";
    const common = { currentDate: now(), clockTolerance, requiredClaims: ["exp"] };
    let payload: JWTPayload;
    try {
      if (alg === "HS256") {
        if (!secret) throw unauthorized("HS256 tokens are not accepted here: set AUTOMATIONS_JWT_SECRET (or SUPABASE_JWT_SECRET) to the project JWT secret");
        ({ payload } = await jwtVerify(token, secret, { ...common, algorithms: ["HS256"] }));
      } else if ((ASYMMETRIC as readonly string[]).includes(alg)) {
        if (!jwks) throw unauthorized(`${alg} tokens are not accepted here: the project's JWKS URL is not configured`);
        ({ payload } = await jwtVerify(token, jwks, { ...common, algorithms: [...ASYMMETRIC] }));
      } else {
        throw unauthorized(`unsupported token algorithm ${alg}: expected HS256, ${ASYMMETRIC.join(" or ")}`);
      }
    } catch (e) {
      throw explain(e, alg === "HS256" ? null : (auth.jwksUrl ?? null));
    }
    return userClaims(payload);
  };
}

function bearerToken(req: Request): string {
  const h = req.headers.get("authorization");
  if (!h) {
    throw unauthorized("missing Authorization header: send Authorization: Bearer <the signed-in user's access token>");
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw unauthorized("malformed Authorization header: expected \"Bearer <access token>\"");
  return m[1]!;
}

/** Claims that make a user: role authenticated, a subject, the "authenticated" audience if any. */
function userClaims(payload: JWTPayload): JwtClaims {
  const role = payload.role;
  // Checked before `sub`: the anon key has no subject, and this is the message
  // a client that forgot to sign in (supabase-js then sends the anon key) needs.
  if (role === "anon") throw unauthorized("sign in first: the anon key is not a user");
  if (role !== "authenticated") {
    throw unauthorized(`the token's role is ${JSON.stringify(role ?? null)}; only signed-in users (role "authenticated") may call this`);
  }
  if (typeof payload.sub !== "string" || payload.sub === "") throw unauthorized("the token has no subject (sub claim)");
  if (payload.aud !== undefined) {
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes("authenticated")) {
      throw unauthorized(`the token's audience ${JSON.stringify(payload.aud)} is not "authenticated"`);
    }
  }
  return payload as JwtClaims;
}

const iso = (seconds: unknown) => (typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : "an unknown time");

/** jose's errors (and JWKS transport failures) as the one HTTP error type. */
function explain(e: unknown, jwksUrl: string | null): unknown {
  if (e instanceof HttpError) return e;
  if (e instanceof errors.JWTExpired) {
    return unauthorized(`token expired at ${iso(e.payload.exp)}: refresh the session (supabase-js does this automatically) or sign in again`);
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return unauthorized(`token not valid before ${iso(e.payload.nbf)}`);
    if (e.claim === "iat") return unauthorized(`token issued in the future (iat ${iso(e.payload.iat)}); check the clocks`);
    return unauthorized(`token claim ${e.claim} is ${e.reason === "missing" ? "missing" : "invalid"}`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized("bad signature: the token was not signed by this project's key");
  }
  if (e instanceof errors.JWKSNoMatchingKey) {
    return unauthorized("bad signature: no key in the project's JWKS matches the token's kid/alg (signed by another project, or a revoked key)");
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return unauthorized(`token algorithm not accepted: ${e.message}`);
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return unauthorized(`malformed token: ${e.message}`);
  const keyFetch =
    e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid ||
    !(e instanceof errors.JOSEError) || e.code === "ERR_JOSE_GENERIC";
  if (jwksUrl && keyFetch) {
    // Fetching the JWKS failed (network, timeout, non-200, not a key set):
    // the token may be fine, so do not tell the user to sign in again.
    const detail = e instanceof Error ? e.message : String(e);
    return unavailable(`could not load the project's signing keys from ${jwksUrl}: ${detail}`);
  }
  // Anything else unexpected stays an internal error (logged by handle()).
  return e instanceof errors.JOSEError ? unauthorized(`invalid token: ${e.message}`) : e;
}
