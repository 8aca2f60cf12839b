// A dry run of a stored automation, as automations-api and the CLI run it:
// load the automation and its current snapshot, pick the payload (the one
// given, else the last readable run's, else {}), then plan every step with
// dryRun(). Only reads: nothing is enqueued, sent or written.
import type { Db } from "../db/types.ts";
import type { ActionDefinition } from "./action_contract.ts";
import { dryRun, type DryRunResult } from "./dry_run.ts";
import { loadDryRunAutomation, loadLastPayload } from "./sql/dry_run_input.ts";

export type PayloadSource = "given" | "last_run" | "empty";

export interface AutomationDryRun extends DryRunResult {
  payload_source: PayloadSource;
}

export interface DryRunOptions {
  /** The trigger payload to test with; undefined: the last readable run's, else {}. */
  payload?: unknown;
  maxOutputChars: number;
  getAction: (type: string) => ActionDefinition<unknown> | undefined;
}

/** Null when the automation does not exist or `db` may not see it. */
export async function dryRunAutomation(db: Db, automationId: string, opts: DryRunOptions): Promise<AutomationDryRun | null> {
  const automation = await loadDryRunAutomation(db, automationId);
  if (!automation) return null;
  let source: PayloadSource = "given";
  let payload = opts.payload;
  let headers: Record<string, string> | null = null;
  if (payload === undefined) {
    const last = await loadLastPayload(db, automationId);
    source = last ? "last_run" : "empty";
    payload = last ? last.payload : {};
    headers = last?.headers ?? null;
  }
  const result = dryRun({
    automation,
    actions: automation.actions,
    trigger: { type: automation.trigger_type, payload, headers },
    maxOutputChars: opts.maxOutputChars,
    getAction: opts.getAction,
  });
  // payload_source right after trigger, as the contract lists it.
  const { steps, ...head } = result;
  return { ...head, payload_source: source, steps };
}
