// Operator settings, read once from the environment by the entrypoint and
// passed down. Nothing reads process.env / Deno.env below this file.
import { z } from "zod";
import { DEFAULT_TEMPLATE_OUTPUT } from "./engine/expressions/templates.ts";

export interface EmailSettings {
  provider: "resend";
  apiKey: string;
  /** Base URL of the provider's HTTP API (Resend: https://api.resend.com). */
  baseUrl: string;
  from: string;
}

export interface Settings {
  /** AUTOMATIONS_ALLOW_PRIVATE_NETWORK=true lets outbound requests reach private/loopback addresses. */
  allowPrivateNetwork: boolean;
  email: EmailSettings | null;
  webhook: { defaultTimeoutMs: number; maxTimeoutMs: number; maxResponseBytes: number; maxRedirects: number };
  /**
   * AUTOMATIONS_TEMPLATE_MAX_OUTPUT: most characters the placeholders of one action
   * config may produce together (JSON length of whole values, length of embedded
   * text); beyond it the step fails with a template_limit error. Default 1 MiB.
   */
  templates: { maxOutputChars: number };
}

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const EnvSchema = z.object({
  AUTOMATIONS_ALLOW_PRIVATE_NETWORK: bool,
  AUTOMATIONS_EMAIL_PROVIDER: z.enum(["resend", ""]).optional(),
  AUTOMATIONS_EMAIL_API_KEY: z.string().optional(),
  AUTOMATIONS_EMAIL_API_URL: z.string().url().optional(),
  AUTOMATIONS_EMAIL_FROM: z.string().optional(),
  RESEND_API_KEY: z.string().optional(),
  AUTOMATIONS_TEMPLATE_MAX_OUTPUT: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, "must be a positive whole number of characters")
    .optional(),
});

export function loadSettings(env: Record<string, string | undefined>): Settings {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid environment: ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const apiKey = e.AUTOMATIONS_EMAIL_API_KEY ?? e.RESEND_API_KEY;
  const provider = e.AUTOMATIONS_EMAIL_PROVIDER || (apiKey ? "resend" : "");
  return {
    allowPrivateNetwork: e.AUTOMATIONS_ALLOW_PRIVATE_NETWORK,
    email:
      provider === "resend" && apiKey
        ? {
            provider: "resend",
            apiKey,
            baseUrl: e.AUTOMATIONS_EMAIL_API_URL ?? "https://api.resend.com",
            from: e.AUTOMATIONS_EMAIL_FROM ?? "Automations <automations@example.com>",
          }
        : null,
    webhook: { defaultTimeoutMs: 10_000, maxTimeoutMs: 30_000, maxResponseBytes: 1_048_576, maxRedirects: 5 },
    templates: { maxOutputChars: Number(e.AUTOMATIONS_TEMPLATE_MAX_OUTPUT ?? DEFAULT_TEMPLATE_OUTPUT) },
  };
}
