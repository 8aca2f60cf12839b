// Database restart: signed webhooks keep arriving and a worker keeps working
// while PostgreSQL restarts (pg_ctl stop -m fast + start) in the middle.
// Proves: during the outage the webhook function answers 503 with Retry-After
// (never a 500 a sender would not retry); afterwards the handler and the worker
// reconnect by themselves; every 202 has exactly one run, senders retrying
// their 503s get runs too, no run is doubled, and every run completes.
//
// The cluster is this test's own (scripts/chaos/pg_process.ts owns it, so the
// blocking restart runs there while this process keeps serving requests).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logAction } from "../../shared/actions/log.ts";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";
import { Worker } from "../../shared/engine/worker.ts";
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import type { Handler } from "../../shared/http/route.ts";
import type { Logger } from "../../shared/logger.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";
import { migrate } from "../../local/migrate.ts";
import { appDeps } from "../helpers/app_deps.ts";
import { createAutomation, engineDeps } from "../helpers/automations.ts";
import { createOrg } from "../helpers/fixtures.ts";
import { count, report, ROOT, sleep, statusCounts, waitFor } from "./support.ts";

const SENDERS = 16;
const LOAD_MS = 5_000;
const RESTART_AT_MS = 1_500;

let pg: ChildProcess;
let pgOut = "";
let db: Db; // test's own reads
let handlerDb: Db;
let workerDb: Db;
let worker: Worker;
let handler: Handler;
let hook: string;
let secret: string;
const warnings: string[] = [];

const waitLine = (re: RegExp, ms: number) => waitFor(`pg_process to print ${re}`, async () => re.exec(pgOut), ms, 50);

beforeAll(async () => {
  pg = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts/chaos/pg_process.ts")], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  pg.stdout!.setEncoding("utf8").on("data", (c: string) => (pgOut += c));
  const url = (await waitLine(/ready (\S+)\n/, 60_000))[1]!;
  db = createPostgresDb(url, { max: 2 });
  await migrate(db, ROOT, { seed: false });
  const org = await createOrg(db, "Restart");
  hook = await createAutomation(db, org, {
    trigger_type: "webhook",
    max_attempts: 10,
    retry_backoff_seconds: 1,
    actions: [{ type: "log", config: { message: "got {{trigger.payload.n}}", level: "debug" } }],
  });
  secret = (await db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [hook]))[0]!.s;

  const logger: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  workerDb = createPostgresDb(url, { max: 6 });
  worker = new Worker({ ...engineDeps(workerDb, [logAction], { leaseSeconds: 3, logger }), concurrency: 8, pollIntervalMs: 200, reapIntervalMs: 500 });
  await worker.start();
  handlerDb = createPostgresDb(url, { max: 8 });
  handler = createWebhookHandler(appDeps(handlerDb, { kick: () => worker.wake() }));
}, 120_000);

afterAll(async () => {
  await worker?.stop(2_000).catch(() => {});
  for (const d of [handlerDb, workerDb, db]) await d?.close?.().catch(() => {});
  if (pg && pg.exitCode === null) {
    pg.stdin!.end("stop\n");
    await new Promise((r) => pg.once("exit", r));
  }
});

interface Delivery {
  id: string;
  status: number;
  at: number;
  ms: number;
  runId?: string;
  retryAfter?: string | null;
  message?: string;
}

const ANSWER_WITHIN_MS = 45_000;

/** One signed delivery; status 0 when no answer came within ANSWER_WITHIN_MS (a hung connection pool). */
async function deliver(id: string, n: number): Promise<Delivery> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<Delivery>((r) => (timer = setTimeout(() => r({ id, status: 0, at: t0, ms: ANSWER_WITHIN_MS }), ANSWER_WITHIN_MS)));
  const d = await Promise.race([send(id, n, t0), hung]);
  clearTimeout(timer);
  return d;
}

async function send(id: string, n: number, t0: number): Promise<Delivery> {
  const body = JSON.stringify({ n });
  const res = await handler(
    new Request(`http://127.0.0.1:54321/functions/v1/automations-webhook/${hook}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signWebhook(secret, id, body) },
      body,
    }),
  );
  const json = (await res.json()) as { run_id?: string; error?: { message: string } };
  return { id, status: res.status, at: t0, ms: Date.now() - t0, runId: json.run_id, retryAfter: res.headers.get("retry-after"), message: json.error?.message };
}

describe("PostgreSQL restarts under load", () => {
  it("503 + Retry-After during the outage, then everything reconnects; one run per delivery, all complete", async () => {
    const deliveries: Delivery[] = [];
    let seq = 0;
    let sending = true;
    const start = Date.now();
    const senders = Array.from({ length: SENDERS }, async () => {
      while (sending) {
        const n = ++seq;
        deliveries.push(await deliver(`msg_${n}`, n));
      }
    });
    await sleep(RESTART_AT_MS);
    const restartAt = Date.now();
    pg.stdin!.write("restart\n");
    const restartMs = Number((await waitLine(/restarted (\d+)\n/, 60_000))[1]);
    const backAt = Date.now();
    await sleep(Math.max(0, LOAD_MS - (Date.now() - start)));
    sending = false;
    await Promise.all(senders);
    const loadMs = Date.now() - start;

    // Never a 500: only 202 (accepted) or 503 with Retry-After and a message.
    const byStatus: Record<string, Delivery[]> = {};
    for (const d of deliveries) (byStatus[String(d.status)] ??= []).push(d);
    const odd = deliveries.filter((d) => d.status !== 202 && d.status !== 503);
    expect(odd.slice(0, 5), `no status other than 202 and 503 (0: no answer within ${ANSWER_WITHIN_MS} ms)`).toEqual([]);
    expect(Object.keys(byStatus).sort()).toEqual(["202", "503"]);
    const unavailable = byStatus["503"]!;
    for (const d of unavailable) {
      expect(d.retryAfter).toMatch(/^\d+$/);
      expect(d.message).toMatch(/database is unavailable/);
    }
    // Every 202 has exactly one run, the one it was told about.
    const accepted = byStatus["202"]!;
    const runs = await db.query<{ key: string; id: string }>("select idempotency_key as key, id from automation_runs where automation_id = $1", [hook]);
    const byKey = new Map(runs.map((r) => [r.key, r.id]));
    for (const d of accepted) expect(byKey.get(`webhook:${d.id}`)).toBe(d.runId);

    // Senders retry their 503s (same webhook-id, fresh signature) and get runs too.
    const lastTry = new Map(deliveries.map((d) => [d.id, d]));
    const retry = [...lastTry.values()].filter((d) => d.status === 503);
    const retried = await Promise.all(retry.map((d) => deliver(d.id, Number(d.id.slice(4)))));
    expect(retried.filter((d) => d.status !== 202)).toEqual([]);
    const recordedBefore = retried.filter((d) => byKey.has(`webhook:${d.id}`)).length;

    // One run per delivery id, none doubled, all completed.
    const ids = new Set(deliveries.map((d) => d.id));
    expect(await count(db, "select count(*)::int as n from automation_runs where automation_id = $1", [hook])).toBe(ids.size);
    expect(await count(db, "select count(distinct idempotency_key)::int as n from automation_runs where automation_id = $1", [hook])).toBe(ids.size);
    await waitFor("every run to complete", async () => (await statusCounts(db, hook)).completed === ids.size, 90_000, 200);
    expect(await statusCounts(db, hook)).toEqual({ completed: ids.size });

    const during = unavailable.map((d) => d.at);
    const firstOkAfter = accepted.filter((d) => d.at >= backAt).sort((a, b) => a.at - b.at)[0];
    report("db_restart", {
      senders: SENDERS,
      load_ms: loadMs,
      deliveries: deliveries.length,
      accepted_202: accepted.length,
      unavailable_503: unavailable.length,
      other_statuses: deliveries.length - accepted.length - unavailable.length,
      restart_ms: restartMs,
      first_503_after_restart_cmd_ms: Math.min(...during) - restartAt,
      last_503_after_cluster_back_ms: Math.max(...during) - backAt,
      first_202_after_cluster_back_ms: firstOkAfter ? firstOkAfter.at + firstOkAfter.ms - backAt : null,
      slowest_503_ms: Math.max(...unavailable.map((d) => d.ms)),
      slowest_202_ms: Math.max(...accepted.map((d) => d.ms)),
      answers_over_5s: deliveries.filter((d) => d.ms > 5_000).length,
      retried_503s: retried.length,
      retried_already_recorded: recordedBefore,
      worker_errors: worker.stats.errors,
      worker_warnings: warnings.length,
      runs_completed: ids.size,
      runs_with_failed_attempt: await count(db, "select count(*)::int as n from automation_runs where automation_id = $1 and failed_attempts > 0", [hook]),
    });
  }, 180_000);
});
