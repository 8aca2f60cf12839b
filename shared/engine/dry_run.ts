// A dry run: what each step of an automation's current snapshot would do with
// a given trigger payload, computed with the engine's own pieces (run
// context, conditions with their work budget, templates with their output
// budget, each action's config schema) and without executing any action or
// writing anything. Pure: the caller loads the snapshot and payload
// (sql/dry_run_input.ts) and decides where the result goes.
//
// What cannot be known before a real run is shown as unknown rather than
// guessed: an earlier step's output (it has not run), and the run's id and
// creation time. A template reading one renders as "‹unknown: steps.x.output.y›"
// and the path is listed in the step's `unknown`; a condition reading one has
// outcome "unknown", and so does the step (`would: "unknown"`).
import { parseStepConfig, type ActionDefinition } from "./action_contract.ts";
import { ConditionError, evaluateCondition, UnknownValueRead } from "./expressions/conditions.ts";
import { resolveTemplates, TemplateError } from "./expressions/templates.ts";
import { addStep, buildRunContext, type RunContext } from "./run_context.ts";
import type { SnapshotAction } from "./types.ts";

export interface DryRunInput {
  automation: { id: string; name: string; org_id: string };
  /** The snapshot new runs execute (automations.current_version_id), in order. */
  actions: SnapshotAction[];
  trigger: { type: string; payload: unknown; headers?: Record<string, string> | null };
  /** The template output budget of one config (settings.templates.maxOutputChars). */
  maxOutputChars: number;
  getAction: (type: string) => ActionDefinition<unknown> | undefined;
}

export type Would = "run" | "skip" | "stop" | "unknown";

export interface DryRunStep {
  index: number;
  name: string | null;
  type: string;
  condition: { if: unknown; outcome: boolean | "unknown"; else: "skip" | "stop" } | null;
  would: Would;
  /** The config with its templates rendered; null when rendering failed (see error). */
  config: unknown;
  /** Template paths whose values are unknown until a real run, in order of first use. */
  unknown: string[];
  /** Type-specific: the request, the email, the change (built-in actions only). */
  preview: Record<string, unknown> | null;
  error: string | null;
}

export interface DryRunResult {
  automation_id: string;
  dry_run: true;
  trigger: { type: string; payload: unknown };
  steps: DryRunStep[];
}

/** How an unknown value is shown, e.g. "‹unknown: steps.fetch.output.id›". */
export const unknownMarker = (path: string): string => `\u2039unknown: ${path}\u203a`;

// While validating, an unknown value stands as a placeholder ("{{‹unknown: …›}}"),
// which every config schema accepts wherever a template could go, exactly as
// when the automation was saved; the braces are stripped for display.
const STAND_IN = /\{\{(\u2039unknown: [^\u203a]*\u203a)\}\}/g;

export function dryRun(input: DryRunInput): DryRunResult {
  const ctx = buildRunContext({
    id: "",
    attempt: 1,
    created_at: new Date(0),
    trigger_type: input.trigger.type,
    trigger_payload: input.trigger.payload,
    trigger_headers: input.trigger.headers ?? null,
    automation_id: input.automation.id,
    automation_name: input.automation.name,
    org_id: input.automation.org_id,
  });
  // Names and positions of the steps whose output is unknown (they would run, or might).
  const unknownSteps = new Set<string>();
  const isUnknown = (keys: readonly string[]): boolean =>
    keys[0] === "steps"
      ? keys.length === 1
        ? unknownSteps.size > 0
        : unknownSteps.has(keys[1]!)
      : keys[0] === "run" && (keys.length === 1 || keys[1] === "id" || keys[1] === "created_at");

  const steps: DryRunStep[] = [];
  let stoppedAt: number | null = null;
  for (let i = 0; i < input.actions.length; i++) {
    const action = input.actions[i]!;
    const step = planStep(i, action, ctx, input, isUnknown);
    if (stoppedAt !== null) {
      // Not reached: an earlier step stops the run, so nothing of this one is evaluated.
      step.would = "skip";
      step.error = null;
    }
    steps.push(step);
    if (step.would === "run" || step.would === "unknown") {
      unknownSteps.add(String(i));
      if (action.name) unknownSteps.add(action.name);
    } else {
      // A skipped step's output is known: null, as a real run records it.
      addStep(ctx, i, action, { output: null, status: "skipped" });
    }
    if (step.would === "stop") stoppedAt = i;
  }
  return {
    automation_id: input.automation.id,
    dry_run: true,
    trigger: { type: input.trigger.type, payload: input.trigger.payload },
    steps,
  };
}

function planStep(
  index: number,
  action: SnapshotAction,
  ctx: RunContext,
  input: DryRunInput,
  isUnknown: (keys: readonly string[]) => boolean,
): DryRunStep {
  const step: DryRunStep = {
    index,
    name: action.name ?? null,
    type: action.action_type,
    condition: null,
    would: "run",
    config: null,
    unknown: [],
    preview: null,
    error: null,
  };
  const problems: string[] = [];
  if (action.condition) {
    const otherwise = action.condition.else ?? "skip";
    step.condition = { if: action.condition.if, outcome: "unknown", else: otherwise };
    try {
      const pass = evaluateCondition(action.condition.if, ctx, { isUnknown });
      step.condition.outcome = pass;
      step.would = pass ? "run" : otherwise;
    } catch (e) {
      if (e instanceof UnknownValueRead) {
        step.would = "unknown";
        step.unknown.push(e.path);
      } else if (e instanceof ConditionError) {
        problems.push(e.message);
      } else {
        throw e;
      }
    }
  }

  const seen = new Set(step.unknown);
  let rendered: unknown;
  try {
    rendered = resolveTemplates(action.action_config, ctx, {
      missing: action.template_missing ?? "error",
      maxOutput: input.maxOutputChars,
      standIn: (keys) => {
        if (!isUnknown(keys)) return undefined;
        const path = keys.join(".");
        if (!seen.has(path)) step.unknown.push(path);
        seen.add(path);
        return `{{${unknownMarker(path)}}}`;
      },
    });
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    problems.push(e.message);
  }

  const def = input.getAction(action.action_type);
  if (rendered !== undefined) {
    const display = stripStandIns(rendered);
    step.config = def?.redact ? def.redact(display) : display;
  }
  if (def && rendered !== undefined) {
    // The same check a run makes after rendering; a custom type this runtime
    // does not know is shown with its rendered config only.
    const parsed = parseStepConfig(def, action.action_type, rendered);
    if (!parsed.ok) problems.push(parsed.message);
    else if (def.preview) step.preview = stripStandIns(def.preview(parsed.data, { index })) as Record<string, unknown>;
  }
  // A step a false condition skips is never rendered by a run, so what would
  // fail here is no error (typically the condition tests for the very value
  // a template reads); it is shown as far as it renders.
  const runs = step.would === "run" || step.would === "unknown";
  step.error = runs && problems.length ? problems.join("; ") : null;
  return step;
}

/** The rendered value with every stand-in placeholder shown as its bare marker. */
function stripStandIns(value: unknown): unknown {
  if (typeof value === "string") return value.includes("{{\u2039") ? value.replace(STAND_IN, "$1") : value;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(stripStandIns);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripStandIns(v)]));
}
