// A worker's liveness: one heartbeat row per worker process, renewed every
// few seconds on a timer of its own (not per run, and not blocked by claims).
// The reaper (release_expired_leases) hands back the runs of a worker silent
// for longer than its timeout (default 10 s), so a crashed worker's runs
// resume within seconds instead of after their 60 s lease.
//
// The other half of the rule: a worker that is alive but cannot heartbeat
// (database unreachable, event loop stalled) must stop working on its runs
// before the reaper gives them to someone else. So onLost fires when
//   - no beat has been recorded for `timeout - 1.5 × interval` (7 s of 10), or
//   - a beat comes back "dead" (it was silent past its timeout already).
// The worker then abandons its runs and continues under a new id (rename):
// the old id stays silent, so the reaper releases what it held.
import { hostname } from "node:os";
import type { Db } from "../db/types.ts";
import type { Logger } from "../logger.ts";
import { workerHeartbeat, workerStopped, type WorkerInfo } from "./sql/workers.ts";

export interface HeartbeatOptions {
  db: Db;
  logger: Logger;
  /** Silent this long = dead (seconds, 2..3600). */
  timeoutSeconds: number;
  /** Beat every this many ms (default: a fifth of the timeout). */
  intervalMs?: number;
  /** This worker's claims are presumed lost: abandon them and rename(). */
  onLost: (reason: string) => void;
}

export class Heartbeat {
  private id = "";
  private timer: ReturnType<typeof setInterval> | null = null;
  /** When the last beat the database accepted was sent (local clock). */
  private lastOk = 0;
  private beating: Promise<void> | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly fenceAfterMs: number;
  private info: WorkerInfo;

  constructor(private readonly opts: HeartbeatOptions) {
    const t = opts.timeoutSeconds;
    if (!Number.isInteger(t) || t < 2 || t > 3600) {
      throw new Error(`worker timeout must be a whole number of seconds from 2 to 3600 (AUTOMATIONS_WORKER_TIMEOUT_SECONDS), got ${t}`);
    }
    this.intervalMs = Math.max(100, opts.intervalMs ?? (opts.timeoutSeconds * 1000) / 5);
    this.fenceAfterMs = Math.max(this.intervalMs, opts.timeoutSeconds * 1000 - 1.5 * this.intervalMs);
    this.info = { kind: "loop", timeoutSeconds: opts.timeoutSeconds, host: hostOf(), pid: pidOf() };
  }

  /** Register `id` (first beat awaited; a failure is logged, not thrown) and keep beating. */
  async start(id: string, kind: WorkerInfo["kind"]): Promise<void> {
    this.id = id;
    this.info = { ...this.info, kind };
    this.lastOk = Date.now();
    this.stopped = false;
    await this.beat();
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
  }

  /** Continue under a new id (after onLost); the old one is left to the reaper. */
  rename(id: string): void {
    this.id = id;
    this.lastOk = Date.now();
    // Register the new id now, after the beat in flight (if any) is done.
    void (this.beating ?? Promise.resolve()).then(() => {
      if (!this.beating && !this.stopped) void this.beat();
    });
  }

  /** Stop beating; the worker ended cleanly, so its row goes (or is aged if it still holds a run). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    if (!this.id) return; // never started
    await workerStopped(this.opts.db, this.id).catch((e: unknown) =>
      this.opts.logger.warn("could not remove the worker's liveness row (it expires on its own)", { worker: this.id, error: String(e) }),
    );
  }

  private tick(): void {
    if (this.stopped) return;
    const silent = Date.now() - this.lastOk;
    if (silent > this.fenceAfterMs) {
      // Checked before beating: after a stall the runs may be gone already.
      this.opts.onLost(`no heartbeat recorded for ${silent} ms (timeout ${this.opts.timeoutSeconds} s)`);
      return;
    }
    if (!this.beating) void this.beat();
  }

  private beat(): Promise<void> {
    const id = this.id;
    const sent = Date.now();
    this.beating = workerHeartbeat(this.opts.db, id, this.info)
      .then((state) => {
        if (this.stopped || id !== this.id) return;
        if (state === "dead") this.opts.onLost(`the database counts worker ${id} dead (silent past its ${this.opts.timeoutSeconds} s timeout)`);
        else this.lastOk = sent;
      })
      .catch((e: unknown) => this.opts.logger.warn("worker heartbeat failed", { worker: id, error: String(e) }))
      .finally(() => (this.beating = null));
    return this.beating;
  }
}

function hostOf(): string | null {
  try {
    return hostname() || null;
  } catch {
    return null; // Edge Runtime without the sys permission
  }
}

function pidOf(): number | null {
  const p = (globalThis as { process?: { pid?: number } }).process?.pid;
  return typeof p === "number" ? p : null;
}
