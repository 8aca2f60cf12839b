// JSON shown readably: objects and arrays as nested lists, small ones on one
// line, long strings and big branches folded in <details> (open the fold to
// read it all). Plain text nodes only: a value is never parsed as HTML.
import { h, type Child } from "./dom.ts";

const INLINE_MAX = 80; // characters of JSON a value may take to be shown on one line
const STRING_FOLD = 160; // longer strings are folded behind their first characters
const OPEN_DEPTH = 2; // branches deeper than this start folded

function scalar(v: unknown): HTMLElement {
  if (typeof v === "string") {
    const text = JSON.stringify(v);
    if (v.length <= STRING_FOLD) return h("span", { class: "j-str" }, text);
    return h(
      "details",
      { class: "j-fold" },
      h("summary", {}, h("span", { class: "j-str" }, `${JSON.stringify(v.slice(0, 60))}…`), ` (${v.length} characters)`),
      h("pre", { class: "j-long" }, v),
    );
  }
  const cls = v === null ? "j-null" : typeof v === "number" ? "j-num" : typeof v === "boolean" ? "j-bool" : "j-other";
  return h("span", { class: cls }, v === undefined ? "undefined" : JSON.stringify(v));
}

function entries(v: object): Array<[string, unknown]> {
  return Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
}

function node(v: unknown, depth: number): Child {
  if (v === null || typeof v !== "object") return scalar(v);
  const text = JSON.stringify(v);
  const isArray = Array.isArray(v);
  const list = entries(v);
  if (list.length === 0) return h("span", { class: "j-empty" }, isArray ? "[]" : "{}");
  if (text.length <= INLINE_MAX) return h("code", { class: "j-inline" }, text);
  const items = h(
    "ul",
    { class: "j-list" },
    list.map(([k, x]) => h("li", {}, h("span", { class: "j-key" }, isArray ? `${k}: ` : `${JSON.stringify(k).slice(1, -1)}: `), node(x, depth + 1))),
  );
  const summary = isArray ? `[${list.length} item${list.length === 1 ? "" : "s"}]` : `{${list.length} key${list.length === 1 ? "" : "s"}}`;
  return h("details", { class: "j-fold", open: depth < OPEN_DEPTH }, h("summary", {}, summary), items);
}

/** A JSON value as DOM, inside a container labelled for screen readers when `label` is given. */
export function jsonView(value: unknown, label?: string): HTMLElement {
  return h("div", { class: "json", role: label ? "group" : undefined, "aria-label": label }, node(value, 0));
}
