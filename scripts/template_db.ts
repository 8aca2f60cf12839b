// The template database the suites clone and the schema dump is taken from:
// the local bootstrap (what hosted Supabase already has), then the migrations
// through the Supabase CLI (`migration up --db-url`), exactly as a user would.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { psql } from "./pg_cluster.ts";

export const ROOT = join(import.meta.dirname, "..");

/** The URL of database `db` on the server of `url`. */
export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * (Re)creates database `name` on the server of `admin` and migrates it.
 * Returns its URL and the CLI's "Applying migration ..." lines.
 */
export function buildTemplate(admin: string, name: string): { url: string; applied: string[] } {
  const url = withDb(admin, name);
  psql(admin, ["-c", `drop database if exists ${name}`, "-c", `create database ${name}`]);
  psql(url, ["-f", join(ROOT, "supabase/local/bootstrap.sql")]);
  const up = spawnSync("npx", ["supabase", "migration", "up", "--db-url", url], { cwd: ROOT, encoding: "utf8" });
  if (up.status !== 0) {
    console.error(up.stdout, up.stderr);
    throw new Error("supabase migration up failed on the template database");
  }
  return { url, applied: up.stderr.trim().split("\n").filter((l) => l.startsWith("Applying")) };
}
