// postgres.js adapter. On hosted Supabase connect through the pooler
// (transaction mode, port 6543) with `prepare: false`.
import postgres from "postgres";
import type { Db, Row } from "./types.ts";

export interface PostgresOptions {
  /** Pool size. */
  max?: number;
  /** Prepared statements; must be false behind a transaction-mode pooler. */
  prepare?: boolean;
  /** Passed to PostgreSQL as application_name. */
  applicationName?: string;
}

type Sql = postgres.Sql<Record<string, never>>;
type TxSql = postgres.TransactionSql<Record<string, never>>;

function wrap(sql: Sql | TxSql, root: Sql): Db {
  return {
    async query<T = Row>(text: string, params: readonly unknown[] = []) {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return rows as unknown as T[];
    },
    async exec(text: string) {
      await sql.unsafe(text).simple();
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      if ("savepoint" in sql) {
        return (await (sql as TxSql).savepoint((tx) => fn(wrap(tx, root)))) as T;
      }
      return (await (sql as Sql).begin((tx) => fn(wrap(tx, root)))) as T;
    },
    async listen(channel: string, onNotify: (payload: string) => void) {
      const sub = await root.listen(channel, onNotify);
      return () => sub.unlisten();
    },
    async close() {
      await root.end({ timeout: 5 });
    },
  };
}

export function createPostgresDb(url: string, opts: PostgresOptions = {}): Db {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    prepare: opts.prepare ?? true,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? "supabase-automations" },
    // Our convention is to pass json/jsonb parameters as JSON text (so both
    // adapters behave alike); postgres.js would JSON.stringify them again.
    types: {
      json: {
        to: 114,
        from: [114, 3802],
        serialize: (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x)),
        parse: (x: string) => JSON.parse(x),
      },
    },
  }) as unknown as Sql;
  return wrap(sql, sql);
}
