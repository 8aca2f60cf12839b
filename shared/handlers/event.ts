// POST /functions/v1/automations-event: database events and application events over HTTP.
// 202 {matched, runs: [{automation_id, run_id, duplicate}], skipped: [{automation_id, reason}]}
// 400 bad JSON or event | 401 not the service | 405 method | 413 too large | 415 not JSON.
// Every check happens before the first write: a rejected request writes nothing.
//
// Two ways to start event automations; pick one per table (both at once fire twice):
//
// - The SQL trigger, public.automations_table_event() (supabase/migrations/..._events.sql):
//     create trigger deals_automations after insert or update or delete on public.deals
//       for each row execute function public.automations_table_event();
//   Matching, filtering and enqueueing happen inside the writing transaction: a committed
//   row always has its runs, a rolled-back write has none, and nothing depends on an HTTP
//   call succeeding. Use it for your own tables whenever you can. It adds a few index
//   probes (and a filter evaluation per candidate automation) to every write of the table.
//
// - This function, over HTTP:
//   * Supabase Database Webhooks (pg_net posts the row after commit) when you must not add
//     work to the app's write path, or the table lives where you cannot add a trigger.
//     pg_net does not retry: an event is lost when this call fails (the trigger is the
//     no-loss path). Add ?org_column=<column> when the tenant column is not org_id.
//   * Application events ({event, org_id, payload, id?}) for things that are not a row
//     change: "invoice.paid" from a billing webhook, a job finishing, another service.
//     Send an id to make retries safe: the same id is at most one run per automation.
//
// Both paths use the same matching (automations_engine.match_event_automations), the same
// run payload and the same filter language (TypeScript here, SQL in the trigger; their
// parity is tested). A filter that fails skips only its own automation and is reported in
// `skipped`; the trigger raises a WARNING instead.
import { isChainRefusal, recordChainRefusal, setRunCause } from "../engine/sql/chain.ts";
import { verifiedCause } from "../http/run_cause_header.ts";
import { enqueueRun } from "../engine/sql/enqueue.ts";
import type { Db } from "../db/types.ts";
import { badRequest, unsupportedMediaType } from "../http/errors.ts";
import { json, parseJsonText, readBody } from "../http/body.ts";
import { allowMethods, handle, type Handler } from "../http/route.ts";
import { requireService } from "../http/service_auth.ts";
import type { Logger } from "../logger.ts";
import type { AppDeps } from "../runtime/deps.ts";
import { filterContext, matchParams, parseIncomingEvent, runPayload, sqlFilterProblem } from "../triggers/event_payload.ts";
import type { IncomingEvent } from "../triggers/event_payload.ts";
import { matchesFilter } from "../triggers/filter.ts";
import type { Filter } from "../triggers/filter.ts";

interface Candidate {
  id: string;
  trigger_config: { filter?: unknown } | null;
}

export interface EventRun {
  automation_id: string;
  run_id: string;
  duplicate: boolean;
}

export interface Skipped {
  automation_id: string;
  reason: string;
}

const MATCH_SQL = "select id, trigger_config from automations_engine.match_event_automations($1, $2, $3, $4, $5)";
// The automation was paused, archived or deleted between matching and enqueueing.
const GONE = new Set(["55000", "P0002"]);

function requireJson(req: Request): void {
  const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct === "application/json" || ct.endsWith("+json")) return;
  throw unsupportedMediaType(`content-type ${ct ? `"${ct}"` : "(none)"} is not accepted: send application/json`);
}

function parseJson(raw: Uint8Array): unknown {
  const text = new TextDecoder().decode(raw);
  if (text.trim() === "") throw badRequest("body is empty: send a JSON event", "invalid_json");
  return parseJsonText(text);
}

/** Whether the event passes this automation's filter, or why the filter cannot judge it. */
function filterVerdict(filter: unknown, event: IncomingEvent): "pass" | "fail" | { error: string } {
  if (filter === undefined || filter === null) return "pass";
  if (typeof filter !== "object" || Array.isArray(filter)) return { error: "trigger_config.filter must be a JSON object" };
  // Table automations may also fire from the SQL trigger; hold them to what SQL evaluates.
  const problem = event.kind === "table" ? sqlFilterProblem(filter) : null;
  if (problem) return { error: problem };
  try {
    return matchesFilter(filter as Filter, filterContext(event)) ? "pass" : "fail";
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function applyFilters(candidates: Candidate[], event: IncomingEvent, logger: Logger) {
  const passed: string[] = [];
  const skipped: Skipped[] = [];
  for (const c of candidates) {
    const verdict = filterVerdict(c.trigger_config?.filter, event);
    if (verdict === "pass") passed.push(c.id);
    else if (verdict !== "fail") {
      skipped.push({ automation_id: c.id, reason: verdict.error });
      logger.warn("event filter failed; automation skipped", { automation_id: c.id, error: verdict.error });
    }
  }
  return { passed, skipped };
}

/** One transaction for the whole event; a savepoint per run so one automation that just stopped being active skips only itself. */
async function enqueueAll(db: Db, ids: string[], event: IncomingEvent, skipped: Skipped[], cause: string | null): Promise<EventRun[]> {
  const payload = runPayload(event);
  const idempotencyKey = event.id === null ? null : `event:${event.id}`;
  return db.transaction(async (tx) => {
    // Sent by one of our runs: its runs join that run's chain (budget, depth).
    await setRunCause(tx, cause);
    const runs: EventRun[] = [];
    for (const automationId of ids) {
      // A run carries the row only when the automation's acting member could read it (docs/engine.md, "Rights").
      const [read] = await tx.query<{ ok: boolean }>(
        "select automations_engine.acting_member_can_read_event($1, $2::jsonb) as ok",
        [automationId, JSON.stringify(payload)],
      );
      if (!read!.ok) {
        skipped.push({ automation_id: automationId, reason: "the member this automation acts as cannot read this row (row-level security)" });
        continue;
      }
      try {
        const r = await tx.transaction((sp) => enqueueRun(sp, { automationId, triggerType: "event", payload, idempotencyKey }));
        runs.push({ automation_id: automationId, run_id: r.runId, duplicate: !r.created });
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (cause && isChainRefusal(e)) await recordChainRefusal(tx, cause, automationId, (e as Error).message);
        else if (typeof code !== "string" || !GONE.has(code)) throw e;
        skipped.push({ automation_id: automationId, reason: (e as Error).message });
      }
    }
    return runs;
  });
}

export function createEventHandler(deps: AppDeps): Handler {
  return handle(deps.logger, "automations-event", async (req) => {
    allowMethods(req, "POST");
    requireService(req, deps.auth);
    requireJson(req);
    const orgColumn = new URL(req.url).searchParams.get("org_column") ?? undefined;
    const event = parseIncomingEvent(parseJson(await readBody(req, deps.maxBodyBytes)), orgColumn);

    const candidates = await deps.db.query<Candidate>(MATCH_SQL, matchParams(event));
    const { passed, skipped } = applyFilters(candidates, event, deps.logger);
    const runs = passed.length > 0 ? await enqueueAll(deps.db, passed, event, skipped, verifiedCause(req, deps.auth)) : [];
    if (runs.some((r) => !r.duplicate)) deps.kick();
    return json({ matched: runs.length, runs, skipped }, 202);
  });
}
