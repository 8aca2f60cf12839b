// Part 3, latency: N sequential signed webhooks to the runtime (child
// process) with an otherwise idle worker. Request arrival → first step start
// is measured in the database: automation_run_steps.started_at (the worker's
// clock when the step begins) − automation_runs.created_at (now() of the
// enqueue statement, i.e. its transaction start: within a fraction of a
// millisecond of the request's arrival, after body read and signature check).
import type { Db } from "../shared/db/types.ts";
import { loadAvg, sleep, type BenchEnv } from "./env.ts";
import { createLogAutomation, createOrg, fastSigner, nextWebhookId, webhookSecret } from "./fixtures.ts";
import { countersLine, dbCounters, percentile } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { knobsSet, problemsNote, startRuntimeProc } from "./runtime_proc.ts";

const pcts = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
};
const line = (label: string, xs: number[]) => {
  const p = pcts(xs);
  return `| ${label} | ${p.p50.toFixed(2)} | ${p.p95.toFixed(2)} | ${p.p99.toFixed(2)} | ${p.max.toFixed(2)} |`;
};

async function column(db: Db, expr: string, since: Date): Promise<number[]> {
  const rows = await db.query<{ ms: number }>(
    `select (extract(epoch from (${expr})) * 1000)::float8 as ms
       from public.automation_runs r
       join public.automation_run_steps s on s.run_id = r.id and s.step_index = 0
      where r.created_at >= $1`,
    [since],
  );
  return rows.map((r) => r.ms);
}

export async function latencyPart(env: BenchEnv, scale: number): Promise<PartResult> {
  const t0 = performance.now();
  const load0 = loadAvg();
  const n = Math.max(50, Math.round(1000 * scale));
  const { url: dbUrl, db } = await env.freshDb("bench_latency", 2);
  const org = await createOrg(db, "bench-latency");
  const automationId = await createLogAutomation(db, org.orgId, "webhook");
  const sign = fastSigner(await webhookSecret(db, automationId));
  const rt = await startRuntimeProc(dbUrl);
  const http: number[] = [];
  let since = new Date();
  let bad = 0;
  let problems = "";
  let counters = { commits: 0, walBytes: 0, walSyncs: 0, walSyncMs: 0 };
  try {
    const target = `${rt.url}/functions/v1/automations-webhook/${automationId}`;
    const post = async (i: number) => {
      const body = JSON.stringify({ n: i, email: `lead${i}@example.com` });
      const t = performance.now();
      const res = await fetch(target, { method: "POST", body, headers: { "content-type": "application/json", ...sign(nextWebhookId(), body) } });
      await res.arrayBuffer();
      if (res.status !== 202) bad++;
      return performance.now() - t;
    };
    for (let i = 0; i < 50; i++) await post(-i); // warm-up, not counted
    await sleep(500);
    since = (await db.query<{ t: Date }>("select now() as t"))[0]!.t;
    counters = await dbCounters(db);
    for (let i = 0; i < n; i++) http.push(await post(i));
    for (let i = 0; i < 200; i++) {
      const [o] = await db.query<{ n: number }>("select count(*)::int as n from public.automation_runs where status in ('pending','running')");
      if (o!.n === 0) break;
      await sleep(50);
    }
    problems = problemsNote(rt.problems());
  } finally {
    await rt.stop();
  }
  const perRun = await countersLine(db, counters, n, "run");
  const firstStep = await column(db, "s.started_at - r.created_at", since);
  const claim = await column(db, "r.started_at - r.created_at", since);
  const claimToStep = await column(db, "s.started_at - r.started_at", since);
  const total = await column(db, "r.completed_at - r.created_at", since);
  const p = pcts(firstStep);
  const figures: Figure[] = [
    { part: "latency", metric: "request → first step p50", value: p.p50, unit: "ms", digits: 2, target: { op: "<=", value: 5 } },
    { part: "latency", metric: "request → first step p95", value: p.p95, unit: "ms", digits: 2 },
    { part: "latency", metric: "request → first step p99", value: p.p99, unit: "ms", digits: 2, target: { op: "<=", value: 20 } },
  ];
  const details = [
    `${n} sequential signed webhooks (after 50 warm-up requests), runtime child process (${knobsSet() || "default settings"}); ` +
      `${firstStep.length} runs measured, ${bad} responses other than 202. Times from the database: ` +
      "`automation_runs.created_at` is now() of the enqueue (transaction start, after the body was read and the signature checked), " +
      "`automation_runs.started_at` is now() of the claim, `automation_run_steps.started_at` is the worker's clock when the step begins " +
      "(same machine clock).",
    "",
    "| interval (ms) | p50 | p95 | p99 | max |",
    "| --- | ---: | ---: | ---: | ---: |",
    line("enqueue → first step start (the target)", firstStep),
    line("enqueue → claim (NOTIFY / wake + claim query)", claim),
    line("claim → first step start (node: claim result → step)", claimToStep),
    line("enqueue → run completed", total),
    line("HTTP round trip seen by the client", http),
    "",
    perRun,
    "",
    problems,
  ].join("\n");
  return { part: "latency", load: `${load0} / ${loadAvg()}`, seconds: (performance.now() - t0) / 1000, figures, details: [details] };
}
