// `npm run automations -- test <automation_id> [--payload JSON | --payload-file F] [--json]`:
// a dry run of the automation's current actions (shared/engine/dry_run.ts),
// the same result automations-api's POST /automations/<id>/test returns.
// Nothing is sent or written. Exit 0 when no step has an error, 1 otherwise,
// so a CI can check an automation before activating it.
import { readFileSync } from "node:fs";
import { getAction } from "../shared/actions/registry.ts";
import type { Db } from "../shared/db/types.ts";
import { dryRunAutomation, type AutomationDryRun } from "../shared/engine/dry_run_automation.ts";
import type { DryRunStep } from "../shared/engine/dry_run.ts";
import { loadSettings } from "../shared/settings.ts";

export interface TestOptions {
  payload?: string;
  payloadFile?: string;
  json: boolean;
  env: Record<string, string | undefined>;
}

/** The payload the user gave (undefined: none, so the last run's is used), checked to be a JSON object. */
export function givenPayload(opts: Pick<TestOptions, "payload" | "payloadFile">): Record<string, unknown> | undefined {
  if (opts.payload !== undefined && opts.payloadFile !== undefined) throw new Error("give --payload or --payload-file, not both");
  let text: string;
  let what: string;
  if (opts.payloadFile !== undefined) {
    what = `--payload-file ${opts.payloadFile}`;
    try {
      text = readFileSync(opts.payloadFile, "utf8");
    } catch (e) {
      throw new Error(`cannot read ${what}: ${(e as Error).message}`);
    }
  } else if (opts.payload !== undefined) {
    what = "--payload";
    text = opts.payload;
  } else {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object (the trigger payload), not ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Runs the dry run and prints it; returns the exit code. */
export async function testCommand(db: Db, automationId: string, opts: TestOptions): Promise<number> {
  const payload = givenPayload(opts);
  const result = await dryRunAutomation(db, automationId, {
    payload,
    maxOutputChars: loadSettings(opts.env).templates.maxOutputChars,
    getAction,
  });
  if (!result) throw new Error(`no automation ${automationId}`);
  console.log(opts.json ? JSON.stringify(result, null, 2) : formatDryRun(result));
  return result.steps.some((s) => s.error !== null) ? 1 : 0;
}

const SOURCE = { given: "given", last_run: "the last run's", empty: "none given and no earlier run: {}" } as const;
const oneLine = (v: unknown, max = 400) => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
};

/** The result for a terminal: one block per step. */
export function formatDryRun(r: AutomationDryRun): string {
  const lines = [
    `dry run of automation ${r.automation_id} (nothing is sent or written)`,
    `trigger ${r.trigger.type}, payload (${SOURCE[r.payload_source]}): ${oneLine(r.trigger.payload)}`,
  ];
  if (r.steps.length === 0) lines.push("no actions: a run would complete at once");
  for (const s of r.steps) lines.push("", ...stepLines(s));
  const failing = r.steps.filter((s) => s.error !== null).length;
  lines.push("", failing ? `${failing} of ${r.steps.length} steps would fail` : `no errors in ${r.steps.length} steps`);
  return lines.join("\n");
}

function verdict(s: DryRunStep): string {
  if (s.would === "run") return "would run";
  if (s.would === "stop") return "would stop the run (condition false)";
  if (s.would === "unknown") return "might run: its condition reads values unknown until a real run";
  return s.condition?.outcome === false ? "would be skipped (condition false)" : "not reached: an earlier step stops the run";
}

function stepLines(s: DryRunStep): string[] {
  const out = [`step ${s.index}${s.name ? ` "${s.name}"` : ""} (${s.type}): ${verdict(s)}`];
  if (s.condition) out.push(`  condition ${oneLine(s.condition.if)} -> ${String(s.condition.outcome)} (else ${s.condition.else})`);
  const shown = s.preview ?? (s.config !== null && typeof s.config === "object" ? (s.config as Record<string, unknown>) : null);
  if (shown) for (const [k, v] of Object.entries(shown)) out.push(`  ${k}: ${oneLine(v)}`);
  if (s.unknown.length) out.push(`  unknown until a real run: ${s.unknown.join(", ")}`);
  if (s.error) out.push(`  error: ${s.error}`);
  return out;
}
