// The one database interface the engine uses (pg-boss style): callers pass
// their own connection or transaction. Two adapters implement it: postgres.js
// (hosted Supabase, plain PostgreSQL) and PGlite (embedded, `npm start`).
//
// Conventions every caller follows so both adapters behave the same:
// - parameters are $1..$n; pass jsonb values as JSON.stringify(...) with a
//   `::jsonb` cast in the SQL;
// - select bigint/count values as `::int` (or `::text`), never raw int8;
// - timestamps come back as Date objects.

export type Row = Record<string, unknown>;

export interface Db {
  /** Run one statement and return its rows. */
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Run several statements without parameters (migrations, seed files). */
  exec(sql: string): Promise<void>;
  /** Run fn inside a transaction (a savepoint when already inside one). */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; resolves to an unlisten function. Absent on adapters without it. */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Close the pool / database. */
  close?(): Promise<void>;
}
