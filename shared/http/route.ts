// Helpers every handler uses: method check, path parameter, one error mapper.
import type { Logger } from "../logger.ts";
import { badRequest, errorResponse, methodNotAllowed, toHttpError } from "./errors.ts";

export type Handler = (req: Request) => Promise<Response>;

/** Run a handler body; any thrown error becomes the one JSON error shape. */
export function handle(logger: Logger, name: string, fn: Handler): Handler {
  return async (req) => {
    try {
      return await fn(req);
    } catch (err) {
      const h = toHttpError(err);
      if (h.status >= 500) logger.error(`${name} failed`, { status: h.status, error: String((err as Error)?.stack ?? err) });
      return errorResponse(err);
    }
  };
}

export function allowMethods(req: Request, ...methods: string[]): void {
  if (!methods.includes(req.method)) throw methodNotAllowed(methods.join(", "));
}

/** The path segment after `/<fn>/`, e.g. the automation id of /functions/v1/automations-webhook/<id>. */
export function pathParam(req: Request, fn: string): string | null {
  const parts = new URL(req.url).pathname.split("/").filter(Boolean);
  const i = parts.lastIndexOf(fn);
  if (i < 0 || !parts[i + 1]) return null;
  try {
    return decodeURIComponent(parts[i + 1]!);
  } catch {
    // "%", "%zz", an encoded lone surrogate: not a value we could look up.
    throw badRequest(`the path after /${fn}/ is not valid percent-encoding`);
  }
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
