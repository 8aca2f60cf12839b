// Part 1, drain: N pending runs of a one-step `log` automation, inserted in
// bulk (generate_series + the automation's snapshot, distinct idempotency
// keys), drained by Worker.drain at concurrency 1, 4 and 16 (fresh runs each
// round): runs/s from the first claim until all are completed. Concurrency 16
// (the figure with a target) runs 3 rounds and reports their median
// (BENCH_DRAIN_ROUNDS changes the count).
import { createPostgresDb } from "../shared/db/postgres.ts";
import type { Db } from "../shared/db/types.ts";
import { getAction } from "../shared/actions/registry.ts";
import { Worker } from "../shared/engine/worker.ts";
import { silentLogger } from "../shared/logger.ts";
import { loadSettings } from "../shared/settings.ts";
import { loadAvg, type BenchEnv } from "./env.ts";
import { createLogAutomation, createOrg } from "./fixtures.ts";
import { countersLine, cpuLine, cpuMeter, dbCounters, median, resetStatements, topStatements, waitSampler } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";

// BENCH_DRAIN_CONCURRENCY="16" runs only some rounds (quick A/B runs).
export const DRAIN_CONCURRENCY = (process.env.BENCH_DRAIN_CONCURRENCY ?? "1,4,16").split(",").map(Number);
const BUDGET_MS = 180_000;
// The figure with a target (concurrency 16) is the median of several rounds:
// on a shared 2-core VM one round can vary by ±15 % from the next.
const ROUNDS_AT_16 = Number(process.env.BENCH_DRAIN_ROUNDS ?? 3);
const roundsFor = (c: number) => (c === 16 ? Math.max(1, ROUNDS_AT_16) : 1);

async function insertPending(db: Db, automationId: string, n: number, round: string): Promise<void> {
  await db.query("truncate public.automation_runs cascade");
  await db.query(
    `insert into public.automation_runs
       (org_id, automation_id, trigger_type, trigger_payload, idempotency_key, version_id, max_attempts, run_at)
     select a.org_id, a.id, 'manual', jsonb_build_object('n', g), 'bench:' || $3 || ':' || g,
            a.current_version_id, a.max_attempts, now()
       from public.automations a, generate_series(1, $2::int) g
      where a.id = $1`,
    [automationId, n, round],
  );
  // What autovacuum would do soon after a bulk insert; a checkpoint so no
  // round pays for the previous round's dirty pages.
  await db.query("analyze public.automation_runs");
  await db.query("checkpoint");
}

export async function drainPart(env: BenchEnv, scale: number): Promise<PartResult> {
  const t0 = performance.now();
  const load0 = loadAvg();
  const n = Math.max(100, Math.round(20_000 * scale));
  const { url, db } = await env.freshDb("bench_drain", 4);
  const org = await createOrg(db, "bench-drain");
  const automationId = await createLogAutomation(db, org.orgId, "manual");
  const figures: Figure[] = [];
  const details: string[] = [
    `${n.toLocaleString("en-US")} pending runs per round (bulk insert, then \`analyze\` + \`checkpoint\`), ` +
      `one \`log\` step each; \`Worker.drain\` with \`batchSize\` ${process.env.BENCH_CLAIM_BATCH ?? "the default (= concurrency, at most 16)"} and a pool of concurrency + 1 connections; ` +
      `save batches of up to ${process.env.BENCH_SAVE_BATCH ?? "64 (the default)"} runs per commit.`,
  ];

  for (const c of DRAIN_CONCURRENCY) {
    const rates: number[] = [];
    for (let round = 1; round <= roundsFor(c); round++) {
      await insertPending(db, automationId, n, `c${c}r${round}`);
      const pool = createPostgresDb(url, { max: c + 1, applicationName: "bench-worker" });
      await pool.query("select 1"); // connect before the clock starts
      const worker = new Worker({
        db: pool,
        settings: loadSettings({}),
        logger: silentLogger,
        fetch: globalThis.fetch,
        now: () => new Date(),
        leaseSeconds: 60,
        getAction,
        concurrency: c,
        // BENCH_SAVE_BATCH=1 records each run in its own commit (the engine before batching), for A/B runs.
        ...(process.env.BENCH_SAVE_BATCH ? { saveBatchSize: Number(process.env.BENCH_SAVE_BATCH) } : {}),
        ...(process.env.BENCH_SAVE_IN_FLIGHT ? { savesInFlight: Number(process.env.BENCH_SAVE_IN_FLIGHT) } : {}),
        ...(process.env.BENCH_CLAIM_BATCH ? { batchSize: Number(process.env.BENCH_CLAIM_BATCH) } : {}),
      });
      await resetStatements(db, env.profile);
      const counters = await dbCounters(db);
      const waits = waitSampler(db, "bench_drain");
      const cpu = cpuMeter(env.postmasterPid());
      const start = performance.now();
      const stats = await worker.drain(BUDGET_MS);
      const secs = (performance.now() - start) / 1000;
      const used = cpu.stop();
      const waitTable = await waits.stop();
      await pool.close?.();
      const [done] = await db.query<{ completed: number; other: number }>(
        `select count(*) filter (where status = 'completed')::int as completed,
                count(*) filter (where status <> 'completed')::int as other
           from public.automation_runs`,
      );
      const rate = done!.completed / secs;
      rates.push(rate);
      console.log(`    concurrency ${c}, round ${round}: ${rate.toFixed(0)} runs/s`);
      details.push(
        `### concurrency ${c}${roundsFor(c) > 1 ? `, round ${round}` : ""}: ${rate.toFixed(0)} runs/s`,
        `${done!.completed} completed, ${done!.other} not completed, in ${secs.toFixed(2)} s` +
          `${secs * 1000 >= BUDGET_MS ? " (time budget hit)" : ""}; worker stats ${JSON.stringify(stats)}; load ${loadAvg()}.`,
        cpuLine(used, done!.completed, "run", "node (bench process: worker)"),
        await countersLine(db, counters, done!.completed, "run"),
        waitTable,
      );
      if (env.profile) details.push(await topStatements(db, Math.max(1, done!.completed), "run"));
    }
    figures.push({
      part: "drain",
      metric: `runs/s, concurrency ${c}${rates.length > 1 ? ` (median of ${rates.length} rounds)` : ""}`,
      value: median(rates),
      unit: "runs/s",
      digits: 0,
      ...(c === 16 ? { target: { op: ">=", value: 3500 } as const } : {}),
    });
    if (rates.length > 1) details.push(`Concurrency ${c}, each round: ${rates.map((r) => r.toFixed(0)).join(", ")} runs/s.`);
  }
  return { part: "drain", load: `${load0} / ${loadAvg()}`, seconds: (performance.now() - t0) / 1000, figures, details };
}
