// Shapes the engine passes between SQL and TypeScript.
/** One action as frozen in automation_versions.actions. */
export interface SnapshotAction {
  id: string;
  name: string | null;
  action_type: string;
  action_config: unknown;
  condition: { if: unknown; else?: "skip" | "stop" } | null;
  /** This step's retry policy, overriding the automation's. */
  retry?: { max_attempts?: number; backoff_seconds?: number } | null;
  /** What a placeholder with a missing path becomes. */
  template_missing?: "error" | "empty";
  position: number;
}

/** A run as claim_runs returns it. */
export interface ClaimedRun {
  id: string;
  org_id: string;
  automation_id: string;
  automation_name: string;
  attempt: number;
  trigger_type: string | null;
  trigger_payload: unknown;
  /** Webhook runs: the request headers kept (lower-case names); null otherwise. */
  trigger_headers: Record<string, string> | null;
  actions: SnapshotAction[];
  created_at: Date;
  started_at: Date;
  lease_expires_at: Date;
  /** The claim's random token: every write for this run is fenced by attempt and token. */
  claim_token: string;
}

export type StepStatus = "completed" | "failed" | "skipped" | "waiting";

/** A step row, as written by save_progress and read back on resume. */
export interface StepRecord {
  step_index: number;
  action_id: string | null;
  action_type: string;
  name: string | null;
  status: StepStatus;
  input: unknown;
  output: unknown;
  error_message: string | null;
  started_at: string;
  completed_at: string | null;
}

export type Outcome = "completed" | "failed" | "wait" | null;

/**
 * The values of public.run_status, in the enum's order (a test reads
 * enum_range(null::run_status) and compares); RunStatus is derived from it,
 * so the type cannot drift from the list either. Terminal states never
 * change again.
 */
export const RUN_STATUSES = ["pending", "running", "completed", "failed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const isTerminal = (s: RunStatus): boolean => s === "completed" || s === "failed";
