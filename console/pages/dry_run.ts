// The dry-run panel: a payload (the last run's by default), and what each
// step would do with it: the condition's outcome, the config with templates
// rendered, the values that depend on earlier steps' outputs (unknown until
// a real run). POST automations-api/automations/<id>/test: nothing is sent
// and nothing is written.
import { badge, h, replace } from "../dom.ts";
import { jsonView } from "../json_view.ts";
import type { DryRunResult, DryRunStep } from "../types.ts";
import { actionError, type ViewContext } from "../view.ts";

const SOURCE: Record<DryRunResult["payload_source"], string> = {
  given: "the payload above",
  last_run: "the last run's payload",
  empty: "an empty payload",
};

function stepView(s: DryRunStep): HTMLElement {
  const outcome = s.condition === null ? null : s.condition.outcome === "unknown" ? "unknown (reads earlier steps' outputs)" : String(s.condition.outcome);
  return h(
    "li",
    { class: `dry-step would-${s.would}` },
    h("h3", {}, `${s.index + 1}. ${s.name ?? s.type} `, h("span", { class: "muted" }, `(${s.type})`), " ", badge(`would ${s.would}`)),
    s.error ? h("p", { class: "step-error", role: "note" }, `Error: ${s.error}`) : null,
    s.condition
      ? h("p", {}, `Condition: ${outcome}`, s.condition.outcome === false ? `, so ${s.condition.else}` : "")
      : null,
    s.unknown.length ? h("p", {}, "Unknown until a real run: ", s.unknown.map((u, i) => [i ? ", " : "", h("code", {}, u)])) : null,
    s.preview !== undefined && s.preview !== null ? [h("h4", {}, "Would send"), jsonView(s.preview, `Preview of step ${s.index + 1}`)] : null,
    h("details", { open: s.preview === undefined || s.preview === null }, h("summary", {}, "Rendered config"), jsonView(s.config, `Config of step ${s.index + 1}`)),
  );
}

export function dryRunPanel(ctx: ViewContext, automationId: string): { el: HTMLElement; setPayload(p: unknown): void } {
  const area = h("textarea", { id: "dry-payload", rows: 8, spellcheck: "false" }, "{}");
  const btn = h("button", { type: "submit", class: "primary" }, "Run the dry run");
  const out = h("div", { id: "dry-result", "aria-live": "polite" });
  let touched = false;
  area.addEventListener("input", () => (touched = true));
  const form = h(
    "form",
    { class: "stack" },
    h("label", { for: "dry-payload" }, "Trigger payload (JSON object)"),
    area,
    btn,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let payload: unknown;
    try {
      payload = JSON.parse(area.value);
    } catch (e) {
      replace(out, h("p", { class: "form-error", role: "alert" }, `The payload is not valid JSON: ${(e as Error).message}`));
      return;
    }
    btn.disabled = true;
    replace(out, h("p", { class: "muted" }, "Running…"));
    try {
      const r = await ctx.api.post<DryRunResult>(`/automations/${automationId}/test`, { payload });
      if (!ctx.alive()) return;
      replace(
        out,
        h("p", {}, `Dry run with ${SOURCE[r.payload_source] ?? r.payload_source}: nothing was sent and nothing was written.`),
        h("ol", { class: "dry-steps" }, r.steps.map(stepView)),
      );
    } catch (e) {
      replace(out, h("p", { class: "form-error", role: "alert" }, `The dry run failed: ${actionError(e)}`));
    } finally {
      btn.disabled = false;
    }
  });
  const el = h(
    "section",
    { "aria-labelledby": "dry-h" },
    h("h2", { id: "dry-h" }, "Test with a sample payload"),
    h("p", { class: "muted" }, "See what each step would do with this payload. Nothing is sent and nothing is written."),
    form,
    out,
  );
  return {
    el,
    setPayload(p) {
      if (!touched) area.value = JSON.stringify(p ?? {}, null, 2);
    },
  };
}
