// The bench's PostgreSQL: one throwaway PG15 cluster with default durability
// (fsync on, synchronous_commit on, full_page_writes on), a template database
// with the bootstrap + migrations (no demo seed), and one fresh clone per part
// so no part sees another's rows. Plus what the report says about the machine.
import { closeSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import postgres from "postgres";
import { startCluster, stopOnExit, type Cluster } from "../scripts/pg_cluster.ts";
import { migrate } from "../local/migrate.ts";
import { projectRoot } from "../local/root.ts";
import { createPostgresDb } from "../shared/db/postgres.ts";
import type { Db } from "../shared/db/types.ts";

export const ROOT = projectRoot(import.meta.url);
const TEMPLATE = "bench_template";

export interface BenchEnv {
  cluster: Cluster;
  /** pg_stat_statements is loaded (--profile). */
  profile: boolean;
  /** A fresh database cloned from the migrated template. */
  freshDb(name: string, poolSize?: number): Promise<{ url: string; db: Db; pid: number }>;
  /**
   * Between parts: drop the earlier parts' databases (autovacuum would
   * otherwise clean them up during the next part, on the same 2 cores),
   * write their dirty pages out and wait until autovacuum is idle.
   */
  settle(): Promise<void>;
  /** The postmaster's PID: its children are the backends (CPU accounting). */
  postmasterPid(): number;
  stop(): void;
}

export async function startBenchEnv(opts: { profile: boolean; asyncCommit?: boolean }): Promise<BenchEnv> {
  const extraConf: Record<string, string> = {
    // --async-commit (diagnosis only): commits stop waiting for the WAL flush,
    // which shows what the engine does when the disk is not the limit.
    ...(opts.asyncCommit ? { synchronous_commit: "off" } : {}),
    // pg_stat_wal.wal_sync_time: how long each WAL flush (every durable commit waits for one) takes.
    track_wal_io_timing: "on",
    ...(opts.profile ? { shared_preload_libraries: "pg_cron,pg_stat_statements", "pg_stat_statements.track": "all" } : {}),
  };
  const cluster = await startCluster({ durable: true, extraConf });
  stopOnExit(cluster);
  const admin = postgres(cluster.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${TEMPLATE}`);
  const tdb = createPostgresDb(cluster.url(TEMPLATE), { max: 1 });
  await migrate(tdb, ROOT, { seed: false });
  await tdb.close?.();
  const opened: Db[] = [];
  return {
    cluster,
    profile: opts.profile,
    async freshDb(name, poolSize = 10) {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.unsafe(`create database ${name} template ${TEMPLATE}`);
      const url = cluster.url(name);
      const db = createPostgresDb(url, { max: poolSize, applicationName: "bench" });
      opened.push(db);
      if (opts.profile) await db.query("create extension if not exists pg_stat_statements");
      return { url, db, pid: process.pid };
    },
    async settle() {
      await Promise.allSettled(opened.splice(0).map((d) => d.close?.()));
      const dbs = await admin.unsafe<{ datname: string }[]>(
        "select datname from pg_database where datname like 'bench%' and datname not in ($1, 'bench_info')",
        [TEMPLATE],
      );
      for (const { datname } of dbs) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
      await admin.unsafe("checkpoint");
      for (const end = Date.now() + 30_000; Date.now() < end; await sleep(250)) {
        const [row] = await admin.unsafe<{ n: number }[]>(
          "select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker'",
        );
        if (row!.n === 0) break;
      }
    },
    postmasterPid() {
      return Number(readFileSync(`${cluster.dir}/data/postmaster.pid`, "utf8").split("\n")[0]);
    },
    stop() {
      void Promise.allSettled(opened.map((d) => d.close?.())).finally(() => admin.end({ timeout: 1 }));
      cluster.stop();
    },
  };
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  pg: string;
  date: string;
  /** Median ms of an 8 kB write + fdatasync where the cluster lives: the floor of a durable commit. */
  fsyncMs: number;
}

/** What a WAL flush costs on this disk (the wait of every synchronous commit). */
export function measureFsync(dir: string, n = 200): number {
  const file = `${dir}/fsync-probe`;
  const fd = openSync(file, "w");
  const buf = Buffer.alloc(8192, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(fd, buf, 0, buf.length, 0);
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

export async function machineInfo(db: Db, clusterDir: string): Promise<MachineInfo> {
  const [v] = await db.query<{ v: string }>("select current_setting('server_version') as v");
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    pg: v?.v ?? "?",
    date: new Date().toISOString().slice(0, 10),
    fsyncMs: measureFsync(clusterDir),
  };
}

/** "1.52 1.20 0.98": the 1/5/15-minute load averages, noted next to every part. */
export const loadAvg = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
