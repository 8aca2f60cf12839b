// The local runtime's secrets, generated at random per database instead of
// the Supabase CLI's public demo secret (anyone could sign a service_role key
// with that one).
//
// Where they live, and why there: a file with mode 0600 beside the data
// directory, never inside it (PGlite's data directory must stay PostgreSQL's
// own), so the CLI, a separate process, can read what the runtime wrote.
//   embedded PGlite:  <data dir>.secrets.json   (.data/pglite.secrets.json)
//   DATABASE_URL:     db-<hash>.secrets.json in the same parent directory, the
//                     hash of user@host:port/database (not the password: a
//                     password change keeps the keys).
// Not in the database itself: a file keeps a local-only secret out of a
// (possibly hosted) project's tables, and the CLI reaches the embedded
// database only through the runtime, which needs the key first.
// The CLI token (<data dir>.cli-token) is new for every start: it proves the
// caller of /_local/query can read this data directory's files.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Env } from "../shared/runtime/env.ts";

export interface LocalSecrets {
  /** HS256 secret that signs the local anon/service keys and user JWTs. */
  jwt_secret: string;
}

/** The embedded database's directory (AUTOMATIONS_DATA_DIR, default .data/pglite). */
export const dataDir = (env: Env, root: string): string => env.AUTOMATIONS_DATA_DIR || join(root, ".data/pglite");

/** The file holding this database's secrets (see the header). */
export function secretsPath(env: Env, root: string): string {
  const dir = dataDir(env, root);
  if (!env.DATABASE_URL) return join(dirname(dir), `${basename(dir)}.secrets.json`);
  const u = new URL(env.DATABASE_URL);
  const id = `${decodeURIComponent(u.username)}@${u.hostname.toLowerCase()}:${u.port || "5432"}${u.pathname}`;
  return join(dirname(dir), `db-${createHash("sha256").update(id).digest("hex").slice(0, 16)}.secrets.json`);
}

/** Where the running runtime leaves its CLI token (embedded database only). */
export const cliTokenPath = (env: Env, root: string): string => {
  const dir = dataDir(env, root);
  return join(dirname(dir), `${basename(dir)}.cli-token`);
};

export const randomSecret = (): string => randomBytes(32).toString("base64url");

/** Create `path` with `content`, readable by this user only; false if it exists already. */
function createPrivate(path: string, content: string): boolean {
  // Written in full under a temporary name, then linked into place: a second
  // process starting at the same time either wins or reads a complete file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: "wx" });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

export function readSecrets(path: string): LocalSecrets | null {
  if (!existsSync(path)) return null;
  let parsed: Partial<LocalSecrets>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LocalSecrets>;
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}): delete it to generate new local keys`);
  }
  if (typeof parsed.jwt_secret !== "string" || parsed.jwt_secret.length < 32) {
    throw new Error(`${path} has no jwt_secret of at least 32 characters: delete it to generate new local keys`);
  }
  // Someone widened it (a copy, a backup restore): only this user may read it.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return { jwt_secret: parsed.jwt_secret };
}

/** This database's secrets, generated on first use. */
export function loadOrCreateSecrets(path: string): { secrets: LocalSecrets; created: boolean } {
  const existing = readSecrets(path);
  if (existing) return { secrets: existing, created: false };
  mkdirSync(dirname(path), { recursive: true });
  const created = createPrivate(path, `${JSON.stringify({ jwt_secret: randomSecret() }, null, 2)}\n`);
  return { secrets: readSecrets(path)!, created };
}

/** This process's CLI token, written 0600 (replacing a stopped runtime's). */
export function writeCliToken(path: string, token: string): void {
  // Removed first, so the file is created (with its mode) rather than reused.
  if (existsSync(path)) unlinkSync(path);
  writeFileSync(path, token, { mode: 0o600, flag: "wx" });
}

/** Remove the CLI token at stop, if it is still this process's. */
export function removeCliToken(path: string, token: string): void {
  try {
    if (readFileSync(path, "utf8") === token) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
