// POST /functions/v1/automations-worker: drain due runs (claim → execute)
// until none are left or the time budget is spent, then report what was done.
// Called every minute by pg_cron + pg_net, and kicked after enqueues.
// 200 {processed, completed, failed, requeued, lost, errors, duration_ms} |
// 400 bad options | 401 not the service | 405 method | 503 database unavailable.
//
// Options come from the query string and/or a JSON body (the body wins):
// budget_ms (default 25000, at most 140000), concurrency (1..32, default 8)
// and max_runs (runs claimed per call, default DEFAULT_MAX_RUNS: Edge
// Functions stop a request at 2 s of CPU; see docs/deploy.md for the figures).
import { z } from "zod";
import { Worker } from "../engine/worker.ts";
import { json, readBody } from "../http/body.ts";
import { badRequest } from "../http/errors.ts";
import { allowMethods, handle, type Handler } from "../http/route.ts";
import { requireService } from "../http/service_auth.ts";
import type { AppDeps } from "../runtime/deps.ts";

export const DEFAULT_BUDGET_MS = 25_000;
/** Supabase Edge Functions are stopped at 150 s of wall clock; leave room to answer. */
export const MAX_BUDGET_MS = 140_000;
export const DEFAULT_CONCURRENCY = 8;
/**
 * Runs claimed per call. Hosted Edge Functions stop a request after 2 s of CPU
 * (async I/O not counted). Measured (`npm run bench -- hosted`, 2026-12-03):
 * 0.56 ms of the worker's CPU per one-step run (HTTP, postgres.js, template,
 * save), so 500 runs take about 0.3 s, 14 % of the limit: room for steps 7
 * times heavier (more steps, larger payloads) before hosted would stop the
 * call mid-run. While runs are still due the kick calls again within a second.
 */
export const DEFAULT_MAX_RUNS = 500;
export const MAX_RUNS = 100_000;
export const MAX_CONCURRENCY = 32;

const Options = z.object(
  {
    budget_ms: z
      .number({ error: "budget_ms must be a number of milliseconds" })
      .int("budget_ms must be a whole number of milliseconds")
      .min(1, "budget_ms must be at least 1")
      .max(MAX_BUDGET_MS, `budget_ms is at most ${MAX_BUDGET_MS} (Edge Functions are stopped after 150 s)`)
      .optional(),
    max_runs: z
      .number({ error: "max_runs must be a number" })
      .int("max_runs must be a whole number")
      .min(1, "max_runs must be at least 1")
      .max(MAX_RUNS, `max_runs is at most ${MAX_RUNS}`)
      .optional(),
    concurrency: z
      .number({ error: "concurrency must be a number" })
      .int("concurrency must be a whole number")
      .min(1, "concurrency must be at least 1")
      .max(MAX_CONCURRENCY, `concurrency is at most ${MAX_CONCURRENCY}`)
      .optional(),
  },
  { error: "the body must be a JSON object (or empty)" },
);
type Options = z.infer<typeof Options>;

async function readOptions(req: Request, limit: number): Promise<Options> {
  const raw: Record<string, unknown> = {};
  const query = new URL(req.url).searchParams;
  for (const key of ["budget_ms", "concurrency", "max_runs"]) {
    const v = query.get(key);
    if (v !== null) raw[key] = v.trim() === "" ? NaN : Number(v);
  }
  const text = new TextDecoder().decode(await readBody(req, limit)).trim();
  let body: unknown = {};
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw badRequest(`body is not valid JSON: ${(e as Error).message}`, "invalid_json");
    }
  }
  // Unknown fields are ignored: pg_net callers may send their own metadata.
  const merged = body && typeof body === "object" && !Array.isArray(body) ? { ...raw, ...body } : body;
  const parsed = Options.safeParse(merged);
  if (!parsed.success) throw badRequest(parsed.error.issues[0]!.message);
  return parsed.data;
}

export interface WorkerHandlerOptions {
  /** Hard ceiling for one invocation, below the platform's 150 s. Default 145000. */
  wallClockMs?: number;
  /** How long in-flight runs may finish after the budget (within the ceiling). Default 30000. */
  graceMs?: number;
}

export function createWorkerHandler(deps: AppDeps, opts: WorkerHandlerOptions = {}): Handler {
  const wallClockMs = opts.wallClockMs ?? 145_000;
  const graceMs = opts.graceMs ?? 30_000;

  return handle(deps.logger, "automations-worker", async (req) => {
    allowMethods(req, "POST");
    requireService(req, deps.auth);
    const options = await readOptions(req, deps.maxBodyBytes);
    const budget = options.budget_ms ?? DEFAULT_BUDGET_MS;
    const started = Date.now();

    const worker = new Worker({
      db: deps.db,
      settings: deps.settings,
      logger: deps.logger,
      fetch: deps.fetch,
      now: deps.now,
      leaseSeconds: deps.leaseSeconds,
      getAction: deps.getAction,
      auth: deps.auth,
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    });

    // The budget only stops claiming; runs in flight then have until the
    // grace period (or the wall-clock ceiling) ends. After that stop() aborts
    // them and hands them back to the queue (counted as requeued, not failed)
    // before the platform kills the isolate mid-step.
    const grace = Math.max(0, Math.min(graceMs, wallClockMs - budget));
    const hardStop = setTimeout(() => {
      void worker.stop(grace).catch((e: unknown) => deps.logger.error("worker stop failed", { error: String(e) }));
    }, budget);
    let stats;
    try {
      stats = await worker.drain(budget, options.max_runs ?? DEFAULT_MAX_RUNS);
    } finally {
      clearTimeout(hardStop);
    }

    const duration_ms = Date.now() - started;
    if (stats.claimed > 0 || stats.errors > 0) {
      deps.logger.info("worker drained", { worker: worker.id, ...stats, duration_ms, budget_ms: budget });
    }
    return json({
      processed: stats.claimed,
      completed: stats.completed,
      failed: stats.failed,
      requeued: stats.requeued,
      lost: stats.lost,
      errors: stats.errors,
      duration_ms,
    });
  });
}
