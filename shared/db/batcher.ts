// Group concurrent calls of one database write into one call and one commit.
// A durable commit costs a WAL flush and every statement a round trip and an
// executor start-up; calls that arrive while earlier ones are in flight wait
// and then go out together (group commit in the application). Nothing waits
// on a timer: an idle caller's call goes out on the next event-loop turn.
// Used for the worker's saves (save_progress_many) and the webhook's enqueues
// (webhook_enqueue_many); docs/performance.md has the figures.

// Calls made in the same event-loop turn (a claimed batch finishing, requests
// read in the same poll) are flushed together on the next macrotask.
const nextTurn: (fn: () => void) => void =
  (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate ?? ((fn) => setTimeout(fn, 0));

export interface BatcherOptions<I> {
  /** Most items per call. 1: every item through one(), still at most maxInFlight at once. */
  maxBatch?: number;
  /** Calls in flight at once; more items wait and go out together. */
  maxInFlight?: number;
  /** An item's size (e.g. its payload's length): a batch stops growing at maxWeight. */
  weight?: (item: I) => number;
  /** Most total weight per call; an item heavier than this goes on its own. */
  maxWeight?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class Batcher<I, O> {
  private readonly queue: Array<Pending<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly weight: (item: I) => number;
  private readonly maxWeight: number;

  /**
   * one(item): the single call, used for a batch of one and for each item
   * after a batch fails. many(items): all of them in one call, answers in the
   * same order; it either applies every item or throws and applies none.
   */
  constructor(
    private readonly one: (item: I) => Promise<O>,
    private readonly many: (items: I[]) => Promise<O[]>,
    opts: BatcherOptions<I> = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.weight = opts.weight ?? (() => 0);
    this.maxWeight = opts.maxWeight ?? Infinity;
  }

  /** Same answer as one(item), possibly sent together with other calls. */
  call = (item: I): Promise<O> =>
    new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      nextTurn(() => {
        this.scheduled = false;
        this.pump();
      });
    });

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The oldest items, up to maxBatch and maxWeight (always at least one). */
  private take(): Array<Pending<I, O>> {
    let n = 0;
    let total = 0;
    while (n < this.queue.length && n < this.maxBatch) {
      total += this.weight(this.queue[n]!.item);
      if (n > 0 && total > this.maxWeight) break;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async flush(batch: Array<Pending<I, O>>): Promise<void> {
    if (batch.length === 1) {
      const [p] = batch as [Pending<I, O>];
      await this.one(p.item).then(p.resolve, p.reject);
      return;
    }
    let out: O[];
    try {
      out = await this.many(batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`batch of ${batch.length} answered ${out.length} items`);
    } catch {
      // One bad item (or a dropped connection) fails the whole batch and
      // applies nothing: send each on its own so only the bad one fails.
      await Promise.all(batch.map((p) => this.one(p.item).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => p.resolve(out[i]!));
  }
}
