// The console's only data source: the project's automations-api function,
// called with the signed-in user's JWT (RLS decides what exists). A 401
// ends the session: the page goes back to sign-in with the reason.
import { projectUrl, token, type ConsoleConfig } from "./session.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

export function createApi(cfg: ConsoleConfig, onUnauthorized: (message: string) => void): Api {
  const base = `${projectUrl(cfg)}/functions/v1/automations-api`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const t = token();
    if (!t) {
      onUnauthorized("Sign in to continue.");
      throw new ApiError(401, "unauthorized", "not signed in");
    }
    const headers: Record<string, string> = { authorization: `Bearer ${t}`, apikey: cfg.anonKey };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, "network", `could not reach ${base}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.ok) return data as T;
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    const message = err?.message ?? (text.slice(0, 200) || `${res.status} ${res.statusText}`);
    if (res.status === 401) onUnauthorized(`Your session has expired or was rejected (${message}). Sign in again.`);
    throw new ApiError(res.status, err?.code ?? String(res.status), message);
  };
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body ?? {}),
  };
}
