// update_field: set one column of one row of an org-scoped table in schema
// public, only for the run's org. The write runs as the automation's acting
// member under RLS (ctx.asMember through withRunCause), so the table's own
// policies decide; catalog lookups use the service connection, and these
// checks stay as a second guard:
// - table and column names are looked up in the catalog by value and only
//   catalog-returned names are quoted into SQL; the value is a bound parameter;
// - identity and automation tables are off limits, and so are the columns
//   that define a row's identity and tenancy (id, org_id, created_at,
//   updated_at) and generated columns;
// - every statement is filtered by org_id = the run's org;
// - a foreign-key column may only point at a row of the same org, so a
//   tenant cannot link its row to another tenant's row.
// The value is converted with jsonb_populate_record, which applies the
// column's own type input rules (text, numbers, enums, arrays, json, dates).
import { withRunCause } from "./run_cause.ts";
import { z } from "zod";
import { foreignRef, publicTable, quoteIdent, type TableInfo } from "./catalog.ts";
import { dbActionError } from "./db_errors.ts";
import { hasPlaceholder } from "./schema.ts";
import { ActionError, type ActionContext, type ActionDefinition } from "../engine/action_contract.ts";

const IDENTITY_TABLES = new Set(["organizations", "users", "memberships"]);
const PROTECTED_COLUMNS = new Set(["id", "org_id", "created_at", "updated_at"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `tasks` or `public.tasks` → `tasks`. */
function tableName(table: string): string {
  return table.startsWith("public.") ? table.slice("public.".length) : table;
}

/** Why a table may never be written by this action, or null. */
export function forbiddenTable(table: string): string | null {
  const t = tableName(table).toLowerCase();
  if (t.startsWith("automation")) return "automation tables change only through the automations API";
  if (IDENTITY_TABLES.has(t)) return "identity tables (organizations, users, memberships) cannot be changed by automations";
  // `auth.users`, `pg_catalog.x`: say why rather than "does not exist". Other
  // dotted strings are just names, looked up in public like any other.
  if (/^[A-Za-z_][A-Za-z0-9_$]*\./.test(table) && !table.startsWith("public.")) {
    return "only tables in schema public can be updated";
  }
  return null;
}

export function forbiddenColumn(field: string): string | null {
  return PROTECTED_COLUMNS.has(field)
    ? `column ${field} cannot be set: id, org_id, created_at and updated_at are maintained by the database`
    : null;
}

/** A name checked at save time too, so the mistake surfaces before any run. */
function checkedName(check: (name: string) => string | null) {
  return z
    .string()
    .min(1)
    .max(200)
    .superRefine((name, issues) => {
      const problem = hasPlaceholder(name) ? null : check(name);
      if (problem) issues.addIssue({ code: "custom", message: problem });
    });
}

export const updateFieldConfigSchema = z.strictObject({
  /** `tasks` or `public.tasks`; case-sensitive, as stored in the catalog. */
  table: checkedName(forbiddenTable),
  id: z.union([z.string().min(1), z.number().int()], { error: "id must be a string or an integer" }),
  field: checkedName(forbiddenColumn),
  /** Any JSON; null clears the column. */
  value: z.unknown().refine((v) => v !== undefined, { error: "value is required (any JSON; null clears the column)" }),
});

export type UpdateFieldConfig = z.infer<typeof updateFieldConfigSchema>;

function fail(code: string, message: string): never {
  throw new ActionError(code, message);
}

async function checkTarget(ctx: ActionContext, table: string, field: string, id: string): Promise<TableInfo> {
  const refused = forbiddenTable(table) ?? forbiddenColumn(field);
  if (refused) fail("forbidden", refused);
  const info = await publicTable(ctx.db, table);
  if (!info) fail("unknown_table", `table public.${table} does not exist (names are case-sensitive)`);
  if (info.columns.get("org_id")?.type !== "uuid" || !info.columns.has("id")) {
    fail("not_org_scoped", `table public.${table} is not org-scoped (it needs an id column and an org_id uuid column)`);
  }
  const col = info.columns.get(field);
  if (!col) {
    const writable = [...info.columns.values()].filter((c) => !PROTECTED_COLUMNS.has(c.name) && !c.generated);
    fail("unknown_column", `column ${field} does not exist in public.${table}; columns: ${writable.map((c) => c.name).join(", ")}`);
  }
  if (col.generated || col.identityAlways) fail("forbidden", `column ${field} of public.${table} is generated and cannot be set`);
  if (info.columns.get("id")!.type === "uuid" && !UUID.test(id)) {
    fail("invalid_id", `id ${JSON.stringify(id)} is not a uuid (public.${table}.id is a uuid column)`);
  }
  return info;
}

/** A foreign key to an org-scoped table must point at a row of the run's org. */
async function checkReference(ctx: ActionContext, table: string, field: string, json: string): Promise<void> {
  const ref = await foreignRef(ctx.db, table, field);
  if (ref?.schema === "public" && ref.table === "organizations") {
    // A reference to an organization may only name the run's own.
    if (JSON.parse(json) !== ctx.orgId) fail("cross_org_reference", `${field} may only refer to this organization`);
    return;
  }
  if (!ref?.orgScoped) return;
  const T = quoteIdent(table);
  const F = quoteIdent(field);
  const rows = await ctx.db.query(
    `select 1 from ${quoteIdent(ref.schema)}.${quoteIdent(ref.table)} r
      where r.${quoteIdent(ref.column)} = (jsonb_populate_record(null::public.${T}, jsonb_build_object($1::text, $2::jsonb))).${F}
        and r.org_id = $3`,
    [field, json, ctx.orgId],
  );
  if (rows.length === 0) {
    fail("cross_org_reference", `${field} ${json} does not refer to a row of ${ref.schema}.${ref.table} in this organization`);
  }
}

export const updateFieldAction: ActionDefinition<UpdateFieldConfig> = {
  type: "update_field",
  description: "Set one column of one row of an org-scoped public table (only rows of the run's org).",
  schema: updateFieldConfigSchema,
  preview: (c) => ({ table: c.table, id: c.id, field: c.field, value: c.value }),
  async execute(config, ctx) {
    const table = tableName(config.table);
    const { field } = config;
    const id = String(config.id);
    const json = JSON.stringify(config.value);
    const what = `cannot set public.${table}.${field} of row ${id}`;
    try {
      await checkTarget(ctx, table, field, id);
      if (config.value !== null) await checkReference(ctx, table, field, json);
      const T = quoteIdent(table);
      const F = quoteIdent(field);
      // The CTE locks the row and keeps its old value for the output; both
      // the lock and the update are scoped to the run's org. Values (and the
      // id) are converted by jsonb_populate_record, i.e. by PostgreSQL's own
      // input rules for the column type, never by the driver.
      const rows = await withRunCause(ctx, (db) => db.query<{ value: unknown; previous: unknown }>(
        `with target as (
           select t.id, to_jsonb(t.${F}) as previous
             from public.${T} t
            where t.id = (jsonb_populate_record(null::public.${T}, jsonb_build_object('id', $3::text))).id
              and t.org_id = $4
              for update
         )
         update public.${T} t
            set ${F} = (jsonb_populate_record(null::public.${T}, jsonb_build_object($1::text, $2::jsonb))).${F}
           from target
          where t.id = target.id and t.org_id = $4
         returning to_jsonb(t.${F}) as value, target.previous`,
        [field, json, id, ctx.orgId],
      ));
      const row = rows[0];
      if (!row) {
        // Not found as the acting member: does the row exist at all? Then RLS refused it.
        const exists = await ctx.db.query(
          `select 1 from public.${T} t
            where t.id = (jsonb_populate_record(null::public.${T}, jsonb_build_object('id', $1::text))).id and t.org_id = $2`,
          [id, ctx.orgId],
        );
        if (exists.length > 0) {
          fail("forbidden_by_rls", `the member this automation acts as may not update row ${id} of public.${table} (row-level security)`);
        }
        fail("not_found", `row ${id} not found in ${table} for this organization`);
      }
      ctx.logger.debug("update_field", { table, field, id, runId: ctx.runId });
      return { output: { table, id, field, value: row.value, previous: row.previous } };
    } catch (e) {
      throw dbActionError(e, what);
    }
  },
};
