// The worker: claim → execute → record, with bounded concurrency.
// - start(): a long-running loop (local runtime) that sleeps until a run is
//   enqueued (wake() or LISTEN automation_runs) or the poll interval passes;
// - drain(): claim and execute until nothing is due or the time budget is
//   spent (the automations-worker edge function);
// - stop(): stop claiming, let in-flight runs finish for a grace period, then
//   hand the rest back to the queue (not counted as failures).
// While it runs, a worker heartbeats (heartbeat.ts): if it dies, the reaper
// releases its runs ~10 s later; if its heartbeat lapses while it is alive,
// it abandons its runs and carries on under a new id (abandon()).
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Batcher } from "../db/batcher.ts";
import { executeRun, RunInterrupted, type ExecuteDeps } from "./execute_run.ts";
import { Heartbeat } from "./heartbeat.ts";
import { claimRuns } from "./sql/claim.ts";
import { releaseExpiredLeases, releaseRun } from "./sql/leases.ts";
import { saveProgress, saveProgressMany, type Progress } from "./sql/save_progress.ts";
import type { ClaimedRun, RunStatus } from "./types.ts";

export interface WorkerOptions extends Omit<ExecuteDeps, "signal" | "fence"> {
  /** Stored in automation_runs.locked_by and automations_engine.workers; `<id>~2`, `~3`... after abandon(). */
  workerId?: string;
  /** Silent this long = dead: its runs go back to the queue (seconds, default 10; AUTOMATIONS_WORKER_TIMEOUT_SECONDS). */
  workerTimeoutSeconds?: number;
  /** Heartbeat period (default: a fifth of the timeout, 2 s). */
  heartbeatIntervalMs?: number;
  /** Runs executed at the same time. */
  concurrency?: number;
  /**
   * Upper bound on runs claimed per query (default: concurrency, at most 16).
   * A claim's cost is per run (a new row version with six index entries,
   * 50-70 µs at 1 M runs of history), so a batch of 16 keeps each claim near
   * 1-2 ms and lets the first runs start sooner; a worker with more free
   * slots claims again at once.
   */
  batchSize?: number;
  /** Sleep between polls when idle and nothing woke us. */
  pollIntervalMs?: number;
  /** How often to release runs of dead workers (default 2 s: with the 10 s timeout, a crashed worker's runs resume within ~12 s). */
  reapIntervalMs?: number;
  /** Most finished runs recorded per save_progress_many call (one commit); 1 saves each run on its own. */
  saveBatchSize?: number;
  /**
   * save_progress_many calls in flight at once (default 2): the next batch is
   * sent while the previous one waits for its commit. Batches never share a
   * run and lock counters in automation id order, so they cannot deadlock.
   */
  savesInFlight?: number;
}

export interface WorkerStats {
  claimed: number;
  completed: number;
  failed: number;
  /** Went back to pending: retry backoff, delay steps, shutdown. */
  requeued: number;
  /** Fenced out: another attempt owns the run now. */
  lost: number;
  errors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Default upper bound on runs per claim (see WorkerOptions.batchSize). */
const DEFAULT_MAX_BATCH = 16;

export class Worker {
  private readonly baseId: string;
  private currentId: string;
  /** Bumped by abandon(): the worker continues under `${baseId}~${generation}`. */
  private generation = 1;
  readonly stats: WorkerStats = { claimed: 0, completed: 0, failed: 0, requeued: 0, lost: 0, errors: 0 };
  private readonly concurrency: number;
  private readonly batchSize: number;
  /** Runs claimed and not yet recorded. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Of those, runs still executing actions (the rest only wait for their last write). */
  private executing = 0;
  private wakeWaiters: Array<() => void> = [];
  /** Counts wake() calls: one that arrives during a claim is not lost when the claim comes back short. */
  private wakes = 0;
  private readonly shutdown = ((c) => {
    // One listener per running step; more than Node's default 10 is expected.
    setMaxListeners(0, c.signal);
    return c;
  })(new AbortController());
  /** Aborted by abandon(): runs launched under the current id stop (their claims are presumed lost). */
  private fence = ((c) => (setMaxListeners(0, c.signal), c))(new AbortController());
  private readonly heartbeat: Heartbeat;
  private stopping = false;
  private mayHaveMore = true;
  private signal: (() => void) | null = null;
  private lastReap = 0;
  private loopDone: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  /** The worker's saves, grouped: one save_progress_many call and one commit for the runs that finish while a save is in flight. */
  private readonly saves: Batcher<Progress, RunStatus | null>;

  constructor(private readonly opts: WorkerOptions) {
    this.baseId = opts.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.currentId = this.baseId;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.batchSize = Math.max(1, Math.min(opts.batchSize ?? DEFAULT_MAX_BATCH, this.concurrency));
    this.saves = new Batcher(
      (p) => saveProgress(opts.db, p),
      (ps) => saveProgressMany(opts.db, ps),
      { maxBatch: opts.saveBatchSize ?? 64, maxInFlight: opts.savesInFlight ?? 2 },
    );
    this.heartbeat = new Heartbeat({
      db: opts.db,
      logger: opts.logger,
      timeoutSeconds: opts.workerTimeoutSeconds ?? 10,
      intervalMs: opts.heartbeatIntervalMs,
      onLost: (reason) => this.abandon(reason),
    });
  }

  /** The id claims are made under now (what automation_runs.locked_by shows). */
  get id(): string {
    return this.currentId;
  }

  /**
   * The heartbeat lapsed: the reaper may give our runs to other workers at any
   * moment, so stop working on them (their writes would be fenced anyway, but
   * their actions would run twice meanwhile) and continue under a new id.
   * The old id stays silent, so the reaper releases what it still holds.
   */
  private abandon(reason: string): void {
    const old = this.currentId;
    this.generation++;
    this.currentId = `${this.baseId}~${this.generation}`;
    const fence = this.fence;
    this.fence = new AbortController();
    setMaxListeners(0, this.fence.signal); // one listener per running step
    fence.abort(reason);
    this.heartbeat.rename(this.currentId);
    this.opts.logger.warn("worker heartbeat lapsed; abandoned its runs, continuing under a new id", {
      worker: old,
      new_id: this.currentId,
      runs: this.inFlight.size,
      reason,
    });
  }

  /** Something was enqueued: claim now instead of at the next poll. */
  wake(): void {
    this.wakes++;
    this.mayHaveMore = true;
    this.signal?.();
  }

  async start(): Promise<void> {
    await this.heartbeat.start(this.id, "loop");
    if (this.opts.db.listen) {
      this.unlisten = await this.opts.db.listen("automation_runs", () => this.wake());
    }
    this.loopDone = this.loop();
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.signal?.();
    await this.loopDone;
    const all = Promise.all(this.inFlight);
    const timedOut = await Promise.race([all.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.shutdown.abort();
      await all;
    }
    await this.heartbeat.stop();
    await this.unlisten?.().catch(() => {});
  }

  /**
   * Execute due runs until none are left, budgetMs is spent or maxRuns were
   * claimed (the edge function's CPU budget, docs/deploy.md); resolves when
   * in-flight runs end.
   */
  async drain(budgetMs: number, maxRuns = Infinity): Promise<WorkerStats> {
    const deadline = Date.now() + budgetMs;
    await this.heartbeat.start(this.id, "drain");
    await this.reap(true);
    while (Date.now() < deadline && !this.stopping && this.stats.claimed < maxRuns) {
      await this.reap(false);
      const free = Math.min(this.room(), maxRuns - this.stats.claimed);
      if (free > 0) {
        const runs = await claimRuns(this.opts.db, this.id, Math.min(free, this.batchSize), this.opts.leaseSeconds);
        runs.forEach((r) => this.launch(r));
        if (runs.length === 0 && this.inFlight.size === 0) break;
        if (runs.length > 0) continue;
      }
      await this.slotEvent();
    }
    await Promise.all(this.inFlight);
    await this.heartbeat.stop();
    return { ...this.stats };
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.reap(false);
        const free = this.room();
        if (free > 0 && this.mayHaveMore) {
          const want = Math.min(free, this.batchSize);
          const wakes = this.wakes;
          const runs = await claimRuns(this.opts.db, this.id, want, this.opts.leaseSeconds);
          runs.forEach((r) => this.launch(r));
          // A short batch means nothing else was due when we looked, unless
          // an enqueue woke us meanwhile.
          if (runs.length < want && this.wakes === wakes) this.mayHaveMore = false;
          failures = 0;
          if (runs.length > 0) continue;
        }
        // stop() may have come while we were in a query (no signal to call then).
        if (this.stopping) break;
        await this.waitForSignal(this.opts.pollIntervalMs ?? 1000);
        if (this.room() > 0) this.mayHaveMore ||= !this.stopping;
      } catch (err) {
        // Database down or restarting: back off (capped) and try again.
        failures++;
        this.stats.errors++;
        this.opts.logger.warn("worker loop error; retrying", { worker: this.id, attempt: failures, error: String(err) });
        await sleep(Math.min(5000, 100 * 2 ** failures));
      }
    }
  }

  /**
   * Runs we may claim now. A run whose actions are done and whose last write
   * is on its way (batched, one commit for many) no longer takes a slot: the
   * next claim overlaps that commit. At most 2 × concurrency runs are held.
   */
  private room(): number {
    return Math.max(0, Math.min(this.concurrency - this.executing, 2 * this.concurrency - this.inFlight.size));
  }

  /** Resolves when a run frees its slot or ends. */
  private slotEvent(): Promise<void> {
    return new Promise((resolve) => this.wakeWaiters.push(resolve));
  }

  private slotFreed(): void {
    this.mayHaveMore = true;
    const waiters = this.wakeWaiters;
    this.wakeWaiters = [];
    waiters.forEach((w) => w());
    this.signal?.();
  }

  private waitForSignal(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.signal = null;
        resolve();
      }
      this.signal = done;
    });
  }

  private async reap(force: boolean): Promise<void> {
    const every = this.opts.reapIntervalMs ?? 2_000;
    if (!force && Date.now() - this.lastReap < every) return;
    this.lastReap = Date.now();
    const n = await releaseExpiredLeases(this.opts.db);
    if (n > 0) {
      this.mayHaveMore = true;
      this.opts.logger.warn("released runs of unresponsive workers", { worker: this.id, runs: n });
    }
  }

  private launch(run: ClaimedRun): void {
    this.stats.claimed++;
    this.executing++;
    let executing = true;
    const finishing = () => {
      if (!executing) return;
      executing = false;
      this.executing--;
      this.slotFreed();
    };
    const p = executeRun(run, {
      ...this.opts,
      signal: this.shutdown.signal,
      fence: this.fence.signal,
      saveProgress: this.opts.saveProgress ?? this.saves.call,
      onFinishing: finishing,
    })
      .then((status) => this.count(status))
      .catch(async (err: unknown) => {
        if (err instanceof RunInterrupted && err.reason === "shutdown") {
          await releaseRun(this.opts.db, run.id, run.attempt, run.claim_token).catch(() => false);
          this.stats.requeued++;
        } else if (err instanceof RunInterrupted) {
          this.stats.lost++;
        } else {
          // Most likely the database went away mid-run: the lease expires and
          // another attempt resumes after the last recorded step.
          this.stats.errors++;
          this.opts.logger.error("run execution error", { run_id: run.id, attempt: run.attempt, error: String(err) });
        }
      })
      .finally(() => {
        this.inFlight.delete(p);
        finishing();
        this.slotFreed();
      });
    this.inFlight.add(p);
  }

  private count(status: RunStatus | null): void {
    if (status === "completed") this.stats.completed++;
    else if (status === "failed") this.stats.failed++;
    else if (status === "pending") this.stats.requeued++;
    else if (status === null) this.stats.lost++;
  }
}
