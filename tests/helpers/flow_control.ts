// Queue fixtures for the flow-control tests: due runs inserted in bulk with
// their flow group (as enqueue computes it), claim races on separate
// connections, and per-group counts of what the database recorded.
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";
import { claimRuns } from "../../shared/engine/sql/claim.ts";

/** Due runs of an automation in one statement, due `ageSeconds` ago (oldest first), one per payload. */
export async function addRuns(db: Db, automationId: string, payloads: unknown[], ageSeconds = 60): Promise<void> {
  await db.query(
    `insert into automation_runs (org_id, automation_id, trigger_type, trigger_payload, idempotency_key, version_id, max_attempts, run_at, flow_key)
     select a.org_id, a.id, 'webhook', p.x, gen_random_uuid()::text, a.current_version_id, 3,
            now() - make_interval(secs => $3::int) + make_interval(secs => p.i::int * 0.001),
            automations_engine.flow_key(a.id, a.max_concurrency, a.concurrency_key, a.rate_limit, 'webhook', p.x)
       from automations a, jsonb_array_elements($2::jsonb) with ordinality as p(x, i)
      where a.id = $1`,
    [automationId, JSON.stringify(payloads), ageSeconds],
  );
}

/** `n` claimers on their own connections claim (limit `limit`) until every one got nothing `quiet` times in a row. */
export async function claimRace(url: string, n: number, limit: number, quiet = 3): Promise<string[]> {
  const claimers = Array.from({ length: n }, () => createPostgresDb(url, { max: 1 }));
  const got: string[] = [];
  try {
    await Promise.all(
      claimers.map(async (db, w) => {
        for (let empty = 0; empty < quiet; ) {
          const runs = await claimRuns(db, `w${w}`, limit, 60);
          got.push(...runs.map((r) => r.id));
          empty = runs.length === 0 ? empty + 1 : 0;
        }
      }),
    );
  } finally {
    await Promise.all(claimers.map((c) => c.close?.()));
  }
  return got;
}

/** An automation's runs by flow group and status: how many, and the attempts they used. */
export const counts = (db: Db, automationId: string) =>
  db.query<{ flow_key: string | null; status: string; n: number; attempts: number }>(
    `select flow_key, status::text, count(*)::int as n, sum(attempt)::int as attempts from automation_runs
      where automation_id = $1 group by 1, 2 order by 1, 2`,
    [automationId],
  );
