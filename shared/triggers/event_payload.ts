// What an event posted to automations-event looks like, and what it becomes:
// the run's trigger payload, the filter's context and the match parameters.
//
// Two kinds of body:
//   - a Supabase Database Webhook: {type, table, schema, record, old_record}. The org is
//     record.org_id (old_record.org_id for DELETE), or the column named by ?org_column=.
//     Unknown keys are ignored, so a future Supabase field does not break delivery.
//   - an application event: {event, org_id, payload?, id?}. Strict: a typo such as
//     "paylod" is a 400, not a run with an empty payload.
// Run payloads (what templates read as {{trigger.payload...}}):
//   - table events: {type, table, schema, record, old_record}, exactly what the SQL trigger
//     public.automations_table_event() stores, so an automation works with either path;
//   - application events: {event, id, payload}, not flattened, so the caller's payload
//     keys can never collide with ours ({{trigger.payload.payload.amount}}).
import { z } from "zod";
import { badRequest } from "../http/errors.ts";
import { UUID_RE } from "../http/route.ts";
import { OPERATIONS } from "./config.ts";
import { isChangedFilter } from "./filter.ts";
import type { FilterContext, Operation } from "./filter.ts";

type Row = Record<string, unknown>;

export interface TableEvent {
  kind: "table";
  orgId: string;
  type: Operation;
  schema: string;
  table: string;
  record: Row | null;
  old_record: Row | null;
  id: string | null;
}

export interface AppEvent {
  kind: "app";
  orgId: string;
  event: string;
  payload: unknown;
  id: string | null;
}

export type IncomingEvent = TableEvent | AppEvent;

const SHAPES = "a Database Webhook payload {type, table, schema, record, old_record} or an application event {event, org_id, payload, id?}";
const EVENT_NAME_RE = /^[A-Za-z0-9_.:-]+$/; // as trigger_config.event accepts
const COLUMN_RE = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

// The id becomes the idempotency key "event:<id>" (≤ 255 characters in the database).
const EventId = z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(200, { error: "must be at most 200 characters" });
const RowSchema = z.record(z.string(), z.unknown(), { error: "must be an object (the row) or null" }).nullish();
const Name = z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(63, { error: "must be at most 63 characters" });

const TableEventSchema = z.object({
  type: z.enum(OPERATIONS, { error: `must be one of ${OPERATIONS.join(", ")}` }),
  table: Name,
  schema: Name.default("public"),
  record: RowSchema,
  old_record: RowSchema,
  id: EventId.optional(),
});

const AppEventSchema = z.strictObject({
  event: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(200, { error: "must be at most 200 characters" })
    .regex(EVENT_NAME_RE, { error: `may contain only letters, digits and _ . : - (like "invoice.paid")` }),
  org_id: z.string({ error: "must be a UUID string" }).regex(UUID_RE, { error: "must be a UUID" }),
  payload: z.unknown().optional(),
  id: EventId.optional(),
});

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, seg) => (typeof seg === "number" ? `${s}[${seg}]` : s ? `${s}.${String(seg)}` : String(seg)), "");
}

function firstProblem(error: z.ZodError): never {
  const issue = error.issues[0]!;
  const message = issue.code === "unrecognized_keys" ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (allowed: event, org_id, payload, id)` : issue.message;
  const at = pathText(issue.path);
  throw badRequest(at ? `${at}: ${message}` : message, "invalid_event");
}

function tableEvent(body: object, orgColumn: string): TableEvent {
  const r = TableEventSchema.safeParse(body);
  if (!r.success) firstProblem(r.error);
  const e = r.data;
  const record = e.record ?? null;
  const old_record = e.old_record ?? null;
  const rowKey = e.type === "DELETE" ? "old_record" : "record";
  const row = e.type === "DELETE" ? old_record : record;
  if (!row) throw badRequest(`${rowKey}: is required for ${e.type} (the row)`, "invalid_event");
  const org = row[orgColumn];
  if (org === undefined || org === null) {
    throw badRequest(
      `${rowKey}.${orgColumn} is missing: automations belong to an organization, so ${e.schema}.${e.table} needs an ${orgColumn} column ` +
        `(or name its tenant column with ?org_column=<column> on the webhook URL)`,
      "invalid_event",
    );
  }
  if (typeof org !== "string" || !UUID_RE.test(org)) throw badRequest(`${rowKey}.${orgColumn}: must be a UUID, got ${JSON.stringify(org)}`, "invalid_event");
  return { kind: "table", orgId: org.toLowerCase(), type: e.type, schema: e.schema, table: e.table, record, old_record, id: e.id ?? null };
}

/** Parses a request body into an event, or throws a 400 naming the first problem. */
export function parseIncomingEvent(body: unknown, orgColumn = "org_id"): IncomingEvent {
  if (!COLUMN_RE.test(orgColumn)) throw badRequest(`org_column: must be a column name, got ${JSON.stringify(orgColumn)}`, "invalid_event");
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest(`body must be a JSON object: ${SHAPES}`, "invalid_event");
  if ("type" in body) return tableEvent(body, orgColumn);
  if (!("event" in body)) throw badRequest(`body has neither "type" nor "event": send ${SHAPES}`, "invalid_event");
  const r = AppEventSchema.safeParse(body);
  if (!r.success) firstProblem(r.error);
  const e = r.data;
  return { kind: "app", orgId: e.org_id.toLowerCase(), event: e.event, payload: e.payload ?? {}, id: e.id ?? null };
}

/** The run's trigger_payload. */
export function runPayload(e: IncomingEvent): unknown {
  if (e.kind === "app") return { event: e.event, id: e.id, payload: e.payload };
  return { type: e.type, table: e.table, schema: e.schema, record: e.record, old_record: e.old_record };
}

/** What a filter sees; the SQL trigger builds the same object for table events. */
export function filterContext(e: IncomingEvent): FilterContext {
  if (e.kind === "app") return { record: null, old_record: null, payload: e.payload, operation: null };
  return { record: e.record, old_record: e.old_record, payload: null, operation: e.type };
}

/** Parameters of automations_engine.match_event_automations(org, schema, table, operation, event). */
export function matchParams(e: IncomingEvent): [string, string | null, string | null, string | null, string | null] {
  return e.kind === "app" ? [e.orgId, null, null, null, e.event] : [e.orgId, e.schema, e.table, e.type, null];
}

// The SQL-evaluable subset lives beside the filter language (filter.ts).
export { SQL_FILTER_OPERATORS, sqlFilterProblem } from "./filter.ts";
