// Execute one claimed run: its snapshot's actions in order, resuming after
// the steps a previous attempt completed. Each step is stored as it ends (one
// fenced save_progress call; the last step's call also completes the run), so
// a one-step run costs one round trip after the claim.
import type { Db } from "../db/types.ts";
import type { AuthConfig } from "../http/auth_config.ts";
import { causeSecret, signCause } from "../http/run_cause_header.ts";
import type { Logger } from "../logger.ts";
import type { Settings } from "../settings.ts";
import { ActionError, parseStepConfig, type ActionDefinition } from "./action_contract.ts";
import { ConditionError, evaluateCondition } from "./expressions/conditions.ts";
import { asActingMember } from "./act_as_member.ts";
import { addStep, buildRunContext, describeStep, type RunContext } from "./run_context.ts";
import { extendLease } from "./sql/leases.ts";
import { saveProgress, type Progress } from "./sql/save_progress.ts";
import { loadSteps } from "./sql/steps.ts";
import { resolveTemplates, TemplateError } from "./expressions/templates.ts";
import type { ClaimedRun, Outcome, RunStatus, SnapshotAction, StepRecord, StepStatus } from "./types.ts";

export interface ExecuteDeps {
  db: Db;
  settings: Settings;
  logger: Logger;
  fetch: typeof fetch;
  now: () => Date;
  leaseSeconds: number;
  getAction: (type: string) => ActionDefinition<unknown> | undefined;
  /** Aborted when the worker shuts down: the run is handed back, not failed. */
  signal?: AbortSignal;
  /**
   * Aborted when the worker's heartbeat lapsed (shared/engine/heartbeat.ts):
   * the reaper may have handed the run to another worker, so this attempt
   * stops (RunInterrupted "lease_lost") and writes nothing more.
   */
  fence?: AbortSignal;
  /** How progress is recorded; the worker batches saves (shared/db/batcher.ts). Default: one save_progress call. */
  saveProgress?: (p: Progress) => Promise<RunStatus | null>;
  /** Called when the attempt's last write (completed, failed or wait) is issued: no action runs after it. */
  onFinishing?: () => void;
  /** Credentials of the runtime: a run's outbound requests are signed with them (x-automations-cause). */
  auth?: AuthConfig;
}

/** Thrown when a run was interrupted by shutdown or a lost lease; the worker decides what to do. */
export class RunInterrupted extends Error {
  constructor(readonly runId: string, readonly reason: "shutdown" | "lease_lost") {
    super(`run ${runId} interrupted: ${reason}`);
    this.name = "RunInterrupted";
  }
}

interface Failure {
  message: string;
  retryable: boolean;
  /** The receiver asked us to wait this long (Retry-After). */
  retryAfterMs?: number;
}

function classify(err: unknown): Failure {
  if (err instanceof ActionError) return { message: err.message, retryable: err.retryable, retryAfterMs: err.retryAfterMs };
  // The automation's own data is wrong: retrying cannot help.
  if (err instanceof TemplateError || err instanceof ConditionError) return { message: err.message, retryable: false };
  const message = err instanceof Error ? err.message : String(err);
  // An unexpected throw may be transient (a bug would repeat and hit the cap).
  return { message: `unexpected error: ${message}`, retryable: true };
}

/** Returns the run's new status, or null when this attempt no longer owned the run. */
export async function executeRun(run: ClaimedRun, deps: ExecuteDeps): Promise<RunStatus | null> {
  const ctx = buildRunContext(run);
  const prior = run.attempt > 1 ? await loadSteps(deps.db, run.id) : [];
  const done = new Map(prior.map((s) => [s.step_index, s]));
  const unsaved: StepRecord[] = [];
  let lastOutput: unknown = null;

  const record = (i: number, a: SnapshotAction, status: StepStatus, fields: Partial<StepRecord>, started: Date) => {
    const rec: StepRecord = {
      step_index: i,
      action_id: a.id ?? null,
      action_type: a.action_type,
      name: a.name ?? null,
      status,
      input: null,
      output: null,
      error_message: null,
      started_at: started.toISOString(),
      completed_at: status === "waiting" ? null : deps.now().toISOString(),
      ...fields,
    };
    unsaved.push(rec);
    return rec;
  };
  const write = deps.saveProgress ?? ((p: Progress) => saveProgress(deps.db, p));
  type Extra = { error?: string; retryable?: boolean; result?: unknown; runAt?: Date; maxAttempts?: number; backoffSeconds?: number };
  const save = (outcome: Outcome, extra: Extra = {}) => {
    if (outcome !== null) deps.onFinishing?.();
    return write({
      runId: run.id,
      attempt: run.attempt,
      claimToken: run.claim_token,
      steps: unsaved.splice(0),
      outcome,
      leaseSeconds: deps.leaseSeconds,
      ...extra,
    });
  };
  const fail = (i: number, a: SnapshotAction, input: unknown, f: Failure, started: Date) => {
    record(i, a, "failed", { input, error_message: f.message }, started);
    return save("failed", {
      error: `${describeStep(i, a)} failed: ${f.message}`,
      retryable: f.retryable,
      runAt: f.retryAfterMs ? new Date(deps.now().getTime() + f.retryAfterMs) : undefined,
      maxAttempts: a.retry?.max_attempts,
      backoffSeconds: a.retry?.backoff_seconds,
    });
  };
  const result = (extra: Record<string, unknown> = {}) => ({ output: lastOutput, ...extra });

  for (let i = 0; i < run.actions.length; i++) {
    if (deps.fence?.aborted) throw new RunInterrupted(run.id, "lease_lost");
    const action = run.actions[i]!;
    const before = done.get(i);
    if (before?.status === "completed" || before?.status === "skipped") {
      addStep(ctx, i, action, { output: before.output, status: before.status });
      if (before.status === "completed") lastOutput = before.output;
      continue;
    }
    if (before?.status === "waiting") {
      const until = new Date(String((before.output as { until?: string } | null)?.until));
      if (until.getTime() > deps.now().getTime()) return save("wait", { runAt: until });
      const output = { ...(before.output as object), waited: true };
      record(i, action, "completed", { input: before.input, output }, new Date(before.started_at));
      addStep(ctx, i, action, { output, status: "completed" });
      lastOutput = output;
      continue;
    }

    const started = deps.now();
    if (action.condition) {
      let pass: boolean;
      try {
        pass = evaluateCondition(action.condition.if, ctx);
      } catch (e) {
        return fail(i, action, null, classify(e), started);
      }
      if (!pass) {
        const reason = "condition was false";
        record(i, action, "skipped", { output: { reason } }, started);
        addStep(ctx, i, action, { output: null, status: "skipped" });
        if (action.condition.else === "stop") {
          return save("completed", { result: result({ stopped: { step: i, reason } }) });
        }
        continue;
      }
    }

    const outcome = await runStep(run, i, action, ctx, deps, started);
    if ("failure" in outcome) return fail(i, action, outcome.input, outcome.failure, started);
    const { input, output, waitUntil } = outcome;
    if (waitUntil && waitUntil.getTime() > deps.now().getTime()) {
      record(i, action, "waiting", { input, output }, started);
      return save("wait", { runAt: waitUntil });
    }
    record(i, action, "completed", { input, output }, started);
    addStep(ctx, i, action, { output, status: "completed" });
    lastOutput = output;
    const last = i === run.actions.length - 1;
    const status = await save(last ? "completed" : null, last ? { result: result() } : {});
    if (status === null || last) return status;
  }
  // No actions, trailing skipped steps, or everything was done by an earlier attempt.
  return save("completed", { result: result() });
}

type StepOutcome = { input: unknown; output: unknown; waitUntil?: Date } | { input: unknown; failure: Failure };

/** Resolve templates, validate, execute with a heartbeat. Never throws a step failure; returns it. */
async function runStep(
  run: ClaimedRun,
  i: number,
  action: SnapshotAction,
  ctx: RunContext,
  deps: ExecuteDeps,
  started: Date,
): Promise<StepOutcome> {
  let input: unknown;
  try {
    input = resolveTemplates(action.action_config, ctx, {
      missing: action.template_missing ?? "error",
      maxOutput: deps.settings.templates.maxOutputChars,
    });
  } catch (e) {
    return { input: action.action_config, failure: classify(e) };
  }
  const parsed = parseStepConfig(deps.getAction(action.action_type), action.action_type, input);
  if (!parsed.ok) return { input, failure: { message: parsed.message, retryable: false } };

  const abort = new AbortController();
  const onShutdown = () => abort.abort(new RunInterrupted(run.id, "shutdown"));
  const onFence = () => abort.abort(new RunInterrupted(run.id, "lease_lost"));
  deps.signal?.addEventListener("abort", onShutdown, { once: true });
  deps.fence?.addEventListener("abort", onFence, { once: true });
  if (deps.fence?.aborted) onFence();
  const beat = setInterval(() => {
    extendLease(deps.db, run.id, run.attempt, run.claim_token, deps.leaseSeconds).then(
      (ok) => ok || abort.abort(new RunInterrupted(run.id, "lease_lost")),
      (err: unknown) => deps.logger.warn("lease heartbeat failed", { run_id: run.id, error: String(err) }),
    );
  }, Math.max(1000, (deps.leaseSeconds * 1000) / 3));
  try {
    const res = await parsed.def.execute(parsed.data, {
      db: deps.db,
      asMember: (fn) => asActingMember(deps.db, run.id, fn),
      orgId: run.org_id,
      automationId: run.automation_id,
      runId: run.id,
      stepIndex: i,
      attempt: run.attempt,
      idempotencyKey: `${run.id}:${i}`,
      fetch: deps.fetch,
      now: deps.now,
      logger: deps.logger,
      settings: deps.settings,
      signal: abort.signal,
      runCause: runCauseHeader(deps, run.id),
    });
    return { input, output: res.output ?? null, waitUntil: res.waitUntil };
  } catch (e) {
    if (abort.signal.aborted && abort.signal.reason instanceof RunInterrupted) throw abort.signal.reason;
    deps.logger.debug("step failed", { run_id: run.id, step: i, started: started.toISOString(), error: String(e) });
    return { input, failure: classify(e) };
  } finally {
    clearInterval(beat);
    deps.signal?.removeEventListener("abort", onShutdown);
    deps.fence?.removeEventListener("abort", onFence);
  }
}

/** The signed x-automations-cause value for this run's outbound requests. */
function runCauseHeader(deps: ExecuteDeps, runId: string): string | undefined {
  const secret = causeSecret(deps.auth);
  return secret ? signCause(secret, runId) : undefined;
}
