// The contract between the engine and the actions it runs, owned by the
// engine (shared/actions/ implements it; the engine never imports actions).
// An action is a zod schema for its config (checked when the automation is
// saved and again, after template resolution, at run time) and an execute
// function that gets everything it may touch through its context: nothing is
// created at module load.
import type { z } from "zod";
import type { Db } from "../db/types.ts";
import type { Logger } from "../logger.ts";
import type { Settings } from "../settings.ts";

export interface ActionContext {
  /** Service connection (bypasses RLS): every query MUST be scoped to orgId. Catalog lookups only for data. */
  db: Db;
  /**
   * Runs fn in a transaction as the automation's acting member, under RLS
   * (`set local role authenticated` + their JWT claims), or as the service
   * when the automation was created by the service. The member is looked up
   * at each call: one who is no longer an active member fails the step
   * (permanent ActionError), and so does an RLS refusal (42501). Every action
   * that reads or writes app tables must use it (and register its type with
   * writes_database in automations_engine.custom_action_types). The engine
   * always sets it; absent only in contexts built by hand (tests).
   */
  asMember?: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  orgId: string;
  automationId: string;
  runId: string;
  /** 0-based index of the step in the run's snapshot. */
  stepIndex: number;
  attempt: number;
  /** Stable across attempts of the same step: `<run_id>:<step_index>`. Send it so receivers can dedupe. */
  idempotencyKey: string;
  fetch: typeof fetch;
  now: () => Date;
  logger: Logger;
  settings: Settings;
  /** Aborted when the worker shuts down or the run's lease is lost. */
  signal: AbortSignal;
  /**
   * Value of the x-automations-cause header for requests this run makes
   * (shared/http/run_cause_header.ts): a call back into our own functions then
   * counts against this run's chain. Undefined when the runtime has no secret.
   */
  runCause?: string;
}

export interface ActionResult {
  /** Stored on the step row and available to later steps as steps.<name>.output. */
  output: unknown;
  /** For delay: the run sleeps (releases its worker) until this time, then continues. */
  waitUntil?: Date;
}

export interface ActionDefinition<C = unknown> {
  type: string;
  /** One line for docs and error messages. */
  description: string;
  schema: z.ZodType<C>;
  execute(config: C, ctx: ActionContext): Promise<ActionResult>;
  /**
   * Dry runs (dry_run.ts): what the step would do with this resolved config,
   * computed without any I/O (the request a webhook would send, the email
   * that would go out). Credentials are shown as REDACTED.
   */
  preview?(config: C, step: { index: number }): Record<string, unknown>;
  /** Dry runs: the rendered config as shown to the user, credentials masked (e.g. an Authorization header). */
  redact?(config: unknown): unknown;
}

/** How a dry run shows a credential it will not print. */
export const REDACTED = "\u2039redacted\u203a";

/**
 * A step's resolved config checked against its action's schema, as a run and
 * a dry run both check it; `message` says what is wrong. Without a
 * definition the type is unknown to this runtime.
 */
export function parseStepConfig<C>(
  def: ActionDefinition<C> | undefined,
  type: string,
  input: unknown,
): { ok: true; data: C; def: ActionDefinition<C> } | { ok: false; message: string } {
  if (!def) return { ok: false, message: `unknown action type "${type}"` };
  const parsed = def.schema.safeParse(input);
  if (parsed.success) return { ok: true, data: parsed.data, def };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? issue.path.join(".") : "config";
  return { ok: false, message: `invalid config after templates: ${where}: ${issue.message}` };
}

/**
 * A step failure. `retryable` decides whether the run is retried with backoff
 * (timeouts, 5xx, 429, connection errors) or fails at once (4xx, bad config,
 * a refused address). The message is shown to users in run history: say what
 * was wrong and what to do.
 */
export class ActionError extends Error {
  readonly retryable: boolean;
  readonly code: string;
  /** Server-requested wait before the next attempt (HTTP Retry-After on 429/503); the engine may honour it. */
  readonly retryAfterMs?: number;
  constructor(
    code: string,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "ActionError";
    this.code = code;
    this.retryable = opts.retryable ?? false;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}
