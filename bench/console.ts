// Part "console": how fast the run console opens (issue 19). One org with one
// automation that has 100,000 runs, and one run of it with 50 steps; the
// local runtime (in hosted mode: nothing runs) serves the console; Debian's
// chromium opens /runs/<id> and /automations/<id> and the page marks when its
// content is drawn (performance.mark in console/pages/*). Time to content =
// that mark's time since navigation start: HTML (with config.json's content),
// script, the API calls as the user under RLS, and drawing. Median of 10 loads
// after 2 warm-ups. Also the API calls alone, and EXPLAIN of the runs page query.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { signJwt } from "../local/keys.ts";
import { startRuntime } from "../local/runtime.ts";
import { buildConsole } from "../scripts/build_console.ts";
import { freePort } from "../scripts/pg_cluster.ts";
import { silentLogger } from "../shared/logger.ts";
import { ROOT, type BenchEnv } from "./env.ts";
import { median } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { loadAvg } from "./env.ts";

const LOADS = 10;
const TARGET_MS = 300;
const JWT_SECRET = "bench-console-jwt-secret-with-at-least-32-characters";

async function seed(env: BenchEnv, runs: number) {
  const { url, db } = await env.freshDb("bench_console", 4);
  await db.query("set synchronous_commit = off");
  const [ids] = await db.query<{ org: string; auth: string; automation: string }>(`
    with o as (insert into public.organizations (name, slug) values ('Console Org', 'console-org') returning id),
    au as (insert into auth.users (email) values ('viewer@bench.test') returning id),
    u as (insert into public.users (org_id, auth_id, email) select o.id, au.id, 'viewer@bench.test' from o, au returning id, org_id),
    m as (insert into public.memberships (org_id, user_id, role) select org_id, id, 'member' from u),
    a as (insert into public.automations (org_id, name, trigger_type, trigger_config, status)
          select id, 'Busy automation', 'webhook', '{}', 'active' from o returning id)
    select o.id as org, au.id as auth, a.id as automation from o, au, a`);
  await db.query(
    `insert into public.automation_actions (org_id, automation_id, action_type, action_config, position, name)
     select $1, $2, 'log', jsonb_build_object('message', 'step ' || p || ' for {{trigger.payload.email}}'), p, 'step_' || p
       from generate_series(0, 2) p`,
    [ids!.org, ids!.automation],
  );
  await db.query("set session_replication_role = replica");
  await db.query(
    `insert into public.automation_runs (org_id, automation_id, status, trigger_type, trigger_payload, created_at, started_at, completed_at, error_message, attempt, max_attempts)
     select $1, $2, (case when g % 10 = 0 then 'failed' else 'completed' end)::public.run_status, 'webhook',
            jsonb_build_object('n', g, 'email', 'lead' || g || '@example.com'),
            now() - interval '1 second' * g, now() - interval '1 second' * g, now() - interval '1 second' * g + interval '80 ms',
            case when g % 10 = 0 then 'step 2 "step_1" (log) failed: example' end, 1, 3
       from generate_series(1, $3::int) g`,
    [ids!.org, ids!.automation, runs],
  );
  const [big] = await db.query<{ id: string }>(
    `insert into public.automation_runs (org_id, automation_id, status, trigger_type, trigger_payload, created_at, started_at, completed_at, attempt, max_attempts)
     values ($1, $2, 'completed', 'webhook', '{"email": "ada@example.com", "note": "the 50-step run"}', now(), now(), now() + interval '5 seconds', 1, 3)
     returning id`,
    [ids!.org, ids!.automation],
  );
  await db.query(
    `insert into public.automation_run_steps (run_id, step_index, org_id, action_type, name, status, attempt, input, output, started_at, completed_at)
     select $1, i, $2, 'webhook', 'step_' || i, 'completed', 1,
            jsonb_build_object('url', 'https://hooks.example.com/' || i, 'body', jsonb_build_object('text', repeat('x', 400), 'i', i)),
            jsonb_build_object('status', 200, 'body', jsonb_build_object('ok', true, 'echo', repeat('y', 300))),
            now() + interval '100 ms' * i, now() + interval '100 ms' * i + interval '1 ms' * (10 + (i * 37) % 90)
       from generate_series(0, 49) i`,
    [big!.id, ids!.org],
  );
  await db.query(`update public.automations set run_count = $2 + 1, last_run_at = now() where id = $1`, [ids!.automation, runs]);
  await db.query("set session_replication_role = origin");
  await db.query("vacuum (analyze) public.automation_runs, public.automation_run_steps, public.automations");
  return { url, db, ...ids!, bigRun: big!.id };
}

/** Loads `url` `LOADS` times after 2 warm-ups; ms from navigation start until every mark exists (the latest of them). */
async function timeToContent(page: Page, url: string, marks: string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < LOADS + 2; i++) {
    await page.goto(url, { waitUntil: "commit" });
    await page.waitForFunction((names) => names.every((n) => performance.getEntriesByName(n).length > 0), marks, { polling: 10, timeout: 20_000 });
    const ms = await page.evaluate((names) => Math.max(...names.map((n) => performance.getEntriesByName(n)[0]!.startTime)), marks);
    if (i >= 2) out.push(ms);
  }
  return out;
}

export async function consolePart(env: BenchEnv, scale: number): Promise<PartResult> {
  const t0 = performance.now();
  const load = loadAvg();
  const runs = Math.max(1000, Math.round(100_000 * scale));
  console.log(`  ${runs.toLocaleString("en-US")} runs for one automation, one run with 50 steps…`);
  const s = await seed(env, runs);
  await buildConsole();
  const rt = await startRuntime({
    root: ROOT,
    logger: silentLogger,
    env: { DATABASE_URL: s.url, PORT: String(await freePort()), AUTOMATIONS_LOCAL_WORKER: "off", AUTOMATIONS_JWT_SECRET: JWT_SECRET },
  });
  const profile = mkdtempSync(join(tmpdir(), "bench-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const token = await signJwt(JWT_SECRET, { sub: s.auth, role: "authenticated", aud: "authenticated", email: "viewer@bench.test" }, 3600);
    const page = await context.newPage();
    await page.goto(`${rt.url}/#access_token=${token}`);
    await page.waitForFunction(() => performance.getEntriesByName("console:automations").length > 0);
    const run = await timeToContent(page, `${rt.url}/runs/${s.bigRun}`, ["console:run"]);
    // Where the last load's time went: each request's start and end, and the marks (ms since navigation start).
    const waterfall = await page.evaluate(() =>
      [
        ...performance.getEntriesByType("navigation").map((e) => ["document", e.startTime, (e as PerformanceNavigationTiming).responseEnd]),
        ...performance.getEntriesByType("resource").map((e) => [new URL(e.name).pathname, e.startTime, (e as PerformanceResourceTiming).responseEnd]),
        ...performance.getEntriesByType("mark").map((e) => [`mark ${e.name}`, e.startTime, e.startTime]),
      ].map(([n, a, b]) => `${String(n).padEnd(60)} ${Number(a).toFixed(1).padStart(8)} → ${Number(b).toFixed(1).padStart(8)} ms`),
    );
    const steps = await page.locator("ol.steps > li").count();
    if (steps !== 50) throw new Error(`the run page shows ${steps} steps, expected 50`);
    const scriptStart = await timeToContent(page, `${rt.url}/runs/${s.bigRun}`, ["console:start"]);
    const automation = await timeToContent(page, `${rt.url}/automations/${s.automation}`, ["console:automation", "console:runs"]);
    const list = await timeToContent(page, `${rt.url}/`, ["console:automations"]);

    const api = async (path: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 22; i++) {
        const t = performance.now();
        const res = await fetch(`${rt.url}/functions/v1/automations-api${path}`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${path}: ${res.status}`);
        if (i >= 2) ms.push(performance.now() - t);
      }
      return median(ms);
    };
    const apiRun = await api(`/runs/${s.bigRun}`);
    const apiRuns = await api(`/runs?automation_id=${s.automation}&limit=25`);
    const apiOrgRuns = await api(`/runs?limit=25`);
    const apiList = await api(`/automations`);
    const plan = await s.db.query<{ "QUERY PLAN": string }>(
      `explain (analyze, buffers) select r.id from public.automation_runs r where r.automation_id = $1 order by r.created_at desc, r.id desc limit 26`,
      [s.automation],
    );
    const figures: Figure[] = [
      { part: "console", metric: "run page (50 steps), time to content, median", value: median(run), unit: "ms", target: { op: "<=", value: TARGET_MS } },
      { part: "console", metric: "run page, slowest of 10", value: Math.max(...run), unit: "ms" },
      { part: "console", metric: "of which: until the script runs (HTML + JS), median", value: median(scriptStart), unit: "ms" },
      { part: "console", metric: `automation page (${runs.toLocaleString("en-US")} runs), time to content, median`, value: median(automation), unit: "ms", target: { op: "<=", value: TARGET_MS } },
      { part: "console", metric: "automation page, slowest of 10", value: Math.max(...automation), unit: "ms" },
      { part: "console", metric: "automations list, time to content, median", value: median(list), unit: "ms" },
      { part: "console", metric: "API GET /runs/<id> (50 steps), median", value: apiRun, unit: "ms" },
      { part: "console", metric: "API GET /runs?automation_id (first 25), median", value: apiRuns, unit: "ms" },
      { part: "console", metric: "API GET /runs (org-wide, first 25; not used by the page), median", value: apiOrgRuns, unit: "ms" },
      { part: "console", metric: "API GET /automations, median", value: apiList, unit: "ms" },
    ];
    return {
      part: "console",
      load,
      seconds: (performance.now() - t0) / 1000,
      figures,
      details: [`<details><summary>console: the run page's last load (ms since navigation start)</summary>\n\n\`\`\`\n${waterfall.join("\n")}\n\`\`\`\n</details>`, `<details><summary>console: the automation page's runs query</summary>\n\n\`\`\`\n${plan.map((r) => r["QUERY PLAN"]).join("\n")}\n\`\`\`\n</details>`],
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await rt.stop();
  }
}
