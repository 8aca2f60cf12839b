// What the test cluster needs from the machine, and setting it up when we may:
// - the Debian packages (PostgreSQL 15, pg_cron, pgTAP, plpgsql_check, pg_prove,
//   and chromium, the browser tests/console drives through playwright-core):
//   installed with apt-get when running as root or with passwordless sudo,
//   otherwise the exact command is printed;
// - hosted Supabase's background extensions (pg_net, pg_cron 1.6, supabase_vault),
//   which Debian lacks: built from the upstream sources by the vendored
//   `build-extensions.sh` when running as root. Without them the suites that
//   need them are skipped with the reason (tests/helpers/hosted.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
const EXT_DIR = "/usr/share/postgresql/15/extension";
const ROOT = join(import.meta.dirname, "..");

/** Debian packages the suites need, with the file that proves each is there. */
export const REQUIRED_PACKAGES: Array<[pkg: string, file: string]> = [
  ["postgresql-15", `${PG_BIN}/initdb`],
  ["postgresql-15-cron", "/usr/lib/postgresql/15/lib/pg_cron.so"],
  ["postgresql-15-pgtap", `${EXT_DIR}/pgtap.control`],
  ["postgresql-15-plpgsql-check", `${EXT_DIR}/plpgsql_check.control`],
  ["libtap-parser-sourcehandler-pgtap-perl", "/usr/bin/pg_prove"],
  ["chromium", "/usr/bin/chromium"],
];

export function missingPackages(): string[] {
  return REQUIRED_PACKAGES.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
}

const isRoot = () => process.getuid?.() === 0;

/** How we may run apt-get: directly (root), through passwordless sudo, or not at all. */
function privilege(): string[] | null {
  if (isRoot()) return [];
  const sudo = spawnSync("sudo", ["-n", "true"], { stdio: "ignore" });
  return sudo.status === 0 ? ["sudo", "-n"] : null;
}

function runLoud(argv: string[]): boolean {
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return r.status === 0;
}

/** What set-up looks at and does, replaceable in tests (tests/scripts/pg_deps.test.ts). */
export interface SetupDeps {
  missingPackages(): string[];
  missingExtensions(): string[];
  /** [] as root, ["sudo", "-n"] with passwordless sudo, null when we may not install. */
  privilege(): string[] | null;
  isRoot(): boolean;
  vendorScript(): string | null;
  run(argv: string[]): boolean;
  log(line: string): void;
}

const realDeps = (): SetupDeps => ({
  missingPackages,
  missingExtensions: missingHostedExtensions,
  privilege,
  isRoot,
  vendorScript,
  run: runLoud,
  log: (l) => console.log(`  ${l}`),
});

/**
 * Installs the missing Debian packages when we may (saying what), or throws
 * with the exact command to run. Does nothing when all are there.
 */
export function ensurePackages(over: Partial<SetupDeps> = {}): void {
  const d = { ...realDeps(), ...over };
  const missing = d.missingPackages();
  if (missing.length === 0) return;
  const command = `sudo apt-get update && sudo apt-get install -y ${missing.join(" ")}`;
  const via = d.privilege();
  if (via === null) {
    throw new Error(
      `Test dependencies (PostgreSQL 15 and its extensions, chromium) are missing. Install them with:\n  ${command}\n` +
        `or point TEST_DATABASE_URL at a PostgreSQL 15 server where you may create databases and roles.`,
    );
  }
  d.log(`installing missing Debian packages${via.length ? " (with sudo)" : ""}: ${missing.join(" ")}`);
  const ok =
    d.run([...via, "apt-get", "update", "-qq"]) &&
    d.run([...via, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", ...missing]);
  const still = d.missingPackages();
  if (!ok || still.length) {
    throw new Error(`apt-get could not install ${still.join(" ") || missing.join(" ")}; run it yourself:\n  ${command}`);
  }
}

/** The three extensions hosted Supabase preloads, at the versions it runs (same check as build-extensions.sh --check). */
export const HOSTED_EXTENSIONS: Array<[name: string, version: string]> = [
  ["pg_net", "0.20.4"],
  ["pg_cron", "1.6"],
  ["supabase_vault", "0.3.1"],
];

export function missingHostedExtensions(): string[] {
  return HOSTED_EXTENSIONS.filter(([name, version]) => {
    const control = `${EXT_DIR}/${name}.control`;
    if (!existsSync(control)) return true;
    return !new RegExp(`default_version\\s*=\\s*'${version.replace(/\./g, "\\.")}'`).test(readFileSync(control, "utf8"));
  }).map(([name, version]) => `${name} ${version}`);
}

/**
 * The vendored build script: AUTOMATIONS_VENDOR_DIR, else `vendor/` in the
 * repository, else `shared/vendor/` beside it (or beside its worktree folder).
 */
export function vendorScript(): string | null {
  const dirs = [
    process.env.AUTOMATIONS_VENDOR_DIR,
    join(ROOT, "vendor"),
    resolve(ROOT, "../shared/vendor"),
    resolve(ROOT, "../../shared/vendor"),
  ].filter((d): d is string => !!d);
  return dirs.map((d) => join(d, "build-extensions.sh")).find((f) => existsSync(f)) ?? null;
}

/**
 * Builds pg_net, pg_cron 1.6 and supabase_vault when they are missing and we
 * run as root. Returns why they are unavailable, or null when installed.
 */
export function ensureHostedExtensions(over: Partial<SetupDeps> = {}): string | null {
  const d = { ...realDeps(), ...over };
  let missing = d.missingExtensions();
  if (missing.length === 0) return null;
  const script = d.vendorScript();
  if (!script) return `${missing.join(", ")} not installed and no vendor/build-extensions.sh found (set AUTOMATIONS_VENDOR_DIR)`;
  if (!d.isRoot()) return `${missing.join(", ")} not installed: run \`sudo ${script}\``;
  d.log(`building hosted Supabase's extensions (${missing.join(", ")}) with ${script}`);
  d.run(["bash", script]);
  missing = d.missingExtensions();
  return missing.length ? `${script} did not install ${missing.join(", ")}` : null;
}
