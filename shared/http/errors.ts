// The closed set of errors a handler may answer with, mapped to one JSON shape
// in one place: {"error": {"code", "message"}} with the right status.
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message: string, code = "bad_request") => new HttpError(400, code, message);
export const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);
export const notFound = (message: string) => new HttpError(404, "not_found", message);
export const methodNotAllowed = (allow: string) =>
  new HttpError(405, "method_not_allowed", `use ${allow}`, { allow });
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, "payload_too_large", `request body is larger than the ${limit}-byte limit`);
export const unsupportedMediaType = (message: string) => new HttpError(415, "unsupported_media_type", message);
export const unavailable = (message: string, retryAfterSeconds = 5) =>
  new HttpError(503, "unavailable", message, { "retry-after": String(retryAfterSeconds) });

/** SQLSTATEs our SQL functions raise, and what they mean over HTTP. */
const SQLSTATE_STATUS: Record<string, [number, string]> = {
  P0002: [404, "not_found"], // no_data_found: unknown (or invisible under RLS) row
  "22023": [400, "invalid_parameter"], // invalid_parameter_value
  "22P02": [400, "invalid_parameter"], // invalid_text_representation (bad uuid, enum)
  "23514": [400, "invalid_parameter"], // check_violation (config validation)
  "42501": [403, "forbidden"], // insufficient_privilege / RLS
  "54000": [409, "limit_exceeded"], // program_limit_exceeded: a chain's run budget or depth, automation_settings limits
  "55000": [409, "conflict"], // object_not_in_prerequisite_state (e.g. automation not active)
};

/** Text PostgreSQL cannot store (in practice NUL, "\u0000", in a string or key of the body). */
const UNSTORABLE_TEXT = new Set(["22P05", "22021"]);

/** Connection-level failures: the database is down or restarting. Retry later. */
const UNAVAILABLE = new Set(["57P01", "57P02", "57P03", "08000", "08001", "08003", "08006", "53300"]);
const NODE_UNAVAILABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "EPIPE"]);

export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { code?: string; message?: string; detail?: string };
  if (e && typeof e.code === "string") {
    if (UNAVAILABLE.has(e.code) || NODE_UNAVAILABLE.has(e.code)) {
      return unavailable("the database is unavailable; retry shortly");
    }
    if (UNSTORABLE_TEXT.has(e.code)) {
      return new HttpError(400, "invalid_parameter", `PostgreSQL cannot store this text (${e.message}): remove NUL characters ("\\u0000") from strings and keys`);
    }
    const mapped = SQLSTATE_STATUS[e.code];
    if (mapped) return new HttpError(mapped[0], mapped[1], e.message ?? "request rejected");
  }
  return new HttpError(500, "internal", "internal error; the failure was logged");
}

export function errorResponse(err: unknown): Response {
  const h = toHttpError(err);
  return Response.json(
    { error: { code: h.code, message: h.message } },
    { status: h.status, headers: h.headers },
  );
}
