// Parts 2 and 5, webhook end to end + memory: the whole local runtime in a
// child process on the bench database; autocannon (32 connections, 15 s)
// posts signed requests, each with a fresh signature and a unique webhook-id,
// to automations-webhook. Measures accepted requests/s, runs completed during
// the load, errors, latency, how long the backlog takes to clear, and the
// runtime process's peak RSS (VmHWM), without the load generator's memory.
// The load runs 3 times (rounds) on the same runtime; figures are medians.
import autocannon from "autocannon";
import type { Db } from "../shared/db/types.ts";
import { localPoolSize } from "../local/pool_size.ts";
import { loadAvg, sleep, type BenchEnv } from "./env.ts";
import { createLogAutomation, createOrg, fastSigner, nextWebhookId, webhookSecret } from "./fixtures.ts";
import { countersLine, cpuLine, cpuMeter, dbCounters, median, resetStatements, topStatements, waitSampler } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { problemsNote, startRuntimeProc } from "./runtime_proc.ts";

const CONNECTIONS = 32;
// Each 15 s window depends on what the host's disk does during it (WAL flushes
// of 0.6 to 2.4 ms on this VM): the figures are the median of 3 windows
// (BENCH_WEBHOOK_ROUNDS changes the count).
const ROUNDS = Math.max(1, Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 3));
const BACKLOG_BUDGET_MS = 180_000;

async function counts(db: Db): Promise<{ completed: number; open: number; total: number }> {
  const [r] = await db.query<{ completed: number; open: number; total: number }>(
    `select count(*) filter (where status = 'completed')::int as completed,
            count(*) filter (where status in ('pending', 'running'))::int as open,
            count(*)::int as total
       from public.automation_runs`,
  );
  return r!;
}

function load(url: string, path: string, sign: (id: string, body: string) => Record<string, string>, seconds: number, connections: number) {
  let n = 0;
  return autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: "POST",
        path,
        setupRequest(req) {
          const body = JSON.stringify({ n: n++, email: `lead${n}@example.com`, source: "bench" });
          return { ...req, body, headers: { "content-type": "application/json", ...sign(nextWebhookId(), body) } };
        },
      },
    ],
  });
}

export async function webhookPart(env: BenchEnv, scale: number): Promise<PartResult[]> {
  const t0 = performance.now();
  const load0 = loadAvg();
  const seconds = Math.max(3, Math.round(15 * Math.min(1, scale)));
  const { url: dbUrl, db } = await env.freshDb("bench_webhook", 4);
  const org = await createOrg(db, "bench-webhook");
  const automationId = await createLogAutomation(db, org.orgId, "webhook");
  const sign = fastSigner(await webhookSecret(db, automationId));
  const rt = await startRuntimeProc(dbUrl);
  const details: string[] = [];
  const figures: Figure[] = [];
  let memFigures: Figure[] = [];
  const memDetails: string[] = [];
  try {
    const path = `/functions/v1/automations-webhook/${automationId}`;
    const idle = rt.memory();
    // Warm-up (JIT, pool connections, prepared statements), then let the backlog clear.
    await load(rt.url, path, sign, 2, 8);
    for (let i = 0; i < 200 && (await counts(db)).open > 0; i++) await sleep(50);
    const warm = rt.memory();

    let peakRss = 0;
    const memTimer = setInterval(() => (peakRss = Math.max(peakRss, rt.memory().rssMb)), 100);
    const rounds: Array<{ accepted: number; completed: number; errors: number; p50: number; p99: number; clearS: number }> = [];
    let endMem = rt.memory();
    let usage: unknown = null;
    for (let round = 1; round <= ROUNDS; round++) {
      const before = await counts(db);
      await resetStatements(db, env.profile);
      const counters = await dbCounters(db);
      const waits = waitSampler(db, "bench_webhook");
      const cpuRuntime = cpuMeter(env.postmasterPid(), rt.pid);
      const cpuGen = cpuMeter(env.postmasterPid());
      const res = await load(rt.url, path, sign, seconds, CONNECTIONS);
      const atEnd = await counts(db);
      endMem = rt.memory();
      usage = await rt.memoryUsage();
      const used = cpuRuntime.stop();
      const gen = cpuGen.stop();
      const waitTable = await waits.stop();

      const backlog = atEnd.open;
      const b0 = performance.now();
      let after = atEnd;
      while (after.open > 0 && performance.now() - b0 < BACKLOG_BUDGET_MS) {
        await sleep(25);
        after = await counts(db);
      }
      const clearS = after.open > 0 ? NaN : (performance.now() - b0) / 1000;
      const perRun = await countersLine(db, counters, after.total - before.total, "run (load + backlog)");

      const accepted = res.statusCodeStats["202"]?.count ?? 0;
      const created = after.total - before.total;
      const errors = res.non2xx + res.errors + res.timeouts;
      const completedDuring = atEnd.completed - before.completed;
      rounds.push({
        accepted: accepted / res.duration,
        completed: completedDuring / res.duration,
        errors,
        p50: res.latency.p50,
        p99: res.latency.p99,
        clearS,
      });
      console.log(
        `    round ${round}: ${(accepted / res.duration).toFixed(0)} req/s accepted, ` +
          `${(completedDuring / res.duration).toFixed(0)} runs/s completed, ${errors} errors`,
      );
      details.push(
        `### round ${round}: ${(completedDuring / res.duration).toFixed(0)} runs/s completed during the load`,
        `${CONNECTIONS} connections, ${res.duration.toFixed(1)} s, runtime in a child process (PID ${rt.pid}): ` +
          `worker concurrency ${process.env.AUTOMATIONS_WORKER_CONCURRENCY ?? "32 (default)"} on its own pool of ` +
          `${process.env.AUTOMATIONS_WORKER_POOL_SIZE ?? "4 (default)"}, HTTP handlers on a pool of ${process.env.AUTOMATIONS_DB_POOL_SIZE ?? `${localPoolSize()} (default: 2 per core, at least 4)`}` +
          (round === 1 ? "; 2 s warm-up at 8 connections first." : "; after the previous round's backlog cleared."),
        `Requests: ${res.requests.total} sent, ${accepted} accepted (202), ${res.non2xx} non-2xx, ${res.errors} socket errors, ` +
          `${res.timeouts} timeouts; ${created} runs created (${res.requests.sent - created} duplicates; ` +
          `${created - accepted} requests were still in flight when the window closed). ` +
          `Latency mean ${res.latency.mean.toFixed(1)} ms, p90 ${res.latency.p90} ms, max ${res.latency.max} ms.`,
        `Completed during the load: ${completedDuring}; backlog (pending + running) when the load stopped: ${backlog}, ` +
          `cleared in ${Number.isNaN(clearS) ? `more than ${BACKLOG_BUDGET_MS / 1000} s` : `${clearS.toFixed(2)} s`}.`,
        cpuLine(used, accepted, "request", "runtime process"),
        perRun,
        `CPU of the load generator (autocannon + signing, this process): ${gen.nodeS.toFixed(1)} s; load ${loadAvg()}.`,
        waitTable,
      );
      if (env.profile) details.push(await topStatements(db, Math.max(1, accepted), "request"));
    }
    clearInterval(memTimer);
    const final = rt.memory();
    details.push(problemsNote(rt.problems()));

    const med = (k: keyof (typeof rounds)[number]) => median(rounds.map((r) => r[k]));
    const of = rounds.length > 1 ? ` (median of ${rounds.length} rounds)` : "";
    figures.push(
      { part: "webhook", metric: `requests/s accepted (202)${of}`, value: med("accepted"), unit: "req/s", digits: 0 },
      { part: "webhook", metric: `runs/s completed during the load${of}`, value: med("completed"), unit: "runs/s", digits: 0, target: { op: ">=", value: 1000 } },
      {
        part: "webhook",
        metric: "errors (non-2xx + socket + timeouts, all rounds)",
        value: rounds.reduce((n, r) => n + r.errors, 0),
        unit: "",
        digits: 0,
        target: { op: "<=", value: 0 },
      },
      { part: "webhook", metric: `latency p50${of}`, value: med("p50"), unit: "ms", digits: 1 },
      { part: "webhook", metric: `latency p99${of}`, value: med("p99"), unit: "ms", digits: 1 },
      { part: "webhook", metric: `backlog clear time after the load${of}`, value: med("clearS"), unit: "s", digits: 2 },
    );
    if (rounds.length > 1) {
      details.splice(
        0,
        0,
        `Each round (runs/s completed during the load): ${rounds.map((r) => r.completed.toFixed(0)).join(", ")}; ` +
          `requests/s accepted: ${rounds.map((r) => r.accepted.toFixed(0)).join(", ")}.`,
      );
    }

    const peak = Math.max(final.hwmMb, peakRss);
    memFigures = [{ part: "memory", metric: "runtime peak RSS (VmHWM) during the webhook load", value: peak, unit: "MB", digits: 0, target: { op: "<=", value: 200 } }];
    memDetails.push(
      `Runtime child process (node dist/bench/runtime_child.mjs, bundled like npm start's runtime): RSS idle after start ${idle.rssMb.toFixed(0)} MB, ` +
        `after warm-up ${warm.rssMb.toFixed(0)} MB, at the end of the load ${endMem.rssMb.toFixed(0)} MB, ` +
        `after the backlog ${final.rssMb.toFixed(0)} MB; high-water mark (VmHWM) ${final.hwmMb.toFixed(0)} MB. ` +
        `process.memoryUsage() at the end of the load (MB): ${JSON.stringify(usage)}. For scale: plain node idles at ~40 MB; ` +
        "running the TypeScript through `node --import tsx` instead would add ~30 MB (its loader thread); " +
        "@electric-sql/pglite (~43 MB) is imported only without DATABASE_URL, so not here.",
    );
  } finally {
    await rt.stop();
  }
  const loadStr = `${load0} / ${loadAvg()}`;
  const secs = (performance.now() - t0) / 1000;
  return [
    { part: "webhook", load: loadStr, seconds: secs, figures, details },
    { part: "memory", load: loadStr, seconds: 0, figures: memFigures, details: memDetails },
  ];
}
