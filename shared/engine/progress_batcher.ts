// Group the worker's save_progress calls: one call and one commit for the
// runs that finished while the previous save was in flight. With a durable
// commit costing a WAL flush, committing each run on its own made the flush
// the bottleneck (docs/performance.md); batching keeps the commit count per
// second low without adding latency: an idle worker's save goes out at once.
import type { Db } from "../db/types.ts";
import { saveProgress, saveProgressMany, type Progress } from "./sql/save_progress.ts";
import type { RunStatus } from "./types.ts";

// Runs that finish together (a claimed batch) finish in the same event-loop
// turn: flushing on the next macrotask sends them as one batch.
const nextTurn: (fn: () => void) => void =
  (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate ?? ((fn) => setTimeout(fn, 0));

interface Pending {
  progress: Progress;
  resolve: (s: RunStatus | null) => void;
  reject: (e: unknown) => void;
}

export interface ProgressBatcherOptions {
  /** Most saves per call. 1 turns batching off. */
  maxBatch?: number;
  /** Calls in flight at once; more saves wait and go out together. */
  maxInFlight?: number;
}

export class ProgressBatcher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(private readonly db: Db, opts: ProgressBatcherOptions = {}) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
  }

  /** Same result as saveProgress(db, p): the run's new status, or null when fenced out. */
  save = (progress: Progress): Promise<RunStatus | null> =>
    new Promise((resolve, reject) => {
      this.queue.push({ progress, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      nextTurn(() => {
        this.scheduled = false;
        this.pump();
      });
    });

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [one] = batch as [Pending];
      await saveProgress(this.db, one.progress).then(one.resolve, one.reject);
      return;
    }
    let statuses: Array<RunStatus | null>;
    try {
      statuses = await saveProgressMany(this.db, batch.map((b) => b.progress));
    } catch {
      // One bad item (or a dropped connection) fails the whole batch and
      // applies nothing: save each on its own so only the bad one fails.
      await Promise.all(batch.map((b) => saveProgress(this.db, b.progress).then(b.resolve, b.reject)));
      return;
    }
    batch.forEach((b, i) => b.resolve(statuses[i] ?? null));
  }
}
