// DNS-rebinding guard for the local runtime. A web page on evil.example can
// point its name at 127.0.0.1 and then call the runtime from the browser
// "same-origin"; its requests still carry `Host: evil.example`. So the runtime
// answers only requests whose Host is a loopback name (127.0.0.1, localhost,
// [::1], any port), the address the operator told it to listen on (HOST), and
// names listed in AUTOMATIONS_ALLOWED_HOSTS. Everything else gets 403.
import { networkInterfaces } from "node:os";
import type { Env } from "../shared/runtime/env.ts";

export const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** An address as it appears in a Host header: IPv6 in brackets, lower case. */
function hostForm(address: string): string {
  const a = address.trim().toLowerCase();
  return a.includes(":") && !a.startsWith("[") ? `[${a}]` : a;
}

/**
 * The Host names the runtime answers for. HOST=0.0.0.0 / :: (every
 * interface) allows this machine's own addresses, so other machines on the
 * network can call it by IP; names (a container's, a LAN name) go in
 * AUTOMATIONS_ALLOWED_HOSTS, comma-separated.
 */
export function allowedHosts(env: Env): string[] {
  const out = new Set(LOOPBACK_HOSTS);
  const listen = env.HOST?.trim();
  if (listen && WILDCARDS.has(listen.toLowerCase())) {
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) out.add(hostForm(i.address));
    }
  } else if (listen) out.add(hostForm(listen));
  for (const h of (env.AUTOMATIONS_ALLOWED_HOSTS ?? "").split(",")) if (h.trim()) out.add(hostForm(h));
  return [...out];
}

/** The name part of a Host header (port dropped), or null when it is not a well-formed host[:port]. */
export function hostName(header: string | undefined): string | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/i.exec(header ?? "");
  return m ? m[1]!.toLowerCase() : null;
}

/** null when the request may go on; otherwise the 403 to answer with. */
export function checkHost(header: string | undefined, allowed: readonly string[]): { status: number; body: string } | null {
  const name = hostName(header);
  if (name !== null && allowed.includes(name)) return null;
  const what = header === undefined ? "no Host header" : `Host ${JSON.stringify(header)}`;
  const message =
    `${what} is not an address of this local runtime: it answers only requests to ${allowed.join(", ")} ` +
    `(a guard against DNS rebinding). Call it at http://127.0.0.1:<port>, or list the name in AUTOMATIONS_ALLOWED_HOSTS.`;
  return { status: 403, body: JSON.stringify({ error: { code: "host_not_allowed", message } }) };
}
