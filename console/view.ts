// What every view gets: where to draw, the API, and a lifetime: polling and
// late answers stop once the user has moved to another view.
import type { Api } from "./api.ts";
import { ApiError } from "./api.ts";
import { h, replace } from "./dom.ts";
import type { ConsoleConfig } from "./session.ts";

export interface ViewContext {
  root: HTMLElement;
  api: Api;
  cfg: ConsoleConfig;
  /** False once the user navigated away (or signed out). */
  alive(): boolean;
  /** Calls fn now and every `ms` after it settles, while alive and while fn returns true. */
  poll(ms: number, fn: () => Promise<boolean>): void;
}

/** An error where the view's content would be: "not found" for 404 (another org's ids too). */
export function showError(ctx: ViewContext, what: string, e: unknown): void {
  if (!ctx.alive()) return;
  if (e instanceof ApiError && e.status === 401) return; // sign-in is shown instead
  const notFound = e instanceof ApiError && e.status === 404;
  replace(
    ctx.root,
    h("h1", { tabindex: "-1" }, notFound ? `${what} not found` : `Could not load the ${what.toLowerCase()}`),
    h(
      "p",
      { role: "alert", class: "form-error" },
      notFound ? `${(e as Error).message}: it does not exist, or your organization cannot see it.` : (e as Error).message,
    ),
    h("p", {}, h("a", { href: "/", "data-nav": true }, "Back to the automations")),
  );
}

/** A small inline error under an action (Retry, Cancel, dry run). */
export function actionError(e: unknown): string {
  return e instanceof ApiError ? `${e.message} (${e.status})` : String((e as Error)?.message ?? e);
}
