// Figures, targets (issue 6) and the two outputs: a console table and
// bench/results/<YYYY-MM-DD>.md with the machine, the figures, PASS/MISS per
// target and each part's diagnostics (wait events, statements, EXPLAIN).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineInfo } from "./env.ts";

export interface Target {
  op: ">=" | "<=";
  value: number;
}

export interface Figure {
  part: string;
  metric: string;
  value: number;
  unit: string;
  target?: Target;
  /** Digits after the decimal point. */
  digits?: number;
}

export interface PartResult {
  part: string;
  /** Load average (1/5/15 min) when the part started and ended. */
  load: string;
  seconds: number;
  figures: Figure[];
  /** Markdown blocks: CPU split, wait events, top statements, EXPLAIN output. */
  details: string[];
}

export function verdict(f: Figure): "PASS" | "MISS" | "" {
  if (!f.target) return "";
  if (!Number.isFinite(f.value)) return "MISS";
  return (f.target.op === ">=" ? f.value >= f.target.value : f.value <= f.target.value) ? "PASS" : "MISS";
}

const fmt = (f: Figure) =>
  Number.isFinite(f.value)
    ? f.value.toLocaleString("en-US", { maximumFractionDigits: f.digits ?? 1, minimumFractionDigits: f.digits ?? 1 })
    : "n/a";
const tgt = (f: Figure) => (f.target ? `${f.target.op} ${f.target.value.toLocaleString("en-US")} ${f.unit}` : "");

function rows(results: PartResult[]): string[][] {
  return results.flatMap((r) => r.figures.map((f) => [f.part, f.metric, `${fmt(f)} ${f.unit}`, tgt(f), verdict(f)]));
}

export function consoleTable(results: PartResult[]): string {
  const head = ["part", "metric", "value", "target", ""];
  const body = rows(results);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...body.map(line)].join("\n");
}

export interface RunInfo {
  machine: MachineInfo;
  args: string;
  scale: number;
  profile: boolean;
  asyncCommit?: boolean;
  /** Runtime knobs set in the environment (empty: the defaults). */
  knobs?: string;
  loadBefore: string;
  loadAfter: string;
}

export function markdown(info: RunInfo, results: PartResult[]): string {
  const m = info.machine;
  const misses = results.flatMap((r) => r.figures.filter((f) => verdict(f) === "MISS"));
  const out = [
    `# Benchmark ${m.date}`,
    "",
    `\`${info.knobs ? `${info.knobs} ` : ""}npm run bench${info.args ? ` -- ${info.args}` : ""}\` (scale ${info.scale}${info.profile ? ", --profile: pg_stat_statements loaded" : ""})`,
    ...(info.asyncCommit
      ? ["", "**Diagnostic run: synchronous_commit = off (commits do not wait for the WAL flush). Not the target configuration.**"]
      : []),
    "",
    "| machine | |",
    "| --- | --- |",
    `| CPU | ${m.cores} cores, ${m.cpuModel} |`,
    `| memory | ${m.memoryGb} GB |`,
    `| disk: 8 kB write + fdatasync (median) | ${m.fsyncMs.toFixed(2)} ms: the floor under every durable commit |`,
    `| load average (1/5/15 min) | before ${info.loadBefore}; after ${info.loadAfter} |`,
    `| PostgreSQL | ${m.pg}, throwaway cluster, ${info.asyncCommit ? "fsync on, **synchronous_commit off**" : "default durability (fsync on, synchronous_commit on)"}, default shared_buffers |`,
    `| Node | ${m.node} |`,
    "",
    "A load average above 0 before the run means other work shared the cores; figures are then pessimistic.",
    "",
    "## Figures",
    "",
    "| part | metric | value | target | |",
    "| --- | --- | ---: | --- | --- |",
    ...rows(results).map((r) => `| ${r.join(" | ")} |`),
    "",
    misses.length === 0
      ? "All targets met."
      : `**${misses.length} target(s) missed:** ${misses.map((f) => `${f.part} ${f.metric}`).join("; ")}.`,
    "",
  ];
  for (const r of results) {
    out.push(`## ${r.part}`, "", `${r.seconds.toFixed(0)} s; load average at start/end: ${r.load}.`, "");
    for (const d of r.details) out.push(d, "");
  }
  return out.join("\n");
}

export function writeReport(dir: string, info: RunInfo, results: PartResult[]): string {
  mkdirSync(dir, { recursive: true });
  // A full default run is <date>.md; a subset or a diagnostic run gets a suffix so it never replaces it.
  const slug = `${info.knobs ?? ""} ${info.args.replace(/--out\s+\S+/, "")}`
    .replace(/AUTOMATIONS_/g, "")
    .replace(/[^a-z0-9.]+/gi, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase();
  const file = join(dir, `${info.machine.date}${slug ? `-${slug}` : ""}.md`);
  writeFileSync(file, markdown(info, results));
  return file;
}
