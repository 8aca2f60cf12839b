// The run's timeline: one bar per step, placed at its start and sized by its
// duration relative to the whole run; each bar says its step, status and
// duration in words (for screen readers and when bars are too thin to see).
import { durationMs, formatDuration, h } from "../dom.ts";
import type { RunDetail } from "../types.ts";

const MIN_WIDTH = 0.6; // percent, so an instant step is still visible

export function timeline(run: RunDetail, now = Date.now()): HTMLElement {
  const steps = run.steps;
  if (steps.length === 0) return h("p", { class: "muted" }, run.status === "pending" ? "Not started yet." : "No steps recorded.");
  const starts = steps.map((s) => (s.started_at ? Date.parse(s.started_at) : null));
  const ends = steps.map((s, i) => (s.completed_at ? Date.parse(s.completed_at) : starts[i] !== null ? now : null));
  const known = [...starts, ...ends].filter((x): x is number => x !== null);
  if (known.length === 0) return h("p", { class: "muted" }, "No step has started yet.");
  // From the first step's start: after a retry the run's started_at is the first attempt's.
  const t0 = Math.min(...known);
  const t1 = Math.max(...known, t0 + 1);
  const span = t1 - t0;
  return h(
    "ol",
    { class: "timeline", "aria-label": `Timeline: ${formatDuration(span)} from the first step's start to the last step's end` },
    steps.map((s, i) => {
      const ms = durationMs(s.started_at, s.completed_at, now);
      const left = starts[i] === null ? 0 : ((starts[i]! - t0) / span) * 100;
      const width = ms === null ? MIN_WIDTH : Math.max(MIN_WIDTH, (ms / span) * 100);
      const label = `${s.name ?? s.action_type}: ${s.status}, ${formatDuration(ms)}`;
      const bar = h("span", { class: `tl-bar tl-${s.status}`, title: label });
      // Through the CSSOM: the page's CSP allows no inline style attributes.
      bar.style.marginLeft = `${Math.min(left, 100 - width).toFixed(2)}%`;
      bar.style.width = `${Math.min(width, 100).toFixed(2)}%`;
      return h(
        "li",
        { class: "tl-row" },
        h("span", { class: "tl-label" }, `${s.step_index + 1}. ${s.name ?? s.action_type}`),
        h("span", { class: "tl-track" }, bar),
        h("span", { class: "tl-dur" }, formatDuration(ms)),
      );
    }),
  );
}
