// How the CLI reaches the database: DATABASE_URL directly, or the running
// local runtime's /_local/query (the embedded database has one connection,
// owned by the runtime process).
import type { Db, Row } from "../shared/db/types.ts";
import { dbFromUrl } from "../shared/runtime/env.ts";
import { localKeys, LOCAL_JWT_SECRET } from "./keys.ts";

export async function cliDb(env: Record<string, string | undefined>): Promise<{ db: Db; where: string }> {
  if (env.DATABASE_URL) return { db: dbFromUrl(env.DATABASE_URL, 2), where: new URL(env.DATABASE_URL).host };
  const base = env.AUTOMATIONS_URL ?? `http://127.0.0.1:${env.PORT ?? 54321}`;
  const key = env.SUPABASE_SERVICE_ROLE_KEY ?? (await localKeys(env.SUPABASE_JWT_SECRET ?? LOCAL_JWT_SECRET)).serviceRoleKey;
  const query = async <T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
    let res: Response;
    try {
      res = await fetch(`${base}/_local/query`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ sql, params }),
      });
    } catch {
      throw new Error(`the local runtime is not running at ${base}: start it with \`npm start\` (or set DATABASE_URL)`);
    }
    const body = (await res.json()) as { rows?: T[]; error?: { message: string } };
    if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    return body.rows ?? [];
  };
  const unsupported = () => Promise.reject(new Error("not available through the local runtime"));
  return { db: { query, exec: unsupported, transaction: unsupported }, where: base };
}
