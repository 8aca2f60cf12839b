// A throwaway PostgreSQL 15 cluster for tests and benchmarks: initdb into a
// temp directory, start on a free loopback port, stop and delete on dispose.
// As root, every server command runs as the `postgres` OS user (initdb refuses
// root). The machine's default cluster is never touched.
import { spawnSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface Cluster {
  port: number;
  dir: string;
  url(db?: string): string;
  stop(): void;
  restart(): void;
}

/** Debian packages the suites need, with the file that proves each is there. */
export const REQUIRED_PACKAGES: Array<[pkg: string, file: string]> = [
  ["postgresql-15", `${PG_BIN}/initdb`],
  ["postgresql-15-cron", "/usr/lib/postgresql/15/lib/pg_cron.so"],
  ["postgresql-15-pgtap", "/usr/share/postgresql/15/extension/pgtap.control"],
  ["postgresql-15-plpgsql-check", "/usr/share/postgresql/15/extension/plpgsql_check.control"],
  ["libtap-parser-sourcehandler-pgtap-perl", "/usr/bin/pg_prove"],
];

export function missingPackages(): string[] {
  return REQUIRED_PACKAGES.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
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
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const missing = missingPackages();
  if (missing.length) {
    throw new Error(
      `PostgreSQL 15 test dependencies are missing. Install them with:\n` +
        `  sudo apt-get update && sudo apt-get install -y ${missing.join(" ")}\n` +
        `or point TEST_DATABASE_URL at a PostgreSQL 15 server where you may create databases and roles.`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "automations-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  if (isRoot) run("chown", ["postgres:postgres", dir]);
  run(`${PG_BIN}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], {
    asPostgres: true,
  });
  const port = await freePort();
  const conf: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    shared_preload_libraries: "pg_cron",
    "cron.database_name": "postgres",
    max_connections: "300",
    timezone: "UTC",
    ...(opts.durable ? {} : { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }),
    ...opts.extraConf,
  };
  const args = Object.entries(conf).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const pgCtl = (action: string[]) =>
    run(`${PG_BIN}/pg_ctl`, ["-D", data, "-w", "-l", join(dir, "server.log"), ...action], { asPostgres: true });
  const start = () => pgCtl(["start", "-o", args.map((a) => (a.startsWith("-") ? a : `'${a}'`)).join(" ")]);
  start();
  let stopped = false;
  const cluster: Cluster = {
    port,
    dir,
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

