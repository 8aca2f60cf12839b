// /runs/<id>: the timeline, every step's status, attempt, input, output and
// error, the trigger payload; Retry on a failed run (resumes from the failed
// step), Cancel on a pending or running one. Refreshes until the run ends.
import { badge, durationMs, formatDuration, h, link, replace, shortId, timeEl } from "../dom.ts";
import { jsonView } from "../json_view.ts";
import type { RunDetail, RunStep } from "../types.ts";
import { actionError, showError, type ViewContext } from "../view.ts";
import { timeline } from "./timeline.ts";

const POLL_MS = 1500;
const ended = (status: string) => status === "completed" || status === "failed";

/** Runs with more steps than this show a finished step's input and output folded, built when opened. */
const FOLD_STEPS_OVER = 10;

function inputOutput(s: RunStep): HTMLElement[] {
  return [
    h("h4", {}, "Input"),
    jsonView(s.input, `Input of step ${s.step_index + 1}`),
    h("h4", {}, "Output"),
    jsonView(s.output, `Output of step ${s.step_index + 1}`),
  ];
}

function stepView(s: RunStep, fold: boolean): HTMLElement {
  const title = s.name ?? s.action_type;
  let io: HTMLElement | HTMLElement[] = inputOutput(s);
  if (fold && s.status === "completed") {
    const details = h("details", { class: "step-io" }, h("summary", {}, "Input and output"));
    details.addEventListener("toggle", () => details.open && details.childElementCount === 1 && details.append(...inputOutput(s)));
    io = details;
  }
  return h(
    "li",
    { class: `step step-${s.status}` },
    h("h3", {}, `${s.step_index + 1}. ${title} `, h("span", { class: "muted" }, `(${s.action_type})`), " ", badge(s.status)),
    h(
      "p",
      { class: "muted" },
      `attempt ${s.attempt} · started `,
      timeEl(s.started_at),
      ` · ${formatDuration(durationMs(s.started_at, s.completed_at))}`,
    ),
    s.error_message ? h("p", { class: "step-error", role: "note" }, h("strong", {}, "Error: "), s.error_message) : null,
    io,
  );
}

export function renderRun(ctx: ViewContext, id: string): void {
  replace(ctx.root, h("p", { class: "muted" }, "Loading…"));
  const head = h("div", {});
  const body = h("div", {});
  const actions = h("p", { class: "run-actions" });
  const msg = h("p", { class: "form-error", role: "alert" });
  let first = true;
  let following = false;
  let shown = "";

  const button = (label: string, verb: "retry" | "cancel") => {
    const b = h("button", { type: "button", class: verb === "retry" ? "primary" : "" }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      msg.textContent = "";
      try {
        draw(await ctx.api.post<RunDetail>(`/runs/${id}/${verb}`));
        follow();
      } catch (e) {
        msg.textContent = `${label} failed: ${actionError(e)}`;
        b.disabled = false;
      }
    });
    return b;
  };

  const draw = (run: RunDetail) => {
    const now = JSON.stringify(run);
    if (now === shown && !first) return;
    shown = now;
    replace(
      head,
      h("p", { class: "crumbs" }, link("/", "Automations"), " / ", link(`/automations/${run.automation_id}`, run.automation_name), " / "),
      h("h1", { tabindex: "-1" }, `Run ${shortId(run.id)} `, badge(run.cancelled ? "cancelled" : run.status)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Trigger"), h("dd", {}, run.trigger_type ?? "—"),
        h("dt", {}, "Created"), h("dd", {}, timeEl(run.created_at)),
        h("dt", {}, "Started"), h("dd", {}, timeEl(run.started_at)),
        h("dt", {}, "Finished"), h("dd", {}, timeEl(run.completed_at)),
        h("dt", {}, "Duration"), h("dd", {}, formatDuration(durationMs(run.started_at, run.completed_at))),
        h("dt", {}, "Attempt"), h("dd", {}, String(run.attempt)),
        h("dt", {}, "Failed attempts"), h("dd", {}, `${run.failed_attempts} of ${run.max_attempts} allowed`),
      ),
      run.error_message ? h("p", { class: "run-error", role: "note" }, h("strong", {}, "Error: "), run.error_message) : null,
    );
    replace(actions, run.status === "failed" ? button("Retry", "retry") : null, !ended(run.status) ? button("Cancel", "cancel") : null);
    replace(
      body,
      h("section", { "aria-labelledby": "tl-h" }, h("h2", { id: "tl-h" }, "Timeline"), timeline(run)),
      h("section", { "aria-labelledby": "steps-h" }, h("h2", { id: "steps-h" }, `Steps (${run.steps.length})`), h("ol", { class: "steps" }, run.steps.map((st) => stepView(st, run.steps.length > FOLD_STEPS_OVER)))),
      h("section", { "aria-labelledby": "payload-h" }, h("h2", { id: "payload-h" }, "Trigger payload"), jsonView(run.trigger_payload, "Trigger payload")),
      run.result !== null && run.result !== undefined
        ? h("section", { "aria-labelledby": "result-h" }, h("h2", { id: "result-h" }, "Result"), jsonView(run.result, "Result"))
        : null,
    );
    if (first) {
      first = false;
      replace(ctx.root, head, actions, msg, body);
      ctx.root.querySelector("h1")?.focus();
      performance.mark("console:run"); // time to content (bench/console.ts)
    }
  };

  /** Poll until the run ends (again, after a retry). */
  const follow = () => {
    if (following) return;
    following = true;
    ctx.poll(POLL_MS, async () => {
      try {
        const run = await ctx.api.get<RunDetail>(`/runs/${encodeURIComponent(id)}`);
        if (!ctx.alive()) return false;
        draw(run);
        following = !ended(run.status);
        return following;
      } catch (e) {
        following = false;
        if (first) showError(ctx, "Run", e);
        else msg.textContent = `Could not refresh: ${actionError(e)}`;
        return false;
      }
    });
  };
  follow();
}
