// SSRF guard for outbound requests (webhooks, email provider).
//
// Users choose the URLs automations call, and the worker runs inside the
// operator's network, so a URL must never reach loopback, private, link-local
// or cloud-metadata addresses unless the operator opts in with
// AUTOMATIONS_ALLOW_PRIVATE_NETWORK=true (local development and tests).
//
// The rule is an allowlist: an address passes only if ipaddr.js classifies it
// as plain unicast. IPv6 forms that embed an IPv4 address (mapped, translated,
// IPv4-compatible, NAT64, 6to4) are judged by the IPv4 address they carry, so
// `::ffff:127.0.0.1` or `2002:7f00:1::` cannot sneak loopback past the check.
import ipaddr from "ipaddr.js";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { OutboundRequestError } from "./outbound_error.ts";

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to every address it has (A and AAAA). Injected in tests. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const defaultResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

const RANGE_REASONS: Record<string, string> = {
  loopback: "loopback address",
  private: "private network address (RFC 1918)",
  linkLocal: "link-local address",
  carrierGradeNat: "carrier-grade NAT address (100.64.0.0/10)",
  unspecified: "unspecified address",
  broadcast: "broadcast address",
  multicast: "multicast address",
  reserved: "reserved address",
  uniqueLocal: "unique-local address (fc00::/7)",
};

const METADATA = new Set(["169.254.169.254", "fd00:ec2::254", "100.100.100.200"]);

function rangeReason(range: string): string {
  return RANGE_REASONS[range] ?? `special-purpose address (${range})`;
}

function v4(parts: number[], hi: number, lo: number): IPv4 {
  return new ipaddr.IPv4([parts[hi]! >> 8, parts[hi]! & 0xff, parts[lo]! >> 8, parts[lo]! & 0xff]);
}

const MAPPED = ipaddr.IPv6.parseCIDR("::ffff:0:0/96");
const NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96");
const TRANSLATED = ipaddr.IPv6.parseCIDR("::ffff:0:0:0/96");
const COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96");
const SIX_TO_FOUR = ipaddr.IPv6.parseCIDR("2002::/16");

/** The IPv4 address an IPv6 address carries, and the name of the form. */
function embeddedIPv4(a: IPv6): [IPv4, string] | null {
  const p = a.parts;
  if (a.match(MAPPED)) return [v4(p, 6, 7), "IPv4-mapped"];
  if (a.match(TRANSLATED)) return [v4(p, 6, 7), "IPv4-translated"];
  if (a.match(NAT64)) return [v4(p, 6, 7), "NAT64"];
  if (a.match(SIX_TO_FOUR)) return [v4(p, 1, 2), "6to4"];
  // ::/96 minus :: and ::1 (those are judged as IPv6 below).
  if (a.match(COMPATIBLE) && (p[6] !== 0 || p[7]! > 1)) return [v4(p, 6, 7), "IPv4-compatible"];
  return null;
}

function checkV4(a: IPv4): string | null {
  if (METADATA.has(a.toString())) return "cloud metadata address";
  const range = a.range();
  return range === "unicast" ? null : rangeReason(range);
}

function checkV6(a: IPv6): string | null {
  const embedded = embeddedIPv4(a);
  if (embedded) {
    const reason = checkV4(embedded[0]);
    return reason ? `${reason} ${embedded[0].toString()} in ${embedded[1]} form` : null;
  }
  if (METADATA.has(a.toString())) return "cloud metadata address";
  const range = a.range();
  return range === "unicast" ? null : rangeReason(range);
}

/**
 * Why an outbound request to `ip` is refused, or null when it is a public
 * unicast address. Anything that is not a valid IP address is refused.
 */
export function isForbiddenAddress(ip: string): string | null {
  const text = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  let parsed: IPv4 | IPv6;
  try {
    parsed = ipaddr.parse(text);
  } catch {
    return "not an IP address";
  }
  return parsed.kind() === "ipv4" ? checkV4(parsed as IPv4) : checkV6(parsed as IPv6);
}

export interface CheckUrlOptions {
  allowPrivateNetwork: boolean;
  resolve?: Resolver;
}

export interface CheckedUrl {
  url: URL;
  /** The address the host resolved to (first one); null when checks were skipped. */
  address: string | null;
  /**
   * Every address that was checked, the only ones a connection may use
   * (safe_fetch.ts pins them); null when checks were skipped.
   */
  addresses: ResolvedAddress[] | null;
}

function refused(url: URL, why: string): OutboundRequestError {
  return new OutboundRequestError(
    "forbidden_address",
    `refusing to connect to ${url.host}: ${why}. Outbound requests may only reach public addresses ` +
      "(an operator can set AUTOMATIONS_ALLOW_PRIVATE_NETWORK=true for local development)",
  );
}

/**
 * Parses and checks a URL before any connection is made. WHATWG URL parsing
 * already normalises `127.1`, `2130706433`, `0x7f000001` and IPv6 literals to
 * canonical form, so the check sees what the connection will use. Names are
 * resolved and refused if ANY address is forbidden: the connection may pick
 * any of them.
 */
export async function checkUrl(input: string | URL, opts: CheckUrlOptions): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OutboundRequestError("invalid_url", `${JSON.stringify(String(input))} is not a valid absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundRequestError("invalid_url", `only http and https URLs are allowed, got ${url.protocol.slice(0, -1)}`);
  }
  if (opts.allowPrivateNetwork) return { url, address: null, addresses: null };

  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  // Strict literal test: WHATWG has already canonicalised numeric hosts, so
  // anything else is a name the connection would resolve; resolve it here.
  if (isIP(host) !== 0) {
    const reason = isForbiddenAddress(host);
    if (reason) throw refused(url, reason);
    return { url, address: host, addresses: [{ address: host, family: isIP(host) }] };
  }
  const name = host.replace(/\.$/, "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) throw refused(url, "localhost names are loopback");

  let addresses: ResolvedAddress[];
  try {
    addresses = await (opts.resolve ?? defaultResolver)(name);
  } catch (e) {
    const code = (e as { code?: string }).code;
    // NXDOMAIN will not fix itself on a retry; a resolver hiccup may.
    throw new OutboundRequestError("dns_failed", `could not resolve ${name}: ${code ?? String(e)}`, {
      retryable: code !== "ENOTFOUND",
      cause: e,
    });
  }
  if (addresses.length === 0) throw new OutboundRequestError("dns_failed", `${name} has no addresses`);
  for (const { address } of addresses) {
    const reason = isForbiddenAddress(address);
    if (reason) throw refused(url, `${name} resolves to ${address}, a ${reason}`);
  }
  return { url, address: addresses[0]!.address, addresses: addresses.map(({ address, family }) => ({ address, family })) };
}
