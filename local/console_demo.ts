// POST /_local/demo-session: the console's "Sign in as the demo user" button.
// It exists only where `npm start` itself prints the demo user's JWT: the
// embedded database, or DATABASE_URL started with --demo, and only while the
// demo user exists; everywhere else it is 404, like /_local/query without the
// embedded database. It answers the page's own origin only: a request whose
// Origin is another site (a page the user happens to visit) gets 403, and the
// answer carries no CORS headers, so no other site can read a token from it.
// The token is the demo user's, valid for one hour, signed with this
// database's own JWT secret (local/keys.ts).
import type { Db } from "../shared/db/types.ts";
import { errorResponse, HttpError, methodNotAllowed, notFound } from "../shared/http/errors.ts";
import { DEMO } from "./demo.ts";
import { signJwt } from "./keys.ts";

export const DEMO_SESSION_PATH = "/_local/demo-session";
const TTL_SECONDS = 3600;

export interface DemoSessionOptions {
  enabled: boolean;
  db: Db;
  jwtSecret: string;
}

export function createDemoSession(opts: DemoSessionOptions): (req: Request) => Promise<Response | null> {
  return async (req) => {
    if (new URL(req.url).pathname !== DEMO_SESSION_PATH) return null;
    const off = "the demo sign-in exists only on the embedded database or with `npm start -- --demo`; sign in with a user's token instead";
    if (!opts.enabled) return errorResponse(notFound(off));
    if (req.method !== "POST") return errorResponse(methodNotAllowed("POST"));
    const origin = req.headers.get("origin");
    if (origin !== null && origin !== new URL(req.url).origin) {
      return errorResponse(new HttpError(403, "forbidden", `the demo sign-in answers the console's own page only, not ${origin}`));
    }
    const [user] = await opts.db.query<{ email: string }>("select email from auth.users where id = $1", [DEMO.authId]);
    if (!user) return errorResponse(notFound(`the demo user (${DEMO.email}) is not in this database: ${off}`));
    const token = await signJwt(opts.jwtSecret, { sub: DEMO.authId, role: "authenticated", aud: "authenticated", email: user.email }, TTL_SECONDS);
    return Response.json({ access_token: token, token_type: "bearer", expires_in: TTL_SECONDS }, { headers: { "cache-control": "no-store" } });
  };
}
