// standard: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature),
// also spelt svix-id / svix-timestamp / svix-signature as Svix-hosted senders
// (Clerk, Resend, ...) send them: the same signature over "<id>.<timestamp>.<body>".
import { badRequest } from "../../http/errors.ts";
import { verifySignature } from "../webhook_signature.ts";
import type { Scheme } from "./common.ts";

export const standard: Scheme<Record<string, never>> = {
  headers: ["webhook-id", "svix-id"],
  verify(req, secrets) {
    const svix = !req.headers.has("webhook-id") && !req.headers.has("webhook-signature") && req.headers.has("svix-signature");
    const headers = svix
      ? new Headers({
          "webhook-id": req.headers.get("svix-id") ?? "",
          "webhook-timestamp": req.headers.get("svix-timestamp") ?? "",
          "webhook-signature": req.headers.get("svix-signature") ?? "",
        })
      : req.headers;
    verifySignature(req.raw, headers, secrets);
    const id = headers.get("webhook-id")!;
    if (id.length > 255) throw badRequest(`${svix ? "svix-id" : "webhook-id"} is longer than 255 characters`);
    return { key: `webhook:${id}`, signed: `${id}.${headers.get("webhook-timestamp")}.${req.raw}` };
  },
};
