// Where the time goes: CPU seconds of a Node process and of PostgreSQL (all
// backends, from /proc), what backends wait on (pg_stat_activity samples),
// the top statements (pg_stat_statements, --profile), and percentiles.
import { readdirSync, readFileSync } from "node:fs";
import type { Db } from "../shared/db/types.ts";

const TICK = 100; // USER_HZ on Linux

function procTimes(pid: number): { self: number; children: number; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after "(comm)": state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based from state
    return { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) / TICK, children: (Number(f[13]) + Number(f[14])) / TICK };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by a process (user + system). */
export function cpuSeconds(pid: number): number {
  return procTimes(pid)?.self ?? 0;
}

/** CPU seconds of the whole cluster: live backends plus everything exited children used. */
export function pgCpuSeconds(postmaster: number): number {
  const pm = procTimes(postmaster);
  if (!pm) return 0;
  let total = pm.self + pm.children;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const t = procTimes(Number(d));
    if (t && t.ppid === postmaster) total += t.self;
  }
  return total;
}

export interface CpuMeter {
  stop(): { nodeS: number; pgS: number; wallS: number };
}

/** Start measuring CPU of `nodePid` (default: this process) and of the cluster. */
export function cpuMeter(postmaster: number, nodePid = process.pid): CpuMeter {
  const n0 = cpuSeconds(nodePid);
  const p0 = pgCpuSeconds(postmaster);
  const t0 = performance.now();
  return {
    stop: () => ({
      nodeS: cpuSeconds(nodePid) - n0,
      pgS: pgCpuSeconds(postmaster) - p0,
      wallS: (performance.now() - t0) / 1000,
    }),
  };
}

/** Sample what active backends of `datname` wait on, every `everyMs`, until stopped. */
export function waitSampler(db: Db, datname: string, everyMs = 50): { stop(): Promise<string> } {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await db
        .query<{ w: string }>(
          `select coalesce(wait_event_type || ':' || wait_event, 'CPU (no wait)') as w
             from pg_stat_activity
            where datname = $1 and state = 'active' and pid <> pg_backend_pid()`,
          [datname],
        )
        .catch(() => []);
      samples++;
      for (const r of rows) counts.set(r.w, (counts.get(r.w) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
      return [
        `Active backends sampled every ${everyMs} ms (${samples} samples, mean ${(total / Math.max(1, samples)).toFixed(2)} active):`,
        "",
        "| wait event | share |",
        "| --- | ---: |",
        ...rows.map(([w, n]) => `| ${w} | ${((100 * n) / Math.max(1, total)).toFixed(1)} % |`),
      ].join("\n");
    },
  };
}

/** Top statements by total time since the last reset (needs --profile). */
export async function topStatements(db: Db, perUnit: number, unit: string, limit = 10): Promise<string> {
  const rows = await db.query<{ q: string; calls: number; total: number; mean: number; toplevel: boolean }>(
    `select regexp_replace(left(query, 110), '\\s+', ' ', 'g') as q, calls::int, total_exec_time::float8 as total,
            mean_exec_time::float8 as mean, toplevel
       from pg_stat_statements
      where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time desc limit $1`,
    [limit],
  );
  return [
    `pg_stat_statements (track = all; nested statements inside the engine functions are listed too), per ${unit}:`,
    "",
    "| statement | top | calls / " + unit + " | mean ms | total ms |",
    "| --- | :-: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| \`${r.q.replace(/\|/g, "\\|")}\` | ${r.toplevel ? "y" : ""} | ${(r.calls / perUnit).toFixed(2)} | ${r.mean.toFixed(3)} | ${r.total.toFixed(0)} |`,
    ),
  ].join("\n");
}

export async function resetStatements(db: Db, profile: boolean): Promise<void> {
  if (profile) await db.query("select pg_stat_statements_reset()");
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);

/** "node 1.2 s (0.06 ms/run), postgres 3.4 s (0.17 ms/run) over 20.1 s wall". */
export function cpuLine(c: { nodeS: number; pgS: number; wallS: number }, n: number, unit: string, nodeLabel = "node"): string {
  const per = (s: number) => ((s * 1000) / Math.max(1, n)).toFixed(3);
  return (
    `CPU: ${nodeLabel} ${c.nodeS.toFixed(1)} s (${per(c.nodeS)} ms/${unit}), postgres ${c.pgS.toFixed(1)} s ` +
    `(${per(c.pgS)} ms/${unit}) over ${c.wallS.toFixed(1)} s wall (${((c.nodeS + c.pgS) / c.wallS).toFixed(2)} cores busy)`
  );
}

export interface DbCounters {
  commits: number;
  walBytes: number;
  walSyncs: number;
  walSyncMs: number;
}

/** Commits of this database (pg_stat_database; flushed by backends about once a second) and the WAL position. */
export async function dbCounters(db: Db): Promise<DbCounters> {
  const [r] = await db.query<{ commits: string; wal: string; syncs: string; sync_ms: number }>(
    `select d.xact_commit::text as commits, (pg_current_wal_lsn() - '0/0'::pg_lsn)::text as wal,
            w.wal_sync::text as syncs, w.wal_sync_time::float8 as sync_ms
       from pg_stat_database d, pg_stat_wal w where d.datname = current_database()`,
  );
  return { commits: Number(r!.commits), walBytes: Number(r!.wal), walSyncs: Number(r!.syncs), walSyncMs: r!.sync_ms };
}

/** "commits 1.06 / run, WAL 2.9 kB / run": load-independent cost of the hot path. */
export async function countersLine(db: Db, before: DbCounters, n: number, unit: string): Promise<string> {
  await new Promise((r) => setTimeout(r, 1200)); // let backends flush their statistics
  const after = await dbCounters(db);
  const per = (x: number) => x / Math.max(1, n);
  const syncs = after.walSyncs - before.walSyncs;
  const syncMs = (after.walSyncMs - before.walSyncMs) / Math.max(1, syncs);
  return (
    `Per ${unit}: ${per(after.commits - before.commits).toFixed(2)} commits, ${(per(after.walBytes - before.walBytes) / 1024).toFixed(1)} kB of WAL ` +
    `(the commit count includes the sampling queries). WAL flushes: ${syncs}, ${syncMs.toFixed(2)} ms each on average ` +
    "(pg_stat_wal, cluster-wide): every durable commit waits for one."
  );
}
