// webhook: one HTTP request to a user-chosen URL, through safeFetch (SSRF
// guard on every hop, deadline, response cap). The step's idempotency key
// goes out as `Idempotency-Key` and `webhook-id` so a receiver can drop the
// duplicate when a retried step sends the same request again.
import { z } from "zod";
import { actionFetch, isJsonContentType, parseBody, redactHeaders, redactUrl, selectHeaders, statusError } from "./http_util.ts";
import { resolved, templated, templatedString } from "./schema.ts";
import { ActionError, REDACTED, type ActionDefinition } from "../engine/action_contract.ts";
import { CAUSE_HEADER } from "../http/run_cause_header.ts";

export const WEBHOOK_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const USER_AGENT = "supabase-automations/0.1 (+webhook action)";
// RFC 9110 token: what a header name may contain.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

export const webhookConfigSchema = z
  .strictObject({
    url: templatedString(isHttpUrl, "must be an absolute http:// or https:// URL"),
    method: templated(
      z
        .string()
        .transform((m) => m.toUpperCase())
        .pipe(z.enum(WEBHOOK_METHODS)),
    ).default("POST"),
    headers: templated(
      z.record(z.string(), z.string()).superRefine((h, issues) => {
        for (const name of Object.keys(h)) {
          if (!HEADER_NAME.test(name)) issues.addIssue({ code: "custom", path: [name], message: `${JSON.stringify(name)} is not a valid header name` });
        }
      }),
    ).optional(),
    /** Any JSON; sent as JSON (a string is sent raw when headers set a non-JSON content-type). */
    body: z.json().optional(),
    /** Capped at the operator's maximum (settings.webhook.maxTimeoutMs). */
    timeout_ms: templated(z.number().int().positive()).optional(),
  })
  .superRefine((c, issues) => {
    if (c.method === "GET" && c.body !== undefined) {
      issues.addIssue({ code: "custom", path: ["body"], message: "a GET request cannot have a body; use POST or remove body" });
    }
  });

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

function buildHeaders(given: Record<string, string>, idempotencyKey: string): Headers {
  let headers: Headers;
  try {
    headers = new Headers(given);
  } catch (e) {
    throw new ActionError("invalid_config", `invalid headers: ${e instanceof Error ? e.message : String(e)}`);
  }
  // The user's own values win: they may be forwarding a key from upstream.
  for (const [name, value] of defaultHeaders(idempotencyKey)) if (!headers.has(name)) headers.set(name, value);
  return headers;
}

/** The headers every request carries unless the config sets them. */
function defaultHeaders(idempotencyKey: string): [string, string][] {
  return [["idempotency-key", idempotencyKey], ["webhook-id", idempotencyKey], ["user-agent", USER_AGENT]];
}

/**
 * The request a dry run shows: the configured headers (lower-case names) plus
 * the defaults, credentials masked. Plain objects rather than Headers: a value
 * may be a dry run's unknown marker, which is not a valid header byte string.
 */
function previewRequest(config: WebhookConfig, index: number): Record<string, unknown> {
  const given: unknown = config.headers ?? {};
  if (typeof given === "string") return { method: config.method, url: redactUrl(config.url, REDACTED), headers: given, body: config.body ?? null };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given as Record<string, string>)) headers[name.toLowerCase()] = value;
  for (const [name, value] of defaultHeaders(`\u2039run id\u203a:${index}`)) headers[name] ??= value;
  if (config.body !== undefined) headers["content-type"] ??= "application/json";
  return { method: config.method, url: redactUrl(config.url, REDACTED), headers: redactHeaders(headers, REDACTED), body: config.body ?? null };
}

function encodeBody(body: unknown, headers: Headers): string | undefined {
  if (body === undefined) return undefined;
  const ct = headers.get("content-type");
  if (typeof body === "string" && ct !== null && !isJsonContentType(ct)) return body;
  if (ct === null) headers.set("content-type", "application/json");
  return JSON.stringify(body);
}

export const webhookAction: ActionDefinition<WebhookConfig> = {
  type: "webhook",
  description: "Send an HTTP request (JSON body) to a public URL and record the response.",
  schema: webhookConfigSchema,
  async execute(config, ctx) {
    const method = resolved(config.method, "method");
    const timeoutMs = config.timeout_ms === undefined ? undefined : resolved(config.timeout_ms, "timeout_ms");
    const headers = buildHeaders(resolved(config.headers, "headers") ?? {}, ctx.idempotencyKey);
    if (method === "GET" && config.body !== undefined) {
      throw new ActionError("invalid_config", "a GET request cannot have a body; use POST or remove body");
    }
    const body = encodeBody(config.body, headers);
    // Last, so no configured header can set or remove it: a call back into
    // our own functions counts against this run's chain budget.
    headers.delete(CAUSE_HEADER);
    if (ctx.runCause) headers.set(CAUSE_HEADER, ctx.runCause);

    const res = await actionFetch(
      config.url,
      { method, headers, body },
      { settings: ctx.settings, fetch: ctx.fetch, signal: ctx.signal, timeoutMs },
    );
    if (res.status < 200 || res.status > 299) {
      throw statusError(`${method} ${new URL(res.url).origin}`, res, ctx.now());
    }
    ctx.logger.debug("webhook delivered", { url: new URL(res.url).origin, status: res.status, runId: ctx.runId });
    return {
      output: {
        status: res.status,
        headers: selectHeaders(res.headers),
        body: parseBody(res),
        ...(res.redirects > 0 ? { url: res.url, redirects: res.redirects } : {}),
      },
    };
  },
  preview: (config, step) => previewRequest(config, step.index),
  redact(config) {
    if (config === null || typeof config !== "object") return config;
    const c = config as Record<string, unknown>;
    const headers = c.headers !== null && typeof c.headers === "object" ? redactHeaders(c.headers as Record<string, string>, REDACTED) : c.headers;
    return { ...c, ...(typeof c.url === "string" ? { url: redactUrl(c.url, REDACTED) } : {}), ...(c.headers === undefined ? {} : { headers }) };
  },
};
