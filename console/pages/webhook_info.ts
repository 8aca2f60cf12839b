// The webhook URL of a webhook-triggered automation and a ready command to
// send it a test delivery signed the way its scheme (trigger_config.verify)
// expects: `npm run automations -- sign-webhook` prints the signed curl.
import { h } from "../dom.ts";

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Schemes whose options sign-webhook needs besides the secret. */
const NEEDS_VERIFY = new Set(["twilio", "hmac", "token"]);

export function testCommand(projectUrl: string, automationId: string, verify: unknown, payload: unknown): string {
  const v = (verify && typeof verify === "object" ? verify : {}) as { scheme?: unknown };
  const scheme = typeof v.scheme === "string" ? v.scheme : "standard";
  const body = JSON.stringify(payload && typeof payload === "object" ? payload : { hello: "world" });
  const parts = [`AUTOMATIONS_URL=${projectUrl}`, "npm run automations --", "sign-webhook", automationId];
  if (NEEDS_VERIFY.has(scheme)) parts.push("--verify", shellQuote(JSON.stringify(verify)));
  else if (scheme !== "standard") parts.push("--scheme", scheme);
  parts.push("--secret", "\"$WEBHOOK_SECRET\"", "--payload", shellQuote(body));
  return parts.join(" ");
}

export function webhookInfo(projectUrl: string, automationId: string, triggerConfig: Record<string, unknown>, payload: unknown): HTMLElement {
  const url = `${projectUrl}/functions/v1/automations-webhook/${automationId}`;
  const scheme = (triggerConfig.verify as { scheme?: string } | undefined)?.scheme ?? "standard";
  return h(
    "section",
    { "aria-labelledby": "webhook-h" },
    h("h2", { id: "webhook-h" }, "Webhook"),
    h("p", {}, "URL: ", h("code", { class: "wrap" }, url)),
    h("p", {}, `Signature scheme: ${scheme}. This prints a signed curl command for a test delivery (WEBHOOK_SECRET is the automation's signing secret; `, h("code", {}, "rotate-secret"), " gives a new one):"),
    h("pre", { class: "command", tabindex: "0", "aria-label": "Test command" }, testCommand(projectUrl, automationId, triggerConfig.verify, payload)),
  );
}
