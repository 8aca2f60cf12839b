// Part "hosted": runs start in about a second on hosted Supabase (issue 18).
// The cluster's hosted database (pg_cron 1.6, pg_net, supabase_vault preloaded;
// scripts/pg_cluster.ts) with the migrations, the Vault secrets and
// install_cron(); the runtime in hosted mode (AUTOMATIONS_LOCAL_WORKER=off, a
// child process) is the function URL on loopback. N rows are inserted into a
// table with the event trigger, one transaction each, paced at a steady rate;
// only pg_cron → kick_worker() → pg_net → automations-worker runs them.
// Measured in the database: automation_runs.created_at (now() of the insert's
// transaction) → completed_at, and the worker calls made.
import postgres from "postgres";
import { randomBytes } from "node:crypto";
import { localKeys } from "../local/keys.ts";
import { migrate } from "../local/migrate.ts";
import { createPostgresDb } from "../shared/db/postgres.ts";
import { loadAvg, ROOT, sleep, type BenchEnv } from "./env.ts";
import { createOrg, LOG_STEP } from "./fixtures.ts";
import { cpuSeconds, percentile } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { problemsNote, startRuntimeProc } from "./runtime_proc.ts";

const RATE_PER_S = 100;

export async function hostedPart(env: BenchEnv, scale: number): Promise<PartResult> {
  const t0 = performance.now();
  const load0 = loadAvg();
  const targets: Figure[] = [
    { part: "hosted", metric: "table event → run completed p50", value: NaN, unit: "ms", digits: 0, target: { op: "<=", value: 1000 } },
    { part: "hosted", metric: "table event → run completed p99", value: NaN, unit: "ms", digits: 0, target: { op: "<=", value: 3000 } },
    { part: "hosted", metric: "worker calls per 1,000 events", value: NaN, unit: "calls", digits: 0 },
  ];
  if ("unavailable" in env.cluster.hosted) {
    const why = `not measured: hosted Supabase's extensions are unavailable (${env.cluster.hosted.unavailable})`;
    return { part: "hosted", load: load0, seconds: 0, figures: targets, details: [why] };
  }
  const url = env.cluster.url(env.cluster.hosted.database);
  const db = createPostgresDb(url, { max: 4, applicationName: "bench" });
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  const n = Math.max(100, Math.round(1000 * scale));
  let problems = "";
  let rt: Awaited<ReturnType<typeof startRuntimeProc>> | null = null;
  try {
    await db.exec("create extension if not exists pg_cron; create extension if not exists pg_net; create extension if not exists supabase_vault cascade");
    await migrate(db, ROOT, { seed: false });
    // The runtime's keys are signed with this secret (an explicit secret wins over its generated one).
    const jwtSecret = randomBytes(32).toString("hex");
    rt = await startRuntimeProc(url, { env: { AUTOMATIONS_LOCAL_WORKER: "off", AUTOMATIONS_LOG_LEVEL: "warn", AUTOMATIONS_JWT_SECRET: jwtSecret } });
    const keys = await localKeys(jwtSecret);
    await db.query("select vault.create_secret($1, 'automations_project_url')", [rt.url]);
    await db.query("select vault.create_secret($1, 'automations_service_role_key')", [keys.serviceRoleKey]);
    await db.query("select automations_engine.install_cron()");
    const org = await createOrg(db, "bench-hosted");
    await db.exec(`create table public.bench_events (id bigserial primary key, org_id uuid not null, n int);
      create trigger bench_events_automations after insert on public.bench_events
        for each row execute function public.automations_table_event();`);
    await db.query(
      `select public.create_automation(name => 'bench event', trigger_type => 'event', status => 'active', org_id => $1,
         trigger_config => '{"table": "bench_events", "operations": ["INSERT"]}', actions => $2::jsonb)`,
      [org.orgId, JSON.stringify([{ action_type: "log", action_config: { ...LOG_STEP, message: "bench event {{trigger.payload.record.n}}" } }])],
    );
    const [k0] = await db.query<{ kicks: number; calls: number }>(
      "select kicks::int, (select count(*)::int from net._http_response) + (select count(*)::int from net.http_request_queue) as calls from automations_engine.worker_kick",
    );
    const since = (await db.query<{ t: Date }>("select clock_timestamp() as t"))[0]!.t;
    // Steady arrivals: insert i at start + i / rate, one transaction each.
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = start + (i * 1000) / RATE_PER_S - performance.now();
      if (wait > 0) await sleep(wait);
      await raw`insert into public.bench_events (org_id, n) values (${org.orgId}, ${i})`;
    }
    for (const end = Date.now() + 60_000; Date.now() < end; await sleep(100)) {
      const [o] = await db.query<{ n: number }>(
        "select count(*)::int as n from public.automation_runs where created_at >= $1 and status in ('completed', 'failed')",
        [since],
      );
      if (o!.n >= n) break;
    }
    const ms = (await db.query<{ ms: number }>(
      `select (extract(epoch from (completed_at - created_at)) * 1000)::float8 as ms from public.automation_runs
        where created_at >= $1 and status = 'completed'`,
      [since],
    )).map((r) => r.ms).sort((a, b) => a - b);
    const [bad] = await db.query<{ n: number; error: string | null }>(
      `select count(*)::int as n, min(error_message) as error from public.automation_runs
        where created_at >= $1 and status <> 'completed'`,
      [since],
    );
    const [k1] = await db.query<{ kicks: number; calls: number; minute: number }>(
      `select kicks::int, (select count(*)::int from net._http_response) + (select count(*)::int from net.http_request_queue) as calls,
              (select count(*)::int from cron.job_run_details d join cron.job j using (jobid)
                where j.jobname = 'automations-worker' and d.start_time >= $1) as minute
         from automations_engine.worker_kick`,
      [since],
    );
    // Sparse arrivals: every event finds the queue idle and no worker call in
    // flight, so each one waits for the next kick (the cold path).
    const sparseSince = (await db.query<{ t: Date }>("select clock_timestamp() as t"))[0]!.t;
    const sparseN = Math.max(10, Math.round(30 * scale));
    for (let i = 0; i < sparseN; i++) {
      await raw`insert into public.bench_events (org_id, n) values (${org.orgId}, ${-i})`;
      await sleep(1500);
    }
    for (const end = Date.now() + 30_000; Date.now() < end; await sleep(100)) {
      const [o] = await db.query<{ n: number }>(
        "select count(*)::int as n from public.automation_runs where created_at >= $1 and status in ('completed', 'failed')",
        [sparseSince],
      );
      if (o!.n >= sparseN) break;
    }
    const sparse = (await db.query<{ ms: number }>(
      `select (extract(epoch from (completed_at - created_at)) * 1000)::float8 as ms from public.automation_runs
        where created_at >= $1 and status = 'completed'`,
      [sparseSince],
    )).map((r) => r.ms).sort((a, b) => a - b);
    // The worker's CPU per run (docs/deploy.md, Edge Functions' 2 s of CPU per
    // request): the kick off, M runs queued at once, then one worker call
    // drains them; the runtime child does nothing else in hosted mode.
    await db.query("select automations_engine.install_cron(p_kick_schedule => null)");
    const m = Math.max(200, Math.round(1000 * scale));
    await raw`insert into public.bench_events (org_id, n) select ${org.orgId}, g from generate_series(1, ${m}) g`;
    const cpu0 = cpuSeconds(rt.pid);
    const drained = { processed: 0, calls: 0 };
    while (drained.processed < m && drained.calls < 20) {
      const res = await fetch(`${rt.url}/functions/v1/automations-worker`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys.serviceRoleKey}`, "content-type": "application/json" },
        body: JSON.stringify({ max_runs: 100_000 }),
      });
      const body = (await res.json()) as { processed: number };
      drained.processed += body.processed;
      drained.calls++;
    }
    const cpuPerRunMs = ((cpuSeconds(rt.pid) - cpu0) * 1000) / drained.processed;
    const kicks = k1!.kicks - k0!.kicks;
    const calls = kicks + k1!.minute;
    targets[0]!.value = percentile(ms, 50);
    targets[1]!.value = percentile(ms, 99);
    targets[2]!.value = (calls * 1000) / n;
    targets.push(
      { part: "hosted", metric: "worker CPU per run (log step)", value: cpuPerRunMs, unit: "ms", digits: 2 },
      { part: "hosted", metric: "sparse event → run completed p50", value: percentile(sparse, 50), unit: "ms", digits: 0, target: { op: "<=", value: 1000 } },
      { part: "hosted", metric: "sparse event → run completed max", value: sparse[sparse.length - 1] ?? NaN, unit: "ms", digits: 0, target: { op: "<=", value: 3000 } },
    );
    problems = problemsNote(rt.problems());
    const details = [
      `${n} rows inserted into a table with the event trigger at ${RATE_PER_S}/s (one transaction each); ` +
        `${ms.length} runs completed, ${bad!.n} not${bad!.error ? ` (${bad!.error})` : ""}. Runtime in hosted mode (child process, AUTOMATIONS_LOCAL_WORKER=off) as the function URL; ` +
        "install_cron() defaults: tick and worker every minute, automations-kick every second. " +
        `Worker calls: ${kicks} by the kick, ${k1!.minute} by the once-a-minute worker job ` +
        `(${k1!.calls - k0!.calls} pg_net requests in all, including schedule ticks). ` +
        `Event → completed: p50 ${percentile(ms, 50).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms, ` +
        `p99 ${percentile(ms, 99).toFixed(0)} ms, max ${(ms[ms.length - 1] ?? NaN).toFixed(0)} ms.`,
      "",
      `Sparse: ${sparseN} rows 1.5 s apart (each finds the queue idle and waits for the next kick); ${sparse.length} completed. ` +
        `Event → completed: p50 ${percentile(sparse, 50).toFixed(0)} ms, max ${(sparse[sparse.length - 1] ?? NaN).toFixed(0)} ms.`,
      "",
      `Worker CPU: ${drained.processed} runs (one \`log\` step each) queued at once, drained by ${drained.calls} automations-worker call(s) ` +
        `with no run cap; the runtime child's CPU (user + system, /proc) per run: ${cpuPerRunMs.toFixed(2)} ms ` +
        "(includes the HTTP call and postgres.js; excludes PostgreSQL).",
      "",
      problems,
    ].join("\n");
    return { part: "hosted", load: `${load0} / ${loadAvg()}`, seconds: (performance.now() - t0) / 1000, figures: targets, details: [details] };
  } finally {
    await db.query("select automations_engine.uninstall_cron()").catch(() => {});
    await rt?.stop();
    await raw.end({ timeout: 1 });
    await db.close?.();
  }
}
