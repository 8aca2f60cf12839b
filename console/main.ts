// The run console: a page over the project's automations-api, acting as the
// signed-in user. Routes: / (automations), /automations/<id>, /runs/<id>.
// Links with data-nav change the view without a reload; deep links work on
// reload because the server answers every route with this page.
import { createApi } from "./api.ts";
import { h, replace } from "./dom.ts";
import { renderAutomation } from "./pages/automation.ts";
import { renderAutomations } from "./pages/automations.ts";
import { renderRun } from "./pages/run.ts";
import { clearToken, loadConfig, takeTokenFromUrl, token, tokenEmail, type ConsoleConfig } from "./session.ts";
import { renderSignIn } from "./sign_in.ts";
import type { ViewContext } from "./view.ts";

const ROUTES: Array<[RegExp, (ctx: ViewContext, id: string) => void]> = [
  [/^\/$/, (ctx) => renderAutomations(ctx)],
  [/^\/automations\/([^/]+)\/?$/, (ctx, id) => renderAutomation(ctx, id)],
  [/^\/runs\/([^/]+)\/?$/, (ctx, id) => renderRun(ctx, id)],
];

function start(cfg: ConsoleConfig): void {
  const who = h("span", { class: "who" });
  const signOut = h("button", { type: "button", class: "link-button" }, "Sign out");
  const main = h("main", { id: "main" });
  document.body.replaceChildren(
    h("a", { href: "#main", class: "skip" }, "Skip to content"),
    h("header", { class: "top" }, h("a", { href: "/", "data-nav": true, class: "brand" }, "Automations"), h("span", { class: "spacer" }), who, signOut),
    main,
  );

  let generation = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const stopView = () => {
    generation++;
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };

  const showSignIn = (message: string | null) => {
    stopView();
    clearToken();
    who.textContent = "";
    signOut.hidden = true;
    renderSignIn(main, cfg, message, () => render());
  };
  const api = createApi(cfg, (message) => showSignIn(message));

  const render = () => {
    stopView();
    const t = token();
    if (!t) return showSignIn(null);
    who.textContent = tokenEmail(t) ?? "";
    signOut.hidden = false;
    const mine = generation;
    const alive = () => generation === mine;
    const ctx: ViewContext = {
      root: main,
      api,
      cfg,
      alive,
      poll(ms, fn) {
        const tick = () => {
          if (!alive()) return;
          // A tab in the background asks nothing until it is shown again.
          if (document.hidden) return document.addEventListener("visibilitychange", tick, { once: true });
          fn().then(
            (again) => {
              if (again && alive()) timers.add(setTimeout(tick, ms));
            },
            () => alive() && timers.add(setTimeout(tick, ms * 2)),
          );
        };
        tick();
      },
    };
    const path = location.pathname;
    for (const [re, view] of ROUTES) {
      const m = re.exec(path);
      if (m) return view(ctx, decodeURIComponent(m[1] ?? ""));
    }
    replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-nav": true }, "Back to the automations")));
  };

  signOut.addEventListener("click", () => showSignIn("Signed out."));
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element | null)?.closest?.("a[data-nav]") as HTMLAnchorElement | null;
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    if (a.pathname !== location.pathname) history.pushState(null, "", a.pathname);
    render();
  });
  window.addEventListener("popstate", () => render());
  // A token pasted into the address bar of an open console arrives without a reload.
  window.addEventListener("hashchange", () => takeTokenFromUrl() && render());
  render();
}

async function boot(): Promise<void> {
  performance.mark("console:start"); // the script runs (bench/console.ts)
  takeTokenFromUrl();
  try {
    start(await loadConfig());
  } catch (e) {
    document.body.replaceChildren(h("main", {}, h("h1", {}, "The console could not start"), h("p", { role: "alert" }, (e as Error).message)));
  }
}

void boot();
