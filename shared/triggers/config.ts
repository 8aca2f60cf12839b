// trigger_config: the shape of automations.trigger_config for each trigger type, checked
// when an automation is saved so a bad schedule or filter is refused with a clear message
// instead of failing silently at every tick.
//
// Decisions:
// - Every type is a strict object: an unknown key is an error naming the allowed keys, so a
//   typo ("timezon", "operation") is caught instead of quietly falling back to a default.
// - schedule: standard 5-field cron or one of the macros (@hourly @daily @weekly @monthly
//   @yearly @annually). No seconds field: ticks run once a minute. No `H` (random without a
//   seed). timezone is any name Intl knows (IANA names and their aliases), default "UTC".
//   missed: "skip" (default) | "once" | "all"; max_catch_up caps "all" (1..1000, default 100).
// - event: exactly one of `table` (database events; "deals" or "schema.deals", schema public
//   by default; operations default to all three) or `event` (application events). `filter`
//   is optional, see shared/triggers/filter.ts; its "changed" shorthand only fits tables.
// - webhook: optional content_types (a subset of what the function accepts) and
//   max_body_bytes (≤ 1 MiB); absent means the function's defaults. verify (the sender's
//   signature scheme), headers (captured into trigger.headers) and filter (over payload and
//   headers) are checked in webhook_config.ts.
// - manual: {} (a draft of any trigger type may always be test-run by hand; see
//   run_automation).
// - null or a missing config reads as {} so webhook and manual need nothing stored.
import { z } from "zod";
import { filterProblems, sqlFilterProblem } from "./filter.ts";
import type { Filter, Operation } from "./filter.ts";
import { cronProblem, isValidTimeZone } from "./schedule_times.ts";
import { headersProblems, verifyProblems, webhookFilterProblems, type VerifyConfig } from "./webhook_config.ts";
import type { ScheduleSpec } from "./schedule_times.ts";

export const TRIGGER_TYPES = ["event", "schedule", "webhook", "manual"] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export const OPERATIONS = ["INSERT", "UPDATE", "DELETE"] as const satisfies readonly Operation[];
export const WEBHOOK_CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded"] as const;
export const MAX_WEBHOOK_BODY_BYTES = 1_048_576;

const IDENT = "[A-Za-z_][A-Za-z0-9_$]{0,62}";
const TABLE_RE = new RegExp(`^(?:${IDENT}\\.)?${IDENT}$`);
const EVENT_RE = /^[A-Za-z0-9_.:-]*$/; // emptiness is reported by min(1)

function timezoneHint(tz: string): string {
  if (/^(UTC|GMT)?\s*[+-]\d/i.test(tz)) return `; for a fixed offset use "Etc/GMT-3" style names (sign inverted)`;
  return `; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`;
}

export const ScheduleConfigSchema = z.strictObject({
  cron: z.string().superRefine((cron, ctx) => {
    const problem = cronProblem(cron);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  timezone: z
    .string()
    .superRefine((tz, ctx) => {
      if (!isValidTimeZone(tz)) ctx.addIssue({ code: "custom", message: `unknown timezone ${JSON.stringify(tz)}${timezoneHint(tz)}` });
    })
    .default("UTC"),
  missed: z.enum(["skip", "once", "all"]).default("skip"),
  max_catch_up: z.int().min(1).max(1000).default(100),
});

const EventShape = {
  table: z.string().regex(TABLE_RE, { error: `must be a table name, optionally with its schema ("deals" or "public.deals")` }).optional(),
  operations: z.array(z.enum(OPERATIONS)).min(1).optional(),
  event: z.string().min(1).max(200).regex(EVENT_RE, { error: `may contain only letters, digits and _ . : - (like "invoice.paid")` }).optional(),
  filter: z.unknown().optional(),
};

export const EventConfigSchema = z
  .strictObject(EventShape)
  .superRefine((c, ctx) => {
    const isTable = c.table !== undefined;
    if (isTable === (c.event !== undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: `give exactly one of "table" (database events) or "event" (application events)${isTable ? ", not both" : ""}` });
    }
    if (!isTable && c.operations !== undefined) {
      ctx.addIssue({ code: "custom", path: ["operations"], message: `applies to table events only` });
    }
    c.operations?.forEach((op, i) => {
      if (c.operations?.indexOf(op) !== i) ctx.addIssue({ code: "custom", path: ["operations", i], message: `"${op}" is listed twice` });
    });
    if (c.filter !== undefined) {
      const problems = filterProblems(c.filter, isTable);
      for (const p of problems) ctx.addIssue({ code: "custom", path: ["filter", ...p.path], message: p.message });
      // Table-event filters run inside PostgreSQL (the SQL trigger): only its subset is accepted.
      const sql = isTable && problems.length === 0 ? sqlFilterProblem(c.filter) : null;
      if (sql) ctx.addIssue({ code: "custom", path: ["filter"], message: sql.replace(/^filter(\.\S+)?: /, "") });
    }
  })
  .transform((c): EventTriggerConfig => {
    const filter = c.filter as Filter | undefined;
    if (c.event !== undefined) return filter === undefined ? { event: c.event } : { event: c.event, filter };
    const [schema, table] = c.table?.includes(".") ? (c.table.split(".") as [string, string]) : ["public", c.table ?? ""];
    const operations = c.operations ?? [...OPERATIONS];
    return filter === undefined ? { schema, table, operations } : { schema, table, operations, filter };
  });

const WebhookShape = {
  content_types: z.array(z.enum(WEBHOOK_CONTENT_TYPES)).min(1).optional(),
  max_body_bytes: z.int().min(1).max(MAX_WEBHOOK_BODY_BYTES).optional(),
  verify: z.unknown().optional(),
  headers: z.unknown().optional(),
  filter: z.unknown().optional(),
};

export const WebhookConfigSchema = z
  .strictObject(WebhookShape)
  .superRefine((c, ctx) => {
    const problems = [
      ...(c.verify !== undefined ? verifyProblems(c.verify) : []),
      ...(c.headers !== undefined ? headersProblems(c.headers) : []),
      ...(c.filter !== undefined ? webhookFilterProblems(c.filter) : []),
    ];
    for (const p of problems) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
  })
  .transform((c) => c as Omit<typeof c, "verify" | "headers" | "filter"> & { verify?: VerifyConfig; headers?: string[]; filter?: Filter });

export const ManualConfigSchema = z.strictObject({
});

export type ScheduleTriggerConfig = z.output<typeof ScheduleConfigSchema>;
/** A table event, with "public.deals" split into schema and table. */
export interface TableEventConfig {
  schema: string;
  table: string;
  operations: Operation[];
  filter?: Filter;
}
export interface AppEventConfig {
  event: string;
  filter?: Filter;
}
export type EventTriggerConfig = TableEventConfig | AppEventConfig;
export type WebhookTriggerConfig = z.output<typeof WebhookConfigSchema>;
export type ManualTriggerConfig = z.output<typeof ManualConfigSchema>;

export interface TriggerConfigByType {
  schedule: ScheduleTriggerConfig;
  event: EventTriggerConfig;
  webhook: WebhookTriggerConfig;
  manual: ManualTriggerConfig;
}

const SCHEMAS = {
  schedule: ScheduleConfigSchema,
  event: EventConfigSchema,
  webhook: WebhookConfigSchema,
  manual: ManualConfigSchema,
} as const;

const ALLOWED_KEYS: Record<TriggerType, string[]> = {
  schedule: Object.keys(ScheduleConfigSchema.shape),
  event: Object.keys(EventShape),
  webhook: Object.keys(WebhookShape),
  manual: Object.keys(ManualConfigSchema.shape),
};

/** How a wrong value reads in a message: containers by kind, scalars as JSON. */
function shown(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, seg) => (typeof seg === "number" ? `${s}[${seg}]` : `${s}.${String(seg)}`), "trigger_config");
}

function issueText(issue: z.core.$ZodIssue, type: TriggerType): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `${issue.keys.map((k) => `unknown key "${k}"`).join(", ")} (allowed: ${ALLOWED_KEYS[type].join(", ") || "none"})`;
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      if (issue.expected === "int") return `must be an integer, got ${shown(issue.input)}`;
      return `must be ${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}, got ${shown(issue.input)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; got ${JSON.stringify(issue.input)}`;
    case "too_small":
      if (issue.origin === "array") return "must not be empty";
      if (issue.origin === "string") return "must not be empty";
      return `must be at least ${String(issue.minimum)}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}${issue.origin === "string" ? " characters" : ""}`;
    default:
      return issue.message;
  }
}

export type ParseResult<T> = { ok: true; config: T } | { ok: false; problems: string[] };

/** Parses and normalises (defaults applied) a trigger_config, or lists what is wrong with it. */
export function parseTriggerConfig<T extends TriggerType>(type: T, config: unknown): ParseResult<TriggerConfigByType[T]> {
  if (!(TRIGGER_TYPES as readonly string[]).includes(type)) {
    return { ok: false, problems: [`trigger_type: unknown trigger type ${JSON.stringify(type)} (expected ${TRIGGER_TYPES.join(", ")})`] };
  }
  const input = config ?? {};
  if (typeof input !== "object" || Array.isArray(input)) {
    return { ok: false, problems: [`trigger_config: must be a JSON object, got ${shown(input)}`] };
  }
  const result = SCHEMAS[type].safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, config: result.data as TriggerConfigByType[T] };
  return { ok: false, problems: result.error.issues.map((issue) => `${pathText(issue.path)}: ${issueText(issue, type)}`) };
}

/** Human-readable problems with a trigger_config, each starting with its JSON path; [] = valid. */
export function validateTriggerConfig(type: string, config: unknown): string[] {
  const result = parseTriggerConfig(type as TriggerType, config);
  return result.ok ? [] : result.problems;
}

/** The schedule_times view of a parsed schedule config. */
export function scheduleSpecOf(config: ScheduleTriggerConfig): ScheduleSpec {
  return { cron: config.cron, timezone: config.timezone, missed: config.missed, maxCatchUp: config.max_catch_up };
}
