// Shared pieces of the chaos suites: worker processes the test can SIGKILL
// (by PID, only the ones it spawned), a local HTTP sink that counts hits per
// idempotency key, polling and counting helpers. Not a test file.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { Db } from "../../shared/db/types.ts";

export const ROOT = join(import.meta.dirname, "../..");
const WORKER_SCRIPT = join(ROOT, "scripts/chaos/worker_process.ts");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll fn until it returns something truthy, or fail after ms with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms: number, every = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export interface WorkerProcess {
  id: string;
  pid: number;
  child: ChildProcess;
  /** Resolves once the worker claims (it printed "ready"). */
  ready: Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) and the stats it printed, if any. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stats: Record<string, number> | null }>;
  stderr(): string;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

let spawned = 0;
const alive = new Set<WorkerProcess>();

/** Start scripts/chaos/worker_process.ts against `url` in its own process. */
export function spawnWorker(url: string, env: Record<string, string> = {}): WorkerProcess {
  const id = `chaos-${process.pid}-${++spawned}`;
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, CHAOS_WORKER_ID: id, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.setEncoding("utf8").on("data", (c: string) => {
    out += c;
    if (out.includes("ready ")) onReady();
  });
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (err = (err + c).slice(-20_000)));
  child.stdin!.on("error", () => {}); // EPIPE after a kill
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stats: Record<string, number> | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      alive.delete(w);
      const m = /stats (\{.*\})/.exec(out);
      resolve({ code, signal, stats: m ? (JSON.parse(m[1]!) as Record<string, number>) : null });
    }),
  );
  const w: WorkerProcess = {
    id,
    pid: child.pid!,
    child,
    ready,
    exited,
    stderr: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end("stop\n");
      const t = setTimeout(() => void w.kill(), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
  alive.add(w);
  return w;
}

/** SIGKILL every worker process this test file spawned that is still running (afterAll). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...alive].map((w) => w.kill()));
}

export interface SinkHit {
  at: number;
  idempotencyKey: string | null;
  webhookId: string | null;
}

export interface Sink {
  url: string;
  /** Hits per Idempotency-Key (requests without one are under ""). */
  hits: Map<string, SinkHit[]>;
  total(): number;
  close(): Promise<void>;
}

/**
 * A receiver on 127.0.0.1 that records every request's Idempotency-Key and
 * webhook-id, answers 200, and delays `slowShare` of the responses by
 * slowMs[0]..slowMs[1] (deterministic: every 1/slowShare-th request).
 */
export async function startSink(opts: { slowShare?: number; slowMs?: [number, number] } = {}): Promise<Sink> {
  const hits = new Map<string, SinkHit[]>();
  const every = opts.slowShare ? Math.max(1, Math.round(1 / opts.slowShare)) : 0;
  const [lo, hi] = opts.slowMs ?? [200, 1500];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const hit: SinkHit = {
      at: Date.now(),
      idempotencyKey: (req.headers["idempotency-key"] as string | undefined) ?? null,
      webhookId: (req.headers["webhook-id"] as string | undefined) ?? null,
    };
    const key = hit.idempotencyKey ?? "";
    const list = hits.get(key) ?? [];
    list.push(hit);
    hits.set(key, list);
    const i = ++n;
    req.resume();
    req.on("end", () => {
      const delay = every && i % every === 0 ? lo + ((i * 7919) % (hi - lo + 1)) : 0;
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, n: i }));
      }, delay);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    hits,
    total: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Runs of one automation by status. */
export async function statusCounts(db: Db, automationId: string): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: number }>(
    "select status::text, count(*)::int as n from public.automation_runs where automation_id = $1 group by 1",
    [automationId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(sql, params);
  return row?.n ?? 0;
}

/** One line of figures, printed so `npm run test:chaos` shows what was measured. */
export function report(name: string, figures: Record<string, unknown>): void {
  console.log(`[chaos] ${name} ${JSON.stringify(figures)}`);
}
