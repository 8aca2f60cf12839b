// How the CLI reaches the database: DATABASE_URL directly, or the running
// local runtime's /_local/query (the embedded database has one connection,
// owned by the runtime process) with this data directory's service key and
// the runtime's CLI token, both read from files only this user can read.
import { readFileSync } from "node:fs";
import type { Db, Row } from "../shared/db/types.ts";
import { dbFromUrl, type Env } from "../shared/runtime/env.ts";
import { resolveLocalKeys } from "./keys.ts";
import { CLI_TOKEN_HEADER } from "./local_api.ts";
import { cliTokenPath } from "./secrets.ts";

function readCliToken(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    throw new Error(
      `the local runtime is not running for this data directory (no CLI token at ${path}): start it with \`npm start\` (same AUTOMATIONS_DATA_DIR), or set DATABASE_URL`,
    );
  }
}

export async function cliDb(env: Env, root: string): Promise<{ db: Db; where: string }> {
  if (env.DATABASE_URL) return { db: dbFromUrl(env.DATABASE_URL, 2), where: new URL(env.DATABASE_URL).host };
  const base = env.AUTOMATIONS_URL ?? `http://127.0.0.1:${env.PORT ?? 54321}`;
  const tokenFile = cliTokenPath(env, root);
  const key = env.SUPABASE_SERVICE_ROLE_KEY || (await resolveLocalKeys(env, root, { create: false })).serviceRoleKey;
  const token = readCliToken(tokenFile);
  const query = async <T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
    let res: Response;
    try {
      res = await fetch(`${base}/_local/query`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, [CLI_TOKEN_HEADER]: token, "content-type": "application/json" },
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
