// `npm run bench [-- <parts...>] [--scale 0.1] [--profile] [--out dir]`
//
// Parts: drain, latency, webhook, memory (measured during the webhook load,
// so either name runs it), history, fairness, hosted (pg_cron + pg_net kick; needs
// hosted Supabase's extensions, see scripts/pg_deps.ts), console (the run
// console's time to content in chromium, bench/console.ts). Default: all. Starts a throwaway
// PostgreSQL 15 with default durability, runs the parts on fresh databases,
// prints a table with PASS/MISS per target (issue 6) and writes
// bench/results/<YYYY-MM-DD>.md. --profile loads pg_stat_statements and adds
// the top statements per part; --async-commit (diagnosis only) turns
// synchronous_commit off to show the engine without WAL-flush waits. Everything listens on and talks to 127.0.0.1,
// each part is bounded in time, and the cluster and child processes stop on
// their own (also on Ctrl-C).
import { join } from "node:path";
import { consolePart } from "./console.ts";
import { drainPart } from "./drain.ts";
import { fairnessPart } from "./fairness.ts";
import { loadAvg, machineInfo, ROOT, startBenchEnv } from "./env.ts";
import { historyPart } from "./history.ts";
import { hostedPart } from "./hosted.ts";
import { latencyPart } from "./latency.ts";
import { consoleTable, verdict, writeReport, type PartResult } from "./report.ts";
import { knobsSet } from "./runtime_proc.ts";
import { webhookPart } from "./webhook_load.ts";

const PARTS = ["drain", "latency", "webhook", "memory", "history", "fairness", "hosted", "console"] as const;
type Part = (typeof PARTS)[number];

function parseArgs(argv: string[]) {
  const parts = new Set<Part>();
  let scale = 1;
  let profile = false;
  let asyncCommit = false;
  let out = join(ROOT, "bench/results");
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--scale") scale = Number(argv[++i]);
    else if (a.startsWith("--scale=")) scale = Number(a.slice(8));
    else if (a === "--profile") profile = true;
    else if (a === "--async-commit") asyncCommit = true;
    else if (a === "--out") out = argv[++i]!;
    else if ((PARTS as readonly string[]).includes(a)) parts.add(a as Part);
    else throw new Error(`unknown argument "${a}": parts are ${PARTS.join(", ")}; options --scale <0..1+>, --profile, --async-commit, --out <dir>`);
  }
  if (!(scale > 0) || scale > 10) throw new Error("--scale must be a number in (0, 10]");
  return { parts: parts.size ? parts : new Set<Part>(PARTS), scale, profile, asyncCommit, out };
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const loadBefore = loadAvg();
  console.log(`bench: parts ${[...opts.parts].join(", ")}; scale ${opts.scale}; load average ${loadBefore}`);
  console.log("starting a throwaway PostgreSQL 15 (fsync on, synchronous_commit on) and migrating a template database…");
  if (opts.asyncCommit) console.log("--async-commit: synchronous_commit = off, a diagnosis of the engine without WAL-flush waits; not the target configuration");
  const env = await startBenchEnv({ profile: opts.profile, asyncCommit: opts.asyncCommit });
  const results: PartResult[] = [];
  try {
    const { db } = await env.freshDb("bench_info", 1);
    const machine = await machineInfo(db, env.cluster.dir);
    const step = async (name: string, fn: () => Promise<PartResult | PartResult[]>) => {
      await env.settle();
      console.log(`\n▶ ${name} (load ${loadAvg()})`);
      const r = await fn();
      for (const p of Array.isArray(r) ? r : [r]) {
        results.push(p);
        for (const f of p.figures) console.log(`  ${f.metric}: ${Number.isFinite(f.value) ? f.value.toFixed(f.digits ?? 1) : "n/a"} ${f.unit} ${verdict(f)}`);
      }
    };
    if (opts.parts.has("drain")) await step("drain", () => drainPart(env, opts.scale));
    if (opts.parts.has("latency")) await step("latency", () => latencyPart(env, opts.scale));
    if (opts.parts.has("webhook") || opts.parts.has("memory")) {
      await step("webhook end to end + memory", async () => {
        const r = await webhookPart(env, opts.scale);
        return r.filter((p) => opts.parts.has(p.part as Part));
      });
    }
    if (opts.parts.has("history")) await step("history at scale", () => historyPart(env, opts.scale));
    if (opts.parts.has("fairness")) await step("fairness across orgs", () => fairnessPart(env, opts.scale));
    if (opts.parts.has("hosted")) await step("hosted: table event → pg_cron kick → pg_net → worker", () => hostedPart(env, opts.scale));
    if (opts.parts.has("console")) await step("console: time to content in chromium", () => consolePart(env, opts.scale));

    const args = process.argv.slice(2).join(" ");
    const file = writeReport(opts.out, { machine, args, scale: opts.scale, profile: opts.profile, asyncCommit: opts.asyncCommit, knobs: knobsSet(), loadBefore, loadAfter: loadAvg() }, results);
    console.log(`\n${consoleTable(results)}\n`);
    console.log(
      `${machine.cores} cores, ${machine.memoryGb} GB, fdatasync ${machine.fsyncMs.toFixed(2)} ms, PostgreSQL ${machine.pg}, Node ${machine.node}; ` +
        `load average before ${loadBefore}, after ${loadAvg()}`,
    );
    console.log(`written to ${file}`);
    return 0;
  } finally {
    env.stop();
  }
}

// Whatever happens, stop within the overall budget: every part is bounded,
// this is the backstop (the cluster is removed by stopOnExit).
setTimeout(() => {
  console.error("bench: overall time budget (60 min) exceeded; stopping");
  process.exit(2);
}, 60 * 60_000).unref();

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
