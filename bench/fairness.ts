// Part "fairness" (issue 16): one org's flood must not hold back another
// org's runs. Org A's webhook automation calls a loopback API that answers in
// 200 ms; A floods it with deliveries, then org B (whose automation calls the
// same API) sends one delivery at a time. B's delivery → completed time is
// read from the database (completed_at − created_at), idle and under the
// flood. Target: under the flood, B's p99 within 2 × its idle p50 plus one
// action's duration. Loopback only, bounded in count and time.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Db } from "../shared/db/types.ts";
import { loadAvg, sleep, type BenchEnv } from "./env.ts";
import { createOrg, fastSigner, nextWebhookId, webhookSecret } from "./fixtures.ts";
import { percentile } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { knobsSet, problemsNote, startRuntimeProc } from "./runtime_proc.ts";

const ACTION_MS = 200;
const BUDGET_MS = 120_000;

/** A webhook automation whose one step POSTs to the loopback API. */
async function apiAutomation(db: Db, orgId: string, apiUrl: string): Promise<string> {
  const [a] = await db.query<{ id: string }>(
    `insert into public.automations (org_id, name, trigger_type, status) values ($1, 'fairness', 'webhook', 'active') returning id`,
    [orgId],
  );
  await db.query(
    `insert into public.automation_actions (org_id, automation_id, action_type, action_config, position)
     values ($1, $2, 'webhook', $3::jsonb, 0)`,
    [orgId, a!.id, JSON.stringify({ url: apiUrl, method: "POST", body: { n: "{{trigger.payload.n}}" }, timeout_ms: 10_000 })],
  );
  return a!.id;
}

/** B's runs created since `since`: delivery → completed, ms; null while any is open. */
async function completedMs(db: Db, automationId: string, since: Date): Promise<number[] | null> {
  const rows = await db.query<{ ms: number | null }>(
    `select (extract(epoch from (completed_at - created_at)) * 1000)::float8 as ms
       from public.automation_runs where automation_id = $1 and created_at >= $2`,
    [automationId, since],
  );
  return rows.some((r) => r.ms === null) ? null : rows.map((r) => r.ms!);
}

const pct = (xs: number[], p: number) => percentile([...xs].sort((a, b) => a - b), p);

export async function fairnessPart(env: BenchEnv, scale: number): Promise<PartResult> {
  const t0 = performance.now();
  const load0 = loadAvg();
  const flood = Math.max(500, Math.round(2400 * scale));
  const samples = 20;
  const api: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'), ACTION_MS));
  });
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/slow`;
  const { url: dbUrl, db } = await env.freshDb("bench_fairness", 4);
  const a = await createOrg(db, "bench-fair-a");
  const b = await createOrg(db, "bench-fair-b");
  const autoA = await apiAutomation(db, a.orgId, apiUrl);
  const autoB = await apiAutomation(db, b.orgId, apiUrl);
  const signA = fastSigner(await webhookSecret(db, autoA));
  const signB = fastSigner(await webhookSecret(db, autoB));
  const rt = await startRuntimeProc(dbUrl, { env: { AUTOMATIONS_ALLOW_PRIVATE_NETWORK: "true" }, maxSeconds: 300 });
  const deadline = Date.now() + BUDGET_MS;
  let bad = 0;
  const post = async (automationId: string, sign: (id: string, body: string) => Record<string, string>, n: number) => {
    const body = JSON.stringify({ n });
    const res = await fetch(`${rt.url}/functions/v1/automations-webhook/${automationId}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...sign(nextWebhookId(), body) },
    });
    await res.arrayBuffer();
    if (res.status !== 202) bad++;
  };
  const now = async () => (await db.query<{ t: Date }>("select now() as t"))[0]!.t;
  const waitAll = async () => {
    while (Date.now() < deadline) {
      const [o] = await db.query<{ n: number }>("select count(*)::int as n from public.automation_runs where status in ('pending', 'running')");
      if (o!.n === 0) return;
      await sleep(100);
    }
    throw new Error("fairness: the runs did not finish within the time budget");
  };
  let idle: number[] = [];
  let flooded: number[] = [];
  let floodSeconds = 0;
  let backlog = 0;
  let problems = "";
  try {
    for (let i = 0; i < 5; i++) await post(autoB, signB, -i); // warm-up
    await waitAll();
    // Idle: B's deliveries one at a time, each completed before the next.
    let since = await now();
    for (let i = 0; i < samples; i++) {
      await post(autoB, signB, i);
      while ((await completedMs(db, autoB, since))?.length !== i + 1 && Date.now() < deadline) await sleep(20);
    }
    idle = (await completedMs(db, autoB, since)) ?? [];
    // Flood: A's deliveries, 32 requests in flight, then B's, one every 150 ms while A's backlog drains.
    const tf = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < flood) await post(autoA, signA, next++);
    }));
    floodSeconds = (performance.now() - tf) / 1000;
    const [pending] = await db.query<{ n: number }>(
      "select count(*)::int as n from public.automation_runs where automation_id = $1 and status = 'pending'", [autoA]);
    backlog = pending!.n;
    since = await now();
    for (let i = 0; i < samples; i++) {
      await post(autoB, signB, 1000 + i);
      await sleep(150);
    }
    await waitAll();
    flooded = (await completedMs(db, autoB, since)) ?? [];
    problems = problemsNote(rt.problems());
  } finally {
    await rt.stop();
    api.close();
  }
  const idleP50 = pct(idle, 50);
  const target = 2 * idleP50 + ACTION_MS;
  const figures: Figure[] = [
    { part: "fairness", metric: "quiet org B, delivery → completed, idle p50", value: idleP50, unit: "ms", digits: 0 },
    { part: "fairness", metric: "quiet org B, delivery → completed, idle p99", value: pct(idle, 99), unit: "ms", digits: 0 },
    { part: "fairness", metric: "quiet org B, under A's flood p50", value: pct(flooded, 50), unit: "ms", digits: 0 },
    { part: "fairness", metric: "quiet org B, under A's flood p99 (≤ 2 × idle p50 + 200 ms)", value: pct(flooded, 99), unit: "ms", digits: 0, target: { op: "<=", value: Math.round(target) } },
  ];
  const details = [
    `Org A's webhook automation and org B's each POST to a loopback API answering in ${ACTION_MS} ms. ` +
      `Idle: ${idle.length} of B's deliveries, one at a time. Flood: A sent ${flood} deliveries in ${floodSeconds.toFixed(1)} s ` +
      `(32 in flight), leaving ${backlog} of A's runs pending; then B sent ${flooded.length} deliveries, one every 150 ms, while A's backlog drained. ` +
      `Times from the database (completed_at − created_at). ${bad} responses other than 202. Runtime: ${knobsSet() || "default settings"}.`,
    problems,
  ].join("\n\n");
  return { part: "fairness", load: `${load0} / ${loadAvg()}`, seconds: (performance.now() - t0) / 1000, figures, details: [details] };
}
