// postgres.js adapter. On hosted Supabase connect through the pooler
// (transaction mode, port 6543) with `prepare: false`.
//
// Restarts: postgres.js 3.4.9 can leave a query waiting forever when a caller
// retries on a connection between its socket error and its close (see
// scripts/chaos/pool_restart_repro.ts and docs/reliability.md). So after any
// connection-level error the adapter swaps in a fresh pool for new queries
// and ends the old one, which rejects whatever was stuck in it; callers get
// the usual "database unavailable" error (503 over HTTP) and retry.
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

/** Errors that mean the connection (not the statement) failed. */
const CONNECTION_ERRORS = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "CONNECTION_CLOSED", "CONNECTION_ENDED",
  "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P02", "57P03", "08000", "08003", "08006",
]);
const isConnectionError = (e: unknown) => CONNECTION_ERRORS.has(String((e as { code?: unknown })?.code));

function makeSql(url: string, opts: PostgresOptions, max: number): Sql {
  return postgres(url, {
    max,
    prepare: opts.prepare ?? true,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? "supabase-automations" },
    // Reconnect quickly after a restart (the default backoff grows to 20 s).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 2),
    connect_timeout: 10,
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
}

class Pool {
  sql: Sql;
  private listener: Sql | null = null;
  constructor(private readonly url: string, private readonly opts: PostgresOptions) {
    this.sql = makeSql(url, opts, opts.max ?? 10);
  }
  /** Run on the current pool; a connection-level failure retires that pool. */
  async use<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const sql = this.sql;
    try {
      return await fn(sql);
    } catch (e) {
      if (isConnectionError(e) && sql === this.sql) {
        this.sql = makeSql(this.url, this.opts, this.opts.max ?? 10);
        void sql.end({ timeout: 0 }).catch(() => {});
      }
      throw e;
    }
  }
  /** LISTEN on its own connection, which postgres.js re-establishes by itself. */
  listenSql(): Sql {
    this.listener ??= makeSql(this.url, this.opts, 1);
    return this.listener;
  }
  async end() {
    await Promise.all([this.sql.end({ timeout: 5 }), this.listener?.end({ timeout: 5 })]);
  }
}

// sql.unsafe() does not prepare unless asked: each parameterised query then
// costs two round trips (Parse/Describe, wait for the parameter types, then
// Bind/Execute) and a fresh parse and plan. Prepared, it is one round trip
// from the second call on a connection (about half the driver's socket
// writes in the drain profile, docs/performance.md).
async function runQuery<T>(sql: Sql | TxSql, text: string, params: readonly unknown[], prepare: boolean): Promise<T[]> {
  return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare })) as unknown as T[];
}

function wrapTx(tx: TxSql, prepare: boolean): Db {
  return {
    query<T = Row>(text: string, params: readonly unknown[] = []) {
      return runQuery<T>(tx, text, params, prepare);
    },
    async exec(text: string) {
      await tx.unsafe(text).simple();
    },
    async transaction<T>(fn: (inner: Db) => Promise<T>): Promise<T> {
      return (await tx.savepoint((sp) => fn(wrapTx(sp, prepare)))) as T;
    },
  };
}

export function createPostgresDb(url: string, opts: PostgresOptions = {}): Db {
  const pool = new Pool(url, opts);
  const prepare = opts.prepare ?? true;
  return {
    query<T = Row>(text: string, params: readonly unknown[] = []) {
      return pool.use((sql) => runQuery<T>(sql, text, params, prepare));
    },
    exec(text: string) {
      return pool.use(async (sql) => {
        await sql.unsafe(text).simple();
      });
    },
    transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      return pool.use(async (sql) => (await sql.begin((tx) => fn(wrapTx(tx, prepare)))) as T);
    },
    async listen(channel: string, onNotify: (payload: string) => void) {
      const sub = await pool.listenSql().listen(channel, onNotify);
      return () => sub.unlisten();
    },
    close: () => pool.end(),
  };
}
