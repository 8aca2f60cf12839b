// `npm test`: every suite against a real PostgreSQL 15.
//
// 1. Start a throwaway cluster (or use TEST_DATABASE_URL's server).
// 2. Build a template database: local bootstrap, then the migrations through
//    the Supabase CLI (`migration up --db-url`), exactly as a user would.
// 3. Compare its pg_dump with supabase/schema.sql: rewrite the file when it
//    differs, or with CI=true count a failure.
// 4. pgTAP files in supabase/tests/database with pg_prove, on a clone.
// 5. Vitest; each test file clones the template into its own database.
// 6. Stop and delete the cluster, also on failure or Ctrl-C.
// Prints one closing line: "N passed, N failed".
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startCluster, psql, stopOnExit } from "./pg_cluster.ts";
import { diffExcerpt, dumpSchema, readSchemaFile, whyNotComparable, writeSchemaFile } from "./schema_dump.ts";
import { buildTemplate, ROOT as root, withDb } from "./template_db.ts";

const only = process.argv.slice(2); // e.g. `npm test -- pgtap` or `npm test -- tests/engine`

function step(msg: string) {
  console.log(`\n▶ ${msg}`);
}

function serverUrl(): string {
  const given = process.env.TEST_DATABASE_URL;
  if (!given) throw new Error("unreachable");
  const u = new URL(given);
  u.pathname = "/postgres";
  return u.toString();
}

/**
 * supabase/schema.sql against the template's dump. Returns whether the check
 * passed, or null when it was skipped.
 */
function checkSchemaFile(templateUrl: string): boolean | null {
  step("supabase/schema.sql against pg_dump of the template");
  const why = whyNotComparable(templateUrl);
  if (why) {
    console.log(`  skipped: ${why}`);
    return null;
  }
  const now = dumpSchema(templateUrl);
  const was = readSchemaFile();
  if (was === now) {
    console.log("  up to date");
    return true;
  }
  if (process.env.CI === "true") {
    console.log("  FAILED: supabase/schema.sql is out of date: run `npm run schema` and commit it");
    console.log((was === null ? "  (the file is missing)" : diffExcerpt(was, now)).replace(/^/gm, "    "));
    return false;
  }
  writeSchemaFile(now);
  console.log("  supabase/schema.sql was out of date and has been rewritten from the migrations: commit it");
  return true;
}

async function main(): Promise<number> {
  let admin: string;
  if (process.env.TEST_DATABASE_URL) {
    admin = serverUrl();
    step(`using TEST_DATABASE_URL's server (${new URL(admin).host})`);
  } else {
    step("starting a throwaway PostgreSQL 15 cluster");
    const cluster = await startCluster();
    stopOnExit(cluster);
    admin = cluster.url();
    console.log(`  ${admin} (data in ${cluster.dir})`);
  }

  const template = `automations_template_${process.pid}`;
  step(`building template database ${template}: bootstrap + supabase migration up`);
  const cleanup = () => {
    try {
      psql(admin, ["-c", `drop database if exists ${template} with (force)`]);
    } catch {
      // the cluster may already be gone
    }
  };
  process.once("exit", cleanup);
  const { url: templateUrl, applied } = buildTemplate(admin, template);
  console.log(applied.map((l) => `  ${l}`).join("\n"));

  let passed = 0;
  let failed = 0;
  const schemaOk = checkSchemaFile(templateUrl);
  if (schemaOk === true) passed += 1;
  if (schemaOk === false) failed += 1;

  // The suites define ad-hoc test actions ("probe", "flaky", ...) that save-time
  // validation would refuse as unknown types. '*' accepts every unregistered
  // type in the template and so in every clone (migration 000810); a suite that
  // tests the refusal deletes the row in its own clone.
  psql(templateUrl, [
    "-c",
    "insert into automations_engine.custom_action_types (action_type, description) values ('*', 'npm test: ad-hoc test action types')",
  ]);

  const runPgtap = only.length === 0 || only.includes("pgtap");
  const vitestArgs = only.filter((a) => a !== "pgtap");
  const runVitest = only.length === 0 || vitestArgs.length > 0;

  if (runPgtap) {
    step("pgTAP: supabase/tests/database/*.test.sql with pg_prove");
    const db = `automations_pgtap_${process.pid}`;
    psql(admin, ["-c", `create database ${db} template ${template}`]);
    const url = withDb(admin, db);
    psql(url, ["-c", "create extension if not exists pgtap"]);
    const dir = join(root, "supabase/tests/database");
    const files = readdirSync(dir).filter((f) => f.endsWith(".test.sql")).sort().map((f) => join(dir, f));
    const u = new URL(url);
    const prove = spawnSync(
      "pg_prove",
      ["-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres"), "-d", db, ...files],
      { encoding: "utf8", env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
    );
    process.stdout.write(prove.stdout);
    process.stderr.write(prove.stderr);
    const total = Number(/Tests=(\d+)/.exec(prove.stdout)?.[1] ?? 0);
    const bad = [...prove.stdout.matchAll(/Failed (\d+)\/(\d+) subtests/g)].reduce((n, m) => n + Number(m[1]), 0);
    if (prove.status !== 0 && bad === 0) failed += 1; // a file died without a plan
    failed += bad;
    passed += total - bad;
    psql(admin, ["-c", `drop database if exists ${db} with (force)`]);
  }

  if (runVitest) {
    step("vitest: tests/**/*.test.ts (each file on its own clone of the template)");
    mkdirSync(join(root, ".tmp"), { recursive: true });
    const report = join(root, ".tmp/vitest-report.json");
    const vitest = spawnSync(
      "npx",
      ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...vitestArgs],
      {
        cwd: root,
        stdio: "inherit",
        env: { ...process.env, AUTOMATIONS_TEST_ADMIN_URL: admin, AUTOMATIONS_TEST_TEMPLATE: template },
      },
    );
    if (existsSync(report)) {
      const r = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number };
      passed += r.numPassedTests;
      failed += r.numFailedTests;
    }
    if (vitest.status !== 0 && failed === 0) failed += 1; // a suite failed to load
  }

  console.log(`\n${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`\nnpm test could not run: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
