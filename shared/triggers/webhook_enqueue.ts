// Enqueue verified webhook deliveries: alone through webhook_enqueue, or, when
// several arrive while earlier ones are being written, together through
// webhook_enqueue_many (one statement and one commit for all of them).
import { Batcher } from "../db/batcher.ts";
import type { Db } from "../db/types.ts";
import { setRunCause } from "../engine/sql/chain.ts";

export interface Delivery {
  automationId: string;
  /** The secrets' rotated_at the signature was verified with, as text (microseconds kept). */
  rotatedAt: string;
  /** The parsed body, already serialised: JSON text. */
  payloadJson: string;
  /** webhook:<webhook-id>, github:<X-GitHub-Delivery>, ...: the same delivery sent twice gets one run. */
  idempotencyKey: string;
  /** trigger.headers, serialised: JSON text of an object; omitted = null (no headers kept). */
  headersJson?: string;
}

export interface DeliveryResult {
  /** Null only when stale. */
  run_id: string | null;
  /** False: a duplicate of an earlier delivery (run_id is that run). */
  created: boolean;
  /** The automation or its secrets changed since they were verified: nothing was written. */
  stale: boolean;
}

export interface WebhookEnqueueOptions {
  /** Most deliveries per call (default 64). 1: each delivery on its own, as many at once as the pool allows. */
  maxBatch?: number;
  /** Calls in flight at once (default 2); more deliveries wait and go out together. */
  maxInFlight?: number;
  /** Most payload JSON per call, in characters (default 1,048,576); a larger delivery goes alone. */
  maxPayloadChars?: number;
}

function enqueueOne(db: Db, d: Delivery): Promise<DeliveryResult> {
  return db
    .query<DeliveryResult>(
      "select run_id, created, stale from automations_engine.webhook_enqueue($1, $2::text::timestamptz, $3::jsonb, $4, $5::jsonb)",
      [d.automationId, d.rotatedAt, d.payloadJson, d.idempotencyKey, d.headersJson ?? null],
    )
    .then((rows) => rows[0] ?? { run_id: null, created: false, stale: true });
}

/**
 * A delivery sent by one of our own runs (verified x-automations-cause): on
 * its own, in a transaction that names the causing run, so the run joins that
 * chain or is refused (54000) past its budget.
 */
export function enqueueCaused(db: Db, d: Delivery, causeRunId: string): Promise<DeliveryResult> {
  return db.transaction(async (tx) => {
    await setRunCause(tx, causeRunId);
    return enqueueOne(tx, d);
  });
}

function enqueueMany(db: Db, ds: Delivery[]): Promise<DeliveryResult[]> {
  // payloadJson is JSON already: splice it in rather than parse and
  // serialise it again.
  const items = ds.map(
    (d) =>
      `{"automation_id":${JSON.stringify(d.automationId)},"rotated_at":${JSON.stringify(d.rotatedAt)},` +
      `"idempotency_key":${JSON.stringify(d.idempotencyKey)},"headers":${d.headersJson ?? "null"},"payload":${d.payloadJson}}`,
  );
  return db.query<DeliveryResult>(
    "select run_id, created, stale from automations_engine.webhook_enqueue_many($1::jsonb)",
    [`[${items.join(",")}]`],
  );
}

/** One delivery in, its result out; concurrent deliveries share calls. */
export function webhookEnqueuer(db: Db, opts: WebhookEnqueueOptions = {}): (d: Delivery) => Promise<DeliveryResult> {
  // Off: each delivery its own call, as many at once as the pool allows, as
  // before batching (a Batcher of one would still hold them to maxInFlight).
  if (opts.maxBatch === 1) return (d) => enqueueOne(db, d);
  const batcher = new Batcher<Delivery, DeliveryResult>(
    (d) => enqueueOne(db, d),
    (ds) => enqueueMany(db, ds),
    {
      maxBatch: opts.maxBatch ?? 64,
      maxInFlight: opts.maxInFlight ?? 2,
      weight: (d) => d.payloadJson.length + (d.headersJson?.length ?? 0),
      maxWeight: opts.maxPayloadChars ?? 1_048_576,
    },
  );
  return batcher.call;
}
