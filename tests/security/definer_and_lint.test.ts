// Database-wide security rules, checked on the catalog of a freshly migrated
// database (so any function a future migration adds is covered too):
//   a. every SECURITY DEFINER function in public / automations_engine pins search_path;
//   b. none of them is executable by anon unless listed in ANON_ALLOWED;
//   c. no routine of the private engine schema is executable by anon or
//      authenticated (trigger functions aside: triggers need no EXECUTE);
//   d. `supabase db lint --fail-on error` (plpgsql_check) is clean.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

/** SECURITY DEFINER functions anon may execute on purpose (regprocedure text). None today. */
const ANON_ALLOWED: string[] = [];

interface Routine {
  fn: string;
  schema: string;
  definer: boolean;
  config: string[] | null;
  trigger: boolean;
  anon: boolean;
  authenticated: boolean;
}

let t: TestDatabase;
let routines: Routine[];

beforeAll(async () => {
  t = await createTestDatabase({ max: 2 });
  routines = await t.db.query<Routine>(
    `select p.oid::regprocedure::text fn, n.nspname schema, p.prosecdef definer, p.proconfig config,
            p.prorettype = 'pg_catalog.trigger'::regtype trigger,
            has_function_privilege('anon', p.oid, 'execute') anon,
            has_function_privilege('authenticated', p.oid, 'execute') authenticated
       from pg_catalog.pg_proc p
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'automations_engine')
        -- functions an extension installed are the extension's business
        and not exists (select 1 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      order by 1`,
  );
});
afterAll(() => t.drop());

describe("SECURITY DEFINER and privileges", () => {
  it("finds the routines (sanity)", () => {
    expect(routines.filter((r) => r.definer).map((r) => r.fn)).toEqual(
      expect.arrayContaining(["get_user_org_id()", "is_admin()", "run_automation(uuid,jsonb,text)"]),
    );
    expect(routines.map((r) => r.fn)).toContain("automations_engine.prune_runs(integer)");
  });

  it("a. every SECURITY DEFINER function has a fixed search_path", () => {
    const loose = routines.filter((r) => r.definer && !(r.config ?? []).some((c) => c.startsWith("search_path=")));
    expect(loose.map((r) => r.fn)).toEqual([]);
  });

  it("b. no SECURITY DEFINER function is executable by anon unless allowed", () => {
    const open = routines.filter((r) => r.definer && r.anon && !ANON_ALLOWED.includes(r.fn));
    expect(open.map((r) => r.fn)).toEqual([]);
  });

  it("c. the engine schema is closed to API roles: no usage, no execute (trigger functions aside)", async () => {
    const open = routines.filter((r) => r.schema === "automations_engine" && !r.trigger && (r.anon || r.authenticated));
    expect(open.map((r) => `${r.fn} (${[r.anon && "anon", r.authenticated && "authenticated"].filter(Boolean).join(", ")})`)).toEqual([]);
    const [usage] = await t.db.query<{ anon: boolean; authenticated: boolean }>(
      `select has_schema_privilege('anon', 'automations_engine', 'usage') anon,
              has_schema_privilege('authenticated', 'automations_engine', 'usage') authenticated`,
    );
    expect(usage).toEqual({ anon: false, authenticated: false });
  });
});

describe("supabase db lint", () => {
  it("d. exits 0 with --fail-on error", () => {
    const cli = join(import.meta.dirname, "../../node_modules/.bin/supabase");
    const r = spawnSync(cli, ["db", "lint", "--db-url", t.url, "--fail-on", "error"], {
      cwd: join(import.meta.dirname, "../.."),
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.status !== 0) {
      // Only the errors, with where they are, so the fix is obvious.
      let errors: unknown = r.stdout;
      try {
        const report = JSON.parse(r.stdout) as Array<{ function: string; issues: Array<{ level: string }> }>;
        errors = report
          .map((f) => ({ function: f.function, issues: f.issues.filter((i) => i.level === "error") }))
          .filter((f) => f.issues.length > 0);
      } catch {
        // not JSON: print it as it is
      }
      console.error(`supabase db lint failed (exit ${r.status}):\n${JSON.stringify(errors, null, 2)}\n${r.stderr}`);
    }
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
  }, 90_000);
});
