// PostgreSQL errors raised by the database actions, as step errors. Bad data
// (SQLSTATE classes 22 and 23) will fail the same way on every attempt, so it
// is not retried; a lost connection, a deadlock or a serialization failure
// may succeed next time, so it is.
import { ActionError } from "../engine/action_contract.ts";

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
}

const TRANSIENT_CLASSES = ["08", "40", "53", "57"];
const TRANSIENT_NODE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]);

/** Map a driver error to an ActionError; `what` says what was attempted ("cannot set tasks.title"). */
export function dbActionError(e: unknown, what: string): ActionError {
  if (e instanceof ActionError) return e;
  const err = (e ?? {}) as PgError;
  const code = typeof err.code === "string" ? err.code : "";
  const message = err.message ?? String(e);
  const detail = err.detail ? ` (${err.detail})` : "";
  if (code.startsWith("22") || code.startsWith("23")) {
    return new ActionError("invalid_value", `${what}: ${message}${detail}`, { cause: e });
  }
  if (TRANSIENT_NODE.has(code) || TRANSIENT_CLASSES.some((c) => code.startsWith(c))) {
    return new ActionError("database_unavailable", `${what}: ${message}; will retry`, { retryable: true, cause: e });
  }
  return new ActionError("database_error", `${what}: ${message}${detail}`, { cause: e });
}
