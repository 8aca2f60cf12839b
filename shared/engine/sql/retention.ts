// Retention: delete expired run history (automations_engine.prune_runs) in
// bounded batches. Each call of the SQL function is one short transaction, so
// pass a connection or pool, NOT a transaction: inside one, every batch's row
// locks would be held until it commits.
//
// Where it runs: on hosted Supabase pg_cron calls the SQL procedure
// automations_engine.prune_runs_job() hourly (install_retention_cron()); the
// local runtime, which has no pg_cron, calls pruneRuns() from its own timer.
import type { Db } from "../../db/types.ts";

export interface PruneOptions {
  /** Runs (and then snapshots) per batch; one short transaction each. Default 1000. */
  batchSize?: number;
  /** Stop after this many batches even if more is left. Default 1000. */
  maxBatches?: number;
  /** Stop starting new batches after this many milliseconds. Default 30 s. */
  timeBudgetMs?: number;
  /** Pause between batches, to leave room for other work. Default 0. */
  pauseMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Progress after each batch. */
  onBatch?: (batch: PruneBatch, totals: PruneTotals) => void;
}

export interface PruneBatch {
  deleted_runs: number;
  deleted_steps: number;
  deleted_versions: number;
  /** A full batch was deleted: call again. */
  more: boolean;
}

export interface PruneTotals {
  deletedRuns: number;
  deletedSteps: number;
  deletedVersions: number;
  batches: number;
  /** False when the batch or time budget ran out with expired rows left. */
  done: boolean;
  elapsedMs: number;
}

/** One batch: one call, one transaction. */
export async function pruneRunsBatch(db: Db, batchSize = 1000): Promise<PruneBatch> {
  const [row] = await db.query<{ r: PruneBatch }>("select automations_engine.prune_runs($1) as r", [batchSize]);
  if (!row) throw new Error("automations_engine.prune_runs returned no row");
  return row.r;
}

/** Batches until nothing expired is left, or the batch / time budget runs out. */
export async function pruneRuns(db: Db, opts: PruneOptions = {}): Promise<PruneTotals> {
  const now = opts.now ?? Date.now;
  const batchSize = opts.batchSize ?? 1000;
  const maxBatches = opts.maxBatches ?? 1000;
  const budget = opts.timeBudgetMs ?? 30_000;
  const started = now();
  const totals: PruneTotals = { deletedRuns: 0, deletedSteps: 0, deletedVersions: 0, batches: 0, done: false, elapsedMs: 0 };
  for (;;) {
    const batch = await pruneRunsBatch(db, batchSize);
    totals.batches += 1;
    totals.deletedRuns += batch.deleted_runs;
    totals.deletedSteps += batch.deleted_steps;
    totals.deletedVersions += batch.deleted_versions;
    totals.elapsedMs = now() - started;
    opts.onBatch?.(batch, totals);
    if (!batch.more) {
      totals.done = true;
      break;
    }
    if (totals.batches >= maxBatches || totals.elapsedMs >= budget) break;
    if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
  }
  totals.elapsedMs = now() - started;
  return totals;
}
