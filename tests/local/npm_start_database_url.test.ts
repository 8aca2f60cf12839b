// `npm start` on a fresh DATABASE_URL: migrations but no demo seed (its
// webhook secret is public) unless `npm start -- --demo`; one line says how to
// get it. Keys are generated for this database and kept across restarts;
// /_local/query does not exist (the CLI connects to the database directly).
import { execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../local/demo.ts";
import { localKeys } from "../../local/keys.ts";
import { secretsPath } from "../../local/secrets.ts";
import { buildRuntime } from "../../scripts/build_runtime.ts";
import { READY_MS, startRuntimeBundle } from "../helpers/runtime_bundle.ts";
import { freePort } from "../../scripts/pg_cluster.ts";
import { signWebhook } from "../../shared/triggers/webhook_signature.ts";

const root = join(import.meta.dirname, "../..");
const parent = mkdtempSync(join(tmpdir(), "automations-dburl-"));
const dataDir = join(parent, "pglite");
const name = `fresh_${randomBytes(6).toString("hex")}`;
const admin = postgres(process.env.AUTOMATIONS_TEST_ADMIN_URL!, { max: 1, onnotice: () => {} });
let url = "";
let db: postgres.Sql;
let bundle = "";
let child: ChildProcess | null = null;
let port = 0;
let output = "";

beforeAll(async () => {
  // An empty database, as a new project's would be: no migrations applied yet.
  await admin.unsafe(`create database ${name}`);
  const u = new URL(process.env.AUTOMATIONS_TEST_ADMIN_URL!);
  u.pathname = `/${name}`;
  url = u.toString();
  db = postgres(url, { max: 1, onnotice: () => {} });
  bundle = await buildRuntime("local/start.ts", "dist/test-start-dburl");
  port = await freePort();
}, READY_MS + 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) await stop();
  await db?.end();
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
  rmSync(parent, { recursive: true, force: true });
  if (bundle) rmSync(dirname(bundle), { recursive: true, force: true });
});

async function start(...args: string[]): Promise<void> {
  output = "";
  child = await startRuntimeBundle(
    bundle,
    args,
    {
      PORT: String(port),
      DATABASE_URL: url,
      AUTOMATIONS_DATA_DIR: dataDir,
      AUTOMATIONS_LOG_LEVEL: "error",
      AUTOMATIONS_JWT_SECRET: "",
      SUPABASE_JWT_SECRET: "",
      SUPABASE_SERVICE_ROLE_KEY: "",
      SUPABASE_ANON_KEY: "",
    },
    (d) => (output += d),
  );
}

function stop(): Promise<number | null> {
  const c = child!;
  const exited = new Promise<number | null>((r) => c.once("exit", (code) => r(code)));
  c.kill("SIGTERM");
  return exited;
}

const printed = (label: string) => new RegExp(`${label}:\\s*(\\S+)`).exec(output)?.[1];
const demoOrgs = async () => (await db`select count(*)::int as n from public.organizations where id = ${DEMO.orgId}`)[0]!.n as number;

function cli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "local/cli.ts", ...args],
      { cwd: root, env: { ...process.env, DATABASE_URL: url, PORT: "1" }, encoding: "utf8" },
      (err, stdout, stderr) => (err ? reject(new Error(`cli ${args.join(" ")} failed: ${stderr}${stdout}`)) : resolve(stdout)),
    );
  });
}

describe("npm start with DATABASE_URL", () => {
  let serviceKey = "";

  it("applies the migrations without the demo seed and says in one line how to get it", async () => {
    await start();
    expect(output).toMatch(/Migrations: applied \d+\n/);
    expect(output).not.toContain("demo seed\n");
    expect(output).toContain("Demo:       not loaded into DATABASE_URL (its webhook secret is public); `npm start -- --demo` loads it");
    expect(output).not.toContain("Demo user JWT");
    expect(await demoOrgs()).toBe(0);
    const [row] = await db`select to_regclass('public.tasks') is not null as tasks`;
    expect(row!.tasks).toBe(false);
  }, READY_MS + 30_000);

  it("generates keys for this database into a 0600 file (not the CLI's demo key)", async () => {
    const file = secretsPath({ AUTOMATIONS_DATA_DIR: dataDir, DATABASE_URL: url }, root);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { jwt_secret } = JSON.parse(readFileSync(file, "utf8")) as { jwt_secret: string };
    serviceKey = printed("Service key")!;
    expect(serviceKey).toBe((await localKeys(jwt_secret)).serviceRoleKey);
    expect(serviceKey).not.toBe((await localKeys("super-secret-jwt-token-with-at-least-32-characters-long")).serviceRoleKey);
  });

  it("has no /_local/query (404); the CLI connects to the database itself", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/_local/query`, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey}`, "content-type": "application/json" },
      body: JSON.stringify({ sql: "select 1" }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/with DATABASE_URL connect to the database directly/);
    expect(JSON.parse(await cli("list", "--json"))).toEqual([]);
  });

  it("`npm start -- --demo` loads the demo into it, with the same keys", async () => {
    expect(await stop()).toBe(0);
    await start("--demo");
    expect(output).toContain("Migrations: up to date + demo seed");
    expect(printed("Service key")).toBe(serviceKey);
    expect(output).not.toContain("Demo:       not loaded");
    expect(output).toContain(`/functions/v1/automations-webhook/${DEMO.webhookAutomationId}`);
    expect(await demoOrgs()).toBe(1);
    const body = JSON.stringify({ name: "Ada", email: "ada@example.com" });
    const res = await fetch(`http://127.0.0.1:${port}/functions/v1/automations-webhook/${DEMO.webhookAutomationId}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signWebhook(DEMO.webhookSecret, "msg_dburl_demo", body) },
      body,
    });
    expect(res.status).toBe(202);
    await res.text();
  }, READY_MS + 30_000);

  it("--demo again (demo present) loads nothing twice; an unknown flag is refused", async () => {
    expect(await stop()).toBe(0);
    await start("--demo");
    expect(output).toContain("Migrations: up to date\n");
    expect(await demoOrgs()).toBe(1);
    expect(await stop()).toBe(0);
    const bad = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [bundle, "--dmeo"], { cwd: root, env: { ...process.env, DATABASE_URL: url } }, (err, stdout, stderr) =>
        resolve({ code: (err as { code?: number } | null)?.code ?? 0, out: stdout + stderr }),
      );
    });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/Could not start: Unknown option '--dmeo'/);
  }, READY_MS + 30_000);
});
