// Start bench/runtime_child.ts (the whole local runtime) as a child process
// on the bench database, sample its memory from /proc, stop it by its PID.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { freePort } from "../scripts/pg_cluster.ts";
import { buildRuntime } from "../scripts/build_runtime.ts";
import { ROOT } from "./env.ts";

export interface RuntimeProc {
  pid: number;
  url: string;
  /** Resident memory now and the high-water mark since start, MB (from /proc/<pid>/status). */
  memory(): { rssMb: number; hwmMb: number };
  /** process.memoryUsage() of the runtime, MB: heap vs external vs the rest of RSS. */
  memoryUsage(): Promise<Record<string, number>>;
  /** Warnings and errors the runtime logged (count and the last few lines). */
  problems(): { count: number; last: string[] };
  stop(): Promise<void>;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Knobs passed through to the runtime when set (documented in docs/performance.md). */
export const PASS_THROUGH = [
  "AUTOMATIONS_WORKER_CONCURRENCY",
  "AUTOMATIONS_WORKER_POOL_SIZE",
  "AUTOMATIONS_DB_POOL_SIZE",
  "AUTOMATIONS_LEASE_SECONDS",
  "AUTOMATIONS_WEBHOOK_BATCH",
  "AUTOMATIONS_WEBHOOK_BATCHES_IN_FLIGHT",
];

/** "AUTOMATIONS_WORKER_CONCURRENCY=32" for the knobs set in this environment, "" for the defaults. */
export const knobsSet = (): string =>
  PASS_THROUGH.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`).join(" ");

export interface RuntimeProcOptions {
  /** The child gives up on its own after this long. */
  maxSeconds?: number;
  /** More environment for the runtime (e.g. AUTOMATIONS_LOCAL_WORKER=off). */
  env?: Record<string, string>;
}

export async function startRuntimeProc(databaseUrl: string, opts: RuntimeProcOptions = {}): Promise<RuntimeProc> {
  const maxSeconds = opts.maxSeconds ?? 600;
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: "127.0.0.1",
    AUTOMATIONS_LOG_LEVEL: "info",
    BENCH_CHILD_MAX_SECONDS: String(maxSeconds),
  };
  for (const k of PASS_THROUGH) if (process.env[k]) env[k] = process.env[k]!;
  Object.assign(env, opts.env);
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the runtime.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  // Bundled, as `npm start` runs the runtime (no tsx loader in the process).
  const bundle = await buildRuntime("bench/runtime_child.ts", "dist/bench");
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--enable-source-maps", bundle], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const pid = child.pid!;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let log = "";
  let partial = "";
  const problems = { count: 0, last: [] as string[] };
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`runtime child did not start in 60 s:\n${log}`)), 60_000);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      log += chunk;
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        if (!/"level":"(warn|error)"/.test(l)) continue;
        problems.count++;
        problems.last = [...problems.last.slice(-9), l.slice(0, 400)];
      }
      const m = /^READY (\S+)$/m.exec(log);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
      if (log.length > 100_000) log = log.slice(-10_000);
    });
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`runtime child exited with ${code} before it was ready:\n${log}`));
    });
  });
  return {
    pid,
    url,
    problems: () => problems,
    memoryUsage: () =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve({}), 2000);
        child.once("message", (m: { memoryUsage?: Record<string, number> }) => {
          clearTimeout(t);
          resolve(Object.fromEntries(Object.entries(m.memoryUsage ?? {}).map(([k, v]) => [k, Math.round(v / 2 ** 20)])));
        });
        child.send("memoryUsage");
      }),
    memory: () => ({ rssMb: statusKb(pid, "VmRSS") / 1024, hwmMb: statusKb(pid, "VmHWM") / 1024 }),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
      if (!done) {
        process.kill(pid, "SIGKILL");
        await exited;
      }
    },
  };
}

/** One line for the report: what the runtime warned about, if anything. */
export function problemsNote(p: { count: number; last: string[] }): string {
  if (p.count === 0) return "The runtime logged no warnings or errors.";
  return [`The runtime logged ${p.count} warnings/errors; the last ones:`, "", "```", ...p.last, "```"].join("\n");
}
