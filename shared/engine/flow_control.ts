// Flow control columns of an automation: max_concurrency, concurrency_key,
// rate_limit. The database checks them when they are saved
// (automations_engine.flow_control_problems, migration 001500) with these
// words, and applies them in claim_runs(); this is the same check for code
// that builds an automation before saving it (tests/validation runs one
// corpus through both).

export interface FlowControl {
  max_concurrency?: number | null;
  concurrency_key?: string | null;
  rate_limit?: unknown;
}

/** A placeholder a concurrency key may use: {{trigger.payload.<path>}} or {{trigger.type}}. */
const KEY_PLACEHOLDER = /\{\{\s*trigger\.(payload(\.[A-Za-z0-9_$-]+)*|type)\s*\}\}/g;

const isWhole = (v: unknown, min: number, max: number) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** Problems with an automation's flow control columns; empty when they can be saved. */
export function flowControlProblems(f: FlowControl): string[] {
  const problems: string[] = [];
  const mc = f.max_concurrency;
  if (mc !== null && mc !== undefined && !(mc >= 1 && mc <= 10000)) {
    problems.push(`max_concurrency must be between 1 and 10000 (or null for no limit), got ${mc}`);
  }
  const key = f.concurrency_key;
  if (key !== null && key !== undefined) {
    const rest = key.replace(KEY_PLACEHOLDER, "");
    if ([...key].length > 500) {
      problems.push(`concurrency_key must be at most 500 characters, got ${[...key].length}`);
    } else if (rest === key) {
      problems.push("concurrency_key must contain a placeholder such as {{trigger.payload.customer_id}}");
    } else if (/\{\{|\}\}/.test(rest)) {
      problems.push(
        "concurrency_key may only use {{trigger.payload.<path>}} and {{trigger.type}} placeholders (a path of names separated by dots)",
      );
    }
  }
  const rl = f.rate_limit;
  if (rl !== null && rl !== undefined) {
    const obj = typeof rl === "object" && !Array.isArray(rl) ? (rl as Record<string, unknown>) : undefined;
    if (!obj || Object.keys(obj).some((k) => k !== "limit" && k !== "period_seconds")) {
      problems.push('rate_limit must be an object {"limit": n, "period_seconds": s} with no other keys');
    } else {
      if (!isWhole(obj.limit, 1, 1_000_000)) problems.push("rate_limit.limit must be a whole number between 1 and 1000000");
      if (!isWhole(obj.period_seconds, 1, 86_400)) {
        problems.push("rate_limit.period_seconds must be a whole number between 1 and 86400");
      }
    }
  }
  return problems;
}
