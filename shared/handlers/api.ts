// /functions/v1/automations-api: what the run console (and any client) reads
// and does, as the signed-in user.
//   GET  /automations                      the org's automations with recent health
//   GET  /automations/<id>                 one automation with its ordered actions
//   POST /automations/<id>/status          {"status": "active"|"paused"}
//   POST /automations/<id>/test            {"payload": {...}} optional: a dry run (api_dry_run.ts)
//   GET  /runs?automation_id=&status=&limit=&after=   newest first, keyset paged
//   GET  /runs/<id>                        the run with its steps
//   POST /runs/<id>/retry | /runs/<id>/cancel
// 400 bad input | 401 token | 404 unknown path or id (another org's ids too) |
// 405 method | 409 the run or automation is not in a state for that change.
//
// Exactly as automations-run: the user's JWT is verified, then every query
// runs inside asUser so RLS decides; this file holds no authorization logic.
import { z } from "zod";
import { asUser, type JwtClaims } from "../db/as_user.ts";
import type { Db } from "../db/types.ts";
import { json, parseJsonText, readBody } from "../http/body.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { createUserJwtVerifier } from "../http/jwt.ts";
import { allowMethods, handle, UUID_RE, type Handler } from "../http/route.ts";
import type { AppDeps } from "../runtime/deps.ts";
import * as q from "./api_queries.ts";
import { testAutomation, TestBody } from "./api_dry_run.ts";

export const FUNCTION_NAME = "automations-api";

export const API_CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type",
  "access-control-allow-methods": "GET, POST, OPTIONS",
});

const LIMIT_ERROR = "limit must be a whole number from 1 to 100";
const RunsQuery = z.strictObject({
  automation_id: z.string().regex(UUID_RE, "automation_id must be a UUID").optional(),
  status: z
    .enum(["pending", "running", "completed", "failed"], { error: "status must be one of pending, running, completed, failed" })
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, LIMIT_ERROR)
    .transform(Number)
    .pipe(z.number().min(1, LIMIT_ERROR).max(100, LIMIT_ERROR))
    .optional(),
  after: z.string().min(1, "after must be the `next` cursor of a previous page").optional(),
});

const StatusBody = z.strictObject(
  { status: z.enum(["active", "paused"], { error: 'status must be "active" or "paused"' }) },
  { error: 'the body must be a JSON object like {"status": "paused"}' },
);
const CancelBody = z.strictObject(
  { reason: z.string({ error: "reason must be a string" }).max(500, "reason is longer than 500 characters").optional() },
  { error: 'the body must be empty or a JSON object like {"reason": "..."}' },
);

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") throw badRequest(`unknown parameter ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`);
  throw badRequest(issue.message);
}

async function jsonBody(req: Request, limit: number): Promise<unknown> {
  const text = new TextDecoder().decode(await readBody(req, limit));
  return text.trim() === "" ? {} : parseJsonText(text);
}

/** The path segments after /automations-api/. */
function segments(req: Request): string[] {
  const parts = new URL(req.url).pathname.split("/").filter(Boolean);
  const i = parts.indexOf(FUNCTION_NAME);
  return i < 0 ? [] : parts.slice(i + 1);
}

function idParam(value: string, what: string): string {
  // A malformed id cannot name any row: the same 404 as an invisible one.
  if (!UUID_RE.test(value)) throw notFound(`${what} ${value} not found`);
  return value.toLowerCase();
}

function withCors(res: Response): Response {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(API_CORS_HEADERS)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

export function createApiHandler(deps: AppDeps): Handler {
  const verifyUser = createUserJwtVerifier(deps.auth, { now: deps.now, fetch: deps.fetch });
  const as = <T>(claims: JwtClaims, fn: (tx: Db) => Promise<T>) => asUser(deps.db, claims, fn);

  /** The run as the user now sees it, after a change; 404 if it vanished meanwhile. */
  const runOr404 = async (claims: JwtClaims, id: string) => {
    const run = await as(claims, (tx) => q.readRunWithSteps(tx, id));
    if (!run) throw notFound(`run ${id} not found`);
    return run;
  };

  const route = async (req: Request, seg: string[]): Promise<Response> => {
    const [collection, rawId, verb, ...rest] = seg;
    if (rest.length > 0) throw notFound(`no such endpoint: ${new URL(req.url).pathname}`);

    if (collection === "automations" && rawId === undefined) {
      allowMethods(req, "GET");
      const claims = await verifyUser(req);
      return json({ automations: await as(claims, (tx) => q.listAutomations(tx)) });
    }
    if (collection === "automations" && rawId !== undefined && verb === undefined) {
      allowMethods(req, "GET");
      const claims = await verifyUser(req);
      const id = idParam(rawId, "automation");
      const automation = await as(claims, (tx) => q.readAutomation(tx, id));
      if (!automation) throw notFound(`automation ${id} not found`);
      return json(automation);
    }
    if (collection === "automations" && verb === "status") {
      allowMethods(req, "POST");
      const claims = await verifyUser(req);
      const id = idParam(rawId!, "automation");
      const body = parseWith(StatusBody, await jsonBody(req, deps.maxBodyBytes));
      return json(await as(claims, (tx) => q.setAutomationStatus(tx, id, body.status)));
    }
    if (collection === "automations" && verb === "test") {
      allowMethods(req, "POST");
      const claims = await verifyUser(req);
      const id = idParam(rawId!, "automation");
      return json(await testAutomation(deps, claims, id, parseWith(TestBody, await jsonBody(req, deps.maxBodyBytes))));
    }
    if (collection === "runs" && rawId === undefined) {
      allowMethods(req, "GET");
      const claims = await verifyUser(req);
      const query = parseWith(RunsQuery, Object.fromEntries(new URL(req.url).searchParams));
      return json(await as(claims, (tx) => q.listRuns(tx, { ...query, limit: query.limit ?? 50 })));
    }
    if (collection === "runs" && verb === undefined) {
      allowMethods(req, "GET");
      const claims = await verifyUser(req);
      return json(await runOr404(claims, idParam(rawId!, "run")));
    }
    if (collection === "runs" && verb === "retry") {
      allowMethods(req, "POST");
      const claims = await verifyUser(req);
      const id = idParam(rawId!, "run");
      // retry_run raises P0002 (invisible) → 404 and 55000 (not failed) → 409.
      await as(claims, (tx) => q.retryRun(tx, id));
      try {
        deps.kick(); // start it now rather than at the next worker tick
      } catch (e) {
        deps.logger.warn("kick after retry failed; the next worker tick will run it", { run_id: id, error: String(e) });
      }
      return json(await runOr404(claims, id));
    }
    if (collection === "runs" && verb === "cancel") {
      allowMethods(req, "POST");
      const claims = await verifyUser(req);
      const id = idParam(rawId!, "run");
      const body = parseWith(CancelBody, await jsonBody(req, deps.maxBodyBytes));
      await as(claims, (tx) => q.cancelRun(tx, id, body.reason ?? null));
      return json(await runOr404(claims, id));
    }
    throw notFound(`no such endpoint: ${new URL(req.url).pathname}`);
  };

  const inner = handle(deps.logger, FUNCTION_NAME, async (req) => {
    // Preflight carries no Authorization header: answer before checking it.
    if (req.method === "OPTIONS") return new Response(null, { status: 204 });
    return route(req, segments(req));
  });
  return async (req) => withCors(await inner(req));
}
