// The whole backend in one process: database (embedded PGlite, or
// DATABASE_URL), migrations + seed, the five functions over HTTP, a worker
// that wakes on every enqueue, and a schedule tick every few seconds.
// AUTOMATIONS_LOCAL_WORKER=off is hosted mode: no loop of its own (no worker,
// tick or retention); only function calls do work, as on hosted Supabase
// (pg_cron + pg_net call the tick and worker; an enqueueing call drains in the
// background, as EdgeRuntime.waitUntil does in shared/runtime/edge.ts).
// Keys are this database's own (local/secrets.ts); the demo seed goes into
// the embedded database, and into DATABASE_URL only when asked (`--demo`).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "node:http";
import type { Db } from "../shared/db/types.ts";
import { pruneRuns } from "../shared/engine/sql/retention.ts";
import { Worker } from "../shared/engine/worker.ts";
import { createEventHandler } from "../shared/handlers/event.ts";
import { createRunHandler } from "../shared/handlers/run.ts";
import { createApiHandler } from "../shared/handlers/api.ts";
import { createScheduleTickHandler } from "../shared/handlers/schedule_tick.ts";
import { createWebhookHandler } from "../shared/handlers/webhook.ts";
import { createWorkerHandler } from "../shared/handlers/worker.ts";
import { jsonLogger, type Logger } from "../shared/logger.ts";
import type { AppDeps } from "../shared/runtime/deps.ts";
import { dbFromUrl, depsFromEnv, type Env } from "../shared/runtime/env.ts";
import { tickSchedules } from "../shared/triggers/schedule_tick.ts";
import { createConsoleRoutes } from "./console_routes.ts";
import { createDemoSession } from "./console_demo.ts";
import { allowedHosts } from "./host_guard.ts";
import { resolveLocalKeys, type ResolvedKeys } from "./keys.ts";
import { createLocalApi } from "./local_api.ts";
import { migrate, type MigrateResult } from "./migrate.ts";
import { localPoolSize } from "./pool_size.ts";
import { cliTokenPath, dataDir, randomSecret, removeCliToken, writeCliToken } from "./secrets.ts";
import { createFunctionsServer, listen } from "./server.ts";

export interface RuntimeOptions {
  env: Env;
  root: string;
  logger?: Logger;
  /** Seconds between schedule ticks. */
  tickSeconds?: number;
  /** Load the demo seed where the demo org is missing, DATABASE_URL included (`npm start -- --demo`). */
  demo?: boolean;
}

export interface Runtime {
  url: string;
  database: string;
  /** The embedded PGlite (false: DATABASE_URL). */
  embedded: boolean;
  migrations: MigrateResult;
  deps: AppDeps;
  keys: ResolvedKeys;
  stop(): Promise<void>;
}

/** The host part of the runtime's URL: loopback when it listens on every interface. */
function urlHost(listen: string): string {
  if (["0.0.0.0", "::", "[::]"].includes(listen)) return "127.0.0.1";
  return listen.includes(":") && !listen.startsWith("[") ? `[${listen}]` : listen;
}

/** An optional whole-number setting; undefined when unset. */
function positiveInt(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!/^[1-9][0-9]*$/.test(v)) throw new Error(`${name} must be a whole number of at least 1, not "${v}"`);
  return Number(v);
}

/** AUTOMATIONS_LOCAL_WORKER: "on" (default) or "off" (hosted mode). */
export function localWorkerEnabled(env: Env): boolean {
  const v = (env.AUTOMATIONS_LOCAL_WORKER ?? "on").trim().toLowerCase();
  if (v === "on" || v === "") return true;
  if (v === "off") return false;
  throw new Error(`AUTOMATIONS_LOCAL_WORKER must be "on" or "off", not "${env.AUTOMATIONS_LOCAL_WORKER}"`);
}

/** Hosted mode's kick: one background drain at a time, as one edge function isolate does. */
function backgroundDrain(deps: () => AppDeps, logger: Logger): () => void {
  let draining: Promise<unknown> | null = null;
  return () => {
    if (draining) return;
    draining = new Worker({ ...deps(), concurrency: 4 })
      .drain(20_000)
      .catch((e: unknown) => logger.warn("background drain failed", { error: String(e) }))
      .finally(() => (draining = null));
  };
}

/** The database, and the worker's own connections (so HTTP bursts cannot starve it). */
async function openDb(env: Env, root: string): Promise<{ db: Db; workerDb: Db; label: string }> {
  if (env.DATABASE_URL) {
    const db = dbFromUrl(env.DATABASE_URL, Number(env.AUTOMATIONS_DB_POOL_SIZE ?? localPoolSize()));
    const workerDb = dbFromUrl(env.DATABASE_URL, Number(env.AUTOMATIONS_WORKER_POOL_SIZE ?? 4));
    const u = new URL(env.DATABASE_URL);
    try {
      await db.query("select 1");
    } catch (e) {
      await Promise.all([db.close?.(), workerDb.close?.()]).catch(() => {});
      throw new Error(`DATABASE_URL (${u.host}) is unreachable: ${(e as Error).message}. Check the URL, or unset it to use the embedded database.`);
    }
    return { db, workerDb, label: `PostgreSQL at ${u.host}${u.pathname} (DATABASE_URL)` };
  }
  // Loaded only when used: PGlite's WASM costs ~40 MB of memory.
  const { openPglite } = await import("../shared/db/pglite.ts");
  const dir = dataDir(env, root);
  mkdirSync(dir, { recursive: true });
  const { db } = await openPglite(dir);
  // One connection in PGlite: the worker shares it.
  return { db, workerDb: db, label: `embedded PGlite in ${dir}` };
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const env = opts.env;
  const logger = opts.logger ?? jsonLogger((env.AUTOMATIONS_LOG_LEVEL as "info") ?? "info");
  const port = Number(env.PORT ?? 54321);
  const host = env.HOST ?? "127.0.0.1";
  const url = `http://${urlHost(host)}:${port}`;
  const embedded = !env.DATABASE_URL;
  const loops = localWorkerEnabled(env);

  const { db, workerDb, label } = await openDb(env, opts.root);
  let cliToken: { file: string; token: string } | null = null;
  try {
    const keys = await resolveLocalKeys(env, opts.root, { create: true });
    const seed = opts.demo ? "if-absent" : embedded;
    const migrations = await migrate(db, opts.root, { seed });
    let worker: Worker | null = null;
    const deps = depsFromEnv(
      {
        SUPABASE_URL: url,
        SUPABASE_JWKS_URL: "",
        ...env,
        // Resolved with the environment first (local/keys.ts).
        SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
        SUPABASE_ANON_KEY: keys.anonKey,
        SUPABASE_JWT_SECRET: keys.jwtSecret,
        AUTOMATIONS_JWT_SECRET: keys.jwtSecret,
      },
      { db, logger, kick: loops ? () => worker?.wake() : backgroundDrain(() => deps, logger) },
    );
    if (loops) {
      // 32 at once: steps mostly wait on I/O, and saves are batched (docs/performance.md).
      worker = new Worker({
        ...deps,
        db: workerDb,
        concurrency: Number(env.AUTOMATIONS_WORKER_CONCURRENCY ?? 32),
        pollIntervalMs: 1000,
      });
      await worker.start();
    }
    // The CLI's pass to /_local/query, new for every start (embedded database
    // only); its file is written once this process serves the port.
    const token = embedded ? { file: cliTokenPath(env, opts.root), token: randomSecret() } : null;

    // The run console (local/console_routes.ts); its demo sign-in exists where
    // the demo seed goes in (the embedded database, or --demo).
    const demoSignIn = embedded || opts.demo === true;
    const localApi = createLocalApi(deps, { cliToken: token?.token ?? null, cliTokenFile: token?.file });
    const demoSession = createDemoSession({ enabled: demoSignIn, db, jwtSecret: keys.jwtSecret });
    const consolePage = createConsoleRoutes({
      dir: join(opts.root, "dist/console"),
      config: { url: null, anonKey: keys.anonKey, signIn: demoSignIn ? "demo" : "token" },
    });
    const server: Server = createFunctionsServer(
      {
        "automations-webhook": createWebhookHandler(deps, {
          enqueue: {
            maxBatch: positiveInt(env, "AUTOMATIONS_WEBHOOK_BATCH"),
            maxInFlight: positiveInt(env, "AUTOMATIONS_WEBHOOK_BATCHES_IN_FLIGHT"),
          },
        }),
        "automations-schedule-tick": createScheduleTickHandler(deps),
        "automations-event": createEventHandler(deps),
        "automations-worker": createWorkerHandler(deps),
        "automations-run": createRunHandler(deps),
        "automations-api": createApiHandler(deps),
      },
      async (req) => (await demoSession(req)) ?? (await consolePage(req)) ?? (await localApi(req)),
      { allowedHosts: allowedHosts(env) },
    );
    await listen(server, port, host);
    if (token) writeCliToken(token.file, token.token);
    cliToken = token;

    let ticking = false;
    const tick = loops && setInterval(() => {
      if (ticking) return;
      ticking = true;
      tickSchedules(db, new Date(), logger)
        .then((r) => r.enqueued > 0 && worker?.wake())
        .catch((e: unknown) => logger.warn("schedule tick failed", { error: String(e) }))
        .finally(() => (ticking = false));
    }, (opts.tickSeconds ?? 5) * 1000);

    // Retention (pg_cron does this on hosted Supabase): once at start, then hourly.
    let pruning = false;
    const prune = () => {
      if (pruning) return;
      pruning = true;
      pruneRuns(db, { timeBudgetMs: 10_000 })
        .then((r) => r.deletedRuns > 0 && logger.info("retention: pruned old runs", { ...r }))
        .catch((e: unknown) => logger.warn("retention failed", { error: String(e) }))
        .finally(() => (pruning = false));
    };
    if (loops) prune();
    const retention = loops && setInterval(prune, 3_600_000);

    return {
      url,
      database: label,
      embedded,
      migrations,
      deps,
      keys,
      async stop() {
        if (tick) clearInterval(tick);
        if (retention) clearInterval(retention);
        // Stop taking requests (in-flight ones finish), then stop claiming and
        // let running runs finish or go back to the queue, then close the database.
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
        server.closeAllConnections();
        await worker?.stop(10_000);
        if (workerDb !== db) await workerDb.close?.();
        await db.close?.();
        if (cliToken) removeCliToken(cliToken.file, cliToken.token);
      },
    };
  } catch (e) {
    if (cliToken) removeCliToken(cliToken.file, cliToken.token);
    await Promise.all([db.close?.(), workerDb !== db ? workerDb.close?.() : undefined]).catch(() => {});
    throw e;
  }
}
