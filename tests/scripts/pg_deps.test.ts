// `npm test` sets itself up on a fresh Debian machine (scripts/pg_deps.ts):
// missing packages are installed when it may (root or passwordless sudo),
// saying what; otherwise it stops with the exact command. The commands it
// would run are recorded here instead of run (installing packages is not
// something a test may do); the checks of what is installed are the real ones.
import { describe, expect, it } from "vitest";
import {
  ensureHostedExtensions,
  ensurePackages,
  missingHostedExtensions,
  missingPackages,
  REQUIRED_PACKAGES,
  type SetupDeps,
} from "../../scripts/pg_deps.ts";

function fake(state: { packages: string[]; extensions?: string[] }, over: Partial<SetupDeps> = {}) {
  const ran: string[][] = [];
  const logged: string[] = [];
  const deps: Partial<SetupDeps> = {
    missingPackages: () => [...state.packages],
    missingExtensions: () => [...(state.extensions ?? [])],
    privilege: () => [],
    isRoot: () => true,
    vendorScript: () => "/v/build-extensions.sh",
    run: (argv) => {
      ran.push(argv);
      if (argv.includes("install")) state.packages = [];
      if (argv[1] === "/v/build-extensions.sh") state.extensions = [];
      return true;
    },
    log: (l) => logged.push(l),
    ...over,
  };
  return { deps, ran, logged };
}

describe("Debian packages", () => {
  it("does nothing when everything is installed", () => {
    const f = fake({ packages: [] });
    ensurePackages(f.deps);
    expect(f.ran).toEqual([]);
  });

  it("as root: says what it installs, then apt-get update and install of exactly the missing ones", () => {
    const f = fake({ packages: ["postgresql-15-pgtap", "postgresql-15-cron"] });
    ensurePackages(f.deps);
    expect(f.logged).toEqual(["installing missing Debian packages: postgresql-15-pgtap postgresql-15-cron"]);
    expect(f.ran).toEqual([
      ["apt-get", "update", "-qq"],
      ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "postgresql-15-pgtap", "postgresql-15-cron"],
    ]);
  });

  it("with passwordless sudo: the same through sudo -n", () => {
    const f = fake({ packages: ["postgresql-15"] }, { privilege: () => ["sudo", "-n"] });
    ensurePackages(f.deps);
    expect(f.logged[0]).toBe("installing missing Debian packages (with sudo): postgresql-15");
    expect(f.ran.map((a) => a.slice(0, 3))).toEqual([["sudo", "-n", "apt-get"], ["sudo", "-n", "env"]]);
  });

  it("without root or sudo: installs nothing and prints the exact command", () => {
    const f = fake({ packages: ["postgresql-15-pgtap", "libtap-parser-sourcehandler-pgtap-perl"] }, { privilege: () => null });
    expect(() => ensurePackages(f.deps)).toThrow(
      "sudo apt-get update && sudo apt-get install -y postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl",
    );
    expect(f.ran).toEqual([]);
  });

  it("says which package apt-get could not install", () => {
    const f = fake({ packages: ["postgresql-15-cron"] }, { run: () => true });
    expect(() => ensurePackages(f.deps)).toThrow(/apt-get could not install postgresql-15-cron/);
  });

  it("checks the real files: this machine runs the suites, so nothing is missing", () => {
    expect(REQUIRED_PACKAGES.map(([p]) => p)).toContain("postgresql-15-plpgsql-check");
    expect(REQUIRED_PACKAGES).toContainEqual(["chromium", "/usr/bin/chromium"]); // the browser tests (tests/console)
    expect(missingPackages()).toEqual([]);
  });
});

describe("hosted Supabase's extensions (pg_net, pg_cron 1.6, supabase_vault)", () => {
  it("as root: builds them with the vendored script and reports them available", () => {
    const f = fake({ packages: [], extensions: ["pg_net 0.20.4"] });
    expect(ensureHostedExtensions(f.deps)).toBeNull();
    expect(f.ran).toEqual([["bash", "/v/build-extensions.sh"]]);
    expect(f.logged[0]).toMatch(/building hosted Supabase's extensions \(pg_net 0\.20\.4\) with \/v\/build-extensions\.sh/);
  });

  it("not root, or no script: builds nothing and says why (the suites that need them are skipped with it)", () => {
    const notRoot = fake({ packages: [], extensions: ["pg_cron 1.6"] }, { isRoot: () => false });
    expect(ensureHostedExtensions(notRoot.deps)).toBe("pg_cron 1.6 not installed: run `sudo /v/build-extensions.sh`");
    const noScript = fake({ packages: [], extensions: ["supabase_vault 0.3.1"] }, { vendorScript: () => null });
    expect(ensureHostedExtensions(noScript.deps)).toMatch(/supabase_vault 0\.3\.1 not installed and no vendor\/build-extensions\.sh found/);
    expect([...notRoot.ran, ...noScript.ran]).toEqual([]);
  });

  it("reads the installed versions from the control files", () => {
    // Whatever this machine has, the answer names only the three, each with its version.
    for (const m of missingHostedExtensions()) expect(m).toMatch(/^(pg_net 0\.20\.4|pg_cron 1\.6|supabase_vault 0\.3\.1)$/);
  });
});
