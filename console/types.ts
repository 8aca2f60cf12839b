// What automations-api answers (shared/handlers/api.ts, api_queries.ts).
export interface AutomationSummary {
  id: string;
  name: string;
  trigger_type: string;
  status: string;
  run_count: number;
  last_run_at: string | null;
  recent_runs: number;
  recent_failed: number;
  failure_share: number | null;
}

export interface ActionRow {
  position: number;
  name: string | null;
  action_type: string;
  action_config: unknown;
  condition: unknown;
}

export interface AutomationDetail {
  id: string;
  name: string;
  description: string | null;
  status: string;
  trigger_type: string;
  trigger_config: Record<string, unknown>;
  run_count: number;
  last_run_at: string | null;
  actions: ActionRow[];
}

export interface RunSummary {
  id: string;
  automation_id: string;
  status: string;
  trigger_type: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  error_message: string | null;
}

export interface RunStep {
  step_index: number;
  name: string | null;
  action_type: string;
  status: string;
  attempt: number;
  input: unknown;
  output: unknown;
  error_message: string | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface RunDetail extends RunSummary {
  automation_name: string;
  trigger_payload: unknown;
  run_at: string | null;
  result: unknown;
  attempt: number;
  failed_attempts: number;
  max_attempts: number;
  cancelled: boolean;
  steps: RunStep[];
}

export interface DryRunStep {
  index: number;
  name: string | null;
  type: string;
  condition: null | { if: unknown; outcome: boolean | "unknown"; else: string };
  would: "run" | "skip" | "stop" | "unknown";
  config: unknown;
  unknown: string[];
  preview?: unknown;
  error: string | null;
}

export interface DryRunResult {
  automation_id: string;
  dry_run: true;
  trigger: { type: string; payload: unknown };
  payload_source: "given" | "last_run" | "empty";
  steps: DryRunStep[];
}
