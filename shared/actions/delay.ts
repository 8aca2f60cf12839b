// delay: a durable wait. execute() only computes when the run may continue;
// the engine stores that as the run's not-before time, releases the worker
// and resumes with the next step when it is due, so a long delay holds no
// worker and survives restarts.
import { z } from "zod";
import { resolved, templated } from "./schema.ts";
import { ActionError, type ActionDefinition } from "../engine/action_contract.ts";

/** Longest wait a step may ask for; longer schedules belong in a schedule trigger. */
export const MAX_DELAY_SECONDS = 365 * 24 * 60 * 60;

export const delayConfigSchema = z
  .strictObject({
    seconds: templated(z.number().positive().max(MAX_DELAY_SECONDS, "seconds must be at most 365 days")).optional(),
    /** ISO 8601 date-time with offset, e.g. "2026-03-01T09:00:00Z". */
    until: templated(z.iso.datetime({ offset: true })).optional(),
  })
  .refine((c) => (c.seconds === undefined) !== (c.until === undefined), {
    message: "give exactly one of seconds or until",
  });

export type DelayConfig = z.infer<typeof delayConfigSchema>;

export const delayAction: ActionDefinition<DelayConfig> = {
  type: "delay",
  description: "Pause the run for a number of seconds or until a time, without holding a worker.",
  schema: delayConfigSchema,
  // The run would sleep this long (or until then), holding no worker.
  preview: (c) => (c.seconds !== undefined ? { seconds: c.seconds } : { until: c.until }),
  async execute(config, ctx) {
    const now = ctx.now();
    let until: Date;
    if (config.seconds !== undefined) {
      until = new Date(now.getTime() + resolved(config.seconds, "seconds") * 1000);
    } else {
      until = new Date(resolved(config.until!, "until"));
      if (Number.isNaN(until.getTime())) throw new ActionError("invalid_config", `until ${config.until} is not a date-time`);
      if (until.getTime() - now.getTime() > MAX_DELAY_SECONDS * 1000) {
        throw new ActionError("invalid_config", `until ${config.until} is more than 365 days away`);
      }
    }
    if (until.getTime() <= now.getTime()) {
      // Nothing to wait for (e.g. a reminder time that already passed): continue at once, and say so.
      return { output: { waited: false, until: until.toISOString(), reason: "until is already in the past" } };
    }
    return { output: { waited: true, until: until.toISOString() }, waitUntil: until };
  },
};
