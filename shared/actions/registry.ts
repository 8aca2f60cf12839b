// The built-in actions by type, and the save-time validation the automations
// API runs before storing an action (templates still unresolved; see
// schema.ts for how placeholders are accepted).
import { createTaskAction } from "./create_task.ts";
import { delayAction } from "./delay.ts";
import { logAction } from "./log.ts";
import { formatIssues } from "./schema.ts";
import { sendEmailAction } from "./send_email.ts";
import type { ActionDefinition } from "../engine/action_contract.ts";
import { updateFieldAction } from "./update_field.ts";
import { webhookAction } from "./webhook.ts";

// deno-lint-ignore no-explicit-any -- each entry has its own config type
type AnyAction = ActionDefinition<any>;

export const actionRegistry: Readonly<Record<string, AnyAction>> = Object.freeze({
  webhook: webhookAction,
  send_email: sendEmailAction,
  update_field: updateFieldAction,
  create_task: createTaskAction,
  delay: delayAction,
  log: logAction,
});

export const actionTypes: readonly string[] = Object.keys(actionRegistry).sort();

export function getAction(type: string): AnyAction | undefined {
  // Own properties only: "constructor" or "__proto__" are not action types.
  return Object.hasOwn(actionRegistry, type) ? actionRegistry[type] : undefined;
}

/**
 * Problems with an action as it would be saved, as `path: message` lines;
 * empty when it is valid. Unknown types list the known ones.
 */
export function validateActionConfig(type: string, config: unknown): string[] {
  const action = getAction(type);
  if (!action) return [`unknown action type ${JSON.stringify(type)}; known types: ${actionTypes.join(", ")}`];
  const parsed = action.schema.safeParse(config);
  return parsed.success ? [] : formatIssues(parsed.error);
}
