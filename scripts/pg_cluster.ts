// A throwaway PostgreSQL 15 cluster for tests and benchmarks: initdb into a
// temp directory, start on a free loopback port, stop and delete on dispose.
// As root, every server command runs as the `postgres` OS user (initdb refuses
// root). The machine's default cluster is never touched.
import { spawnSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureHostedExtensions, ensurePackages, PG_BIN } from "./pg_deps.ts";

export { PG_BIN, missingPackages, REQUIRED_PACKAGES } from "./pg_deps.ts";

/**
 * The database hosted Supabase's background workers use in the test cluster
 * (cron.database_name, pg_net.database_name): pg_cron and pg_net serve one
 * database per cluster, so the hosted-wiring tests and `npm run bench -- hosted`
 * build their schema in it (it is created empty with the cluster).
 */
export const HOSTED_DB = "automations_hosted";

export interface Cluster {
  port: number;
  dir: string;
  /** HOSTED_DB when pg_cron 1.6, pg_net and supabase_vault are preloaded; else why not. */
  hosted: { database: string } | { unavailable: string };
  url(db?: string): string;
  stop(): void;
  restart(): void;
}

const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[], opts: { asPostgres?: boolean; quiet?: boolean } = {}) {
  const [c, a] = opts.asPostgres && isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export interface ClusterOptions {
  /** Durable settings for benchmarks; tests turn fsync off. */
  durable?: boolean;
  extraConf?: Record<string, string>;
  /** Preload hosted Supabase's extensions when installed (default true). */
  hosted?: boolean;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  ensurePackages();
  const hostedUnavailable = opts.hosted === false ? "not requested" : ensureHostedExtensions();
  const dir = mkdtempSync(join(tmpdir(), "automations-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  if (isRoot) run("chown", ["postgres:postgres", dir]);
  run(`${PG_BIN}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], {
    asPostgres: true,
  });
  const port = await freePort();
  // As hosted Supabase does: pg_cron, pg_net and Vault preloaded, their
  // workers on one database, Vault's root key from a getkey script.
  const preload = ["pg_cron"];
  const hostedConf: Record<string, string> = { "cron.database_name": "postgres" };
  if (!hostedUnavailable) {
    preload.push("pg_net", "supabase_vault");
    const getkey = join(dir, "vault-getkey.sh");
    writeFileSync(getkey, `#!/bin/sh\necho ${randomBytes(32).toString("hex")}\n`, { mode: 0o755 });
    Object.assign(hostedConf, {
      "cron.database_name": HOSTED_DB,
      "pg_net.database_name": HOSTED_DB,
      "vault.getkey_script": getkey,
    });
  }
  const extraPreload = opts.extraConf?.shared_preload_libraries?.split(",").map((s) => s.trim()) ?? [];
  const conf: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    max_connections: "300",
    timezone: "UTC",
    ...(opts.durable ? {} : { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }),
    ...hostedConf,
    ...opts.extraConf,
    shared_preload_libraries: [...new Set([...preload, ...extraPreload])].join(","),
  };
  const args = Object.entries(conf).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const pgCtl = (action: string[]) =>
    run(`${PG_BIN}/pg_ctl`, ["-D", data, "-w", "-l", join(dir, "server.log"), ...action], { asPostgres: true });
  const start = () => pgCtl(["start", "-o", args.map((a) => (a.startsWith("-") ? a : `'${a}'`)).join(" ")]);
  start();
  // The workers' database exists from the start (pg_net's worker restarts
  // every second while it is missing); whoever uses it builds its schema.
  if (!hostedUnavailable) run("psql", [`postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`, "-X", "-q", "-c", `create database ${HOSTED_DB}`]);
  let stopped = false;
  const cluster: Cluster = {
    port,
    dir,
    hosted: hostedUnavailable ? { unavailable: hostedUnavailable } : { database: HOSTED_DB },
    url: (db = "postgres") => `postgres://postgres@127.0.0.1:${port}/${db}?sslmode=disable`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        pgCtl(["stop", "-m", "immediate"]);
      } catch {
        // already down; the directory still goes
      }
      rmSync(dir, { recursive: true, force: true });
    },
    restart() {
      pgCtl(["stop", "-m", "fast"]);
      start();
    },
  };
  return cluster;
}

/** Run psql against a URL, stopping on the first error. */
export function psql(url: string, args: string[]): string {
  return run("psql", [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", ...args]);
}

/** Stop the cluster on exit, Ctrl-C or an uncaught error, whatever happens. */
export function stopOnExit(cluster: Cluster) {
  const stop = () => cluster.stop();
  process.once("exit", stop);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      stop();
      process.exit(130);
    });
  }
}

