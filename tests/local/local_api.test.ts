// /_local/query (any SQL, as the database owner) is the CLI's alone: it needs
// the service role key AND this process's CLI token; the shared secret, the
// anon key or the key alone are refused; without an embedded database
// (DATABASE_URL) it does not exist. Real PostgreSQL behind it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_TOKEN_HEADER, createLocalApi } from "../../local/local_api.ts";
import { appDeps, TEST_AUTH } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
const TOKEN = "cli-token-of-this-process-0123456789abcdef";

beforeAll(async () => {
  t = await createTestDatabase({ max: 2 });
});
afterAll(() => t.drop());

async function query(api: (req: Request) => Promise<Response | null>, headers: Record<string, string>) {
  const res = (await api(
    new Request("http://127.0.0.1:54321/_local/query", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ sql: "select current_user as who" }),
    }),
  ))!;
  return { status: res.status, body: (await res.json()) as { rows?: Array<{ who: string }>; error?: { code: string; message: string } } };
}

describe("/_local/query", () => {
  const embedded = () => createLocalApi(appDeps(t.db), { cliToken: TOKEN, cliTokenFile: "/data/pglite.cli-token" });
  const service = { authorization: `Bearer ${TEST_AUTH.serviceRoleKey}` };

  it("runs SQL for the CLI: service key and CLI token", async () => {
    const r = await query(embedded(), { ...service, [CLI_TOKEN_HEADER]: TOKEN });
    expect(r.status).toBe(200);
    expect(r.body.rows).toHaveLength(1);
  });

  it("refuses the service key without the CLI token, or with a wrong one: 403 saying it is the CLI's", async () => {
    const extras: Array<Record<string, string>> = [{}, { [CLI_TOKEN_HEADER]: "guess" }, { [CLI_TOKEN_HEADER]: `${TOKEN}x` }];
    for (const extra of extras) {
      const r = await query(embedded(), { ...service, ...extra });
      expect(r.status).toBe(403);
      expect(r.body.error).toEqual({
        code: "cli_only",
        message: expect.stringContaining(`for the automations CLI only (\`npm run automations\`): send ${CLI_TOKEN_HEADER} with the token in /data/pglite.cli-token`),
      });
    }
  });

  it("refuses the CLI token without the service key, and the shared secret in its place: 401", async () => {
    const others: Array<Record<string, string>> = [{}, { authorization: "Bearer anon-or-user-jwt" }, { "x-automations-secret": TEST_AUTH.sharedSecret }];
    for (const creds of others) {
      const r = await query(embedded(), { ...creds, [CLI_TOKEN_HEADER]: TOKEN });
      expect(r.status).toBe(401);
    }
  });

  it("does not exist with DATABASE_URL (no CLI token): 404 that says to connect directly", async () => {
    const api = createLocalApi(appDeps(t.db), { cliToken: null });
    const r = await query(api, { ...service, [CLI_TOKEN_HEADER]: TOKEN });
    expect(r.status).toBe(404);
    expect(r.body.error!.message).toMatch(/only on the embedded database; with DATABASE_URL connect to the database directly/);
  });
});
