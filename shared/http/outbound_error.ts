// The one error the outbound HTTP safety code (ssrf.ts, safe_fetch.ts)
// throws: a refused address, a bad URL, DNS, redirect, size and transport
// failures. It lives in shared/http/ so that layer imports nothing above it;
// the actions that call safeFetch turn it into an ActionError in one place
// (shared/actions/http_util.ts, actionFetch) with the same code, message and
// retry decision.
export class OutboundRequestError extends Error {
  /** Machine-readable reason: forbidden_address, invalid_url, dns_failed, timeout, network_error, ... */
  readonly code: string;
  /** Whether the same request may succeed later (timeouts, connection errors, a resolver hiccup). */
  readonly retryable: boolean;
  /** Server-requested wait before the next attempt, when there is one. */
  readonly retryAfterMs?: number;
  constructor(
    code: string,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "OutboundRequestError";
    this.code = code;
    this.retryable = opts.retryable ?? false;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}
