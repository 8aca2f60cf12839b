// POST /functions/v1/automations-run: a manual run for the signed-in user.
// 202 {run_id} | 200 the finished run (with `wait`) | 400 bad body |
// 401 token | 404 unknown or another org's automation | 405 method |
// 409 paused or archived, or the calling run's chain is over its budget |
// 413 too large | 503 database unavailable.
//
// The enqueue runs inside a transaction as the user (asUser), exactly as
// PostgREST would run `rpc('run_automation')`, so RLS decides what the user
// may run; this handler holds no authorization logic of its own.
// Browsers call it through supabase-js `functions.invoke`, hence CORS.
import { z } from "zod";
import { asUser, type JwtClaims } from "../db/as_user.ts";
import type { Db } from "../db/types.ts";
import { isTerminal } from "../engine/types.ts";
import { json, parseJsonText, readBody } from "../http/body.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { createUserJwtVerifier } from "../http/jwt.ts";
import { verifiedCause } from "../http/run_cause_header.ts";
import { isChainRefusal, recordChainRefusal, setRunCause } from "../engine/sql/chain.ts";
import { allowMethods, handle, UUID_RE, type Handler } from "../http/route.ts";
import type { AppDeps } from "../runtime/deps.ts";

export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type",
  "access-control-allow-methods": "POST, OPTIONS",
});

/** `wait: true` waits this long; a number is capped at MAX_WAIT_MS. */
export const DEFAULT_WAIT_MS = 25_000;
export const MAX_WAIT_MS = 30_000;

const WAIT_ERROR = "wait must be true, false or a whole number of milliseconds (at most 30000 are used)";

const RunBody = z.strictObject(
  {
    automation_id: z
      .string({
        error: (i) =>
          i.input === undefined ? "automation_id is required: the id of the automation to run" : "automation_id must be a string",
      })
      .regex(UUID_RE, "automation_id must be a UUID"),
    payload: z.unknown().optional(),
    idempotency_key: z
      .string({ error: "idempotency_key must be a string" })
      .min(1, "idempotency_key must not be empty")
      .max(248, "idempotency_key is longer than 248 characters")
      .optional(),
    wait: z.union([z.boolean(), z.number().int(WAIT_ERROR).nonnegative(WAIT_ERROR)], { error: WAIT_ERROR }).optional(),
  },
  { error: 'the body must be a JSON object like {"automation_id": "<uuid>", "payload": {...}}' },
);
type RunBody = z.infer<typeof RunBody>;

function parseBody(bytes: Uint8Array): RunBody {
  const text = new TextDecoder().decode(bytes);
  const raw: unknown = text.trim() === "" ? {} : parseJsonText(text);
  const parsed = RunBody.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    throw badRequest(
      `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}: the body accepts automation_id, payload, idempotency_key and wait`,
    );
  }
  throw badRequest(issue.message);
}

function waitMs(wait: RunBody["wait"]): number {
  if (wait === true) return DEFAULT_WAIT_MS;
  if (typeof wait === "number") return Math.min(wait, MAX_WAIT_MS);
  return 0;
}

export interface RunStepView {
  step_index: number;
  name: string | null;
  action_type: string;
  status: string;
  output: unknown;
  error_message: string | null;
  started_at: Date;
  completed_at: Date | null;
}

export interface RunView {
  run_id: string;
  status: "pending" | "running" | "completed" | "failed";
  started_at: Date | null;
  completed_at: Date | null;
  error_message: string | null;
  result: unknown;
  steps: RunStepView[];
}

/** The run as the user sees it under RLS; steps only once it is terminal. Null when invisible. */
async function readRun(db: Db, claims: JwtClaims, runId: string): Promise<RunView | null> {
  return asUser(db, claims, async (tx) => {
    const [run] = await tx.query<Omit<RunView, "steps">>(
      `select r.id as run_id, r.status::text as status, r.started_at, r.completed_at, r.error_message,
              case when p.run_id is null then r.result else p.result end as result
         from public.automation_runs r
         -- A restricted run's result: RLS shows it to its acting member only; others keep the marker.
         left join public.automation_run_payloads p on r.restricted and p.run_id = r.id
        where r.id = $1`,
      [runId],
    );
    if (!run) return null;
    const steps = isTerminal(run.status)
      ? await tx.query<RunStepView>(
          `select step_index, name, action_type, status::text as status, output, error_message, started_at, completed_at
             from public.automation_run_steps where run_id = $1 order by step_index`,
          [runId],
        )
      : [];
    return { ...run, steps };
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Poll until the run is terminal or `ms` pass. Polling with backoff (10 ms
 * doubling to 200 ms) rather than LISTEN: LISTEN needs a dedicated session,
 * which hosted Supabase's transaction pooler cannot give an edge function,
 * and a one-step run usually finishes within the first few polls. The cost is
 * at most ~200 ms of extra latency and ~5 small queries a second per waiter.
 */
async function waitForRun(db: Db, claims: JwtClaims, runId: string, ms: number, signal: AbortSignal): Promise<RunView> {
  const deadline = Date.now() + ms;
  let delay = 10;
  for (;;) {
    const run = await readRun(db, claims, runId);
    if (!run) throw notFound(`run ${runId} is no longer visible (it was deleted)`);
    const left = deadline - Date.now();
    // A client that hung up no longer needs an answer.
    if (isTerminal(run.status) || left <= 0 || signal.aborted) return run;
    await sleep(Math.min(delay, left), signal);
    delay = Math.min(delay * 2, 200);
  }
}

function withCors(res: Response): Response {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(CORS_HEADERS)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

export function createRunHandler(deps: AppDeps): Handler {
  const verifyUser = createUserJwtVerifier(deps.auth, { now: deps.now, fetch: deps.fetch });

  const inner = handle(deps.logger, "automations-run", async (req) => {
    // Preflight carries no Authorization header: answer before checking it.
    if (req.method === "OPTIONS") return new Response(null, { status: 204 });
    allowMethods(req, "POST", "OPTIONS");
    const claims = await verifyUser(req);
    const body = parseBody(await readBody(req, deps.maxBodyBytes));

    // run_automation raises P0002 (not found / other org) → 404 and 55000
    // (paused, archived) → 409 through the one error mapper.
    // A call from one of our runs (a webhook step calling back here) joins
    // that run's chain, whose budget and depth enqueue enforces (54000 → 409).
    const cause = verifiedCause(req, deps.auth);
    let runId: string;
    try {
      runId = await asUser(deps.db, claims, async (tx) => {
        await setRunCause(tx, cause);
        const [row] = await tx.query<{ run_id: string }>(
          "select public.run_automation($1::uuid, $2::jsonb, $3) as run_id",
          [body.automation_id, JSON.stringify(body.payload ?? {}), body.idempotency_key ?? null],
        );
        return row!.run_id;
      });
    } catch (e) {
      if (cause && isChainRefusal(e)) await recordChainRefusal(deps.db, cause, body.automation_id, (e as Error).message);
      throw e;
    }

    // The run is committed: a failing kick must not turn it into an error
    // the client would retry (creating a second run). The worker tick still
    // picks it up.
    try {
      deps.kick();
    } catch (e) {
      deps.logger.warn("kick after manual run failed; the next worker tick will run it", { run_id: runId, error: String(e) });
    }

    const ms = waitMs(body.wait);
    if (ms === 0) return json({ run_id: runId }, 202);
    const run = await waitForRun(deps.db, claims, runId, ms, req.signal);
    if (isTerminal(run.status)) return json(run, 200);
    return json({ run_id: runId, status: run.status }, 202);
  });

  return async (req) => withCors(await inner(req));
}
