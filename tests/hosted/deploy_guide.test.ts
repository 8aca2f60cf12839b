// docs/deploy.md end to end against hosted Supabase's own pg_cron 1.6, pg_net
// and Vault: `supabase db push --db-url`, then every SQL statement of the
// guide in order, with the local runtime in hosted mode
// (AUTOMATIONS_LOCAL_WORKER=off: no loop of its own) as the project's
// function URL on loopback. pg_cron fires the jobs, pg_net calls the
// functions, and only those calls do work.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/pg_cluster.ts";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";
import { silentLogger } from "../../shared/logger.ts";
import { startRuntime, type Runtime } from "../../local/runtime.ts";
import { hostedSkipReason, hostedUrl, pushToHostedDb, sqlStatements, until } from "../helpers/hosted.ts";

const root = join(import.meta.dirname, "../..");
const skip = hostedSkipReason();
if (skip) console.log(`tests/hosted/deploy_guide skipped: ${skip}`);

const guide = sqlStatements(readFileSync(join(root, "docs/deploy.md"), "utf8"));
const inSection = (prefix: string) => guide.filter((s) => s.section.startsWith(prefix));

describe.skipIf(skip !== null)("docs/deploy.md on pg_cron 1.6 + pg_net + Vault, runtime in hosted mode", () => {
  let db: Db;
  let rt: Runtime;
  let orgId = "";
  const ids: Record<string, string> = {};

  /** A statement of the guide with its placeholders filled in. */
  const fill = (sql: string) =>
    sql
      .replaceAll("https://<ref>.supabase.co", rt.url)
      .replaceAll("<service role key>", rt.keys.serviceRoleKey)
      .replaceAll("<new key>", rt.keys.serviceRoleKey)
      .replaceAll("<org uuid>", orgId)
      .replaceAll("<id from above>", ids.automation ?? "<id from above>")
      .replaceAll("<run id>", ids.run ?? "<run id>");

  async function runSection(prefix: string, pick = (_sql: string) => true): Promise<Array<Record<string, unknown>[]>> {
    const stmts = inSection(prefix).filter((s) => pick(s.sql));
    expect(stmts.length, `docs/deploy.md section "${prefix}" has SQL`).toBeGreaterThan(0);
    const results = [];
    for (const s of stmts) {
      try {
        results.push(await db.query<Record<string, unknown>>(fill(s.sql)));
      } catch (e) {
        throw new Error(`docs/deploy.md "${s.section}": ${(e as Error).message}\n${fill(s.sql)}`);
      }
    }
    return results;
  }

  const jobs = async () =>
    (await db.query<{ jobname: string; schedule: string }>(
      "select jobname, schedule from cron.job where jobname like 'automations-%' order by jobname",
    )).map((j) => `${j.jobname} ${j.schedule}`);

  const succeeded = (job: string) =>
    until(`${job} to run and succeed`, async () => {
      const r = await db.query<{ status: string; return_message: string }>(
        `select d.status, d.return_message from cron.job_run_details d join cron.job j using (jobid)
          where j.jobname = $1 order by d.start_time desc limit 1`,
        [job],
      );
      if (r[0]?.status === "failed") throw new Error(`${job} failed: ${r[0].return_message}`);
      return r[0]?.status === "succeeded";
    });

  const runStatus = (runId: string) =>
    until(`run ${runId} to complete`, async () => {
      const [r] = await db.query<{ status: string }>("select status from public.automation_runs where id = $1", [runId]);
      return r?.status === "completed" || r?.status === "failed" ? r.status : null;
    });

  beforeAll(async () => {
    const url = hostedUrl();
    const out = pushToHostedDb(url);
    expect(out).toMatch(/Applying migration 20261129001500_hosted_kick\.sql/);
    db = createPostgresDb(url, { max: 4 });
    rt = await startRuntime({
      root,
      logger: silentLogger,
      env: { DATABASE_URL: url, PORT: String(await freePort()), AUTOMATIONS_LOCAL_WORKER: "off" },
    });
    const [org] = await db.query<{ id: string }>("insert into public.organizations (name, slug) values ('Hosted', 'hosted') returning id");
    orgId = org!.id;
    await db.query(
      "create table public.deals (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.organizations (id), name text)",
    );
  }, 120_000);

  afterAll(async () => {
    await rt?.stop();
    await db?.close?.();
  });

  it("§6 stores the secrets in Vault and installs the jobs", async () => {
    const [, , installed] = await runSection("6.");
    expect(Object.values(installed![0]!)[0]).toMatch(/scheduled automations-schedule-tick and automations-worker \(\* \* \* \* \*\); scheduled automations-kick \(1 seconds\)/);
    expect(await jobs()).toEqual([
      "automations-cron-history 41 * * * *",
      "automations-kick 1 seconds",
      "automations-retention 17 * * * *",
      "automations-schedule-tick * * * * *",
      "automations-worker * * * * *",
    ]);
  });

  it("install_cron again leaves one set of jobs; tick, worker, retention and kick fire and the functions answer 200", async () => {
    await db.query("select automations_engine.install_cron('2 seconds')");
    await db.query("select automations_engine.install_retention_cron('2 seconds')");
    expect(await jobs()).toEqual([
      "automations-cron-history 41 * * * *",
      "automations-kick 1 seconds",
      "automations-retention 2 seconds",
      "automations-schedule-tick 2 seconds",
      "automations-worker 2 seconds",
    ]);
    for (const job of ["automations-schedule-tick", "automations-worker", "automations-retention", "automations-kick"]) {
      await succeeded(job);
    }
    // pg_net's answers from the tick and the worker (sent by those jobs).
    const answers = await until("pg_net answers from tick and worker", async () => {
      const r = await db.query<{ status_code: number; content: string }>(
        "select status_code, content from net._http_response where status_code is not null order by id",
      );
      const tick = r.find((x) => x.content.includes('"checked"'));
      const worker = r.find((x) => x.content.includes('"processed"'));
      return tick && worker ? [tick, worker] : null;
    });
    expect(answers.map((a) => a.status_code)).toEqual([200, 200]);
  });

  it("a schedule automation fires through pg_cron → pg_net → tick", async () => {
    const [a] = await db.query<{ id: string }>(
      `select public.create_automation(name => 'Every minute', trigger_type => 'schedule', status => 'active', org_id => $1,
         trigger_config => '{"cron": "* * * * *", "missed": "once"}',
         actions => '[{"action_type": "log", "action_config": {"message": "tick"}}]') as id`,
      [orgId],
    );
    // Seen by the tick since two minutes ago: a fire time is due now, not at the next minute.
    await db.query(
      `insert into automations_engine.schedule_state (automation_id, since) values ($1, now() - interval '2 minutes')
       on conflict (automation_id) do update set since = excluded.since`,
      [a!.id],
    );
    const run = await until("the schedule's run", async () => {
      const [r] = await db.query<{ id: string }>("select id from public.automation_runs where automation_id = $1", [a!.id]);
      return r?.id;
    });
    expect(await runStatus(run)).toBe("completed");
  });

  it("§7 attaches the table trigger; a deal runs its automation through the kick (worker job back to every minute)", async () => {
    await db.query("select automations_engine.install_cron()");
    await runSection("7.");
    const [a] = await db.query<{ id: string }>(
      `select public.create_automation(name => 'On deal', trigger_type => 'event', status => 'active', org_id => $1,
         trigger_config => '{"table": "deals", "operations": ["INSERT"]}',
         actions => '[{"action_type": "log", "action_config": {"message": "deal {{trigger.payload.record.name}}"}}]') as id`,
      [orgId],
    );
    const [before] = await db.query<{ kicks: number }>("select kicks::int from automations_engine.worker_kick");
    await db.query("insert into public.deals (org_id, name) values ($1, 'Acme')", [orgId]);
    const [run] = await db.query<{ id: string }>("select id from public.automation_runs where automation_id = $1", [a!.id]);
    expect(await runStatus(run!.id)).toBe("completed");
    // The kick called the worker (its answer says it processed the run).
    const [kick] = await db.query<{ kicks: number; status_code: number; content: string }>(
      `select k.kicks::int, r.status_code, r.content from automations_engine.worker_kick k
         left join net._http_response r on r.id = k.request_id`,
    );
    expect(kick!.kicks).toBeGreaterThan(before!.kicks);
    const answered = await until("the kick's answer", async () => {
      const [r] = await db.query<{ status_code: number | null; content: string | null }>(
        "select r.status_code, r.content from automations_engine.worker_kick k join net._http_response r on r.id = k.request_id",
      );
      return r?.status_code ? r : null;
    });
    expect(answered.status_code).toBe(200);
  });

  it("§8 verifies: every query runs; the end-to-end check completes", async () => {
    const isE2e = (sql: string) => /create_automation|run_automation|<run id>/.test(sql);
    const [migrations, secrets, jobsNow] = await runSection("8.", (sql) => !isE2e(sql));
    expect(migrations!.map((m) => m.version)).toContain("20261129001500");
    expect(secrets!.map((s) => s.name).sort()).toEqual(["automations_project_url", "automations_service_role_key"]);
    expect(jobsNow!.length).toBe(5);
    // The end-to-end block: create_automation, run_automation, then the run's status.
    const e2e = guide.filter((s) => s.section.startsWith("8.") && isE2e(s.sql));
    expect(e2e.length).toBe(3);
    const [created] = await db.query<Record<string, string>>(fill(e2e[0]!.sql));
    ids.automation = Object.values(created!)[0]!;
    const [queued] = await db.query<Record<string, string>>(fill(e2e[1]!.sql));
    ids.run = Object.values(queued!)[0]!;
    expect(await runStatus(ids.run)).toBe("completed");
    const [row] = await db.query<{ status: string }>(fill(e2e[2]!.sql));
    expect(row!.status).toBe("completed");
  });

  it("kick_worker: nothing when idle; one call for many due runs; no second call while it is in flight", async () => {
    // Call it by hand, with no other job calling the worker meanwhile.
    const [removed] = await db.query<{ msg: string }>(
      "select automations_engine.uninstall_cron(array['automations-kick', 'automations-worker', 'automations-schedule-tick']) as msg",
    );
    expect(removed!.msg).toBe("unscheduled automations-kick, automations-schedule-tick, automations-worker");
    expect(await jobs()).toEqual(["automations-cron-history 41 * * * *", "automations-retention 17 * * * *"]);
    await until("an idle queue", async () => {
      const [r] = await db.query<{ n: number }>("select count(*)::int as n from public.automation_runs where status in ('pending', 'running')");
      return r!.n === 0;
    });
    // The last automatic kick's call answered and more than a second ago.
    await until("the last kick to be over", async () => {
      const [r] = await db.query<{ quiet: boolean }>(
        `select (last_kick_at is null or last_kick_at < clock_timestamp() - interval '1 second')
                and (request_id is null or exists (select 1 from net._http_response where id = request_id)) as quiet
           from automations_engine.worker_kick`,
      );
      return r!.quiet;
    });
    const kick = async () => (await db.query<{ id: string | null }>("select automations_engine.kick_worker()::text as id"))[0]!.id;
    expect(await kick()).toBeNull();
    const [before] = await db.query<{ kicks: number }>("select kicks::int from automations_engine.worker_kick");
    await db.query("select public.run_automation($1) from generate_series(1, 40)", [ids.automation]);
    const first = await kick();
    expect(first).not.toBeNull();
    expect(await kick()).toBeNull(); // in flight (and within the second)
    const answer = await until("the worker's answer", async () => {
      const [r] = await db.query<{ content: string | null }>("select content from net._http_response where id = $1", [first]);
      return r?.content;
    });
    expect(JSON.parse(answer)).toMatchObject({ processed: 40, completed: 40 });
    const [after] = await db.query<{ kicks: number }>("select kicks::int from automations_engine.worker_kick");
    expect(after!.kicks - before!.kicks).toBe(1);
  });

  it("kick_worker backs off to one call per 15 s while calls fail (a wrong key in Vault: 401)", async () => {
    const setKey = (key: string) =>
      db.query("select vault.update_secret((select id from vault.secrets where name = 'automations_service_role_key'), $1)", [key]);
    const kick = async () => (await db.query<{ id: string | null }>("select automations_engine.kick_worker()::text as id"))[0]!.id;
    await setKey("not-the-service-key");
    try {
      await db.query("select public.run_automation($1)", [ids.automation]);
      await db.query("update automations_engine.worker_kick set last_kick_at = now() - interval '1 minute'");
      const failed = await kick();
      expect(failed).not.toBeNull();
      const status = await until("the 401", async () => {
        const [r] = await db.query<{ status_code: number | null }>("select status_code from net._http_response where id = $1", [failed]);
        return r?.status_code;
      });
      expect(status).toBe(401);
      // Two seconds after the failed call: a working install would call again; this one waits.
      await db.query("update automations_engine.worker_kick set last_kick_at = now() - interval '2 seconds'");
      expect(await kick()).toBeNull();
      await setKey(rt.keys.serviceRoleKey);
      await db.query("update automations_engine.worker_kick set last_kick_at = now() - interval '16 seconds'");
      const retried = await kick();
      expect(retried).not.toBeNull();
      const answer = await until("the retry's answer", async () => {
        const [r] = await db.query<{ status_code: number | null }>("select status_code from net._http_response where id = $1", [retried]);
        return r?.status_code;
      });
      expect(answer).toBe(200);
    } finally {
      await setKey(rt.keys.serviceRoleKey);
    }
  });

  it("kick_worker makes no call for a backlog held back by rate_limit, and one once a run may start", async () => {
    const kick = async () => (await db.query<{ id: string | null }>("select automations_engine.kick_worker()::text as id"))[0]!.id;
    const quiet = () => db.query("update automations_engine.worker_kick set last_kick_at = now() - interval '2 minutes'");
    await until("an idle queue", async () => {
      const [r] = await db.query<{ n: number }>("select count(*)::int as n from public.automation_runs where status in ('pending', 'running')");
      return r!.n === 0;
    });
    await db.query(`update public.automations set rate_limit = '{"limit": 1, "period_seconds": 3600}' where id = $1`, [ids.automation]);
    try {
      // Three runs due; one start inside the window, recorded in the database: the other two are held back.
      await db.query("select public.run_automation($1) from generate_series(1, 3)", [ids.automation]);
      await db.query(
        `update public.automation_runs set status = 'completed', started_at = now(), completed_at = now()
          where id = (select id from public.automation_runs where automation_id = $1 and status = 'pending' order by created_at limit 1)`,
        [ids.automation]);
      await quiet();
      const [before] = await db.query<{ kicks: number }>("select kicks::int from automations_engine.worker_kick");
      expect(await kick()).toBeNull();
      const [after] = await db.query<{ kicks: number }>("select kicks::int from automations_engine.worker_kick");
      expect(after!.kicks).toBe(before!.kicks);
      // A second start allowed: work again, one call, which runs exactly one.
      await db.query(`update public.automations set rate_limit = '{"limit": 2, "period_seconds": 3600}' where id = $1`, [ids.automation]);
      const id = await kick();
      expect(id).not.toBeNull();
      const answer = await until("the worker's answer", async () => {
        const [r] = await db.query<{ content: string | null }>("select content from net._http_response where id = $1", [id]);
        return r?.content;
      });
      expect(JSON.parse(answer)).toMatchObject({ processed: 1, completed: 1 });
      await quiet();
      expect(await kick()).toBeNull(); // the last one is held back again
    } finally {
      await db.query("update public.automations set rate_limit = null where id = $1", [ids.automation]);
      await db.query("delete from public.automation_runs where automation_id = $1 and status = 'pending'", [ids.automation]);
    }
  });

  it("§10 uninstall removes the jobs, the trigger, the tables and the secrets", async () => {
    await runSection("10.");
    expect(await jobs()).toEqual([]);
    const [left] = await db.query<{ schema: string | null; runs: string | null; secrets: number; trigger: number }>(
      `select to_regnamespace('automations_engine')::text as schema, to_regclass('public.automation_runs')::text as runs,
              (select count(*)::int from vault.secrets where name like 'automations_%') as secrets,
              (select count(*)::int from pg_trigger where tgname = 'deals_automations') as trigger`,
    );
    expect(left).toEqual({ schema: null, runs: null, secrets: 0, trigger: 0 });
  });
});
