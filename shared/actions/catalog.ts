// Catalog look-ups for the database actions. User-supplied table and column
// names are never spliced into SQL as given: they are looked up here by value
// (bound parameters), and only names the catalog returned are quoted into
// statements with quoteIdent().
import type { Db } from "../db/types.ts";

/** PostgreSQL identifier quoting (what format('%I') and quote_ident do, always quoted). */
export function quoteIdent(name: string): string {
  if (name.includes("\u0000")) throw new Error("identifier contains a NUL byte");
  return `"${name.replaceAll('"', '""')}"`;
}

export interface ColumnInfo {
  name: string;
  /** format_type(), e.g. `text`, `integer`, `public.task_status`, `timestamp with time zone`. */
  type: string;
  /** Generated columns (`generated always as ...`) cannot be written. */
  generated: boolean;
  /** `generated always as identity` cannot be written either. */
  identityAlways: boolean;
}

export interface TableInfo {
  name: string;
  columns: Map<string, ColumnInfo>;
}

/**
 * Columns of an ordinary or partitioned table in schema public, or null when
 * there is no such table (views and other relation kinds count as absent).
 */
export async function publicTable(db: Db, table: string): Promise<TableInfo | null> {
  const rows = await db.query<{ name: string; type: string; generated: boolean; identity_always: boolean }>(
    `select a.attname::text as name,
            format_type(a.atttypid, a.atttypmod) as type,
            a.attgenerated <> '' as generated,
            a.attidentity = 'a' as identity_always
       from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_attribute a on a.attrelid = c.oid
      where n.nspname = 'public'
        and c.relname = $1
        and c.relkind in ('r', 'p')
        and a.attnum > 0
        and not a.attisdropped
      order by a.attnum`,
    [table],
  );
  if (rows.length === 0) return null;
  const columns = new Map<string, ColumnInfo>();
  for (const r of rows) {
    columns.set(r.name, { name: r.name, type: r.type, generated: r.generated, identityAlways: r.identity_always });
  }
  return { name: table, columns };
}

export interface ForeignRef {
  schema: string;
  table: string;
  column: string;
  /** Whether the referenced table is org-scoped (has org_id). */
  orgScoped: boolean;
}

/**
 * The single-column foreign key on public.<table>.<column>, if any. Used to
 * stop a tenant pointing its row at another tenant's row (e.g. assignee_id
 * set to a user of another org), which a plain foreign key allows.
 */
export async function foreignRef(db: Db, table: string, column: string): Promise<ForeignRef | null> {
  const rows = await db.query<{ schema: string; table: string; column: string; org_scoped: boolean }>(
    `select rn.nspname::text as schema, rc.relname::text as table, ra.attname::text as column,
            exists (select 1 from pg_catalog.pg_attribute o
                     where o.attrelid = rc.oid and o.attname = 'org_id' and not o.attisdropped) as org_scoped
       from pg_catalog.pg_constraint k
       join pg_catalog.pg_class c on c.oid = k.conrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = k.conkey[1]
       join pg_catalog.pg_class rc on rc.oid = k.confrelid
       join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
       join pg_catalog.pg_attribute ra on ra.attrelid = rc.oid and ra.attnum = k.confkey[1]
      where k.contype = 'f'
        and cardinality(k.conkey) = 1
        and n.nspname = 'public'
        and c.relname = $1
        and a.attname = $2
      limit 1`,
    [table, column],
  );
  const r = rows[0];
  return r ? { schema: r.schema, table: r.table, column: r.column, orgScoped: r.org_scoped } : null;
}
