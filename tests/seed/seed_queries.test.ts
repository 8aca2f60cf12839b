// The seed's six example queries are kept once, in the pgTAP file that
// defines tests.seed_queries() (030/031 and the bench read them from there),
// and each is the seed's text, character for character. The seed is read from
// ../shared/seed/automations-skill.md beside the project (as CI lays it out),
// or from AUTOMATIONS_SEED_SKILL; without it that one check is skipped.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_QUERIES, SEED_QUERIES_FILE, parseSeedQueries } from "../../bench/seed_queries.ts";

const root = join(import.meta.dirname, "../..");
const seedPath = process.env.AUTOMATIONS_SEED_SKILL ?? join(root, "../shared/seed/automations-skill.md");
const seedFound = existsSync(seedPath);
if (!seedFound) console.warn(`seed_queries.test.ts: ${seedPath} not found; the check against the seed's text is skipped`);

/** The seed's "Example Queries": each caption line and the ```sql block after it. */
function seedExamples(markdown: string): { caption: string; sql: string }[] {
  const section = markdown.split("## Example Queries")[1] ?? "";
  return [...section.matchAll(/^(.+)\n```sql\n([\s\S]*?)\n```/gm)].map((m) => ({ caption: m[1]!, sql: m[2]! }));
}

describe("the seed's example queries", () => {
  const skipped = seedFound ? "" : ` (skipped: ${seedPath} not found)`;
  it(`are each the seed's text, character for character${skipped}`, { skip: !seedFound }, () => {
    const seed = seedExamples(readFileSync(seedPath, "utf8"));
    expect(seed).toHaveLength(6);
    expect(SEED_QUERIES.map(({ caption, sql }) => ({ caption, sql }))).toEqual(seed);
  });

  it("are kept once: no other pgTAP or bench file holds a copy of one", () => {
    const files = [
      ...readdirSync(join(root, "supabase/tests/database")).map((f) => join(root, "supabase/tests/database", f)),
      ...readdirSync(join(root, "bench")).filter((f) => f.endsWith(".ts")).map((f) => join(root, "bench", f)),
    ].filter((f) => f !== SEED_QUERIES_FILE);
    const copies = files.flatMap((f) => {
      const text = readFileSync(f, "utf8");
      // The text after SELECT: a copy whose placeholder was filled in still matches up to it.
      return SEED_QUERIES.filter((q) => text.includes(q.sql.split("<automation_id>")[0]!)).map((q) => `${relative(root, f)}: ${q.label}`);
    });
    expect(copies).toEqual([]);
  });

  it("refuses a file whose layout the bench cannot read", () => {
    const text = readFileSync(SEED_QUERIES_FILE, "utf8");
    expect(parseSeedQueries(text).map((q) => q.label)).toEqual([
      "q1 active automations",
      "q2 ordered actions",
      "q3 last 50 runs",
      "q4 failed runs, 7 days",
      "q5 action counts",
      "q6 success rate per automation",
    ]);
    expect(() => parseSeedQueries(text.replace("(4, '", "(4,'"))).toThrow(/found \[1,2,3,5,6\]/);
  });
});
