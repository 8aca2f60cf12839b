// Part 4, history at scale: 1,000,000 runs (one step row each) over 10,000
// automations in 100 orgs (× --scale), then the seed's six example queries as
// an org member under RLS (role authenticated + request.jwt.claims, exactly as
// PostgREST) and as service_role, median of 20 runs each; claim_runs on an
// empty due set and with 100 due runs; database size per million runs.
import { asUser, type JwtClaims } from "../shared/db/as_user.ts";
import { createPostgresDb } from "../shared/db/postgres.ts";
import type { Db } from "../shared/db/types.ts";
import { loadAvg, type BenchEnv } from "./env.ts";
import { generateHistory, historyShape } from "./history_gen.ts";
import { median, resetStatements, topStatements } from "./probe.ts";
import type { Figure, PartResult } from "./report.ts";
import { SEED_QUERIES } from "./seed_queries.ts";

const RUNS = 20;
const QUERY_TARGET_MS = 20;
const CLAIM_TARGET_MS = 2;

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 2; i++) await fn(); // warm-up: plan cache, buffers
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

class Rollback extends Error {}
/** Run fn in a transaction that is always rolled back (EXPLAIN ANALYZE of writes). */
async function rolledBack<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await db
    .transaction(async (tx) => {
      out = await fn(tx);
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return out as T;
}

const explain = async (tx: Db, sql: string) =>
  (await tx.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers) ${sql}`)).map((r) => r["QUERY PLAN"]).join("\n");

const block = (title: string, text: string) => `<details><summary>${title}</summary>\n\n\`\`\`\n${text}\n\`\`\`\n</details>`;

async function relSizes(db: Db): Promise<{ runs: number; steps: number; database: number }> {
  const [r] = await db.query<{ runs: string; steps: string; database: string }>(
    `select pg_total_relation_size('public.automation_runs')::text as runs,
            pg_total_relation_size('public.automation_run_steps')::text as steps,
            pg_database_size(current_database())::text as database`,
  );
  return { runs: Number(r!.runs), steps: Number(r!.steps), database: Number(r!.database) };
}

async function sizeBreakdown(db: Db): Promise<string> {
  const rows = await db.query<{ rel: string; heap: number; idx: number; toast: number }>(
    `select c.relname as rel, (pg_relation_size(c.oid) / 1048576.0)::float8 as heap,
            (pg_indexes_size(c.oid) / 1048576.0)::float8 as idx,
            ((pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid)) / 1048576.0)::float8 as toast
       from pg_class c where c.oid in ('public.automation_runs'::regclass, 'public.automation_run_steps'::regclass)`,
  );
  return [
    "| table | heap MB | indexes MB | toast + maps MB |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.rel} | ${r.heap.toFixed(0)} | ${r.idx.toFixed(0)} | ${r.toast.toFixed(0)} |`),
  ].join("\n");
}

export async function historyPart(env: BenchEnv, scale: number): Promise<PartResult> {
  const t0 = performance.now();
  const load0 = loadAvg();
  const shape = historyShape(scale);
  const { url, db } = await env.freshDb("bench_history", 2);
  const figures: Figure[] = [];
  const details: string[] = [];
  const s0 = await relSizes(db);
  const gen = createPostgresDb(url, { max: 1, applicationName: "bench-generate" });
  console.log(`  generating ${shape.runs.toLocaleString("en-US")} runs over ${shape.automations} automations in ${shape.orgs} orgs`);
  const phases = await generateHistory(gen, shape, (m) => console.log(m));
  await gen.close?.();
  const s1 = await relSizes(db);
  const genS = Object.values(phases).reduce((a, b) => a + b, 0);
  const [counted] = await db.query<{ n: number }>("select count(*)::int as n from public.automation_runs");
  const perMillion = (bytes: number) => (bytes / counted!.n) * 1e6 / 2 ** 20;
  figures.push(
    { part: "history", metric: "generation time", value: genS, unit: "s", digits: 0 },
    { part: "history", metric: "runs + steps size per million runs", value: perMillion(s1.runs + s1.steps - s0.runs - s0.steps), unit: "MB", digits: 0 },
  );
  details.push(
    `${counted!.n.toLocaleString("en-US")} runs, one step row each, ${shape.automations} automations (2 actions each) in ${shape.orgs} orgs; ` +
      `generated in ${genS.toFixed(0)} s (${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}).`,
    `Size: runs + steps (heap, indexes, toast) ${((s1.runs + s1.steps) / 2 ** 20).toFixed(0)} MB = ` +
      `${perMillion(s1.runs + s1.steps - s0.runs - s0.steps).toFixed(0)} MB per million runs; pg_database_size grew by ` +
      `${((s1.database - s0.database) / 2 ** 20).toFixed(0)} MB (${perMillion(s1.database - s0.database).toFixed(0)} MB per million runs).`,
    await sizeBreakdown(db),
  );

  // A member of an org in the middle of the pack, and one of its automations for query 2.
  const k = Math.max(1, Math.ceil(shape.orgs / 2)); // orgs are numbered from 1
  const [member] = await db.query<{ auth_id: string; org_id: string; runs: number }>(
    `select u.auth_id, u.org_id, (select count(*)::int from public.automation_runs r where r.org_id = u.org_id) as runs
       from public.users u where u.email = $1`,
    [`org-${k}-member@bench.test`],
  );
  const [auto] = await db.query<{ id: string }>(
    "select id from public.automations where org_id = $1 order by run_count desc limit 1",
    [member!.org_id],
  );
  const claims: JwtClaims = { sub: member!.auth_id, role: "authenticated", aud: "authenticated", email: `org-${k}-member@bench.test` };
  const service: JwtClaims = { sub: "", role: "service_role" };
  const table = ["| query | member (RLS) median ms | rows | service_role median ms | rows |", "| --- | ---: | ---: | ---: | ---: |"];
  const plans: string[] = [];
  for (const q of SEED_QUERIES) {
    const sql = q.sql.replace("<automation_id>", auto!.id);
    let rowsMember = 0;
    let rowsService = 0;
    const member_ = median(await timed(RUNS, () => asUser(db, claims, async (tx) => (rowsMember = (await tx.query(sql)).length))));
    const service_ = median(await timed(RUNS, () => asUser(db, service, async (tx) => (rowsService = (await tx.query(sql)).length))));
    figures.push(
      { part: "history", metric: `${q.label}, member under RLS (median)`, value: member_, unit: "ms", digits: 2, target: { op: "<=", value: QUERY_TARGET_MS } },
      { part: "history", metric: `${q.label}, service_role (median)`, value: service_, unit: "ms", digits: 2 },
    );
    table.push(`| ${q.label} | ${member_.toFixed(2)} | ${rowsMember} | ${service_.toFixed(2)} | ${rowsService} |`);
    if (member_ > QUERY_TARGET_MS) plans.push(block(`EXPLAIN ${q.label} as the member (over target)`, await asUser(db, claims, (tx) => explain(tx, sql))));
    if (service_ > QUERY_TARGET_MS) plans.push(block(`EXPLAIN ${q.label} as service_role (no target; for reference)`, await asUser(db, service, (tx) => explain(tx, sql))));
  }
  details.push(
    `Seed queries, verbatim, median of ${RUNS} (after 2 warm-ups), client round trip on loopback. Member: org ${k} ` +
      `(${member!.runs.toLocaleString("en-US")} runs), each execution in its own transaction with \`set local role authenticated\` + ` +
      "`request.jwt.claims` (shared/db/as_user.ts, as PostgREST). service_role bypasses RLS: it reads every org.",
    table.join("\n"),
    ...plans,
  );

  // Claims with the history present: an empty due set, then 100 due runs of 100 active automations.
  const claimSql = "select * from automations_engine.claim_runs($1, $2, $3)";
  await resetStatements(db, env.profile);
  const empty = median(await timed(RUNS, () => db.query(claimSql, ["bench-claim", 16, 60])));
  // n new due runs, each of a different active automation: the active
  // automations are shuffled once and taken in turn, so adding runs between
  // two claims costs one small insert. (Choosing them with a random sort of
  // all 10,000 automations before every claim made the claim itself 0.3-0.6
  // ms slower: that sort left the caches cold, something the worker's hot
  // path never does.)
  const autos = await db.query<{ id: string; org_id: string; current_version_id: string }>(
    "select id, org_id, current_version_id from public.automations where status = 'active' order by random()",
  );
  if (autos.length < 100) throw new Error(`the history has ${autos.length} active automations; the claim figures need 100`);
  let next = 0;
  const addDue = (tag: string, n: number) => {
    const pick = Array.from({ length: n }, () => autos[next++ % autos.length]!);
    return db.query(
      `insert into public.automation_runs (org_id, automation_id, trigger_type, trigger_payload, idempotency_key, version_id, max_attempts, run_at)
       select t.org_id, t.id, 'webhook', jsonb_build_object('n', t.g), 'claim:' || $1 || ':' || t.g, t.version_id, 3, now() - interval '1 second'
         from unnest($2::uuid[], $3::uuid[], $4::uuid[]) with ordinality as t(id, org_id, version_id, g)`,
      [`${Date.now()}:${tag}`, pick.map((x) => x.id), pick.map((x) => x.org_id), pick.map((x) => x.current_version_id)],
    );
  };
  const finish = (ids: string[]) =>
    db.query(
      `update public.automation_runs set status = 'completed', completed_at = now(), lease_expires_at = null, locked_by = null
        where id = any ($1::uuid[])`,
      [ids],
    );
  const clearDue = () => db.query("update public.automation_runs set status = 'completed' where status = 'pending' and flow_key is null and run_at <= now()");
  // A queue in its steady state: 100 runs are due; each claim takes `limit`
  // of them, which are then completed and replaced by as many new due runs.
  // So each claim steps over the index entries its predecessor left behind,
  // as a worker's claims do, and not over runs the bench itself removed.
  const claimDue = async (limit: number) => {
    const out: number[] = [];
    await clearDue();
    await addDue(`${limit}:start`, 100);
    for (let i = 0; i < RUNS + 2; i++) {
      const t = performance.now();
      const got = await db.query<{ id: string }>(claimSql, ["bench-claim", limit, 60]);
      out.push(performance.now() - t);
      if (got.length !== limit) throw new Error(`claim_runs returned ${got.length} of the ${limit} asked for (100 due)`);
      await finish(got.map((r) => r.id));
      await addDue(`${limit}:${i}`, limit);
    }
    await clearDue();
    return median(out.slice(2));
  };
  // The target is the claim query's time with the history present: the
  // claim of the next due run, the unit a bare queue's get-job claims, and
  // the empty claim a woken worker makes when another got there first. The
  // worker's batch of up to 16 (one call for its free slots under load) and
  // one call for 100 are reported without a target: their cost is per run
  // (six index entries per claimed row, docs/performance.md "What the time
  // goes to"; the decision under "The claim target"), and what they buy is
  // measured by the drain and latency targets.
  const one = await claimDue(1);
  const batch = await claimDue(16);
  const hundred = await claimDue(100);
  // What holding back costs: the claim of the next due run (1 of 100 due)
  // with 20,000 due runs held back, 10,000 of an automation whose rate_limit
  // window is full and 10,000 of one at its max_concurrency.
  const heldAutos = autos.slice(0, 2);
  await db.query(`update public.automations set rate_limit = '{"limit": 1, "period_seconds": 86400}' where id = $1`, [heldAutos[0]!.id]);
  await db.query("update public.automations set max_concurrency = 1 where id = $1", [heldAutos[1]!.id]);
  for (const h of heldAutos) {
    await db.query(
      `insert into public.automation_runs (org_id, automation_id, trigger_type, trigger_payload, idempotency_key, version_id, max_attempts, run_at, status, started_at, flow_key)
       select $1::uuid, $2::uuid, 'webhook', '{}', 'held:' || $2::text || ':' || g, $3::uuid, 3, now() - interval '1 minute',
              case when g = 0 then 'running' else 'pending' end::public.run_status, case when g = 0 then now() end, $2::text
         from generate_series(0, 10000) g`,
      [h.org_id, h.id, h.current_version_id],
    );
  }
  await db.query("analyze public.automation_runs");
  const held: number[] = [];
  await addDue("held:start", 100);
  for (let i = 0; i < RUNS + 2; i++) {
    const t = performance.now();
    const got = await db.query<{ id: string; automation_id: string }>(claimSql, ["bench-claim", 1, 60]);
    held.push(performance.now() - t);
    const [took] = await db.query<{ n: number }>(
      "select count(*)::int as n from public.automation_runs where id = any ($1::uuid[]) and idempotency_key like 'held:%'", [got.map((r) => r.id)]);
    if (got.length !== 1 || took!.n > 0) throw new Error(`the claim with runs held back took ${got.length} runs, ${took!.n} of them held`);
    await finish(got.map((r) => r.id));
    await addDue(`held:${i}`, 1);
  }
  await db.query("delete from public.automation_runs where idempotency_key like 'held:%'");
  await clearDue();
  const heldMs = median(held.slice(2));
  const batchPerRunUs = (batch / 16) * 1000;
  figures.push(
    { part: "history", metric: "claim_runs, empty due set", value: empty, unit: "ms", digits: 2, target: { op: "<=", value: CLAIM_TARGET_MS } },
    { part: "history", metric: "claim_runs, next due run (1 of 100 due)", value: one, unit: "ms", digits: 2, target: { op: "<=", value: CLAIM_TARGET_MS } },
    { part: "history", metric: "claim_runs, a worker batch (16 of 100 due; no target)", value: batch, unit: "ms", digits: 2 },
    { part: "history", metric: "claim_runs, per run in a batch of 16 (no target)", value: batchPerRunUs, unit: "µs", digits: 0 },
    { part: "history", metric: "claim_runs, 100 due in one call (no target)", value: hundred, unit: "ms", digits: 2 },
    { part: "history", metric: "claim_runs, next due run with 20,000 runs held back (no target)", value: heldMs, unit: "ms", digits: 2 },
  );
  details.push(
    `claim_runs with the history present, median of ${RUNS} client round trips (commit included; the claim commits without waiting for the WAL flush): ` +
      `empty due set ${empty.toFixed(2)} ms; 100 due runs of 100 different active automations claimed with limit 1: ${one.toFixed(2)} ms, ` +
      `limit 16 (a worker batch): ${batch.toFixed(2)} ms (${batchPerRunUs.toFixed(0)} µs per run), ` +
      `limit 100: ${hundred.toFixed(2)} ms (${((hundred / 100) * 1000).toFixed(0)} µs per run).`,
  );
  if (empty > CLAIM_TARGET_MS || one > CLAIM_TARGET_MS) {
    await addDue("explain", 100);
    const dueSql = `select r.id from public.automation_runs r where r.status = 'pending' and r.run_at <= now()
                     order by r.run_at limit 100 for update skip locked`;
    details.push(block("EXPLAIN of claim_runs' due-run scan, 100 due (rolled back)", await rolledBack(db, (tx) => explain(tx, dueSql))));
    await clearDue();
  }
  if (env.profile) details.push(await topStatements(db, RUNS * 3 + 6, "claim call"));
  return { part: "history", load: `${load0} / ${loadAvg()}`, seconds: (performance.now() - t0) / 1000, figures, details };
}
