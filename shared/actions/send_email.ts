// send_email: through the operator's email provider (Resend's HTTP API; base
// URL configurable). Without a provider the message is captured in the step
// output and the output says it was NOT sent: run history must never claim a
// delivery that did not happen.
import { z } from "zod";
import type { EmailSettings } from "../settings.ts";
import { actionFetch, snippet, statusError } from "./http_util.ts";
import { templatedString } from "./schema.ts";
import { ActionError, type ActionContext, type ActionDefinition } from "../engine/action_contract.ts";

// `a@b.c` or `Name <a@b.c>`, the two forms providers accept.
const ADDRESS = /^(?:[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>)$/;
const address = templatedString((s) => ADDRESS.test(s.trim()), "must be an email address (a@b.c or Name <a@b.c>)");
// One address, a list, or a placeholder that resolves to either.
const recipients = z.union([address, z.array(address).min(1).max(50)], {
  error: "must be an email address or a list of 1 to 50 addresses",
});
const NO_PROVIDER = "no email provider configured (set AUTOMATIONS_EMAIL_API_KEY)";

export const sendEmailConfigSchema = z
  .strictObject({
    to: recipients,
    subject: z.string().min(1).max(998),
    text: z.string().optional(),
    html: z.string().optional(),
    cc: recipients.optional(),
    bcc: recipients.optional(),
    reply_to: address.optional(),
  })
  .refine((c) => c.text !== undefined || c.html !== undefined, {
    message: "give text or html (or both)",
    path: ["text"],
  });

export type SendEmailConfig = z.infer<typeof sendEmailConfigSchema>;

interface Message {
  from?: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  cc?: string[];
  bcc?: string[];
  reply_to?: string;
}

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function buildMessage(c: SendEmailConfig, from: string | undefined): Message {
  const msg: Message = { to: list(c.to)!, subject: c.subject };
  if (from !== undefined) msg.from = from;
  if (c.text !== undefined) msg.text = c.text;
  if (c.html !== undefined) msg.html = c.html;
  if (c.cc !== undefined) msg.cc = list(c.cc);
  if (c.bcc !== undefined) msg.bcc = list(c.bcc);
  if (c.reply_to !== undefined) msg.reply_to = c.reply_to;
  return msg;
}

async function sendWithResend(email: EmailSettings, msg: Message, ctx: ActionContext) {
  const res = await actionFetch(
    `${email.baseUrl.replace(/\/+$/, "")}/emails`,
    {
      method: "POST",
      headers: {
        authorization: `Bearer ${email.apiKey}`,
        "content-type": "application/json",
        // Resend keeps the key for 24 h and answers a repeat with the first result.
        "idempotency-key": ctx.idempotencyKey,
      },
      body: JSON.stringify(msg),
    },
    { settings: ctx.settings, fetch: ctx.fetch, signal: ctx.signal },
  );
  if (res.status < 200 || res.status > 299) throw statusError("email provider (resend)", res, ctx.now());
  let id: unknown;
  try {
    id = (JSON.parse(res.text()) as { id?: unknown }).id;
  } catch {
    // fall through: a 2xx without an id is reported below
  }
  if (typeof id !== "string") {
    // Accepted but unidentifiable: do not retry (it may have been sent), do not claim an id.
    throw new ActionError("unexpected_response", `email provider answered ${res.status} without a message id: ${snippet(res.text())}`);
  }
  return id;
}

export const sendEmailAction: ActionDefinition<SendEmailConfig> = {
  type: "send_email",
  description: "Send an email through the configured provider (captured, not sent, when none is configured).",
  schema: sendEmailConfigSchema,
  preview(c) {
    const m = buildMessage(c, undefined);
    const both = m.text !== undefined && m.html !== undefined;
    return {
      to: m.to,
      subject: m.subject,
      body: m.text ?? m.html ?? "",
      ...(both ? { html: m.html } : {}),
      ...(m.cc ? { cc: m.cc } : {}),
      ...(m.bcc ? { bcc: m.bcc } : {}),
      ...(m.reply_to ? { reply_to: m.reply_to } : {}),
    };
  },
  async execute(config, ctx) {
    const email = ctx.settings.email;
    if (!email) {
      const message = buildMessage(config, undefined);
      ctx.logger.warn("send_email: message captured, not sent", {
        reason: NO_PROVIDER,
        runId: ctx.runId,
        to: message.to,
        subject: message.subject,
      });
      return { output: { sent: false, captured: true, reason: NO_PROVIDER, message } };
    }
    const message = buildMessage(config, email.from);
    const id = await sendWithResend(email, message, ctx);
    return { output: { sent: true, provider: email.provider, id, to: message.to, subject: message.subject } };
  },
};
