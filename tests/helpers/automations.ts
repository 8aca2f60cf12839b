// Automations with actions, written as the service, plus an engine wired to
// test actions defined in the test itself.
import { z } from "zod";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import type { Db } from "../../shared/db/types.ts";
import type { ExecuteDeps } from "../../shared/engine/execute_run.ts";
import { silentLogger } from "../../shared/logger.ts";
import { loadSettings } from "../../shared/settings.ts";

export interface ActionSpec {
  type: string;
  config?: unknown;
  name?: string;
  position?: number;
  condition?: unknown;
}

export interface AutomationSpec {
  name?: string;
  trigger_type?: "event" | "schedule" | "webhook" | "manual";
  trigger_config?: unknown;
  status?: "active" | "paused" | "draft" | "archived";
  max_attempts?: number;
  retry_backoff_seconds?: number;
  actions?: ActionSpec[];
}

export async function createAutomation(db: Db, orgId: string, spec: AutomationSpec = {}): Promise<string> {
  const [a] = await db.query<{ id: string }>(
    `insert into public.automations (org_id, name, trigger_type, trigger_config, status, max_attempts, retry_backoff_seconds)
     values ($1, $2, $3, $4::jsonb, $5, $6, $7) returning id`,
    [
      orgId,
      spec.name ?? "Test automation",
      spec.trigger_type ?? "manual",
      JSON.stringify(spec.trigger_config ?? {}),
      spec.status ?? "active",
      spec.max_attempts ?? 3,
      spec.retry_backoff_seconds ?? 10,
    ],
  );
  const actions = spec.actions ?? [];
  if (actions.length) {
    // One statement, so one snapshot.
    await db.query(
      `insert into public.automation_actions (org_id, automation_id, action_type, action_config, position, name, condition)
       select $1, $2, x.action_type, x.action_config, x.position, x.name, x.condition
         from jsonb_to_recordset($3::jsonb) as x(action_type text, action_config jsonb, position int, name text, condition jsonb)`,
      [
        orgId,
        a!.id,
        JSON.stringify(
          actions.map((s, i) => ({
            action_type: s.type,
            action_config: s.config ?? {},
            position: s.position ?? i,
            name: s.name ?? null,
            condition: s.condition ?? null,
          })),
        ),
      ],
    );
  }
  return a!.id;
}

/** A test action: records every execution and does what `behave` says. */
export function probeAction(
  type: string,
  calls: Array<{ runId: string; step: number; attempt: number; key: string; config: unknown }>,
  behave: (config: Record<string, unknown>, call: number) => unknown | Promise<unknown> = (c) => ({ echo: c }),
): ActionDefinition<Record<string, unknown>> {
  return {
    type,
    description: "test probe",
    schema: z.record(z.string(), z.unknown()),
    async execute(config, ctx) {
      calls.push({ runId: ctx.runId, step: ctx.stepIndex, attempt: ctx.attempt, key: ctx.idempotencyKey, config });
      return { output: await behave(config, calls.length) };
    },
  };
}

export function engineDeps(db: Db, actions: ActionDefinition<any>[], overrides: Partial<ExecuteDeps> = {}): ExecuteDeps {
  const byType = new Map(actions.map((a) => [a.type, a as ActionDefinition<unknown>]));
  return {
    db,
    settings: loadSettings({ AUTOMATIONS_ALLOW_PRIVATE_NETWORK: "true" }),
    logger: silentLogger,
    fetch: globalThis.fetch,
    now: () => new Date(),
    leaseSeconds: 30,
    getAction: (t) => byType.get(t),
    ...overrides,
  };
}

export async function runRow(db: Db, runId: string) {
  const [r] = await db.query<{
    status: string;
    attempt: number;
    failed_attempts: number;
    error_message: string | null;
    result: unknown;
    run_at: Date;
    started_at: Date | null;
    completed_at: Date | null;
  }>("select * from public.automation_runs where id = $1", [runId]);
  return r!;
}

export async function stepRows(db: Db, runId: string) {
  return db.query<{ step_index: number; status: string; input: unknown; output: unknown; error_message: string | null; attempt: number; name: string | null }>(
    "select step_index, status, input, output, error_message, attempt, name from public.automation_run_steps where run_id = $1 order by step_index",
    [runId],
  );
}

/**
 * Write automations as if saved before save-time validation existed (or by a
 * restore): the validation triggers are off for the duration of fn.
 */
export async function withoutConfigValidation<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  const triggers = ["automations_check_trigger_config_insert", "automations_check_trigger_config_update"];
  await db.query(`alter table public.automations ${triggers.map((x) => `disable trigger ${x}`).join(", ")}`);
  try {
    return await fn();
  } finally {
    await db.query(`alter table public.automations ${triggers.map((x) => `enable trigger ${x}`).join(", ")}`);
  }
}
