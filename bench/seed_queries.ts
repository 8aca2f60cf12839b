// The seed's six example queries (seed/automations-skill.md, "Example
// Queries"), read from the one place they are kept: the pgTAP file that
// defines tests.seed_queries(), where each is the seed's text between $qN$
// quotes. Query 2 keeps the seed's '<automation_id>' placeholder; the bench
// puts a real id of the member's org in its place.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const SEED_QUERIES_FILE = join(import.meta.dirname, "../supabase/tests/database/003_seed_queries.test.sql");

export type SeedQuery = { n: number; label: string; caption: string; sql: string };

/** The `(n, 'label', 'caption',` + `$qN$…$qN$` rows of tests.seed_queries(), in order. */
export function parseSeedQueries(text: string): SeedQuery[] {
  const row = /^\((\d+), '([^']+)', '([^']+)',\n\$q\1\$([\s\S]*?)\$q\1\$\)/gm;
  const out = [...text.matchAll(row)].map((m) => ({ n: Number(m[1]), label: m[2]!, caption: m[3]!, sql: m[4]! }));
  const ns = out.map((q) => q.n).join(",");
  if (ns !== "1,2,3,4,5,6") {
    throw new Error(`expected the seed's queries 1 to 6 in ${SEED_QUERIES_FILE}, found [${ns}]; keep its (n, 'label', 'caption', $qN$…$qN$) layout`);
  }
  return out;
}

export const SEED_QUERIES: ReadonlyArray<SeedQuery> = parseSeedQueries(readFileSync(SEED_QUERIES_FILE, "utf8"));
