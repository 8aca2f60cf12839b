// log: writes a line through the worker's logger and echoes it as the step
// output. Useful for demos, debugging templates and engine benchmarks (an
// action that does no I/O).
import { z } from "zod";
import type { ActionDefinition } from "../engine/action_contract.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export const logConfigSchema = z.strictObject({
  message: z.string().max(10_000).optional(),
  level: z.enum(LOG_LEVELS).default("info"),
  /** Any JSON, e.g. a resolved {{trigger.payload}}. */
  data: z.json().optional(),
});

export type LogConfig = z.infer<typeof logConfigSchema>;

export const logAction: ActionDefinition<LogConfig> = {
  type: "log",
  description: "Log a message (and data) from the run; no side effects.",
  schema: logConfigSchema,
  preview: (c) => ({ level: c.level, message: c.message ?? "automation log step", data: c.data ?? null }),
  async execute(config, ctx) {
    const message = config.message ?? "automation log step";
    ctx.logger[config.level](message, {
      automationId: ctx.automationId,
      runId: ctx.runId,
      step: ctx.stepIndex,
      ...(config.data === undefined ? {} : { data: config.data }),
    });
    return { output: { logged: true, level: config.level, message, data: config.data ?? null } };
  },
};
