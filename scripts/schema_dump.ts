// supabase/schema.sql: the current schema, generated from the migrations.
// `pg_dump --schema-only` of the template database, minus the lines that vary
// between runs and machines, under a header that says how it was made.
// `npm run schema` writes it; `npm test` compares (scripts/test.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PG_BIN, psql } from "./pg_cluster.ts";
import { ROOT } from "./template_db.ts";

export const SCHEMA_FILE = join(ROOT, "supabase/schema.sql");
/** The dump is only comparable when made by this major version, server and pg_dump alike. */
export const SCHEMA_PG_MAJOR = 15;
const PG_DUMP = `${PG_BIN}/pg_dump`;
const DUMP_ARGS = ["--schema-only", "--no-owner", "-n", "public", "-n", "automations_engine"];

const HEADER = `-- =============================================================================
-- GENERATED FILE, do not edit: \`npm run schema\` rebuilds it.
-- The current schema of public and automations_engine after every migration:
-- each table, policy and function as it is now, with the comments that say
-- why. For the history (what changed when), read supabase/migrations/.
--
-- Made by PostgreSQL ${SCHEMA_PG_MAJOR}'s
--   pg_dump ${DUMP_ARGS.join(" ")}
-- of the template database scripts/test.ts builds (local bootstrap + the
-- migrations), without the lines that vary between runs (\\restrict keys,
-- versions). \`npm test\` rewrites it when the migrations changed; with
-- CI=true it fails instead when this file is out of date.
-- =============================================================================
`;

/** Why the dump cannot be compared on this server, or null when it can. */
export function whyNotComparable(url: string): string | null {
  if (!existsSync(PG_DUMP)) return `${PG_DUMP} is not installed (package postgresql-${SCHEMA_PG_MAJOR})`;
  const num = Number(psql(url, ["-tAc", "show server_version_num"]).trim());
  const major = Math.floor(num / 10000);
  if (major !== SCHEMA_PG_MAJOR) {
    return `the server is PostgreSQL ${major}; supabase/schema.sql is the dump of PostgreSQL ${SCHEMA_PG_MAJOR}`;
  }
  // Default privileges are dumped with the role that set them (the bootstrap's).
  const user = psql(url, ["-tAc", "select current_user"]).trim();
  if (user !== "postgres") return `connected as ${user}; supabase/schema.sql is dumped as postgres`;
  return null;
}

/** The text supabase/schema.sql should have for the database at `url`. */
export function dumpSchema(url: string): string {
  const r = spawnSync(PG_DUMP, [...DUMP_ARGS, `--dbname=${url}`], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`pg_dump failed (exit ${r.status}):\n${r.stderr}`);
  const body = r.stdout
    .split("\n")
    // \restrict <random key> / \unrestrict <key> (pg_dump 15.14 and later)
    // change on every run; the version lines change with the machine.
    .filter((l) => !/^\\(un)?restrict\b/.test(l) && !/^-- Dumped (from database|by pg_dump) version/.test(l))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return `${HEADER}\n${body}\n`;
}

export function readSchemaFile(): string | null {
  return existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, "utf8") : null;
}

export function writeSchemaFile(text: string): void {
  writeFileSync(SCHEMA_FILE, text);
}

/**
 * A short excerpt of how `now` differs from `was`: the lines between the
 * first and last differing line, `-` as committed, `+` as generated.
 */
export function diffExcerpt(was: string, now: string, maxLines = 12): string {
  const a = was.split("\n");
  const b = now.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const cut = (lines: string[], sign: string) =>
    [...lines.slice(0, maxLines).map((l) => `${sign} ${l}`), ...(lines.length > maxLines ? [`${sign} ... (${lines.length - maxLines} more lines)`] : [])];
  return [
    `@@ line ${start + 1} @@`,
    ...cut(a.slice(start, endA), "-"),
    ...cut(b.slice(start, endB), "+"),
  ].join("\n");
}
