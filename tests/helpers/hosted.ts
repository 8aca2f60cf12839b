// The hosted-wiring suites (tests/hosted) run on the test cluster's one
// database where pg_cron 1.6 and pg_net work (cron.database_name and
// pg_net.database_name; scripts/pg_cluster.ts HOSTED_DB), set up as a hosted
// Supabase project is: what hosted has (supabase/local/bootstrap.sql), the
// three extensions enabled, then `supabase db push --db-url`.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { psql } from "../../scripts/pg_cluster.ts";

const ROOT = join(import.meta.dirname, "../..");

/** Why tests/hosted cannot run here, or null when it can. */
export function hostedSkipReason(): string | null {
  if (process.env.AUTOMATIONS_TEST_HOSTED_URL) return null;
  return process.env.AUTOMATIONS_TEST_HOSTED_SKIP ?? "AUTOMATIONS_TEST_HOSTED_URL is not set: run the suites with `npm test`";
}

export function hostedUrl(): string {
  const url = process.env.AUTOMATIONS_TEST_HOSTED_URL;
  if (!url) throw new Error(hostedSkipReason()!);
  return url;
}

/**
 * The hosted project's database: bootstrap, pg_cron + pg_net + Vault, then the
 * migrations with `supabase db push --db-url` as docs/deploy.md says. Returns
 * the CLI's output.
 */
export function pushToHostedDb(url: string): string {
  psql(url, ["-f", join(ROOT, "supabase/local/bootstrap.sql")]);
  psql(url, [
    "-c",
    "create extension if not exists pg_cron; create extension if not exists pg_net; create extension if not exists supabase_vault cascade",
  ]);
  const push = spawnSync("npx", ["supabase", "db", "push", "--db-url", url, "--yes"], { cwd: ROOT, encoding: "utf8" });
  if (push.status !== 0) throw new Error(`supabase db push failed (exit ${push.status}):\n${push.stdout}\n${push.stderr}`);
  return push.stdout + push.stderr;
}

/** The SQL of a Markdown file's ```sql blocks, statement by statement, with the section each is in. */
export function sqlStatements(markdown: string): Array<{ section: string; sql: string }> {
  const out: Array<{ section: string; sql: string }> = [];
  let section = "";
  let block: string[] | null = null;
  for (const line of markdown.split("\n")) {
    if (block === null && line.startsWith("## ")) section = line.slice(3).trim();
    else if (block === null && line.trim() === "```sql") block = [];
    else if (block !== null && line.trim() === "```") {
      const text = block.map((l) => (l.trimStart().startsWith("--") ? "" : l)).join("\n") + "\n";
      for (const stmt of text.split(/;[ \t]*(?:--[^\n]*)?\n/)) if (stmt.trim()) out.push({ section, sql: stmt.trim() });
      block = null;
    } else if (block !== null) block.push(line);
  }
  return out;
}

export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, seconds = 30): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`waited ${seconds} s for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
