// POST /functions/v1/automations-webhook/<automation_id>
// 202 {run_id} | 202 {skipped} (filter) | 200 {challenge} (Slack handshake) |
// 400 bad JSON | 401 signature | 404 unknown or inactive | 405 method |
// 413 too large (or a form of more than 1,000 fields) | 415 content type | 503 database unavailable.
// The automation's trigger_config decides how a delivery is verified (verify
// scheme), what it may be (content_types, max_body_bytes) and whether it
// starts a run (filter): triggers/webhook_delivery.ts.
// Every check happens before the enqueue: a rejected request writes nothing.
// The automation and its secrets are cached per handler (one statement per
// delivery); the enqueue re-checks them, so rotation and pausing act at once.
// Deliveries that arrive while earlier ones are being written are enqueued
// together, one statement and one commit for all (triggers/webhook_enqueue.ts).
import { HttpError, notFound, unavailable, unsupportedMediaType } from "../http/errors.ts";
import { json, parseJsonText, readBody } from "../http/body.ts";
import { parseFormBody } from "../http/form_body.ts";
import { allowMethods, handle, pathParam, UUID_RE, type Handler } from "../http/route.ts";
import type { AppDeps } from "../runtime/deps.ts";
import { enqueueCaused, webhookEnqueuer, type Delivery, type DeliveryResult, type WebhookEnqueueOptions } from "../triggers/webhook_enqueue.ts";
import { verifiedCause } from "../http/run_cause_header.ts";
import { isChainRefusal, recordChainRefusal } from "../engine/sql/chain.ts";
import { parseTriggerConfig, type WebhookTriggerConfig } from "../triggers/config.ts";
import { acceptDelivery } from "../triggers/webhook_delivery.ts";

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
  if (kind === "form") return parseFormBody(text);
  if (text.trim() === "") return {};
  return parseJsonText(text);
}

interface Target {
  automation_id: string;
  org_id: string;
  secrets: string[];
  /** Text, so it round-trips with microseconds (sent back as $2::text: a Date would lose them): webhook_enqueue compares it. */
  rotated_at: string;
  previous_expires_at: Date | null;
  trigger_config: unknown;
  /** trigger_config parsed (defaults applied); null when it does not parse (saved before validation existed). */
  config: WebhookTriggerConfig | null;
}

export interface WebhookCacheOptions {
  /** How long a target (automation + secrets) is reused without a lookup. */
  ttlMs?: number;
  /** Most automations cached; the oldest entry goes first. */
  maxEntries?: number;
}

export interface WebhookHandlerOptions extends WebhookCacheOptions {
  /** How concurrent deliveries are grouped into one enqueue call. */
  enqueue?: WebhookEnqueueOptions;
}

/**
 * Targets (automation + valid secrets) by automation id. Reusing one is safe
 * because the enqueue re-checks it in the same statement (webhook_enqueue:
 * rotated_at unchanged, automation still an active webhook automation) and
 * answers `stale` otherwise; an entry also ends when the previous secret's
 * grace period does. Unknown ids are not cached.
 */
function targetCache(deps: AppDeps, opts: WebhookCacheOptions) {
  const ttl = opts.ttlMs ?? 60_000;
  const max = opts.maxEntries ?? 10_000;
  const entries = new Map<string, { target: Target; until: number }>();
  return {
    cached(id: string): Target | null {
      const e = entries.get(id);
      if (e && e.until > deps.now().getTime()) return e.target;
      entries.delete(id);
      return null;
    },
    async load(id: string): Promise<Target | null> {
      const [t] = await deps.db.query<Target>(
        `select automation_id, org_id, secrets, rotated_at::text as rotated_at, previous_expires_at, trigger_config
           from automations_engine.webhook_target($1)`,
        [id],
      );
      entries.delete(id);
      if (!t || t.secrets.length === 0) return null;
      const parsed = parseTriggerConfig("webhook", t.trigger_config);
      t.config = parsed.ok ? parsed.config : null;
      const now = deps.now().getTime();
      entries.set(id, { target: t, until: Math.min(now + ttl, t.previous_expires_at?.getTime() ?? Infinity) });
      if (entries.size > max) entries.delete(entries.keys().next().value!);
      return t;
    },
  };
}

async function enqueueCausedOrRecord(deps: AppDeps, delivery: Delivery, cause: string): Promise<DeliveryResult> {
  try {
    return await enqueueCaused(deps.db, delivery, cause);
  } catch (e) {
    if (isChainRefusal(e)) await recordChainRefusal(deps.db, cause, delivery.automationId, (e as Error).message);
    throw e;
  }
}

export function createWebhookHandler(deps: AppDeps, opts: WebhookHandlerOptions = {}): Handler {
  const targets = targetCache(deps, opts);
  const enqueue = webhookEnqueuer(deps.db, opts.enqueue);
  return handle(deps.logger, "automations-webhook", async (req) => {
    allowMethods(req, "POST");
    const id = pathParam(req, "automations-webhook");
    if (!id || !UUID_RE.test(id)) throw notFound(NOT_FOUND);
    const kind = bodyKind(req);
    let target = targets.cached(id);
    let fresh = target === null;
    target ??= await targets.load(id);
    if (!target) throw notFound(NOT_FOUND);
    const bytes = await readBody(req, deps.maxBodyBytes);
    const raw = new TextDecoder().decode(bytes);
    const input = {
      raw,
      headers: req.headers,
      url: new URL(req.url),
      now: deps.now(),
      mediaType: kind === "json" ? "application/json" : "application/x-www-form-urlencoded",
      size: bytes.byteLength,
      parse: () => parseBody(raw, kind),
    };

    // Sent by one of our runs: the new run joins that run's chain (budget).
    const cause = verifiedCause(req, deps.auth);
    // `stale` from the enqueue: the secrets or the config changed since we
    // cached them; look the target up again and check against what is
    // current (at most twice more). A cached target that refuses the delivery
    // (401, 413, 415) may be out of date too (the sender already uses a new
    // secret): it is looked up once before the refusal is answered.
    for (let attempt = 0; ; attempt++) {
      let accepted;
      try {
        if (!target.config) throw new HttpError(409, "conflict", "the automation's trigger_config is not valid; save it again to see what is wrong");
        accepted = acceptDelivery(target.config, target.secrets, input, deps.logger);
      } catch (e) {
        if (fresh || !(e instanceof HttpError) || ![401, 413, 415].includes(e.status)) throw e;
        fresh = true;
        target = await targets.load(id);
        if (!target) throw notFound(NOT_FOUND);
        continue;
      }
      if (accepted instanceof Response) {
        // Skipped by the filter or a Slack handshake: no enqueue re-checks
        // the cached config, so decide with the current one (one read).
        if (fresh) return accepted;
        fresh = true;
        target = await targets.load(id);
        if (!target) throw notFound(NOT_FOUND);
        continue;
      }
      const delivery: Delivery = {
        automationId: target.automation_id,
        rotatedAt: target.rotated_at,
        payloadJson: accepted.payloadJson,
        headersJson: accepted.headersJson,
        idempotencyKey: accepted.idempotencyKey,
      };
      const row = cause ? await enqueueCausedOrRecord(deps, delivery, cause) : await enqueue(delivery);
      if (!row.stale && row.run_id) {
        if (row.created) deps.kick();
        return json({ run_id: row.run_id, duplicate: !row.created }, 202);
      }
      if (attempt >= 2) throw unavailable("the automation's webhook settings keep changing; retry shortly");
      fresh = true;
      target = await targets.load(id);
      if (!target) throw notFound(NOT_FOUND);
    }
  });
}
