// POST /automations-api/automations/<id>/test: a dry run of the automation as
// the signed-in user (docs/writing-automations.md, "Test before you
// activate"). Body: optional {"payload": {...}}; without it the last run's
// payload the user may read is used, else {}. The response is
// shared/engine/dry_run_automation.ts's result.
//
// Nothing is written: the transaction acting as the user is also made READ
// ONLY, so even a mistake further down could not insert a run or a step.
import { z } from "zod";
import { asUser, type JwtClaims } from "../db/as_user.ts";
import { dryRunAutomation, type AutomationDryRun } from "../engine/dry_run_automation.ts";
import { notFound } from "../http/errors.ts";
import type { AppDeps } from "../runtime/deps.ts";

const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);

export const TestBody = z.strictObject(
  {
    payload: z
      .custom<Record<string, unknown>>(isObject, { message: "payload must be a JSON object (the trigger payload to test with)" })
      .optional(),
  },
  { error: 'the body must be empty or a JSON object like {"payload": {...}}' },
);

export async function testAutomation(
  deps: Pick<AppDeps, "db" | "settings" | "getAction">,
  claims: JwtClaims,
  automationId: string,
  body: { payload?: Record<string, unknown> },
): Promise<AutomationDryRun> {
  const result = await asUser(deps.db, claims, async (tx) => {
    await tx.query("set transaction read only");
    return dryRunAutomation(tx, automationId, {
      payload: body.payload,
      maxOutputChars: deps.settings.templates.maxOutputChars,
      getAction: deps.getAction,
    });
  });
  if (!result) throw notFound(`automation ${automationId} not found`);
  return result;
}
