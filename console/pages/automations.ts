// / : the org's automations with status and recent health (the share of
// failures among the latest finished runs), refreshed every few seconds.
import { badge, h, link, replace, timeEl } from "../dom.ts";
import type { AutomationSummary } from "../types.ts";
import { showError, type ViewContext } from "../view.ts";

const POLL_MS = 5000;

function health(a: AutomationSummary): HTMLElement {
  if (a.failure_share === null) return h("span", { class: "muted" }, "no finished runs yet");
  const pct = Math.round(a.failure_share * 100);
  const level = a.recent_failed === 0 ? "ok" : a.failure_share < 0.2 ? "warn" : "bad";
  return h(
    "span",
    { class: `health health-${level}` },
    a.recent_failed === 0 ? (a.recent_runs === 1 ? "the one finished run succeeded" : `all ${a.recent_runs} recent runs succeeded`) : `${a.recent_failed} of ${a.recent_runs} recent runs failed (${pct}%)`,
  );
}

function table(list: AutomationSummary[]): HTMLElement {
  if (list.length === 0) return h("p", {}, "Your organization has no automations yet.");
  const cell = (label: string, ...c: Parameters<typeof h>[2][]) => h("td", { "data-label": label }, ...c);
  return h(
    "table",
    { class: "rows" },
    h("caption", { class: "sr-only" }, "Automations"),
    h("thead", {}, h("tr", {}, ["Name", "Trigger", "Status", "Runs", "Last run", "Recent health"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      list.map((a) =>
        h(
          "tr",
          {},
          cell("Name", link(`/automations/${a.id}`, a.name)),
          cell("Trigger", a.trigger_type),
          cell("Status", badge(a.status)),
          cell("Runs", String(a.run_count)),
          cell("Last run", timeEl(a.last_run_at)),
          cell("Recent health", health(a)),
        ),
      ),
    ),
  );
}

export function renderAutomations(ctx: ViewContext): void {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  let shown = "";
  replace(ctx.root, h("h1", { tabindex: "-1" }, "Automations"), body);
  ctx.root.querySelector("h1")?.focus();
  ctx.poll(POLL_MS, async () => {
    try {
      const { automations } = await ctx.api.get<{ automations: AutomationSummary[] }>("/automations");
      // Redrawn only when something changed, so focus and folds stay put.
      const now = JSON.stringify(automations);
      if (ctx.alive() && now !== shown) replace(body, table(automations));
      if (!shown) performance.mark("console:automations"); // time to content (bench/console.ts)
      shown = now;
      return true;
    } catch (e) {
      showError(ctx, "Automations", e);
      return false;
    }
  });
}
