// Plain aligned tables for the terminal; long cells are cut with an ellipsis.
const MAX = 60;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  const s = v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
  const one = s.replace(/\s+/g, " ");
  return one.length > MAX ? `${one.slice(0, MAX - 1)}…` : one;
}

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    console.log("(none)");
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of cells) console.log(line(r));
}
