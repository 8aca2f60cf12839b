// Act as a signed-in user exactly as PostgREST does: inside a transaction,
// `set local role authenticated` and `request.jwt.claims` = the JWT's claims,
// so RLS policies and auth.uid() see that user.
import type { Db } from "./types.ts";

export interface JwtClaims {
  sub: string;
  role?: string;
  [claim: string]: unknown;
}

export async function asUser<T>(db: Db, claims: JwtClaims, fn: (tx: Db) => Promise<T>): Promise<T> {
  const role = claims.role === "service_role" ? "service_role" : claims.role === "anon" ? "anon" : "authenticated";
  return db.transaction(async (tx) => {
    await tx.query(
      "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.jwt.claim.sub', $3, true)",
      [role, JSON.stringify(claims), claims.sub ?? ""],
    );
    return fn(tx);
  });
}
