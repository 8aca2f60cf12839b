// Local-only endpoints under /_local for the CLI, guarded by the service role
// key. The embedded database has one connection and lives in the runtime's
// process, so the CLI reaches it through here (with DATABASE_URL it connects
// directly instead).
import { z } from "zod";
import { json, parseJsonText, readBody } from "../shared/http/body.ts";
import { badRequest } from "../shared/http/errors.ts";
import { allowMethods, handle } from "../shared/http/route.ts";
import { requireService } from "../shared/http/service_auth.ts";
import type { AppDeps } from "../shared/runtime/deps.ts";

const QueryBody = z.object({ sql: z.string().min(1), params: z.array(z.unknown()).default([]) });

export function createLocalApi(deps: AppDeps): (req: Request) => Promise<Response | null> {
  const query = handle(deps.logger, "local query", async (req) => {
    allowMethods(req, "POST");
    requireService(req, deps.auth);
    const parsed = QueryBody.safeParse(parseJsonText(new TextDecoder().decode(await readBody(req, 1_048_576)) || "{}"));
    if (!parsed.success) throw badRequest(`expected {sql, params}: ${parsed.error.issues[0]!.message}`);
    const rows = await deps.db.query(parsed.data.sql, parsed.data.params);
    return json({ rows });
  });
  return async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/_local/query") return query(req);
    if (path === "/" || path === "/_local/health") return json({ ok: true, functions: "/functions/v1/<name>" });
    return null;
  };
}
