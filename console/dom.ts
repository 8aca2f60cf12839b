// A small DOM helper (no framework: the console is four views and a router),
// plus how times and durations are shown: in the viewer's own time zone.
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);

/** h("a", {href: "/x", onclick: fn}, "text", child): an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A date and time in the viewer's local time zone; "—" for none. */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** A <time> element: local time shown, the exact instant in datetime and title. */
export function timeEl(iso: string | null | undefined): Node {
  if (!iso) return document.createTextNode("—");
  return h("time", { datetime: iso, title: iso }, localTime(iso));
}

export function durationMs(from: string | null | undefined, to: string | null | undefined, now = Date.now()): number | null {
  if (!from) return null;
  const end = to ? Date.parse(to) : now;
  return Math.max(0, end - Date.parse(from));
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A status word as a badge; the word itself carries the meaning (not only the colour). */
export function badge(status: string): HTMLElement {
  return h("span", { class: `badge badge-${status.trim().replace(/\s+/g, "_").replace(/[^a-z_]/g, "")}` }, status);
}

/** An internal link the router handles without reloading the page. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href, "data-nav": true }, ...children);
}

export const shortId = (id: string) => id.slice(0, 8);
