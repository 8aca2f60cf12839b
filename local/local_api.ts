// Local-only endpoints under /_local. /_local/query runs any SQL as the
// database owner, so it is the automations CLI's alone, and only where the
// CLI cannot connect itself: the embedded database has one connection and
// lives in the runtime's process. It needs the service role key AND the CLI
// token this process wrote to the data directory (mode 0600): a key that
// leaked into a browser, a log or a run's step is not enough. With
// DATABASE_URL it does not exist (404): the CLI connects to the database.
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { json, parseJsonText, readBody } from "../shared/http/body.ts";
import { badRequest, HttpError, notFound } from "../shared/http/errors.ts";
import { allowMethods, handle } from "../shared/http/route.ts";
import { requireService } from "../shared/http/service_auth.ts";
import type { AppDeps } from "../shared/runtime/deps.ts";

const QueryBody = z.object({ sql: z.string().min(1), params: z.array(z.unknown()).default([]) });

export const CLI_TOKEN_HEADER = "x-automations-cli-token";

export interface LocalApiOptions {
  /** This process's CLI token; null when the database is not the embedded one (no /_local/query). */
  cliToken: string | null;
  /** Where the token is, for the error message. */
  cliTokenFile?: string;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

export function createLocalApi(deps: AppDeps, opts: LocalApiOptions): (req: Request) => Promise<Response | null> {
  const query = handle(deps.logger, "local query", async (req) => {
    if (opts.cliToken === null) {
      throw notFound("/_local/query exists only on the embedded database; with DATABASE_URL connect to the database directly (the CLI does)");
    }
    allowMethods(req, "POST");
    // The service role key itself: not the shared secret the functions also accept.
    requireService(req, { serviceRoleKey: deps.auth.serviceRoleKey });
    const token = req.headers.get(CLI_TOKEN_HEADER);
    if (!token || !sameToken(token, opts.cliToken)) {
      throw new HttpError(
        403,
        "cli_only",
        `/_local/query is for the automations CLI only (\`npm run automations\`): send ${CLI_TOKEN_HEADER} with the token in ${opts.cliTokenFile ?? "the data directory"}`,
      );
    }
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
