// An automation's runs, newest first: the first page refreshes every few
// seconds while the view is open; "Show older runs" follows the keyset cursor;
// a status filter narrows both.
import { badge, durationMs, formatDuration, h, link, replace, shortId, timeEl } from "../dom.ts";
import type { RunSummary } from "../types.ts";
import type { ViewContext } from "../view.ts";

const PAGE = 25;
const POLL_MS = 3000;

function rows(runs: RunSummary[]): HTMLElement[] {
  return runs.map((r) =>
    h(
      "tr",
      {},
      h("td", { "data-label": "Run" }, link(`/runs/${r.id}`, h("code", {}, shortId(r.id)))),
      h("td", { "data-label": "Status" }, badge(r.status)),
      h("td", { "data-label": "Created" }, timeEl(r.created_at)),
      h("td", { "data-label": "Duration" }, r.started_at ? formatDuration(durationMs(r.started_at, r.completed_at)) : "—"),
      h("td", { "data-label": "Error", class: "error-cell" }, r.error_message ?? ""),
    ),
  );
}

export function runsList(ctx: ViewContext, automationId: string, onRuns?: (first: RunSummary[]) => void): HTMLElement {
  const first = h("tbody", {});
  const older = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, "Show older runs");
  const empty = h("p", { class: "muted" }, "Loading runs…");
  const table = h(
    "table",
    { class: "rows", hidden: true },
    h("caption", { class: "sr-only" }, "Runs of this automation, newest first"),
    h("thead", {}, h("tr", {}, ["Run", "Status", "Created", "Duration", "Error"].map((t) => h("th", { scope: "col" }, t)))),
    first,
    older,
  );
  let cursor: string | null = null;
  let shown = "";
  const filter = h(
    "select",
    { id: "runs-status" },
    ["", "failed", "completed", "running", "pending"].map((v) => h("option", { value: v }, v === "" ? "all" : v)),
  );
  const q = (after: string | null) =>
    `/runs?automation_id=${automationId}&limit=${PAGE}${filter.value ? `&status=${filter.value}` : ""}${after ? `&after=${encodeURIComponent(after)}` : ""}`;

  more.addEventListener("click", async () => {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await ctx.api.get<{ runs: RunSummary[]; next: string | null }>(q(cursor));
      older.append(...rows(page.runs));
      cursor = page.next;
      more.hidden = cursor === null;
    } finally {
      more.disabled = false;
    }
  });

  const refresh = async () => {
    const wanted = filter.value;
    const page = await ctx.api.get<{ runs: RunSummary[]; next: string | null }>(q(null));
    if (!ctx.alive()) return false;
    if (wanted !== filter.value) return true; // the filter changed meanwhile: its own refresh draws
    const now = JSON.stringify(page.runs);
    if (now !== shown) {
      shown = now;
      replace(first, rows(page.runs));
      onRuns?.(page.runs);
    }
    if (older.childElementCount === 0) {
      cursor = page.next;
      more.hidden = cursor === null;
    }
    if (table.hidden && page.runs.length > 0) performance.mark("console:runs"); // time to content (bench/console.ts)
    table.hidden = page.runs.length === 0;
    empty.hidden = page.runs.length > 0;
    empty.textContent = filter.value ? `No ${filter.value} runs.` : "No runs yet.";
    return true;
  };
  filter.addEventListener("change", () => {
    replace(older);
    shown = "";
    void refresh().catch(() => {});
  });
  ctx.poll(POLL_MS, refresh);
  return h(
    "section",
    { "aria-labelledby": "runs-h" },
    h("h2", { id: "runs-h" }, "Runs"),
    h("p", { class: "inline-field" }, h("label", { for: "runs-status" }, "Status"), " ", filter),
    empty,
    h("div", { class: "scroll" }, table),
    more,
  );
}
