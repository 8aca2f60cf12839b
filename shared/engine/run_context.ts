// The data templates and conditions see: {trigger, steps, run, automation, org}.
// Steps are reachable by position ("0", "1", ...) and by name.
import type { ClaimedRun, SnapshotAction } from "./types.ts";

export interface StepView {
  output: unknown;
  status: string;
}

export interface RunContext {
  /** headers: a webhook's kept request headers (lower-case names); {} for other triggers. */
  trigger: { type: string; payload: unknown; headers: Record<string, string> };
  steps: Record<string, StepView>;
  run: { id: string; attempt: number; created_at: string };
  automation: { id: string; name: string };
  org: { id: string };
}

/** The fields of a run the context is built from (a dry run has no claim). */
export type RunContextSource = Pick<
  ClaimedRun,
  "id" | "attempt" | "created_at" | "trigger_type" | "trigger_payload" | "trigger_headers" | "automation_id" | "automation_name" | "org_id"
>;

export function buildRunContext(run: RunContextSource): RunContext {
  return {
    trigger: { type: run.trigger_type ?? "manual", payload: run.trigger_payload, headers: run.trigger_headers ?? {} },
    steps: Object.create(null) as Record<string, StepView>,
    run: { id: run.id, attempt: run.attempt, created_at: new Date(run.created_at).toISOString() },
    automation: { id: run.automation_id, name: run.automation_name },
    org: { id: run.org_id },
  };
}

export function addStep(ctx: RunContext, index: number, action: SnapshotAction, view: StepView): void {
  ctx.steps[String(index)] = view;
  if (action.name) ctx.steps[action.name] = view;
}

/** How a step is named in messages: `step 2 "notify" (send_email)`. */
export function describeStep(index: number, action: SnapshotAction): string {
  return `step ${index}${action.name ? ` "${action.name}"` : ""} (${action.action_type})`;
}
