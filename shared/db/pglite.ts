// PGlite adapter: real PostgreSQL in WASM for `npm start` without a server.
// One connection: PGlite serialises queries and transactions itself.
import { PGlite, types, type Transaction } from "@electric-sql/pglite";
import { pgcrypto } from "@electric-sql/pglite/contrib/pgcrypto";
import type { Db, Row } from "./types.ts";

// Our convention: json/jsonb parameters arrive as JSON text (see types.ts).
const jsonText = (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x));

export async function openPglite(dataDir?: string): Promise<{ db: Db; pg: PGlite }> {
  const pg = await PGlite.create(dataDir, {
    extensions: { pgcrypto },
    serializers: { [types.JSON]: jsonText, [types.JSONB]: jsonText },
    relaxedDurability: false,
  });
  return { db: wrap(pg, pg, 0), pg };
}

type Target = PGlite | Transaction;

function wrap(target: Target, root: PGlite, depth: number): Db {
  return {
    async query<T = Row>(text: string, params: readonly unknown[] = []) {
      const res = await target.query<T>(text, params as unknown[]);
      return res.rows;
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      if (depth === 0) return root.transaction((tx) => fn(wrap(tx, root, 1)));
      // Nested: a savepoint inside the open transaction.
      const sp = `sp_${depth}`;
      await target.query(`savepoint ${sp}`);
      try {
        const out = await fn(wrap(target, root, depth + 1));
        await target.query(`release savepoint ${sp}`);
        return out;
      } catch (e) {
        await target.query(`rollback to savepoint ${sp}`);
        throw e;
      }
    },
    async listen(channel: string, onNotify: (payload: string) => void) {
      const unlisten = await root.listen(channel, onNotify);
      return () => unlisten();
    },
    async close() {
      await root.close();
    },
  };
}
