// POST /functions/v1/automations-webhook/<automation_id>
// 202 {run_id} | 400 bad JSON | 401 signature | 404 unknown or inactive |
// 405 method | 413 too large | 415 content type | 503 database unavailable.
// Every check happens before the enqueue: a rejected request writes nothing.
import { enqueueRun } from "../engine/sql/enqueue.ts";
import { badRequest, notFound, unsupportedMediaType } from "../http/errors.ts";
import { json, readBody } from "../http/body.ts";
import { allowMethods, handle, pathParam, UUID_RE, type Handler } from "../http/route.ts";
import type { AppDeps } from "../runtime/deps.ts";
import { verifySignature } from "../triggers/webhook_signature.ts";

const NOT_FOUND = "no active webhook automation with this id (unknown, not active, or without a signing secret)";

type BodyKind = "json" | "form";

function bodyKind(req: Request): BodyKind {
  const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct === "application/json" || ct.endsWith("+json")) return "json";
  if (ct === "application/x-www-form-urlencoded") return "form";
  throw unsupportedMediaType(
    `content-type ${ct ? `"${ct}"` : "(none)"} is not accepted: send application/json or application/x-www-form-urlencoded`,
  );
}

function parseBody(text: string, kind: BodyKind): unknown {
  if (kind === "form") {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`body is not valid JSON: ${(e as Error).message}`, "invalid_json");
  }
}

interface Target {
  automation_id: string;
  org_id: string;
  secrets: string[];
}

export function createWebhookHandler(deps: AppDeps): Handler {
  return handle(deps.logger, "automations-webhook", async (req) => {
    allowMethods(req, "POST");
    const id = pathParam(req, "automations-webhook");
    if (!id || !UUID_RE.test(id)) throw notFound(NOT_FOUND);
    const kind = bodyKind(req);
    const raw = new TextDecoder().decode(await readBody(req, deps.maxBodyBytes));

    const [target] = await deps.db.query<Target>(
      "select automation_id, org_id, secrets from automations_engine.webhook_target($1)",
      [id],
    );
    if (!target || target.secrets.length === 0) throw notFound(NOT_FOUND);
    verifySignature(raw, req.headers, target.secrets);

    const payload = parseBody(raw, kind);
    const webhookId = req.headers.get("webhook-id")!;
    if (webhookId.length > 255) throw badRequest("webhook-id is longer than 255 characters");
    const { runId, created } = await enqueueRun(deps.db, {
      automationId: target.automation_id,
      triggerType: "webhook",
      payload,
      idempotencyKey: `webhook:${webhookId}`,
    });
    if (created) deps.kick();
    return json({ run_id: runId, duplicate: !created }, 202);
  });
}
