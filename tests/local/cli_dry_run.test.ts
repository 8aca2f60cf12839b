// `npm run automations -- test <id>` as a user types it (DATABASE_URL at a
// real PostgreSQL): readable output, --json with the API's shape,
// --payload-file, the exit code a CI relies on, and nothing written.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { givenPayload } from "../../local/cli_dry_run.ts";
import { createAutomation } from "../helpers/automations.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg } from "../helpers/fixtures.ts";

const root = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "automations-cli-test-"));
let t: TestDatabase;
let welcome: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const org = await createOrg(t.db, "CLI");
  welcome = await createAutomation(t.db, org, {
    name: "Welcome",
    trigger_type: "webhook",
    status: "draft",
    actions: [
      { type: "webhook", name: "crm", config: { url: "https://crm.example.com/contacts", headers: { "X-Api-Key": "key_live_1" }, body: { email: "{{trigger.payload.email}}" } } },
      { type: "send_email", config: { to: "{{trigger.payload.email}}", subject: "Welcome, {{steps.crm.output.body.first_name}}", text: "Hello" } },
    ],
  });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.drop();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "local/cli.ts", ...args],
      { cwd: root, env: { ...process.env, DATABASE_URL: t.url, PORT: "1" }, encoding: "utf8" },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const count = async (table: string) => (await t.db.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0]!.n;

describe("automations test (CLI dry run)", () => {
  it("prints each step readably and exits 0 when no step would fail", async () => {
    const r = await cli("test", welcome, "--payload", '{"email":"ada@example.com"}');
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dry run of automation ${welcome} (nothing is sent or written)`);
    expect(r.stdout).toContain('trigger webhook, payload (given): {"email":"ada@example.com"}');
    expect(r.stdout).toContain('step 0 "crm" (webhook): would run');
    expect(r.stdout).toContain("step 1 (send_email): would run");
    expect(r.stdout).toContain("  url: https://crm.example.com/contacts");
    expect(r.stdout).toContain('"x-api-key":"\u2039redacted\u203a"');
    expect(r.stdout).not.toContain("key_live_1");
    expect(r.stdout).toContain("  subject: Welcome, \u2039unknown: steps.crm.output.body.first_name\u203a");
    expect(r.stdout).toContain("  unknown until a real run: steps.crm.output.body.first_name");
    expect(r.stdout).toContain("no errors in 2 steps");
  });

  it("--json prints the API's result; --payload-file reads the payload; a failing step exits 1", async () => {
    const file = join(dir, "payload.json");
    writeFileSync(file, JSON.stringify({ email: "not an address" }));
    const r = await cli("test", welcome, "--payload-file", file, "--json");
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ automation_id: welcome, dry_run: true, payload_source: "given", trigger: { type: "webhook", payload: { email: "not an address" } } });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0].error).toBeNull();
    expect(result.steps[1].error).toMatch(/^invalid config after templates: to: /);
  });

  it("without a payload uses the last run's, else {} (and says so)", async () => {
    const none = await cli("test", welcome);
    expect(none.code).toBe(1); // {} has no email: the template fails as a run would
    expect(none.stdout).toContain("payload (none given and no earlier run: {}): {}");
    expect(none.stdout).toContain('error: {{trigger.payload.email}}: "email" is not present in trigger.payload');
    await t.db.query(
      `insert into public.automation_runs (org_id, automation_id, status, trigger_type, trigger_payload)
       select org_id, id, 'completed', 'webhook', '{"email":"lin@example.com"}' from public.automations where id = $1`,
      [welcome],
    );
    const runs = await count("automation_runs");
    const last = await cli("test", welcome);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain(`payload (the last run's): {"email":"lin@example.com"}`);
    expect(await count("automation_runs")).toBe(runs);
    expect(await count("automation_run_steps")).toBe(0);
  });

  it("bad input says what is wrong and exits 1", async () => {
    const cases: Array<[string[], string]> = [
      [["test"], "test needs an automation id"],
      [["test", welcome, "--payload", "{oops"], "--payload is not valid JSON"],
      [["test", "00000000-0000-4000-8000-00000000dead"], "no automation 00000000-0000-4000-8000-00000000dead"],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toContain(message);
    }
    // The rest of the payload checks in-process (each spawn costs a second or two).
    const problem = (opts: { payload?: string; payloadFile?: string }) => {
      try {
        givenPayload(opts);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(problem({ payload: "[1]" })).toBe("--payload must be a JSON object (the trigger payload), not an array");
    expect(problem({ payload: "3" })).toBe("--payload must be a JSON object (the trigger payload), not 3");
    expect(problem({ payloadFile: join(dir, "missing.json") })).toMatch(/^cannot read --payload-file .*missing\.json: ENOENT/);
    expect(problem({ payload: "{}", payloadFile: "x" })).toBe("give --payload or --payload-file, not both");
    expect(givenPayload({})).toBeUndefined();
  });
});
