// One webhook delivery checked against its automation's trigger_config, in
// the order a sender can act on: content type (415), body size (413), the
// verify scheme's signature (401), the body (400). Then Slack's handshake is
// answered, the filter may skip the delivery (202 {"skipped": true}), and what
// remains is what the run is created with: payload, kept headers and the
// idempotency key. Nothing here writes; the handler enqueues.
import { json } from "../http/body.ts";
import { payloadTooLarge, unsupportedMediaType } from "../http/errors.ts";
import type { Logger } from "../logger.ts";
import type { WebhookTriggerConfig } from "./config.ts";
import { matchesFilter } from "./filter.ts";
import { capturedHeaders, deliveryKey, slackChallenge, verifyDelivery, type DeliveryRequest } from "./verify/index.ts";

export interface Accepted {
  payloadJson: string;
  headersJson: string;
  idempotencyKey: string;
}

export interface DeliveryInput extends DeliveryRequest {
  /** "application/json" or "application/x-www-form-urlencoded": how the body is parsed. */
  mediaType: string;
  size: number;
  parse: () => unknown;
}

/** Checks and prepares a delivery, or answers it without a run (a Response), or throws an HttpError. */
export function acceptDelivery(
  config: WebhookTriggerConfig,
  secrets: readonly string[],
  input: DeliveryInput,
  logger: Logger,
): Accepted | Response {
  if (config.content_types && !(config.content_types as readonly string[]).includes(input.mediaType)) {
    throw unsupportedMediaType(
      `content-type "${input.mediaType}" is not accepted by this automation: send ${config.content_types.join(" or ")} (trigger_config.content_types)`,
    );
  }
  if (config.max_body_bytes !== undefined && input.size > config.max_body_bytes) throw payloadTooLarge(config.max_body_bytes);

  const verified = verifyDelivery(config.verify, input, secrets);
  const payload = input.parse();
  if (config.verify?.scheme === "slack") {
    const challenge = slackChallenge(payload);
    if (challenge !== null) return json({ challenge }, 200);
  }
  const headers = capturedHeaders(config.verify, config.headers, input.headers);
  if (config.filter) {
    let pass: boolean;
    try {
      pass = matchesFilter(config.filter, { payload, headers });
    } catch (e) {
      // A rule that fails at run time ({"throw": ...}, a type error) skips the
      // delivery like a non-match, and says why: a 4xx/5xx would make the
      // sender retry a delivery that can never pass.
      const reason = e instanceof Error ? e.message : String(e);
      logger.warn("webhook filter failed", { error: reason });
      return json({ skipped: true, reason }, 202);
    }
    if (!pass) return json({ skipped: true }, 202);
  }
  return {
    payloadJson: JSON.stringify(payload),
    headersJson: JSON.stringify(headers),
    idempotencyKey: deliveryKey(config.verify, verified, payload),
  };
}
