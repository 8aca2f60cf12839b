// Apply the local bootstrap, the migrations and (first time only) the seed, on
// any Db (PGlite or PostgreSQL). Applied migrations are recorded in
// supabase_migrations.schema_migrations exactly as the Supabase CLI records
// them, so `supabase migration up` / `db push` against the same database
// agree on what is applied.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../shared/db/types.ts";
import { DEMO } from "./demo.ts";

export interface MigrateResult {
  applied: string[];
  seeded: boolean;
}

export interface MigrateOptions {
  /**
   * The demo seed (public webhook secret: local development only).
   * true (default): into a fresh database; "if-absent": whenever the demo org
   * is missing (`npm start -- --demo`); false: never.
   */
  seed?: boolean | "if-absent";
  bootstrap?: boolean;
}

export async function migrate(db: Db, root: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const dir = join(root, "supabase/migrations");
  const [{ exists }] = (await db.query<{ exists: boolean }>(
    "select to_regclass('supabase_migrations.schema_migrations') is not null as exists",
  )) as [{ exists: boolean }];
  const fresh = !exists;
  // The bootstrap is for plain PostgreSQL / PGlite; hosted Supabase has all of it.
  const hosted = (await db.query("select 1 from pg_roles where rolname = 'supabase_admin'")).length > 0;
  if (opts.bootstrap !== false && !hosted) {
    await exec(db, readFileSync(join(root, "supabase/local/bootstrap.sql"), "utf8"));
  }
  await exec(
    db,
    `create schema if not exists supabase_migrations;
     create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);`,
  );
  const done = new Set(
    (await db.query<{ version: string }>("select version from supabase_migrations.schema_migrations")).map((r) => r.version),
  );
  const applied: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const m = /^(\d+)_(.+)\.sql$/.exec(file);
    if (!m || done.has(m[1]!)) continue;
    const sql = readFileSync(join(dir, file), "utf8");
    await db.transaction(async (tx) => {
      await exec(tx, sql);
      await tx.query("insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)", [
        m[1],
        m[2],
        [sql],
      ]);
    });
    applied.push(file);
  }
  let seeded = false;
  const seeds = seedFiles(root);
  const seed = opts.seed ?? true;
  const wanted =
    seed === "if-absent"
      ? (await db.query("select 1 from public.organizations where id = $1", [DEMO.orgId])).length === 0
      : seed && fresh;
  if (wanted && seeds.length > 0) {
    try {
      await db.transaction(async (tx) => {
        for (const f of seeds) await exec(tx, readFileSync(f, "utf8"));
      });
    } catch (e) {
      // Rolled back as a whole. The seed creates public.tasks and fixed ids, so it
      // loads only where neither exists yet.
      throw new Error(`the demo seed could not be loaded (nothing of it was written): ${(e as Error).message}`);
    }
    seeded = true;
  }
  return { applied, seeded };
}

const exec = (db: Db, sql: string) => db.exec(sql);

/** The seed files `supabase db reset` loads: [db.seed] sql_paths in config.toml, in order. */
function seedFiles(root: string): string[] {
  const toml = readFileSync(join(root, "supabase/config.toml"), "utf8");
  const list = /^sql_paths\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? '"./seed.sql"';
  return [...list.matchAll(/"([^"]+)"/g)].map((x) => join(root, "supabase", x[1]!)).filter((f) => existsSync(f));
}
