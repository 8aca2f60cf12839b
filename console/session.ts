// The signed-in user's access token, for this tab only (sessionStorage), and
// the project the page talks to (/config.json, written by the server that
// serves the page). A token arriving in the URL fragment (#access_token=…,
// as Supabase Auth redirects) is taken and removed from the address bar.
export interface ConsoleConfig {
  /** The project URL; null: this page's own origin (the local runtime). */
  url: string | null;
  anonKey: string;
  signIn: "demo" | "password" | "token";
}

const KEY = "automations-console.access_token";

export async function loadConfig(): Promise<ConsoleConfig> {
  // The server puts /config.json's content into the page; fetched only when a page came without it.
  const meta = document.querySelector<HTMLMetaElement>('meta[name="automations-console-config"]');
  if (meta?.content) return JSON.parse(meta.content) as ConsoleConfig;
  const res = await fetch("/config.json");
  if (!res.ok) throw new Error(`/config.json answered ${res.status}: the page cannot tell which project to use`);
  return (await res.json()) as ConsoleConfig;
}

export const projectUrl = (cfg: ConsoleConfig): string => (cfg.url ?? location.origin).replace(/\/+$/, "");

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(t: string): void {
  sessionStorage.setItem(KEY, t);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/** Takes #access_token=… from the address bar (then removes the fragment); true when one was there. */
export function takeTokenFromUrl(): boolean {
  if (!location.hash.includes("access_token=")) return false;
  const t = new URLSearchParams(location.hash.slice(1)).get("access_token");
  history.replaceState(history.state, "", location.pathname + location.search);
  if (!t) return false;
  setToken(t);
  return true;
}

/** The email claim of the token, to show who is signed in (not verified here: the project verifies it). */
export function tokenEmail(t: string): string | null {
  try {
    const part = t.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part)) as { email?: unknown; sub?: unknown };
    return typeof claims.email === "string" ? claims.email : typeof claims.sub === "string" ? claims.sub : null;
  } catch {
    return null;
  }
}
