// Each test file gets its own database, cloned from the template that
// scripts/test.ts built (bootstrap + migrations). Real PostgreSQL, real RLS.
import postgres from "postgres";
import { randomBytes } from "node:crypto";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import type { Db } from "../../shared/db/types.ts";

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suites with \`npm test\`, which prepares the database`);
  return v;
}

export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const admin = env("AUTOMATIONS_TEST_ADMIN_URL");
  const template = env("AUTOMATIONS_TEST_TEMPLATE");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  // CREATE DATABASE ... TEMPLATE fails while another session is copying the
  // same template; retry briefly.
  for (let i = 0; ; i++) {
    try {
      await sql.unsafe(`create database ${name} template ${template}`);
      break;
    } catch (e) {
      if (i > 50 || !String(e).includes("being accessed by other users")) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createPostgresDb(url, { max: opts.max ?? 10 });
  return {
    url,
    db,
    async drop() {
      await db.close?.();
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}
