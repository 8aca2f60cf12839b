// Parts 2 and 5, webhook end to end + memory: the whole local runtime in a
// child process on the bench database; autocannon (32 connections, 15 s)
// posts signed requests, each with a fresh signature and a unique webhook-id,
// to automations-webhook. Measures accepted requests/s, runs completed during
// the load, errors, latency, how long the backlog takes to clear, and the
// runtime process's peak RSS (VmHWM), without the load generator's memory.
import autocannon from "autocannon";
import type { Db } from "../shared/db/types.ts";
import { localPoolSize } from "../local/pool_size.ts";
import { loadAvg, sleep, type BenchEnv } from "./env.ts";
import { createLogAutomation, createOrg, fastSigner, nextWebhookId, webhookSecret } from "./fixtures.ts";
import { countersLine, cpuLine, cpuMeter, dbCounters, resetStatements, topStatements, waitSampler } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { problemsNote, startRuntimeProc } from "./runtime_proc.ts";

const CONNECTIONS = 32;
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
    const before = await counts(db);
    const warm = rt.memory();

    let peakRss = 0;
    const memTimer = setInterval(() => (peakRss = Math.max(peakRss, rt.memory().rssMb)), 100);
    await resetStatements(db, env.profile);
    const counters = await dbCounters(db);
    const waits = waitSampler(db, "bench_webhook");
    const cpuRuntime = cpuMeter(env.postmasterPid(), rt.pid);
    const cpuGen = cpuMeter(env.postmasterPid());
    const res = await load(rt.url, path, sign, seconds, CONNECTIONS);
    const atEnd = await counts(db);
    const endMem = rt.memory();
    const usage = await rt.memoryUsage();
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
    clearInterval(memTimer);
    const final = rt.memory();

    const accepted = res.statusCodeStats["202"]?.count ?? 0;
    const created = after.total - before.total;
    const errors = res.non2xx + res.errors + res.timeouts;
    const completedDuring = atEnd.completed - before.completed;
    figures.push(
      { part: "webhook", metric: "requests/s accepted (202)", value: accepted / res.duration, unit: "req/s", digits: 0 },
      {
        part: "webhook",
        metric: "runs/s completed during the load",
        value: completedDuring / res.duration,
        unit: "runs/s",
        digits: 0,
        target: { op: ">=", value: 1000 },
      },
      { part: "webhook", metric: "errors (non-2xx + socket + timeouts)", value: errors, unit: "", digits: 0, target: { op: "<=", value: 0 } },
      { part: "webhook", metric: "latency p50", value: res.latency.p50, unit: "ms", digits: 1 },
      { part: "webhook", metric: "latency p99", value: res.latency.p99, unit: "ms", digits: 1 },
      { part: "webhook", metric: "backlog clear time after the load", value: clearS, unit: "s", digits: 2 },
    );
    details.push(
      `${CONNECTIONS} connections, ${res.duration.toFixed(1)} s, runtime in a child process (PID ${rt.pid}): ` +
        `worker concurrency ${process.env.AUTOMATIONS_WORKER_CONCURRENCY ?? "32 (default)"} on its own pool of ` +
        `${process.env.AUTOMATIONS_WORKER_POOL_SIZE ?? "4 (default)"}, HTTP handlers on a pool of ${process.env.AUTOMATIONS_DB_POOL_SIZE ?? `${localPoolSize()} (default: 2 per core, at least 4)`}; ` +
        "2 s warm-up at 8 connections first.",
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
      problemsNote(rt.problems()),
    );
    if (env.profile) details.push(await topStatements(db, Math.max(1, accepted), "request"));

    const peak = Math.max(final.hwmMb, peakRss);
    memFigures = [{ part: "memory", metric: "runtime peak RSS (VmHWM) during the webhook load", value: peak, unit: "MB", digits: 0, target: { op: "<=", value: 200 } }];
    memDetails.push(
      `Runtime child process (node --import tsx bench/runtime_child.ts): RSS idle after start ${idle.rssMb.toFixed(0)} MB, ` +
        `after warm-up ${warm.rssMb.toFixed(0)} MB, at the end of the load ${endMem.rssMb.toFixed(0)} MB, ` +
        `after the backlog ${final.rssMb.toFixed(0)} MB; high-water mark (VmHWM) ${final.hwmMb.toFixed(0)} MB. ` +
        `process.memoryUsage() at the end of the load (MB): ${JSON.stringify(usage)}. For scale: plain node idles at ~40 MB, ` +
        "`node --import tsx` at ~75 MB (the loader thread); @electric-sql/pglite (~43 MB) is imported only without DATABASE_URL, " +
        "so not here.",
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
