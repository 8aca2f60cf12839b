// /automations/<id>: the trigger, the ordered actions with their configs,
// the webhook URL with a test command, the dry-run panel and the runs list
// (refreshed while open). Pause / Activate through automations-api.
import { badge, h, link, replace, timeEl } from "../dom.ts";
import { jsonView } from "../json_view.ts";
import { projectUrl } from "../session.ts";
import type { ActionRow, AutomationDetail, RunDetail, RunSummary } from "../types.ts";
import { actionError, showError, type ViewContext } from "../view.ts";
import { dryRunPanel } from "./dry_run.ts";
import { runsList } from "./runs_list.ts";
import { webhookInfo } from "./webhook_info.ts";

function actionItem(a: ActionRow): HTMLElement {
  return h(
    "li",
    { class: "action" },
    h("h3", {}, a.name ?? a.action_type, " ", h("span", { class: "muted" }, `(${a.action_type}, position ${a.position})`)),
    a.condition ? [h("h4", {}, "Runs only if"), jsonView(a.condition, `Condition of ${a.name ?? a.action_type}`)] : null,
    h("h4", {}, "Config"),
    jsonView(a.action_config, `Config of ${a.name ?? a.action_type}`),
  );
}

/** Pause / Activate; the badge beside the name follows the new status. */
function statusToggle(ctx: ViewContext, a: AutomationDetail, status: HTMLElement): HTMLElement | null {
  if (a.status !== "active" && a.status !== "paused") return null;
  let current = a.status;
  const btn = h("button", { type: "button" }, current === "active" ? "Pause" : "Activate");
  const msg = h("span", { class: "form-error", role: "alert" });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    msg.textContent = "";
    try {
      const r = await ctx.api.post<{ status: string }>(`/automations/${a.id}/status`, { status: current === "active" ? "paused" : "active" });
      current = r.status;
      status.replaceWith((status = badge(current)));
      btn.textContent = current === "active" ? "Pause" : "Activate";
    } catch (e) {
      msg.textContent = actionError(e);
    } finally {
      btn.disabled = false;
    }
  });
  return h("span", {}, btn, " ", msg);
}

export function renderAutomation(ctx: ViewContext, id: string): void {
  replace(ctx.root, h("p", { class: "muted" }, "Loading…"));
  const draw = (a: AutomationDetail) => {
    const dry = dryRunPanel(ctx, a.id);
    const webhook = a.trigger_type === "webhook" ? h("div", {}) : null;
    const showWebhook = (payload: unknown) => webhook && replace(webhook, webhookInfo(projectUrl(ctx.cfg), a.id, a.trigger_config, payload));
    showWebhook(null);
    let prefilled = false;
    // The last run's payload prefills the dry run and the test command.
    const onRuns = (runs: RunSummary[]) => {
      if (prefilled || runs.length === 0) return;
      prefilled = true;
      ctx.api.get<RunDetail>(`/runs/${runs[0]!.id}`).then(
        (r) => {
          // A restricted run's payload is readable by its acting member
          // only; anyone else gets a redaction marker, which is no sample.
          if (!ctx.alive() || isRedacted(r.trigger_payload)) return;
          dry.setPayload(r.trigger_payload);
          showWebhook(r.trigger_payload);
        },
        () => {},
      );
    };
    const status = badge(a.status);
    replace(
      ctx.root,
      h("p", { class: "crumbs" }, link("/", "Automations"), " / "),
      h("h1", { tabindex: "-1" }, a.name, " ", status),
      a.description ? h("p", {}, a.description) : null,
      h("p", {}, statusToggle(ctx, a, status)),
      h("p", { class: "muted" }, `${a.run_count} run${a.run_count === 1 ? "" : "s"}; last run `, timeEl(a.last_run_at)),
      h("section", { "aria-labelledby": "trigger-h" }, h("h2", { id: "trigger-h" }, `Trigger: ${a.trigger_type}`), jsonView(a.trigger_config, "Trigger config")),
      webhook,
      h(
        "section",
        { "aria-labelledby": "actions-h" },
        h("h2", { id: "actions-h" }, `Actions (${a.actions.length}, in order)`),
        a.actions.length ? h("ol", { class: "actions" }, a.actions.map(actionItem)) : h("p", {}, "No actions yet."),
      ),
      dry.el,
      runsList(ctx, a.id, onRuns),
    );
  };
  ctx.api.get<AutomationDetail>(`/automations/${encodeURIComponent(id)}`).then(
    (a) => {
      if (!ctx.alive()) return;
      draw(a);
      ctx.root.querySelector("h1")?.focus();
      performance.mark("console:automation"); // time to content (bench/console.ts)
    },
    (e) => showError(ctx, "Automation", e),
  );
}

function isRedacted(p: unknown): boolean {
  return typeof p === "object" && p !== null && (p as { redacted?: unknown }).redacted === true;
}
