// A worker in its own OS process, for the chaos suites (tests/chaos): the
// test spawns it with `node --import tsx scripts/chaos/worker_process.ts`
// (one process, so the PID it SIGKILLs is the worker itself) and kills or
// stops it at will.
//
// Environment:
//   DATABASE_URL           the database (required)
//   CHAOS_LEASE_SECONDS    lease of a claimed run (default 3)
//   CHAOS_CONCURRENCY      runs executed at once (default 16)
//   CHAOS_POOL             postgres.js pool size (default 8)
//   CHAOS_WORKER_ID        worker id written to automation_runs.locked_by
//   CHAOS_WORKER_TIMEOUT_SECONDS  silent this long = dead, its runs are released (default 10)
//
// Besides the built-in actions it knows two test actions:
//   chaos_work  {ms}  sleeps ms milliseconds, then returns {slept: ms}
//   chaos_crash {}    kills this process mid-step (process.exit(70)): a poison action
//
// Protocol: prints "ready <worker id>" once claiming; "stop" on stdin (or stdin
// closing, e.g. the test died) stops it gracefully; on exit it prints one line
// "stats {json}". Logs (errors only) go to stderr.
import { z } from "zod";
import type { ActionDefinition } from "../../shared/engine/action_contract.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { jsonLogger } from "../../shared/logger.ts";
import { depsFromEnv } from "../../shared/runtime/env.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("worker_process: DATABASE_URL is not set");
  process.exit(2);
}
const leaseSeconds = Number(process.env.CHAOS_LEASE_SECONDS ?? 3);
const concurrency = Number(process.env.CHAOS_CONCURRENCY ?? 16);

const chaosActions: Record<string, ActionDefinition<any>> = {
  chaos_work: {
    type: "chaos_work",
    description: "test: sleep for ms milliseconds",
    schema: z.object({ ms: z.number().int().min(0).max(60_000).default(10) }),
    async execute(config: { ms: number }, ctx) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, config.ms);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
      });
      return { output: { slept: config.ms } };
    },
  },
  chaos_crash: {
    type: "chaos_crash",
    description: "test: the worker process dies while executing this step",
    schema: z.object({}).passthrough(),
    async execute() {
      process.exit(70);
    },
  },
};

const deps = depsFromEnv(
  {
    DATABASE_URL: url,
    AUTOMATIONS_ALLOW_PRIVATE_NETWORK: "true",
    AUTOMATIONS_LEASE_SECONDS: String(leaseSeconds),
    AUTOMATIONS_WORKER_TIMEOUT_SECONDS: process.env.CHAOS_WORKER_TIMEOUT_SECONDS ?? "10",
    AUTOMATIONS_DB_POOL_SIZE: process.env.CHAOS_POOL ?? "8",
  },
  { logger: jsonLogger("error", (line) => process.stderr.write(`${line}\n`)) },
);
const builtIn = deps.getAction;
const worker = new Worker({
  ...deps,
  getAction: (type) => chaosActions[type] ?? builtIn(type),
  workerId: process.env.CHAOS_WORKER_ID,
  concurrency,
  pollIntervalMs: 200,
  reapIntervalMs: 500,
});

let stopping = false;
async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  await worker.stop(5_000).catch(() => {});
  process.stdout.write(`stats ${JSON.stringify(worker.stats)}\n`);
  await deps.db.close?.().catch(() => {});
  process.exit(code);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  if (chunk.includes("stop")) void stop();
});
process.stdin.on("end", () => void stop());
process.on("SIGTERM", () => void stop());

await worker.start();
process.stdout.write(`ready ${worker.id}\n`);
